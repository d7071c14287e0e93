//! Tables and models survive a restart: train, stop, start, predict the same.

use crate::common::{CHURN_FEATURES, Server, TRAIN_CHURN, engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_and_models_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let score = format!(
        "SELECT customer_id, predict_proba('churn', {CHURN_FEATURES}) AS p FROM telco_customers ORDER BY customer_id"
    );

    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    client.simple_query(TRAIN_CHURN).await.expect("train");
    client
        .simple_query("CREATE TABLE scores AS SELECT customer_id, tenure FROM telco_customers WHERE customer_id <= 10; INSERT INTO scores VALUES (99999, 1)")
        .await
        .expect("create and insert");
    let before: Vec<f64> = client
        .query(&score, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("p"))
        .collect();
    drop(client);
    server.stop().await;

    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let after: Vec<f64> = client
        .query(&score, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("p"))
        .collect();
    assert_eq!(before.len(), 7043);
    assert_eq!(before, after, "identical predictions after restart");
    let row = client
        .query_one("SELECT count(*), max(customer_id) FROM scores", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 11);
    assert_eq!(row.get::<_, i64>(1), 99999);
    let row = client
        .query_one("SELECT name, version, algorithm FROM models", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>("name"), "churn");
    assert_eq!(row.get::<_, i64>("version"), 1);
    // a new training continues the version sequence
    client.simple_query(TRAIN_CHURN).await.expect("retrain");
    let v: i64 = client
        .query_one("SELECT max(version) FROM models WHERE name = 'churn'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, 2);
    // a deployment of version 1 outlives the restart below
    client
        .simple_query("SELECT * FROM ml_deploy('churn@1')")
        .await
        .unwrap();
    client.simple_query("DROP TABLE scores").await.unwrap();
    drop(client);
    server.stop().await;

    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let err = client.query("SELECT * FROM scores", &[]).await.unwrap_err();
    assert_eq!(
        crate::common::code(&err),
        "42P01",
        "a dropped table stays dropped"
    );
    let served: i64 = client
        .query_one(
            "SELECT version FROM models WHERE name = 'churn' AND deployed",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(served, 1, "the deployed version is served after a restart");
    server.stop().await;
}

/// A hand edit of a model file.
type Edit = fn(&mut serde_json::Value);

/// Writes each edited copy of `good` to `file` and checks that importing it
/// is refused (22P02); leaves the untouched file in place.
async fn assert_tampered_refused(
    e: &augur::Engine,
    file: &std::path::Path,
    good: &serde_json::Value,
    tamper: &[(&str, Edit)],
) {
    for (what, f) in tamper {
        let mut bad = good.clone();
        f(&mut bad);
        std::fs::write(file, serde_json::to_vec(&bad).unwrap()).unwrap();
        let err = e
            .query(&format!(
                "SELECT * FROM ml_import_model('bad', '{}')",
                file.display()
            ))
            .await
            .expect_err(what);
        assert_eq!(err.sqlstate, "22P02", "{what}: {err:?}");
    }
    std::fs::write(file, serde_json::to_vec(good).unwrap()).unwrap();
}

/// A model file edited by hand so that its parameters no longer fit is refused
/// at import (22P02) and nothing is saved; the untouched file imports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_model_files_are_refused_at_import() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path()).await;
    let file = dir.path().join("tree.json");
    e.query("CREATE MODEL t OPTIONS (model_type = 'decision_tree_classifier', input_label_cols = ['churn']) AS SELECT tenure, contract, churn FROM telco_customers")
        .await
        .unwrap();
    e.query(&format!(
        "SELECT * FROM ml_export_model('t', '{}')",
        file.display()
    ))
    .await
    .unwrap();
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let tamper: [(&str, Edit); 4] = [
        ("a cycle", |m| {
            m["model"]["parameters"]["trees"][0]["nodes"][0]["split"][2] = 0.into()
        }),
        ("no classes", |m| {
            m["model"]["label"]["classes"] = serde_json::json!([])
        }),
        ("no trees", |m| {
            m["model"]["parameters"]["trees"] = serde_json::json!([])
        }),
        ("empty statistics", |m| {
            m["model"]["parameters"]["trees"][0]["nodes"][1]["stats"] = serde_json::json!([])
        }),
    ];
    assert_tampered_refused(&e, &file, &good, &tamper).await;
    e.query(&format!(
        "SELECT * FROM ml_import_model('good', '{}')",
        file.display()
    ))
    .await
    .unwrap();
    let b = e
        .query("SELECT count(*) FROM models WHERE name IN ('bad', 'good')")
        .await
        .unwrap();
    assert_eq!(
        b[0].column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .value(0),
        1
    );
}

/// The model-zoo models survive export and import unchanged, and a file whose
/// parameters were edited so they no longer fit is refused (22P02).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zoo_models_round_trip_and_tampered_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path()).await;
    /// (options, training query, feature list, two edits that must be refused)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        [(&'static str, Edit); 2],
    );
    let cases: [Case; 5] = [
        (
            "model_type = 'linear_svm', input_label_cols = ['churn']",
            "SELECT tenure, monthly_charges, contract, churn FROM telco_customers WHERE customer_id % 10 = 0",
            "tenure, monthly_charges, contract",
            [
                ("svm: a missing coefficient", |m| {
                    m["model"]["parameters"]["coefficients"]
                        .as_array_mut()
                        .unwrap()
                        .pop();
                }),
                ("svm: three classes", |m| {
                    m["model"]["label"]["classes"] = serde_json::json!(["a", "b", "c"])
                }),
            ],
        ),
        (
            "model_type = 'dbscan', eps = 0.5, min_samples = 5",
            "SELECT tenure, monthly_charges FROM telco_customers",
            "tenure, monthly_charges",
            [
                ("dbscan: clusters without core samples", |m| {
                    m["model"]["parameters"]["core_clusters"]
                        .as_array_mut()
                        .unwrap()
                        .pop();
                }),
                ("dbscan: eps 0", |m| {
                    m["model"]["parameters"]["eps"] = 0.0.into()
                }),
            ],
        ),
        (
            "model_type = 'gaussian_mixture', num_clusters = 2",
            "SELECT tenure, monthly_charges FROM telco_customers",
            "tenure, monthly_charges",
            [
                ("gmm: weights not summing to 1", |m| {
                    m["model"]["parameters"]["weights"][0] = 5.0.into()
                }),
                ("gmm: a covariance that is not positive definite", |m| {
                    m["model"]["parameters"]["covariances"][0] =
                        serde_json::json!([[1.0, 2.0], [2.0, 1.0]])
                }),
            ],
        ),
        (
            "model_type = 'agglomerative', num_clusters = 3",
            "SELECT tenure, monthly_charges FROM telco_customers WHERE customer_id % 5 = 0",
            "tenure, monthly_charges",
            [
                ("agglomerative: unknown linkage", |m| {
                    m["model"]["parameters"]["linkage"] = "median".into()
                }),
                ("agglomerative: a short centroid", |m| {
                    m["model"]["parameters"]["centroids"][1] = serde_json::json!([0.0])
                }),
            ],
        ),
        (
            "model_type = 'pca', num_principal_components = 2",
            "SELECT tenure, monthly_charges, total_charges FROM telco_customers",
            "tenure, monthly_charges, total_charges",
            [
                ("pca: ratios above 1", |m| {
                    m["model"]["parameters"]["explained_variance_ratio"] =
                        serde_json::json!([0.9, 0.9])
                }),
                ("pca: a component too short", |m| {
                    m["model"]["parameters"]["components"][0] = serde_json::json!([1.0])
                }),
            ],
        ),
    ];
    for (i, (options, query, features, tamper)) in cases.into_iter().enumerate() {
        let file = dir.path().join(format!("zoo{i}.json"));
        e.query(&format!(
            "CREATE MODEL zoo{i} OPTIONS ({options}) AS {query}"
        ))
        .await
        .unwrap();
        e.query(&format!(
            "SELECT * FROM ml_export_model('zoo{i}', '{}')",
            file.display()
        ))
        .await
        .unwrap();
        let good: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_tampered_refused(&e, &file, &good, &tamper).await;
        e.query(&format!(
            "SELECT * FROM ml_import_model('back{i}', '{}')",
            file.display()
        ))
        .await
        .unwrap();
        // the imported model predicts exactly as the original
        let b = e
            .query(&format!(
                "SELECT count(*) FROM ({query}) WHERE CAST(predict('zoo{i}', {features}) AS VARCHAR) <> CAST(predict('back{i}', {features}) AS VARCHAR)"
            ))
            .await
            .unwrap();
        let differ = b[0]
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(differ, 0, "{options}");
    }
    let b = e
        .query("SELECT count(*) FROM models WHERE name = 'bad'")
        .await
        .unwrap();
    assert_eq!(
        b[0].column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .value(0),
        0
    );
}
