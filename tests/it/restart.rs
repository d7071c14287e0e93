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
