//! A tiny randomly initialised BERT (hidden size 8, one layer, a 40-word
//! vocabulary), written to a directory so tests run offline and fast.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

/// Hidden size (vector length) of the tiny model.
pub const TINY_DIM: usize = 8;
/// Its maximum sequence length (from its `sentence_bert_config.json`).
pub const TINY_MAX_SEQ: usize = 12;

type Put<'a> = dyn FnMut(&str, &[usize], Vec<f32>) + 'a;

const WORDS: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "tea", "coffee", "late", "delivery",
    "great", "taste", "bad", "box", "was", "is", "a", "good", "product", "very", "and", "not",
    "sweet", "bitter", "fast", "slow", "love", "it", "!", ".", ",", "##s", "##ed", "##y", "我",
    "喜", "欢", "茶", "dog", "food",
];

/// Writes `config.json`, `model.safetensors`, `tokenizer.json` and
/// `sentence_bert_config.json` of the tiny model into `dir` (seeded: the
/// same weights every time).
pub fn write_tiny_bert(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (h, inter, vocab, maxpos) = (TINY_DIM, 16, WORDS.len(), 16);
    let config = serde_json::json!({
        "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
        "hidden_size": h, "intermediate_size": inter, "num_attention_heads": 2,
        "num_hidden_layers": 1, "vocab_size": vocab, "max_position_embeddings": maxpos,
        "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0,
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "position_embedding_type": "absolute"
    });
    std::fs::write(dir.join("config.json"), config.to_string())?;
    std::fs::write(
        dir.join("sentence_bert_config.json"),
        format!("{{\"max_seq_length\": {TINY_MAX_SEQ}, \"do_lower_case\": false}}"),
    )?;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = |n: usize, scale: f32| -> Vec<f32> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * scale
            })
            .collect()
    };
    let mut t: HashMap<String, Tensor> = HashMap::new();
    let mut put = |name: &str, shape: &[usize], values: Vec<f32>| {
        let tensor = Tensor::from_vec(values, shape, &Device::Cpu)
            .and_then(|x| x.to_dtype(DType::F32))
            .expect("tensor");
        t.insert(name.to_string(), tensor);
    };
    put(
        "embeddings.word_embeddings.weight",
        &[vocab, h],
        rand(vocab * h, 1.0),
    );
    put(
        "embeddings.position_embeddings.weight",
        &[maxpos, h],
        rand(maxpos * h, 0.5),
    );
    put(
        "embeddings.token_type_embeddings.weight",
        &[2, h],
        rand(2 * h, 0.5),
    );
    let norm = |put: &mut Put, p: &str| {
        put(&format!("{p}.LayerNorm.weight"), &[h], vec![1.0; h]);
        put(&format!("{p}.LayerNorm.bias"), &[h], vec![0.0; h]);
    };
    norm(&mut put, "embeddings");
    let l = "encoder.layer.0";
    for m in ["query", "key", "value"] {
        put(
            &format!("{l}.attention.self.{m}.weight"),
            &[h, h],
            rand(h * h, 0.6),
        );
        put(&format!("{l}.attention.self.{m}.bias"), &[h], rand(h, 0.1));
    }
    put(
        &format!("{l}.attention.output.dense.weight"),
        &[h, h],
        rand(h * h, 0.6),
    );
    put(
        &format!("{l}.attention.output.dense.bias"),
        &[h],
        rand(h, 0.1),
    );
    norm(&mut put, &format!("{l}.attention.output"));
    put(
        &format!("{l}.intermediate.dense.weight"),
        &[inter, h],
        rand(inter * h, 0.6),
    );
    put(
        &format!("{l}.intermediate.dense.bias"),
        &[inter],
        rand(inter, 0.1),
    );
    put(
        &format!("{l}.output.dense.weight"),
        &[h, inter],
        rand(h * inter, 0.4),
    );
    put(&format!("{l}.output.dense.bias"), &[h], rand(h, 0.1));
    norm(&mut put, &format!("{l}.output"));
    candle_core::safetensors::save(&t, dir.join("model.safetensors"))
        .map_err(std::io::Error::other)?;
    std::fs::write(dir.join("tokenizer.json"), tokenizer_json().to_string())
}

fn tokenizer_json() -> serde_json::Value {
    let vocab: serde_json::Map<String, serde_json::Value> = WORDS
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), serde_json::json!(i)))
        .collect();
    let added: Vec<serde_json::Value> = WORDS[..5]
        .iter()
        .enumerate()
        .map(|(i, w)| {
            serde_json::json!({"id": i, "content": w, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let special =
        |name: &str, id: u32| serde_json::json!({"id": name, "ids": [id], "tokens": [name]});
    serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true,
            "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": special("[CLS]", 2), "[SEP]": special("[SEP]", 3)}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100, "vocab": vocab}
    })
}
