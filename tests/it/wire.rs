//! Protocol behaviour with a real client (tokio-postgres) on an ephemeral port.

use crate::common::{CHURN_FEATURES, Server, TRAIN_CHURN, code, engine};
use tokio_postgres::types::Type;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_their_sqlstate_and_the_connection_survives() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let cases = [
        ("SELEC 1", "42601"),
        ("SELECT * FROM no_such_table", "42P01"),
        ("SELECT no_such_column FROM telco_customers", "42703"),
        ("SELECT no_such_function(1)", "42883"),
        ("SELECT predict('no_such_model', 1)", "42704"),
        (
            "CREATE MODEL m OPTIONS (model_type = 'logistic_reg') AS SELECT * FROM telco_customers",
            "22023",
        ),
        (
            "CREATE MODEL m OPTIONS (model_type = 'linear_reg', input_label_cols = ['total_charges']) AS SELECT tenure, total_charges FROM telco_customers",
            "22004",
        ),
        (
            "CREATE MODEL m OPTIONS (model_type = 'kmeans', num_clusters = 5) AS SELECT tenure FROM telco_customers LIMIT 3",
            "22023",
        ),
        (
            "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churn']) AS SELECT tenure, churn FROM telco_customers WHERE false",
            "22023",
        ),
        (
            "CREATE MODEL \"bad name\" OPTIONS (model_type = 'kmeans') AS SELECT tenure FROM telco_customers",
            "42602",
        ),
        ("CREATE TABLE telco_customers AS SELECT 1 AS x", "42P07"),
    ];
    for (sql, want) in cases {
        let err = client.simple_query(sql).await.expect_err(sql);
        assert_eq!(code(&err), want, "{sql}: {err:?}");
        // the same connection keeps working
        let rows = client
            .query("SELECT count(*) FROM telco_customers", &[])
            .await
            .expect("still usable");
        assert_eq!(rows[0].get::<_, i64>(0), 7043);
    }
    // a multi-statement query stops at the first error
    let err = client.simple_query("CREATE TABLE t1 AS SELECT 1 AS x; SELECT * FROM nope; CREATE TABLE t2 AS SELECT 2 AS x").await.unwrap_err();
    assert_eq!(code(&err), "42P01");
    assert_eq!(
        client.query("SELECT x FROM t1", &[]).await.unwrap().len(),
        1
    );
    assert_eq!(
        code(&client.query("SELECT x FROM t2", &[]).await.unwrap_err()),
        "42P01"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preparing_create_model_trains_nothing_executing_it_trains_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let stmt = client.prepare(TRAIN_CHURN).await.expect("prepare");
    let names: Vec<&str> = stmt.columns().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "model",
            "version",
            "algorithm",
            "training_rows",
            "evaluation_rows",
            "metrics"
        ]
    );
    assert_eq!(count(&client).await, 0, "Parse/Describe must not train");
    let rows = client.query(&stmt, &[]).await.expect("execute");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, i64>("version"), 1);
    assert_eq!(rows[0].get::<_, i64>("training_rows"), 5635);
    assert_eq!(count(&client).await, 1);
    // executing the prepared statement again trains version 2
    let rows = client.query(&stmt, &[]).await.expect("execute again");
    assert_eq!(rows[0].get::<_, i64>("version"), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_prediction_with_parameters_matches_the_simple_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    client.simple_query(TRAIN_CHURN).await.expect("train");
    let sql = format!(
        "SELECT customer_id, predict_proba('churn', {CHURN_FEATURES}) AS p, predict('churn', {CHURN_FEATURES}) AS label FROM telco_customers WHERE customer_id = $1"
    );
    let stmt = client.prepare(&sql).await.expect("prepare");
    // results arrive in binary format through tokio-postgres
    let row = client.query_one(&stmt, &[&1i64]).await.expect("query");
    let p: f64 = row.get("p");
    assert!((0.0..=1.0).contains(&p));
    let label: String = row.get("label");
    assert_eq!(label, if p >= 0.5 { "Yes" } else { "No" });
    // the same value through the simple (text) protocol
    let text = client
        .simple_query(&sql.replace("$1", "1"))
        .await
        .unwrap()
        .into_iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get("p").map(str::to_owned),
            _ => None,
        })
        .unwrap();
    assert_eq!(text.parse::<f64>().unwrap(), p);
    // unaliased calls are named after the function, as in PostgreSQL, with
    // parameters too; a type mismatch names PostgreSQL's types
    let stmt = client
        .prepare(&format!(
            "SELECT predict('churn', {}), predict_proba('churn', {CHURN_FEATURES}) FROM telco_customers WHERE customer_id = $1",
            CHURN_FEATURES
        ))
        .await
        .expect("prepare");
    let names: Vec<&str> = stmt.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["predict", "predict_proba"]);
    let err = client
        .query(
            "SELECT CAST('x' AS bigint) + customer_id FROM telco_customers",
            &[],
        )
        .await
        .unwrap_err();
    let message = err.as_db_error().unwrap().message().to_string();
    assert!(
        !message.contains("Utf8") && !message.contains("Int64"),
        "{message}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_clients_are_served_while_a_model_trains() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let trainer = server.connect().await;
    let reader = server.connect().await;
    let training = tokio::spawn(async move {
        trainer
            .simple_query("CREATE MODEL seg OPTIONS (model_type = 'kmeans', num_clusters = 8, n_init = 20) AS SELECT customer_id, number_of_cds, dollar_value FROM cdnow_orders")
            .await
    });
    for _ in 0..5 {
        let n: i64 = reader
            .query_one("SELECT count(*) FROM cdnow_orders", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 69659);
    }
    training.await.unwrap().expect("training finishes");
    let n: i64 = reader
        .query_one("SELECT count(*) FROM models WHERE name = 'seg'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    server.stop().await;
}

async fn count(c: &tokio_postgres::Client) -> i64 {
    c.query_one("SELECT count(*) FROM models", &[])
        .await
        .unwrap()
        .get::<_, i64>(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn driver_habits_work_parameters_deallocate_and_changed_result_types() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    // INSERT with text and integer parameters (drivers send text as Utf8)
    client
        .simple_query("CREATE TABLE notes (id BIGINT, note VARCHAR)")
        .await
        .unwrap();
    let n = client
        .execute("INSERT INTO notes VALUES ($1, $2)", &[&7i64, &"hello"])
        .await
        .expect("parameterised insert");
    assert_eq!(n, 1);
    let row = client
        .query_one("SELECT id, note FROM notes", &[])
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, &str>(1)), (7, "hello"));
    // a parameter typed only by its cast is described with that type, as
    // PostgreSQL infers it (tokio-postgres binds by the described type)
    let stmt = client
        .prepare("SELECT $1::int4 + 1 AS n, CAST($2 AS text) AS t")
        .await
        .unwrap();
    assert_eq!(stmt.params(), [Type::INT4, Type::TEXT]);
    let row = client.query_one(&stmt, &[&41i32, &"x"]).await.unwrap();
    assert_eq!((row.get::<_, i32>(0), row.get::<_, &str>(1)), (42, "x"));
    // an int4 parameter that does not fit the smallint it is cast to:
    // PostgreSQL 15 (psycopg, `%s::int2` with 70000) says 22003 "smallint
    // out of range"
    let stmt = client
        .prepare_typed("SELECT $1::int2 AS s", &[Type::INT4])
        .await
        .unwrap();
    let err = client.query(&stmt, &[&70000i32]).await.unwrap_err();
    assert_eq!(code(&err), "22003", "{err:?}");
    assert_eq!(
        err.as_db_error().map(|d| d.message()),
        Some("smallint out of range")
    );
    let row = client.query_one(&stmt, &[&7i32]).await.unwrap();
    assert_eq!(row.get::<_, i16>(0), 7);
    // psycopg sends DEALLOCATE ALL on its own; it must be a plain command
    client
        .simple_query("DEALLOCATE ALL")
        .await
        .expect("DEALLOCATE ALL");
    // a prepared statement whose result type changes under it is refused (PostgreSQL: 0A000)
    client
        .simple_query("CREATE MODEL lt OPTIONS (model_type = 'logistic_reg', input_label_cols = ['senior_citizen']) AS SELECT tenure, senior_citizen FROM telco_customers")
        .await
        .unwrap();
    let stmt = client
        .prepare("SELECT predict('lt', tenure) AS p FROM telco_customers LIMIT 1")
        .await
        .unwrap();
    client.query(&stmt, &[]).await.expect("bigint label");
    client
        .simple_query("CREATE MODEL lt OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churn']) AS SELECT tenure, churn FROM telco_customers")
        .await
        .unwrap();
    let err = client.query(&stmt, &[]).await.unwrap_err();
    assert_eq!(code(&err), "0A000", "{err:?}");
    let fresh = client
        .prepare("SELECT predict('lt', tenure) AS p FROM telco_customers LIMIT 1")
        .await
        .unwrap();
    let label: String = client.query_one(&fresh, &[]).await.unwrap().get(0);
    assert!(label == "Yes" || label == "No");
    server.stop().await;
}

