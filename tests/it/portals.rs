//! Row limits on Execute (PortalSuspended, then more Executes on the same
//! portal) and SQL cursors (DECLARE / FETCH / CLOSE), message by message,
//! with PostgreSQL 15's answers from the pg-compat capture (cases E3, E6,
//! S14, S15: pgjdbc `setFetchSize`, psycopg named cursors, Tableau,
//! postgres_fdw).

use crate::common::{Server, engine};
use crate::raw::{self, Msg, Raw};

const FIVE: &str =
    "SELECT customer_id FROM telco_customers WHERE customer_id <= 5 ORDER BY customer_id";

fn row(v: &str) -> Msg {
    Msg::Row(vec![Some(v.to_string())])
}

fn complete(tag: &str) -> Msg {
    Msg::Complete(tag.to_string())
}

/// pgjdbc with autocommit off and fetchSize 2: BEGIN and the query in one
/// pipeline, the named portal survives each Sync inside the transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_with_a_row_limit_suspends_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(&[
        raw::parse("", "BEGIN"),
        raw::bind("", "", false),
        raw::execute("", 0),
        raw::parse("S_1", FIVE),
        raw::bind("C_2", "S_1", false),
        raw::describe_portal("C_2"),
        raw::execute("C_2", 2),
        raw::sync(),
    ])
    .await;
    assert_eq!(
        c.until_ready().await,
        [
            Msg::ParseComplete,
            Msg::BindComplete,
            complete("BEGIN"),
            Msg::ParseComplete,
            Msg::BindComplete,
            Msg::Columns(vec![("customer_id".into(), 20)]),
            row("1"),
            row("2"),
            Msg::PortalSuspended,
            Msg::Ready('T'),
        ]
    );
    c.send(&[raw::execute("C_2", 2), raw::sync()]).await;
    assert_eq!(
        c.until_ready().await,
        [row("3"), row("4"), Msg::PortalSuspended, Msg::Ready('T')]
    );
    // the rest: fewer rows than asked for, so CommandComplete, no suspension
    c.send(&[raw::execute("C_2", 2), raw::sync()]).await;
    assert_eq!(
        c.until_ready().await,
        [row("5"), complete("SELECT 1"), Msg::Ready('T')]
    );
    c.send(&[
        raw::close_portal("C_2"),
        raw::parse("", "COMMIT"),
        raw::bind("", "", false),
        raw::execute("", 1),
        raw::sync(),
    ])
    .await;
    assert_eq!(
        c.until_ready().await,
        [
            Msg::CloseComplete,
            Msg::ParseComplete,
            Msg::BindComplete,
            complete("COMMIT"),
            Msg::Ready('I'),
        ]
    );
    // binary results with a row limit (pgjdbc after prepareThreshold)
    c.send(&[
        raw::bind("C_3", "S_1", true),
        raw::execute("C_3", 4),
        raw::sync(),
    ])
    .await;
    let msgs = c.until_ready().await;
    assert_eq!(msgs.len(), 1 + 4 + 1 + 1, "{msgs:?}");
    assert_eq!(msgs[1], Msg::Row(vec![Some("\0\0\0\0\0\0\0\u{1}".into())]));
    assert_eq!(msgs[5], Msg::PortalSuspended);
    // a limit of 2^31 - 1 rows is not memory reserved up front (that aborted the server)
    c.send(&[
        raw::bind("C_4", "S_1", false),
        raw::execute("C_4", i32::MAX),
        raw::sync(),
    ])
    .await;
    let msgs = c.until_ready().await;
    assert_eq!(msgs.len(), 1 + 5 + 1 + 1, "{msgs:?}");
    assert_eq!(msgs[6], complete("SELECT 5"));
    server.stop().await;
}

