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
    let got: Vec<i64> = client
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
    let mut want: Vec<(f64, i64)> = (0..texts.len())
        .map(|i| {
            let dot: f64 = (0..TINY_DIM)
                .map(|j| all[i * TINY_DIM + j] as f64 * q[j] as f64)
                .sum();
            (dot, i as i64 + 1)
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
