//! Cancel requests (BackendKeyData + CancelRequest): a running statement stops
//! with 57014 however CPU-bound it is, the connection stays usable and other
//! clients are not affected. The time bounds only detect a hang; they are far
//! above the time a cancel takes.

use std::time::Duration;

use tokio_postgres::NoTls;

use crate::common::{Server, code, engine};

/// The longest a cancelled statement may take to answer before the test
/// calls it a hang.
const HANG: Duration = Duration::from_secs(60);

/// Runs `sql` on `client`, cancels it after `after`, and returns the error.
async fn cancel_after(
    client: &tokio_postgres::Client,
    sql: &str,
    after: Duration,
) -> tokio_postgres::Error {
    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(after).await;
        token
            .cancel_query(NoTls)
            .await
            .expect("cancel request sent");
    });
    let outcome = tokio::time::timeout(HANG, client.simple_query(sql))
        .await
        .expect("the cancelled statement answers");
    canceller.await.unwrap();
    outcome.expect_err("the statement is cancelled")
}

async fn select_one(client: &tokio_postgres::Client) -> i32 {
    let row = tokio::time::timeout(HANG, client.query_one("SELECT 1::int4", &[]))
        .await
        .expect("SELECT 1 answers")
        .expect("SELECT 1 runs");
    row.get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_bound_join_is_cancelled_and_the_connection_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let other = server.connect().await;
    // 10^10 joined rows: runs for hours unless cancelled
    let sql = "SELECT count(*) FROM generate_series(1, 100000) a \
               CROSS JOIN generate_series(1, 100000) b \
               WHERE (a.value * b.value) % 7 = 3";
    let token = client.cancel_token();
    let query = client.simple_query(sql);
    let side = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        // another client is served while the join runs
        assert_eq!(select_one(&other).await, 1);
        token
            .cancel_query(NoTls)
            .await
            .expect("cancel request sent");
    };
    let (outcome, ()) = tokio::join!(tokio::time::timeout(HANG, query), side);
    let err = outcome
        .expect("the cancelled join answers")
        .expect_err("the join is cancelled");
    assert_eq!(code(&err), "57014");
    assert_eq!(
        err.as_db_error().unwrap().message(),
        "canceling statement due to user request"
    );
    // the same connection runs the next statement
    assert_eq!(select_one(&client).await, 1);
    // and the extended protocol too: an aggregation over the same join
    // (generate_series does not take parameters yet, so the statement has none)
    let token = client.cancel_token();
    let prepared = client
        .prepare(
            "SELECT sum(a.value * b.value) FROM generate_series(1, 100000) a \
             CROSS JOIN generate_series(1, 100000) b WHERE a.value + b.value > 2",
        )
        .await
        .unwrap();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        token.cancel_query(NoTls).await.unwrap();
    });
    let err = tokio::time::timeout(HANG, client.query(&prepared, &[]))
        .await
        .expect("the cancelled aggregation answers")
        .expect_err("the aggregation is cancelled");
    canceller.await.unwrap();
    assert_eq!(code(&err), "57014");
    assert_eq!(select_one(&client).await, 1);
    assert_eq!(select_one(&other).await, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_training_stops_and_saves_no_model() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    // 500 k-means restarts of 50 clusters over 69 659 rows: tens of seconds
    let err = cancel_after(
        &client,
        "CREATE MODEL long_segments OPTIONS (model_type = 'kmeans', num_clusters = 50, \
         n_init = 500, max_iterations = 300) \
         AS SELECT customer_id, number_of_cds, dollar_value FROM cdnow_orders",
        Duration::from_millis(1500),
    )
    .await;
    assert_eq!(code(&err), "57014");
    assert_eq!(select_one(&client).await, 1);
    // the training thread stopped at its next pass over the rows and wrote nothing:
    // a later training of the same name is version 1
    let row = client
        .query_one(
            "SELECT version FROM ml_train('long_segments', \
             'SELECT number_of_cds, dollar_value FROM cdnow_orders LIMIT 500', \
             'model_type=kmeans, num_clusters=2')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM models WHERE name = 'long_segments'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    server.stop().await;
}

/// `embed` over one batch of 8,192 texts computes inside a single call for
/// minutes: a cancel stops it within a few hundred texts (the statement's
/// flag, checked every 16 packed batches per thread), so the next statement on the connection
/// is not left waiting behind the rest of the batch. Uses the real default
/// model; skipped when it is not there, except under CI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_embed_is_cancelled_and_its_work_stops() {
    let model = augur_embed::default_model_dir();
    if !model.join("model.safetensors").is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "model {} missing: run scripts/fetch-embed-model",
            model.display()
        );
        eprintln!("skipped: no model in {}", model.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    // ~200 word pieces each: minutes of work for the whole batch on two cores
    let sql = "SELECT count(embed(repeat('the parcel came late and the box was damaged ', 20) \
               || value::text)) FROM generate_series(1, 8192)";
    let err = cancel_after(&client, sql, Duration::from_secs(2)).await;
    assert_eq!(code(&err), "57014");
    // the next embed answers once the current chunk of texts is done, not after
    // the rest of the 8,192 (which would take longer than HANG)
    let row = tokio::time::timeout(HANG, client.query_one("SELECT embed('hello')", &[]))
        .await
        .expect("the next statement is not stuck behind the cancelled batch")
        .expect("embed runs");
    let v: Vec<f32> = row.get(0);
    assert_eq!(v.len(), 384);
}

