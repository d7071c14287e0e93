//! Binary result encodings byte for byte against PostgreSQL 15.
//!
//! The expected bytes of the first block are PostgreSQL 15.18's own binary
//! output (`SELECT '<value>'::<type>` fetched with result format 1), copied
//! from `pg-compat/pg15_binary_vectors.txt` in the shared test data. The
//! second block (text, varchar, bytea, json text, int4/float4 arrays from a
//! vector) follows PostgreSQL's `textsend`, `byteasend` and `array_send`
//! (src/backend/utils/adt/{varlena,arrayfuncs}.c), computed by hand in the
//! comments.
//!
//! PostgreSQL's `numeric` keeps each value's own display scale; Arrow's
//! decimals have one scale per column, so each numeric case casts to the
//! precision and scale PostgreSQL shows for that value (`'29.85'::numeric`
//! has scale 2), which is what PostgreSQL sends for `numeric(p,s)` too.
//! `'NaN'::numeric` and `'1E+90'::numeric` have no Arrow decimal (no NaN;
//! 1E+90 needs 91 digits), so Augur never sends them.

use tokio_postgres::types::{FromSql, Type};

use crate::common::{Server, engine};

/// A column value as the raw bytes of its binary encoding.
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// (Augur SQL, PostgreSQL type OID, expected bytes as spaced hex).
const PG15_VECTORS: &[(&str, u32, &str)] = &[
    // numeric '0'
    (
        "SELECT CAST(0 AS NUMERIC(1,0))",
        1700,
        "00 00 00 00 00 00 00 00",
    ),
    // numeric '29.85'
    (
        "SELECT CAST('29.85' AS NUMERIC(4,2))",
        1700,
        "00 02 00 00 00 00 00 02 00 1d 21 34",
    ),
    // numeric '-1022'
    (
        "SELECT CAST('-1022' AS NUMERIC(4,0))",
        1700,
        "00 01 00 00 40 00 00 00 03 fe",
    ),
    // numeric '0.99'
    (
        "SELECT CAST('0.99' AS NUMERIC(2,2))",
        1700,
        "00 01 ff ff 00 00 00 02 26 ac",
    ),
    // numeric '0.004'
    (
        "SELECT CAST('0.004' AS NUMERIC(3,3))",
        1700,
        "00 01 ff ff 00 00 00 03 00 28",
    ),
    // numeric '-1.1'
    (
        "SELECT CAST('-1.1' AS NUMERIC(2,1))",
        1700,
        "00 02 00 00 40 00 00 01 00 01 03 e8",
    ),
    // numeric '123456789.123456789'
    (
        "SELECT CAST('123456789.123456789' AS NUMERIC(18,9))",
        1700,
        "00 06 00 02 00 00 00 09 00 01 09 29 1a 85 04 d2 16 2e 23 28",
    ),
    // timestamptz '2024-07-01 12:00:00+05:30'
    (
        "SELECT CAST('2024-07-01 12:00:00+05:30' AS TIMESTAMPTZ)",
        1184,
        "00 02 bf 28 7e c7 2a 00",
    ),
    // timestamp '2000-01-01 00:00:00'
    (
        "SELECT CAST('2000-01-01 00:00:00' AS TIMESTAMP)",
        1114,
        "00 00 00 00 00 00 00 00",
    ),
    // date '1997-01-01'
    ("SELECT DATE '1997-01-01'", 1082, "ff ff fb b9"),
    // float8 '0.1'
    (
        "SELECT CAST(0.1 AS DOUBLE PRECISION)",
        701,
        "3f b9 99 99 99 99 99 9a",
    ),
    // float4 '1.5'
    ("SELECT CAST(1.5 AS REAL)", 700, "3f c0 00 00"),
    // int2 '-2'
    ("SELECT CAST(-2 AS SMALLINT)", 21, "ff fe"),
    // int8 '9223372036854775807'
    (
        "SELECT CAST(9223372036854775807 AS BIGINT)",
        20,
        "7f ff ff ff ff ff ff ff",
    ),
    // bool 't'
    ("SELECT true", 16, "01"),
    // interval '1 day 02:03:04'
    (
        "SELECT INTERVAL '1 day 02:03:04'",
        1186,
        "00 00 00 01 b8 1e e6 00 00 00 00 01 00 00 00 00",
    ),
    // _float8 '{0.1,0.2,0.3}'
    (
        "SELECT [CAST(0.1 AS DOUBLE PRECISION), 0.2, 0.3]",
        1022,
        "00 00 00 01 00 00 00 00 00 00 02 bd 00 00 00 03 00 00 00 01 \
         00 00 00 08 3f b9 99 99 99 99 99 9a 00 00 00 08 3f c9 99 99 99 99 99 9a \
         00 00 00 08 3f d3 33 33 33 33 33 33",
    ),
    // _int4 '{1,NULL,3}'
    (
        "SELECT [CAST(1 AS INT), NULL, CAST(3 AS INT)]",
        1007,
        "00 00 00 01 00 00 00 01 00 00 00 17 00 00 00 03 00 00 00 01 \
         00 00 00 04 00 00 00 01 ff ff ff ff 00 00 00 04 00 00 00 03",
    ),
    // _text '{a,"b c"}'
    (
        "SELECT ['a', 'b c']",
        1009,
        "00 00 00 01 00 00 00 00 00 00 00 19 00 00 00 02 00 00 00 01 \
         00 00 00 01 61 00 00 00 03 62 20 63",
    ),
];

