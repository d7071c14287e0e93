//! Replays the start-up and schema-browsing SQL of BI tools and drivers
//! (`tests/replays/*.txt`) against Augur, through the simple protocol and,
//! for single statements, the extended protocol (Parse/Bind/Describe/Execute,
//! as pgjdbc and Npgsql send them), and checks column names, type OIDs,
//! command tags and row shapes against PostgreSQL 15's answers.
//!
//! File format: `> SQL` starts a statement (continued on the following lines
//! that start with neither `<`, `>` nor `#`); `<` lines are what PostgreSQL
//! answers, in order, one result after another:
//! - `< columns name:oid | name:oid` (`name:?` where Augur's type is known to
//!   differ, with a `#` comment saying how),
//! - `< rows N` (the number of rows), `< row v | v` (the first row, `NULL`
//!   for NULL), `< row^ text` (the first row's first value starts with text),
//! - `< tag TAG` ends a result (`SELECT *` accepts any row count),
//! - `< error SQLSTATE`,
//! - `< simple` (a multi-statement message: simple protocol only).

use std::path::PathBuf;

use crate::common::{Server, engine};
use crate::raw::{self, Msg, Raw};

#[derive(Debug, Default)]
struct Case {
    sql: String,
    expect: Vec<String>,
    line: usize,
}

fn cases(text: &str) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() && out.is_empty() {
            continue;
        }
        if let Some(sql) = line.strip_prefix("> ") {
            out.push(Case {
                sql: sql.to_string(),
                expect: vec![],
                line: i + 1,
            });
        } else if let Some(e) = line.strip_prefix("< ") {
            out.last_mut()
                .expect("an answer follows a statement")
                .expect
                .push(e.to_string());
        } else if let Some(c) = out.last_mut()
            && c.expect.is_empty()
        {
            c.sql.push('\n');
            c.sql.push_str(line);
        }
    }
    out
}

/// One result as the checks see it.
#[derive(Debug, Default)]
struct Result {
    columns: Vec<(String, u32)>,
    rows: Vec<Vec<Option<String>>>,
    tag: Option<String>,
    error: Option<String>,
}

fn results(msgs: Vec<Msg>) -> Vec<Result> {
    let mut out = Vec::new();
    let mut cur = Result::default();
    for m in msgs {
        match m {
            Msg::Columns(c) => cur.columns = c,
            Msg::Row(r) => cur.rows.push(r),
            Msg::Complete(t) => {
                cur.tag = Some(t);
                out.push(std::mem::take(&mut cur));
            }
            Msg::Error(code, message) => {
                cur.error = Some(format!("{code} {message}"));
                out.push(std::mem::take(&mut cur));
            }
            Msg::EmptyQuery => out.push(std::mem::take(&mut cur)),
            _ => {}
        }
    }
    out
}

fn check(case: &Case, got: &[Result]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut idx = 0;
    let empty = Result::default();
    for e in &case.expect {
        let r = got.get(idx).unwrap_or(&empty);
        let (key, value) = e.split_once(' ').unwrap_or((e, ""));
        match key {
            "simple" => {}
            "columns" => {
                let want: Vec<(&str, &str)> = value
                    .split(" | ")
                    .map(|c| c.rsplit_once(':').expect("name:oid"))
                    .collect();
                let same = want.len() == r.columns.len()
                    && want.iter().zip(&r.columns).all(|((n, o), (gn, go))| {
                        // `name` columns of the catalog tables Augur patches
                        // (relname, attname, …) arrive as name; others, e.g.
                        // current_schema(), as text (25), which clients read
                        // the same way
                        let name_as_text = *o == "19" && *go == 25;
                        n == gn && (*o == "?" || name_as_text || o.parse::<u32>().ok() == Some(*go))
                    });
                if !same {
                    problems.push(format!("columns: got {:?}, want {value}", r.columns));
                }
            }
            "rows" => {
                if value.parse::<usize>().ok() != Some(r.rows.len()) {
                    problems.push(format!("rows: got {}, want {value}", r.rows.len()));
                }
            }
            "row" | "row^" => {
                let first: Vec<String> = r
                    .rows
                    .first()
                    .map(|row| {
                        row.iter()
                            .map(|v| v.clone().unwrap_or_else(|| "NULL".into()))
                            .collect()
                    })
                    .unwrap_or_default();
                let ok = if key == "row" {
                    first.join(" | ") == value
                } else {
                    first.first().is_some_and(|v| v.starts_with(value))
                };
                if !ok {
                    problems.push(format!("{key}: got {first:?}, want {value}"));
                }
            }
            "tag" => {
                let ok = match (&r.tag, value.strip_suffix(" *")) {
                    (Some(t), Some(prefix)) => t
                        .strip_prefix(prefix)
                        .is_some_and(|n| n.trim().parse::<u64>().is_ok()),
                    (Some(t), None) => t == value,
                    (None, _) => false,
                };
                if !ok {
                    problems.push(format!(
                        "tag: got {:?} (error {:?}), want {value}",
                        r.tag, r.error
                    ));
                }
                idx += 1;
            }
            "error" => {
                if !r.error.as_deref().is_some_and(|m| m.starts_with(value)) {
                    problems.push(format!("error: got {:?}, want {value}", r.error));
                }
                idx += 1;
            }
            other => panic!("unknown expectation {other:?} at line {}", case.line),
        }
    }
    if got.len() != idx {
        problems.push(format!("{} results, {} expected: {got:?}", got.len(), idx));
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bi_tools_see_postgresql_shaped_answers() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/replays");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/replays exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "a replay per tool");
    let mut problems = Vec::new();
    for file in files {
        let data = tempfile::tempdir().unwrap();
        let server = Server::start(engine(data.path()).await).await;
        let mut c = Raw::connect(server.addr).await;
        // the same statements through the extended protocol, in a session of
        // their own (cursors and settings are per session)
        let mut e = Raw::connect(server.addr).await;
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for case in cases(&std::fs::read_to_string(&file).unwrap()) {
            let simple = results(c.simple(&case.sql).await);
            for p in check(&case, &simple) {
                problems.push(format!("{name}:{} (simple): {p}", case.line));
            }
            if case.expect.iter().any(|e| e == "simple") {
                continue;
            }
            // pgjdbc's way: unnamed statement and portal, Describe, Execute
            e.send(&[
                raw::parse("", &case.sql),
                raw::bind("", "", false),
                raw::describe_portal(""),
                raw::execute("", 0),
                raw::sync(),
            ])
            .await;
            let extended = results(e.until_ready().await);
            for p in check(&case, &extended) {
                problems.push(format!("{name}:{} (extended): {p}", case.line));
            }
        }
        server.stop().await;
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