/// `pg_backend_pid()` is the process id of BackendKeyData, the one cancel
/// requests carry (psql's `\conninfo`, pgAdmin and DBeaver show it and pass
/// it to pg_cancel_backend), and differs between sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_backend_pid_is_the_pid_of_backend_key_data() {
    use crate::raw::{Msg, Raw};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let mut pids = Vec::new();
    for _ in 0..2 {
        let mut c = Raw::connect(server.addr).await;
        let msgs = c.simple("SELECT pg_backend_pid()").await;
        assert_eq!(msgs[0], Msg::Columns(vec![("pg_backend_pid".into(), 23)]));
        assert_eq!(msgs[1], Msg::Row(vec![Some(c.pid.to_string())]), "{msgs:?}");
        pids.push(c.pid);
    }
    assert_ne!(pids[0], pids[1]);
    server.stop().await;
}

/// pg_stat_activity lists each session (pid, user, database,
/// application_name, state, query); `pg_cancel_backend(pid)` from another
/// session stops a running statement with 57014 as a cancel request does,
/// and answers false for a pid no session has; a closed session leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_stat_activity_shows_sessions_and_pg_cancel_backend_stops_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let (busy, connection) = tokio_postgres::connect(
        &format!(
            "host={} port={} user=augur dbname=augur application_name=nightly",
            server.addr.ip(),
            server.addr.port()
        ),
        NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let admin = server.connect().await;
    let pid: i32 = busy
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let admin_pid: i32 = admin
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let activity = "SELECT usename, datname, application_name, state, query, \
                    backend_type, backend_start <= now() AS started \
                    FROM pg_catalog.pg_stat_activity WHERE pid = $1";
    let row = admin.query_one(activity, &[&pid]).await.unwrap();
    let text = |i: usize| row.get::<_, Option<String>>(i);
    assert_eq!(text(0).as_deref(), Some("augur"));
    assert_eq!(text(1).as_deref(), Some("augur"));
    assert_eq!(text(2).as_deref(), Some("nightly"));
    assert_eq!(text(3).as_deref(), Some("idle"));
    assert_eq!(text(4).as_deref(), Some("SELECT pg_backend_pid()"));
    assert_eq!(text(5).as_deref(), Some("client backend"));
    assert!(row.get::<_, bool>(6));
    // the admin's own statement is active while it runs
    let me = admin
        .query_one(
            "SELECT state, query FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(me.get::<_, String>(0), "active");
    assert!(me.get::<_, String>(1).contains("pg_stat_activity"));
    assert_ne!(pid, admin_pid);

    let sql = "SELECT count(*) FROM generate_series(1, 100000) a \
               CROSS JOIN generate_series(1, 100000) b \
               WHERE (a.value * b.value) % 7 = 3";
    let query = busy.simple_query(sql);
    let side = async {
        let mut seen = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let row = admin.query_one(activity, &[&pid]).await.unwrap();
            if row.get::<_, Option<String>>(3).as_deref() == Some("active") {
                assert_eq!(row.get::<_, Option<String>>(4).as_deref(), Some(sql));
                seen = true;
                break;
            }
        }
        assert!(seen, "the running join is shown active");
        let cancelled: bool = admin
            .query_one("SELECT pg_cancel_backend($1::int4)", &[&pid])
            .await
            .unwrap()
            .get(0);
        assert!(cancelled);
    };
    let (outcome, ()) = tokio::join!(tokio::time::timeout(HANG, query), side);
    let err = outcome.expect("answers").expect_err("cancelled");
    assert_eq!(code(&err), "57014");
    assert_eq!(select_one(&busy).await, 1);
    let row = admin
        .query_one("SELECT pg_cancel_backend(2147483647)", &[])
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0));
    drop(busy);
    let mut gone = false;
    for _ in 0..100 {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .await
            .unwrap()
            .get(0);
        if n == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "a closed session leaves pg_stat_activity");
    server.stop().await;
}

/// Through the extended protocol the first rows of a result arrive while
/// the rest is still being computed (pgwire would collect every row of an
/// unlimited Execute first: 10¹⁰ rows here), and a cancel then stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_protocol_rows_stream_before_the_result_is_complete() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let rows = tokio::time::timeout(
        HANG,
        client.query_raw(
            "SELECT value FROM generate_series(1, 10000000000)",
            std::iter::empty::<i64>(),
        ),
    )
    .await
    .expect("the query starts")
    .unwrap();
    let mut rows = Box::pin(rows);
    let first = tokio::time::timeout(HANG, rows.next())
        .await
        .expect("the first row arrives before the result is complete")
        .unwrap()
        .unwrap();
    assert_eq!(first.get::<_, i64>(0), 1);
    client.cancel_token().cancel_query(NoTls).await.unwrap();
    let err = tokio::time::timeout(HANG, async {
        while let Some(row) = rows.next().await {
            if let Err(e) = row {
                return e;
            }
        }
        panic!("the result ended without the cancel's error");
    })
    .await
    .expect("the cancel stops the stream");
    assert_eq!(code(&err), "57014");
    assert_eq!(select_one(&client).await, 1);
    server.stop().await;
}