/// Cases not in the PostgreSQL capture, encoded by hand after PostgreSQL's
/// send functions.
const HAND_VECTORS: &[(&str, u32, &str)] = &[
    // int4 '-2': big-endian two's complement
    ("SELECT CAST(-2 AS INT)", 23, "ff ff ff fe"),
    // text 'héllo': textsend = the UTF-8 bytes
    ("SELECT 'héllo'", 25, "68 c3 a9 6c 6c 6f"),
    // varchar reported as text by Augur; same bytes
    ("SELECT CAST('ab' AS VARCHAR)", 25, "61 62"),
    // bytea '\x00ff41': byteasend = the raw bytes
    ("SELECT X'00FF41'", 17, "00 ff 41"),
    // json_build_object('a', 1) is json text: the UTF-8 bytes of {"a":1}
    (
        "SELECT json_build_object('a', 1)",
        25,
        "7b 22 61 22 3a 31 7d",
    ),
    // float8 'Infinity', '-Infinity', 'NaN' (IEEE 754 bits, as float8send)
    (
        "SELECT CAST('Infinity' AS DOUBLE PRECISION)",
        701,
        "7f f0 00 00 00 00 00 00",
    ),
    (
        "SELECT CAST('-Infinity' AS DOUBLE PRECISION)",
        701,
        "ff f0 00 00 00 00 00 00",
    ),
    (
        "SELECT CAST('NaN' AS DOUBLE PRECISION)",
        701,
        "7f f8 00 00 00 00 00 00",
    ),
    // float4[] '{1.5,2}' from a vector (FixedSizeList<Float32, 2>, the type
    // `embed` returns): ndim 1, no nulls, element oid 700, dim 2, lbound 1,
    // then length-prefixed float4send values
    (
        "SELECT arrow_cast([CAST(1.5 AS REAL), CAST(2 AS REAL)], 'FixedSizeList(2, Float32)')",
        1021,
        "00 00 00 01 00 00 00 00 00 00 02 bc 00 00 00 02 00 00 00 01 \
         00 00 00 04 3f c0 00 00 00 00 00 04 40 00 00 00",
    ),
    // the same as a variable-length list of float4
    (
        "SELECT [CAST(1.5 AS REAL), CAST(2 AS REAL)]",
        1021,
        "00 00 00 01 00 00 00 00 00 00 02 bc 00 00 00 02 00 00 00 01 \
         00 00 00 04 3f c0 00 00 00 00 00 04 40 00 00 00",
    ),
    // int8[] '{}' from an empty list: ndim 0, no nulls, element oid 20
    (
        "SELECT arrow_cast(make_array(), 'List(Int64)')",
        1016,
        "00 00 00 00 00 00 00 00 00 00 00 14",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_results_match_postgresql_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let mut failures = Vec::new();
    for (sql, oid, want) in PG15_VECTORS.iter().chain(HAND_VECTORS) {
        let want = want.split_whitespace().collect::<Vec<_>>().join(" ");
        // tokio-postgres asks for every result column in binary (format 1)
        let stmt = match client.prepare(sql).await {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{sql}: prepare failed: {e}"));
                continue;
            }
        };
        let got_oid = stmt.columns()[0].type_().oid();
        match client.query_one(&stmt, &[]).await {
            Ok(row) => {
                let Raw(bytes) = row.get(0);
                let got = hex(&bytes);
                if got != want || got_oid != *oid {
                    failures.push(format!(
                        "{sql}\n   type {got_oid}, want {oid}\n   got  {got}\n   want {want}"
                    ));
                }
            }
            Err(e) => failures.push(format!("{sql}: {e:?}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    server.stop().await;
}

/// The test's copies of PostgreSQL's vectors are the ones in the shared
/// capture (a guard against typos when copying).
#[test]
fn copied_vectors_match_the_capture() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/pg-compat/pg15_binary_vectors.txt");
    let Ok(file) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} not present", path.display());
        return;
    };
    let captured: Vec<String> = file
        .lines()
        .filter_map(|l| l.split_once("->"))
        .map(|(_, bytes)| bytes.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for (sql, _, want) in PG15_VECTORS {
        let want = want.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(captured.contains(&want), "{sql}: {want} not in the capture");
    }
}

/// Text results as PostgreSQL 15 prints them (`float8out`/`float4out` with
/// the default extra_float_digits 1, `timestamp_out`, `interval_out`), checked
/// by hand against psql on PostgreSQL 15.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_results_print_as_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let cases = [
        ("SELECT CAST('Infinity' AS DOUBLE PRECISION)", "Infinity"),
        ("SELECT CAST('-Infinity' AS DOUBLE PRECISION)", "-Infinity"),
        ("SELECT CAST('NaN' AS DOUBLE PRECISION)", "NaN"),
        ("SELECT CAST(1e16 AS DOUBLE PRECISION)", "1e+16"),
        ("SELECT CAST(0.00001 AS DOUBLE PRECISION)", "1e-05"),
        ("SELECT CAST(1 AS DOUBLE PRECISION)", "1"),
        (
            "SELECT CAST(1 AS DOUBLE PRECISION) / 3",
            "0.3333333333333333",
        ),
        ("SELECT CAST(1000000 AS REAL)", "1e+06"),
        ("SELECT CAST(0.1 AS REAL)", "0.1"),
        (
            "SELECT [CAST(1 AS DOUBLE PRECISION), CAST('Infinity' AS DOUBLE PRECISION)]",
            "{1,Infinity}",
        ),
        (
            "SELECT CAST('2024-01-01 10:00:00' AS TIMESTAMP)",
            "2024-01-01 10:00:00",
        ),
        (
            "SELECT CAST('2024-07-01 12:00:00.5+05:30' AS TIMESTAMPTZ)",
            "2024-07-01 06:30:00.5+00",
        ),
        ("SELECT INTERVAL '1 day 02:03:04'", "1 day 02:03:04"),
    ];
    let mut failures = Vec::new();
    for (sql, want) in cases {
        let got = client
            .simple_query(sql)
            .await
            .unwrap()
            .into_iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                _ => None,
            });
        if got.as_deref() != Some(want) {
            failures.push(format!("{sql}: got {got:?}, want {want}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    server.stop().await;
}

/// PostgreSQL types an integer literal that fits in 32 bits as `integer`
/// (OID 23) and a larger one as `bigint` (OID 20): `SELECT 1` is int4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integer_constants_are_int4_as_in_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let cases: [(&str, &[(&str, Type)]); 4] = [
        ("SELECT 1", &[("?column?", Type::INT4)]),
        (
            "SELECT 1 AS one, 2147483648 AS big, -2147483648 AS low",
            &[
                ("one", Type::INT4),
                ("big", Type::INT8),
                ("low", Type::INT4),
            ],
        ),
        ("SELECT 1 ORDER BY 1 LIMIT 1", &[("?column?", Type::INT4)]),
        (
            "SELECT customer_id, 7 AS seven FROM telco_customers ORDER BY customer_id LIMIT 2",
            &[("customer_id", Type::INT8), ("seven", Type::INT4)],
        ),
    ];
    for (sql, want) in cases {
        let stmt = client.prepare(sql).await.unwrap();
        let got: Vec<(&str, Type)> = stmt
            .columns()
            .iter()
            .map(|c| (c.name(), c.type_().clone()))
            .collect();
        assert_eq!(got, want.to_vec(), "{sql}");
    }
    let row = client.query_one("SELECT 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    let row = client
        .query_one("SELECT 1 AS one, 2147483648 AS big", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(row.get::<_, i64>(1), 2_147_483_648);
    // the simple protocol describes it the same way
    let msgs = client.simple_query("SELECT 1").await.unwrap();
    let tokio_postgres::SimpleQueryMessage::RowDescription(cols) = &msgs[0] else {
        panic!("{msgs:?}")
    };
    assert_eq!(cols[0].name(), "?column?");
    server.stop().await;
}