/// psycopg2 named cursors and Tableau's Declare/Fetch in the simple protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declare_fetch_close_answer_as_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let mut c = Raw::connect(server.addr).await;
    assert_eq!(
        c.simple("BEGIN").await,
        [complete("BEGIN"), Msg::Ready('T')]
    );
    assert_eq!(
        c.simple(&format!(
            "DECLARE \"cust_cur\" CURSOR WITHOUT HOLD FOR {FIVE}"
        ))
        .await,
        [complete("DECLARE CURSOR"), Msg::Ready('T')]
    );
    let cols = Msg::Columns(vec![("customer_id".into(), 20)]);
    assert_eq!(
        c.simple("FETCH FORWARD 2 FROM \"cust_cur\"").await,
        [
            cols.clone(),
            row("1"),
            row("2"),
            complete("FETCH 2"),
            Msg::Ready('T')
        ]
    );
    assert_eq!(
        c.simple("FETCH 2048 IN cust_cur").await,
        [
            cols.clone(),
            row("3"),
            row("4"),
            row("5"),
            complete("FETCH 3"),
            Msg::Ready('T')
        ]
    );
    assert_eq!(
        c.simple("FETCH ALL FROM cust_cur").await,
        [cols.clone(), complete("FETCH 0"), Msg::Ready('T')]
    );
    assert_eq!(
        c.simple("CLOSE cust_cur").await,
        [complete("CLOSE CURSOR"), Msg::Ready('T')]
    );
    assert_eq!(
        c.simple("COMMIT").await,
        [complete("COMMIT"), Msg::Ready('I')]
    );
    // a cursor that does not exist: 34000
    let msgs = c.simple("FETCH 1 FROM nope").await;
    assert!(
        matches!(&msgs[0], Msg::Error(code, _) if code == "34000"),
        "{msgs:?}"
    );
    // a cursor over Augur SQL (a model's predictions, pg_catalog names)
    c.simple("DECLARE v CURSOR WITH HOLD FOR SELECT pg_catalog.version() AS v, current_schema()")
        .await;
    let msgs = c.simple("FETCH NEXT FROM v").await;
    assert!(
        matches!(&msgs[1], Msg::Row(r) if r[0].as_deref().is_some_and(|v| v.starts_with("PostgreSQL 15"))),
        "{msgs:?}"
    );
    assert_eq!(msgs[2], complete("FETCH 1"));
    // a count far beyond the rows is the rows there are, not an allocation of that size
    c.simple("DECLARE big CURSOR WITH HOLD FOR SELECT 1 AS one")
        .await;
    let msgs = c.simple("FETCH 1000000000 FROM big").await;
    assert_eq!(msgs[2], complete("FETCH 1"), "{msgs:?}");
    server.stop().await;
}

/// psycopg 3 server-side cursors: DECLARE and FETCH through the extended
/// protocol; Describe of the FETCH portal gives the cursor's columns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_through_the_extended_protocol_describes_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let mut c = Raw::connect(server.addr).await;
    c.simple("BEGIN").await;
    c.send(&[
        raw::parse("", &format!("DECLARE \"srv\" CURSOR FOR {FIVE}")),
        raw::bind("", "", false),
        raw::describe_portal(""),
        raw::execute("", 0),
        raw::sync(),
    ])
    .await;
    assert_eq!(
        c.until_ready().await,
        [
            Msg::ParseComplete,
            Msg::BindComplete,
            Msg::NoData,
            complete("DECLARE CURSOR"),
            Msg::Ready('T')
        ]
    );
    c.send(&[
        raw::parse("", "FETCH FORWARD 3 FROM \"srv\""),
        raw::bind("", "", false),
        raw::describe_portal(""),
        raw::execute("", 0),
        raw::sync(),
    ])
    .await;
    assert_eq!(
        c.until_ready().await,
        [
            Msg::ParseComplete,
            Msg::BindComplete,
            Msg::Columns(vec![("customer_id".into(), 20)]),
            row("1"),
            row("2"),
            row("3"),
            complete("FETCH 3"),
            Msg::Ready('T')
        ]
    );
    c.send(&[
        raw::parse("", "FETCH FORWARD ALL FROM \"srv\""),
        raw::bind("", "", false),
        raw::describe_portal(""),
        raw::execute("", 0),
        raw::sync(),
    ])
    .await;
    let msgs = c.until_ready().await;
    assert_eq!(
        msgs[3..],
        [row("4"), row("5"), complete("FETCH 2"), Msg::Ready('T')]
    );
    server.stop().await;
}

/// The SQLSTATE of the first message, which must be an ErrorResponse.
fn error_code(msgs: &[Msg]) -> String {
    match msgs.first() {
        Some(Msg::Error(code, _)) => code.clone(),
        other => panic!("expected an error, got {other:?} in {msgs:?}"),
    }
}