/// Arrays of structs (`one_hot_encoder`), text arrays (`ngrams`) and structs
/// (`polynomial_expand`) travel as PostgreSQL arrays and records, in the simple
/// and the extended protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preprocessing_arrays_and_structs_reach_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let sql = "SELECT customer_id, one_hot_encoder(contract) OVER () AS e, \
               ngrams(['a', 'b', 'c'], [1, 2]) AS n, \
               polynomial_expand(named_struct('a', 2, 'b', 3)) AS p \
               FROM telco_customers ORDER BY customer_id LIMIT 2";
    let rows: Vec<_> = client
        .simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .collect();
    // customer 1: month-to-month (index 1), customer 2: one year (index 2)
    assert_eq!(rows[0].get("e"), Some(r#"{"(1,1.0)"}"#));
    assert_eq!(rows[1].get("e"), Some(r#"{"(2,1.0)"}"#));
    assert_eq!(rows[0].get("n"), Some(r#"{a,"a b",b,"b c",c}"#));
    assert_eq!(rows[0].get("p"), Some("(2.0,3.0,4.0,6.0,9.0)"));
    // extended protocol: the whole row arrives; a field picked out decodes
    let rows = client.query(sql, &[]).await.unwrap();
    assert_eq!(rows.len(), 2);
    let idx = client
        .query_one(
            "SELECT e[1]['index'] FROM (SELECT customer_id, one_hot_encoder(contract) OVER () AS e FROM telco_customers) WHERE customer_id = 2",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(idx.get::<_, i64>(0), 2);
    server.stop().await;
}

/// PostgreSQL's text cannot hold a NUL byte (it refuses `chr(0)` and
/// `E'\0'` with 22021 / 54000); a value that has one is answered with 22021
/// instead of reaching a driver that reads text as C strings. The connection
/// stays usable and rows before it are unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_with_a_nul_byte_is_an_error_not_a_broken_value() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    for sql in [
        "SELECT 'a' || arrow_cast(chr(0), 'Utf8') || 'b' AS t",
        "SELECT concat('x', chr(0)) AS t",
    ] {
        let err = client.simple_query(sql).await.expect_err(sql);
        assert_eq!(code(&err), "22021", "{sql}");
        assert_eq!(
            err.as_db_error().unwrap().message(),
            "invalid byte sequence for encoding \"UTF8\": 0x00"
        );
        // the extended protocol, text and binary results alike
        let err = client.query(sql, &[]).await.expect_err(sql);
        assert_eq!(code(&err), "22021", "{sql}");
    }
    // other control characters are fine, as in PostgreSQL
    let row = client
        .query_one("SELECT concat('a', chr(1), 'b') AS t", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "a\u{1}b");
    let row = client.query_one("SELECT 'fine' AS t", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "fine");
    server.stop().await;
}

/// `SET` is per session as in PostgreSQL: one client's DataFusion settings do
/// not change another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_belong_to_their_session() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let a = server.connect().await;
    let b = server.connect().await;
    async fn setting(c: &tokio_postgres::Client, name: &str) -> String {
        c.query_one(
            "SELECT value FROM information_schema.df_settings WHERE name = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0)
    }
    let batch = "datafusion.execution.batch_size";
    let default = setting(&b, batch).await;
    assert_eq!(default, "8192");
    a.simple_query(&format!("SET {batch} = 100")).await.unwrap();
    assert_eq!(setting(&a, batch).await, "100");
    assert_eq!(setting(&b, batch).await, default);
    // a table one session creates is seen by the other
    a.simple_query("CREATE TABLE shared_t AS SELECT 1 AS x")
        .await
        .unwrap();
    let n: i64 = b
        .query_one("SELECT count(*) FROM shared_t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // and a new connection starts from the server's settings
    let c = server.connect().await;
    assert_eq!(setting(&c, batch).await, default);
    server.stop().await;
}

/// `session_user`, `current_user` and `user` name the connecting user, each
/// session its own (PostgreSQL; Augur has no `SET ROLE`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_user_is_the_connecting_user() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let augur = server.connect().await;
    let conn = format!(
        "host={} port={} user=alice dbname=augur",
        server.addr.ip(),
        server.addr.port()
    );
    let (alice, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    for (client, user) in [(&alice, "alice"), (&augur, "augur")] {
        for sql in ["SELECT session_user", "SELECT current_user", "SELECT user"] {
            let row = client.query_one(sql, &[]).await.unwrap();
            assert_eq!(row.get::<_, String>(0), user, "{sql}");
        }
    }
    server.stop().await;
}

/// DataFusion's settings through `SET`/`SHOW`: a `datafusion.` key that
/// DataFusion does not have is 42704 (PostgreSQL's answer to a setting it
/// does not have), a value the setting does not take 22023, and `SHOW`
/// gives the session's value in a column named after the setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_settings_are_checked_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let c = server.connect().await;
    let err = c
        .simple_query("SET datafusion.execution.no_such_setting = 1")
        .await
        .unwrap_err();
    assert_eq!(code(&err), "42704");
    assert_eq!(
        err.as_db_error().unwrap().message(),
        "unrecognized configuration parameter \"datafusion.execution.no_such_setting\""
    );
    let err = c
        .simple_query("SET datafusion.execution.batch_size = 'lots'")
        .await
        .unwrap_err();
    assert_eq!(code(&err), "22023");
    c.simple_query("SET datafusion.execution.batch_size = 100")
        .await
        .unwrap();
    let shown = c
        .simple_query("SHOW datafusion.execution.batch_size")
        .await
        .unwrap();
    let row = shown
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .expect("a row");
    assert_eq!(row.columns()[0].name(), "datafusion.execution.batch_size");
    assert_eq!(row.get(0), Some("100"));
    // the extended protocol, as drivers send it
    let row = c
        .query_one("SHOW datafusion.execution.batch_size", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "100");
    let err = c
        .query("SHOW datafusion.execution.no_such_setting", &[])
        .await
        .unwrap_err();
    assert_eq!(code(&err), "42704");
    // any setting PostgreSQL does not have (PostgreSQL 15: 42704
    // unrecognized configuration parameter "foo"); one Augur reports by name
    let err = c.simple_query("SHOW foo").await.unwrap_err();
    assert_eq!(code(&err), "42704");
    let row = c.query_one("SHOW lc_collate", &[]).await.unwrap();
    assert_eq!(row.columns()[0].name(), "lc_collate");
    assert_eq!(row.get::<_, String>(0), "C.UTF-8");
    // the connection stays usable
    let row = c.query_one("SELECT 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    server.stop().await;
}

/// `vector_search`'s query vector as a server-side parameter (psycopg 3 and
/// tokio-postgres send them so). Distances by hand for q = [1, 2]: row 2
/// [0.6, 0.8] √1.6 = 1.264911, row 1 [1, 0] 2, row 3 [0, −1] √10 = 3.162278.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vector_search_takes_its_query_vector_as_a_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE docs AS SELECT id, arrow_cast(v, 'FixedSizeList(2, Float32)') AS v FROM (VALUES (1, ARRAY[1.0, 0.0]), (2, ARRAY[0.6, 0.8]), (3, ARRAY[0.0, -1.0]), (5, ARRAY[4.0, 4.0])) t(id, v)",
        )
        .await
        .unwrap();
    let stmt = client
        .prepare("SELECT id, distance FROM vector_search('docs', 'v', $1, top_k => 3)")
        .await
        .expect("prepare");
    assert_eq!(stmt.params(), &[Type::FLOAT4_ARRAY]);
    let got = |rows: Vec<tokio_postgres::Row>| -> Vec<(i32, f64)> {
        rows.iter()
            .map(|r| (r.get(0), (r.get::<_, f64>(1) * 1e6).round() / 1e6))
            .collect()
    };
    let rows = client.query(&stmt, &[&vec![1.0f32, 2.0]]).await.unwrap();
    assert_eq!(got(rows), [(2, 1.264911), (1, 2.0), (3, 3.162278)]);
    // the same statement, another vector: [0, −1] is row 3 itself
    let rows = client.query(&stmt, &[&vec![0.0f32, -1.0]]).await.unwrap();
    assert_eq!(got(rows)[0], (3, 0.0));
    // a cast parameter, and the scalar-subquery form
    let rows = client
        .query(
            "SELECT id, distance FROM vector_search('docs', 'v', $1::float8[], 1, 'COSINE')",
            &[&vec![1.0f64, 2.0]],
        )
        .await
        .unwrap();
    assert_eq!(got(rows), [(2, 0.01613)]);
    let rows = client
        .query(
            "SELECT id, distance FROM vector_search('docs', 'v', (SELECT $1::real[]), 1, 'DOT_PRODUCT')",
            &[&vec![1.0f32, 2.0]],
        )
        .await
        .unwrap();
    assert_eq!(got(rows), [(5, -12.0)]);
    // bound values are checked as written ones
    let err = client.query(&stmt, &[&None::<Vec<f32>>]).await.unwrap_err();
    assert_eq!(code(&err), "22004", "{err:?}");
    let err = client
        .query(&stmt, &[&vec![1.0f32, f32::NAN]])
        .await
        .unwrap_err();
    assert_eq!(code(&err), "22000", "{err:?}");
    let message = err.as_db_error().map(|e| e.message().to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("element 2 is NaN")),
        "{err:?}"
    );
    let err = client
        .query(&stmt, &[&vec![1.0f32, 2.0, 3.0]])
        .await
        .unwrap_err();
    assert_eq!(code(&err), "22000", "{err:?}");
    // without a value (not prepared): 42P02
    let err = client
        .simple_query("SELECT * FROM vector_search('docs', 'v', $1)")
        .await
        .unwrap_err();
    assert_eq!(code(&err), "42P02", "{err:?}");
    server.stop().await;
}
