//! Runs every `sql/*.slt` file twice, each on a fresh data directory: through
//! the in-process engine and over the wire with tokio-postgres. Both print
//! values as PostgreSQL's text format does and errors as `message (SQLSTATE)`.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use augur::{Engine, Output, SqlError};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use sqllogictest::{DBOutput, DefaultColumnType, Runner};
use tokio_postgres::SimpleQueryMessage;

use crate::common::{Server, engine};

fn slt_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sql");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("sql/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    // AUGUR_SLT=name runs only the files whose name contains it
    if let Ok(only) = std::env::var("AUGUR_SLT") {
        files.retain(|p| p.to_string_lossy().contains(&only));
    }
    assert!(!files.is_empty(), "no .slt files under sql/");
    files
}

fn cell(s: String) -> String {
    if s.is_empty() { "(empty)".into() } else { s }
}

/// `s` with every number spelled one way, so that the server's float text
/// (PostgreSQL's: `1`, `1e+16`, `Infinity`) and Arrow's (`1.0`, `1e16`,
/// `inf`), which the expected results use, compare equal when the values are.
fn same_floats(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        let v = match token.as_str() {
            "inf" | "Infinity" => Some(f64::INFINITY),
            "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
            t if t.contains(|c: char| c.is_ascii_digit()) => t.parse::<f64>().ok(),
            _ => None,
        };
        match v {
            Some(v) => out.push_str(&format!("{v:e}")),
            None => out.push_str(token),
        }
        token.clear();
    };
    for c in s.chars() {
        if matches!(c, '{' | '}' | '(' | ')' | ',' | ' ' | '\t' | '[' | ']') {
            flush(&mut token, &mut out);
            out.push(c);
        } else {
            token.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

struct InProcess {
    engine: Arc<Engine>,
}

#[async_trait]
impl sqllogictest::AsyncDB for InProcess {
    type Error = SqlError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SqlError> {
        match self.engine.sql(sql).await?.pop() {
            Some(Output::Rows(df)) => {
                let width = df.schema().fields().len();
                let batches = df.collect().await?;
                let mut rows = Vec::new();
                let opts = FormatOptions::default().with_null("NULL");
                for b in &batches {
                    let formatters = b
                        .columns()
                        .iter()
                        .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| SqlError::new("XX000", e.to_string()))?;
                    for r in 0..b.num_rows() {
                        rows.push(
                            b.columns()
                                .iter()
                                .zip(&formatters)
                                .map(|(c, f)| match c.data_type() {
                                    // PostgreSQL's text form of booleans
                                    DataType::Boolean if c.is_valid(r) => {
                                        if c.as_boolean().value(r) {
                                            "t".into()
                                        } else {
                                            "f".into()
                                        }
                                    }
                                    _ => cell(f.value(r).to_string()),
                                })
                                .collect(),
                        );
                    }
                }
                Ok(DBOutput::Rows {
                    types: vec![DefaultColumnType::Any; width],
                    rows,
                })
            }
            Some(Output::Command(tag)) => {
                let n = tag
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                Ok(DBOutput::StatementComplete(n))
            }
            None => Ok(DBOutput::StatementComplete(0)),
        }
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "augur-in-process"
    }
}

#[derive(Debug)]
struct WireError(String);
impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for WireError {}

struct Wire {
    client: tokio_postgres::Client,
}

#[async_trait]
impl sqllogictest::AsyncDB for Wire {
    type Error = WireError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, WireError> {
        let messages = self.client.simple_query(sql).await.map_err(|e| {
            WireError(match e.as_db_error() {
                Some(d) => format!("{} ({})", d.message(), d.code().code()),
                None => e.to_string(),
            })
        })?;
        // the result of the last statement
        let mut rows = Vec::new();
        let mut width = 0;
        let mut last = DBOutput::StatementComplete(0);
        let mut in_rows = false;
        for m in messages {
            match m {
                SimpleQueryMessage::RowDescription(d) => {
                    width = d.len();
                    rows.clear();
                    in_rows = true;
                }
                SimpleQueryMessage::Row(r) => {
                    width = r.len();
                    rows.push(
                        (0..r.len())
                            .map(|i| r.get(i).map_or("NULL".to_string(), |v| cell(v.to_string())))
                            .collect(),
                    );
                }
                SimpleQueryMessage::CommandComplete(n) => {
                    last = if in_rows {
                        DBOutput::Rows {
                            types: vec![DefaultColumnType::Any; width],
                            rows: std::mem::take(&mut rows),
                        }
                    } else {
                        DBOutput::StatementComplete(n)
                    };
                    in_rows = false;
                }
                _ => {}
            }
        }
        Ok(last)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "augur-wire"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_in_process() {
    for file in slt_files() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path()).await;
        let mut runner = Runner::new(move || {
            let engine = engine.clone();
            async move { Ok(InProcess { engine }) }
        });
        if let Err(e) = runner.run_file_async(&file).await {
            panic!("{} (in-process): {e}", file.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_over_the_wire() {
    for file in slt_files() {
        let dir = tempfile::tempdir().unwrap();
        let server = Arc::new(Server::start(engine(dir.path()).await).await);
        let s = server.clone();
        let mut runner = Runner::new(move || {
            let s = s.clone();
            async move {
                Ok(Wire {
                    client: s.connect().await,
                })
            }
        });
        runner.with_validator(|normalizer, actual, expected| {
            let actual: Vec<Vec<String>> = actual
                .iter()
                .map(|row| row.iter().map(|c| same_floats(c)).collect())
                .collect();
            let expected: Vec<String> = expected.iter().map(|l| same_floats(l)).collect();
            sqllogictest::default_validator(normalizer, &actual, &expected)
        });
        let result = runner.run_file_async(&file).await;
        drop(runner);
        if let Ok(server) = Arc::try_unwrap(server) {
            server.stop().await;
        }
        if let Err(e) = result {
            panic!("{} (wire): {e}", file.display());
        }
    }
}
