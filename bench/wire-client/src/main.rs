//! Streams `SELECT * FROM bench_rows LIMIT ROWS` with tokio-postgres from Augur and
//! from PostgreSQL, in text (simple protocol, `simple_query_raw`) and binary (extended
//! protocol, `query_raw`, which always asks for binary results), and prints rows/s
//! of each (best of two) and the ratio Augur / PostgreSQL.
//!
//! Every value of every row is touched (its length read), as a client that reads
//! the result would; decoding into Rust types is left out so that the figure is the
//! server and the protocol, not this client.
//!
//! Usage: `augur-wire-client-bench AUGUR_PORT PG_PORT [ROWS]`.

use std::time::Instant;

use futures_util::{StreamExt, pin_mut};
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// Any value's raw bytes, whatever its type: the length is all this client keeps.
struct Raw(usize);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw.len()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

async fn connect(port: u16, user: &str) -> Client {
    let conn = format!("host=127.0.0.1 port={port} user={user} dbname={user}");
    let (client, connection) = tokio_postgres::connect(&conn, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to port {port}: {e}"));
    tokio::spawn(connection);
    client
}

async fn text(client: &Client, query: &str) -> (usize, usize) {
    let stream = client.simple_query_raw(query).await.expect("simple query");
    pin_mut!(stream);
    let (mut rows, mut bytes) = (0, 0);
    while let Some(msg) = stream.next().await {
        if let SimpleQueryMessage::Row(row) = msg.expect("row") {
            rows += 1;
            for i in 0..row.len() {
                bytes += row.get(i).map_or(0, str::len);
            }
        }
    }
    (rows, bytes)
}

async fn binary(client: &Client, query: &str) -> (usize, usize) {
    let stream = client
        .query_raw(query, std::iter::empty::<i32>())
        .await
        .expect("extended query");
    pin_mut!(stream);
    let (mut rows, mut bytes) = (0, 0);
    while let Some(row) = stream.next().await {
        let row = row.expect("row");
        rows += 1;
        for i in 0..row.len() {
            bytes += row.get::<_, Option<Raw>>(i).map_or(0, |r| r.0);
        }
    }
    (rows, bytes)
}

async fn best_rate(port: u16, user: &str, query: &str, binary_format: bool, want: usize) -> f64 {
    let client = connect(port, user).await;
    let mut best = 0.0f64;
    for _ in 0..2 {
        let t0 = Instant::now();
        let (rows, _bytes) = if binary_format {
            binary(&client, query).await
        } else {
            text(&client, query).await
        };
        let dt = t0.elapsed().as_secs_f64();
        assert_eq!(rows, want, "row count from port {port}");
        best = best.max(rows as f64 / dt);
    }
    best
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: {} AUGUR_PORT PG_PORT [ROWS]", args[0]);
        std::process::exit(2);
    }
    let augur: u16 = args[1].parse().expect("AUGUR_PORT");
    let pg: u16 = args[2].parse().expect("PG_PORT");
    let rows: usize = args.get(3).map_or(1_000_000, |r| r.parse().expect("ROWS"));
    let query = format!("SELECT * FROM bench_rows LIMIT {rows}");
    for (name, binary_format) in [("text", false), ("binary", true)] {
        let a = best_rate(augur, "augur", &query, binary_format, rows).await;
        let p = best_rate(pg, "postgres", &query, binary_format, rows).await;
        println!(
            "tokio-postgres {name}: Augur {a:.0} rows/s, PostgreSQL {p:.0} rows/s, ratio {:.2}",
            a / p
        );
    }
}
