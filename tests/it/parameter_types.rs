//! Parameters typed by the function they are an argument of, as PostgreSQL
//! describes them (src/server/parameter_types.rs): tokio-postgres binds each
//! value by the type the server describes, so these prepare and bind plain
//! Rust values without casts.

use tokio_postgres::types::{ToSql, Type};

use crate::common::{CHURN_FEATURES, Server, TRAIN_CHURN, code, engine};

/// PostgreSQL 15's `parameter_types` of `pg_prepared_statements` for
/// `PREPARE s AS <sql>`, and Augur's where it differs (explained below).
const CASES: &[(&str, &[Type])] = &[
    ("SELECT pg_cancel_backend($1)", &[Type::INT4]),
    ("SELECT abs($1)", &[Type::FLOAT8]),
    ("SELECT upper($1)", &[Type::TEXT]),
    ("SELECT lower($1)", &[Type::TEXT]),
    ("SELECT md5($1)", &[Type::TEXT]),
    ("SELECT btrim($1)", &[Type::TEXT]),
    ("SELECT starts_with($1, $2)", &[Type::TEXT, Type::TEXT]),
    ("SELECT sqrt($1)", &[Type::FLOAT8]),
    ("SELECT power($1, $2)", &[Type::FLOAT8, Type::FLOAT8]),
    ("SELECT exp($1)", &[Type::FLOAT8]),
    ("SELECT ln($1)", &[Type::FLOAT8]),
    ("SELECT ceil($1)", &[Type::FLOAT8]),
    ("SELECT floor($1)", &[Type::FLOAT8]),
    ("SELECT round($1)", &[Type::FLOAT8]),
    ("SELECT coalesce($1, 'x')", &[Type::TEXT]),
    // an explicit cast still decides (PostgreSQL: integer)
    ("SELECT abs($1::int4)", &[Type::INT4]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_arguments_type_their_parameters_as_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    for (sql, want) in CASES {
        let stmt = client.prepare(sql).await.expect(sql);
        assert_eq!(stmt.params(), *want, "{sql}");
    }
    // PostgreSQL says numeric: it has round(numeric, int) but no
    // round(float8, int); Augur's round takes float8, its preferred numeric
    // type (decimal literals are float8 in Augur too)
    let stmt = client.prepare("SELECT round($1, 2)").await.unwrap();
    assert_eq!(stmt.params(), [Type::FLOAT8]);
    // embed is Augur's: embed(text)
    let stmt = client.prepare("SELECT embed($1)").await.unwrap();
    assert_eq!(stmt.params(), [Type::TEXT]);

    // bound as described, with the right answers and result types
    let stmt = client.prepare("SELECT abs($1) AS a").await.unwrap();
    assert_eq!(stmt.columns()[0].type_(), &Type::FLOAT8);
    let row = client.query_one(&stmt, &[&-3.5f64]).await.unwrap();
    assert_eq!(row.get::<_, f64>(0), 3.5);
    let row = client
        .query_one("SELECT upper($1) AS u", &[&"churn"])
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "CHURN");
    let row = client
        .query_one("SELECT round($1, 2) AS r", &[&1.23456f64])
        .await
        .unwrap();
    assert_eq!(row.get::<_, f64>(0), 1.23);
    let row = client
        .query_one("SELECT power($1, $2) AS p", &[&2f64, &10f64])
        .await
        .unwrap();
    assert_eq!(row.get::<_, f64>(0), 1024.0);
    // no session has pid 0 or the largest int4 (PostgreSQL: false, with a warning)
    for pid in [0i32, i32::MAX] {
        let row = client
            .query_one("SELECT pg_cancel_backend($1)", &[&pid])
            .await
            .unwrap();
        assert!(!row.get::<_, bool>(0));
    }
    let row = client
        .query_one("SELECT pg_cancel_backend($1)", &[&None::<i32>])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<bool>>(0), None);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predict_parameters_take_the_types_of_the_model_features() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    client.simple_query(TRAIN_CHURN).await.unwrap();
    let n = CHURN_FEATURES.split(',').count();
    let placeholders: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    let placeholders = placeholders.join(", ");
    // each feature parameter is typed as the model's training column
    let columns = client
        .prepare(&format!("SELECT {CHURN_FEATURES} FROM telco_customers"))
        .await
        .unwrap();
    let column_types: Vec<Type> = columns
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    for function in ["predict_proba", "predict"] {
        let stmt = client
            .prepare(&format!("SELECT {function}('churn', {placeholders}) AS p"))
            .await
            .unwrap();
        assert_eq!(stmt.params(), column_types, "{function}");
    }
    assert!(column_types.contains(&Type::INT8) && column_types.contains(&Type::FLOAT8));
    assert!(column_types.contains(&Type::TEXT));
    // ml_predict's result columns are those of its query, so the query is
    // written out, not a parameter
    let err = client
        .prepare("SELECT * FROM ml_predict('churn', $1)")
        .await
        .unwrap_err();
    assert_eq!(code(&err), "22023", "{err:?}");

    // bound with customer 1's features, predict_proba equals ml_predict's probability
    let stmt = client
        .prepare(&format!(
            "SELECT predict_proba('churn', {placeholders}) AS p, predict('churn', {placeholders}) AS label"
        ))
        .await
        .unwrap();
    let features = client
        .query_one(
            &format!("SELECT {CHURN_FEATURES} FROM telco_customers WHERE customer_id = 1"),
            &[],
        )
        .await
        .unwrap();
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    for (i, t) in column_types.iter().enumerate() {
        values.push(match *t {
            Type::INT8 => Box::new(features.get::<_, Option<i64>>(i)),
            Type::INT4 => Box::new(features.get::<_, Option<i32>>(i)),
            Type::FLOAT8 => Box::new(features.get::<_, Option<f64>>(i)),
            Type::BOOL => Box::new(features.get::<_, Option<bool>>(i)),
            Type::TEXT => Box::new(features.get::<_, Option<String>>(i)),
            ref other => panic!("feature {i} of type {other}"),
        });
    }
    let refs: Vec<&(dyn ToSql + Sync)> = values
        .iter()
        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let row = client.query_one(&stmt, &refs).await.unwrap();
    let (p, label): (f64, String) = (row.get(0), row.get(1));
    let reference = client
        .query_one(
            "SELECT probability, predicted_churn FROM ml_predict('churn', 'SELECT * FROM telco_customers WHERE customer_id = 1')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(p, reference.get::<_, f64>(0));
    assert_eq!(label, reference.get::<_, String>(1));
    assert!(p > 0.0 && p < 1.0, "{p}");
    server.stop().await;
}