/// Cursors and transaction blocks as in PostgreSQL 15 (answers checked
/// against a PostgreSQL 15.18 server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_follow_transaction_blocks_as_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let mut c = Raw::connect(server.addr).await;
    // without hold, only inside a transaction block
    let msgs = c.simple(&format!("DECLARE c CURSOR FOR {FIVE}")).await;
    assert_eq!(error_code(&msgs), "25P01", "{msgs:?}");
    assert!(
        matches!(&msgs[0], Msg::Error(_, m) if m == "DECLARE CURSOR can only be used in transaction blocks"),
        "{msgs:?}"
    );
    assert_eq!(msgs.last(), Some(&Msg::Ready('I')));
    // WITH HOLD outside one is fine
    assert_eq!(
        c.simple(&format!("DECLARE h CURSOR WITH HOLD FOR {FIVE}"))
            .await,
        [complete("DECLARE CURSOR"), Msg::Ready('I')]
    );
    // BEGIN and DECLARE in one simple query
    assert_eq!(
        c.simple(&format!("BEGIN; DECLARE c CURSOR FOR {FIVE}"))
            .await,
        [
            complete("BEGIN"),
            complete("DECLARE CURSOR"),
            Msg::Ready('T')
        ]
    );
    // the scrolling FETCHes and MOVE: feature not supported
    for sql in [
        "FETCH -1 FROM c",
        "FETCH BACKWARD 1 FROM c",
        "FETCH PRIOR FROM c",
        "FETCH ABSOLUTE 1 FROM c",
        "MOVE FORWARD 1 FROM c",
    ] {
        let msgs = c.simple(sql).await;
        assert_eq!(error_code(&msgs), "0A000", "{sql}: {msgs:?}");
        // the error aborted the transaction; roll back and start again
        assert_eq!(msgs.last(), Some(&Msg::Ready('E')), "{sql}");
        c.simple("ROLLBACK").await;
        c.simple(&format!("BEGIN; DECLARE c CURSOR FOR {FIVE}"))
            .await;
    }
    let msgs = c.simple("FETCH 1 FROM c").await;
    assert_eq!(msgs[2], complete("FETCH 1"), "{msgs:?}");
    // COMMIT closes the cursor without hold, keeps the one with hold
    assert_eq!(
        c.simple("COMMIT").await,
        [complete("COMMIT"), Msg::Ready('I')]
    );
    let msgs = c.simple("FETCH 1 FROM c").await;
    assert_eq!(error_code(&msgs), "34000", "{msgs:?}");
    let msgs = c.simple("FETCH 1 FROM h").await;
    assert_eq!(msgs[2], complete("FETCH 1"), "{msgs:?}");
    // ROLLBACK closes cursors without hold and those with hold it declared
    c.simple(&format!(
        "BEGIN; DECLARE c CURSOR FOR {FIVE}; DECLARE h2 CURSOR WITH HOLD FOR {FIVE}"
    ))
    .await;
    assert_eq!(
        c.simple("ROLLBACK").await,
        [complete("ROLLBACK"), Msg::Ready('I')]
    );
    for gone in ["c", "h2"] {
        let msgs = c.simple(&format!("FETCH 1 FROM {gone}")).await;
        assert_eq!(error_code(&msgs), "34000", "{gone}: {msgs:?}");
    }
    let msgs = c.simple("FETCH 1 FROM h").await;
    assert_eq!(msgs[2], complete("FETCH 1"), "{msgs:?}");
    // in an aborted transaction: 25P02
    c.simple("BEGIN").await;
    let msgs = c.simple("SELECT no_such_column FROM telco_customers").await;
    assert_eq!(msgs.last(), Some(&Msg::Ready('E')));
    let msgs = c.simple(&format!("DECLARE c CURSOR FOR {FIVE}")).await;
    assert_eq!(error_code(&msgs), "25P02", "{msgs:?}");
    let msgs = c.simple("FETCH 1 FROM h").await;
    assert_eq!(error_code(&msgs), "25P02", "{msgs:?}");
    assert_eq!(
        c.simple("ROLLBACK").await,
        [complete("ROLLBACK"), Msg::Ready('I')]
    );
    server.stop().await;
}
