//! `SHOW` for the server settings clients read, answered with PostgreSQL 15's
//! values, and `SET`/`SHOW` of `statement_timeout` and of DataFusion's
//! settings (`datafusion.…`); the rest falls through to
//! `datafusion-postgres`'s `SET`/`SHOW` hook.

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Expr, Set, Statement, Value};
use datafusion_postgres::QueryHook;
use datafusion_postgres::arrow_pg::datatypes::df;
use datafusion_postgres::hooks::HookClient;
use pgwire::api::ClientInfo;
use pgwire::api::portal::Format;
use pgwire::api::results::{Response, Tag};
use pgwire::error::{PgWireError, PgWireResult};

use super::startup::SERVER_VERSION;
use crate::errors::SqlError;

pub struct ShowSettings;

/// The client metadata key of the session's `statement_timeout`, in
/// milliseconds (absent: no timeout).
pub const STATEMENT_TIMEOUT: &str = "augur.statement_timeout_ms";

/// The session's `statement_timeout`; `None` when it is 0 (off).
pub fn statement_timeout(client: &(impl ClientInfo + ?Sized)) -> Option<std::time::Duration> {
    client
        .metadata()
        .get(STATEMENT_TIMEOUT)
        .and_then(|ms| ms.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(std::time::Duration::from_millis)
}

/// A time setting's value in milliseconds, as PostgreSQL reads it
/// (`parse_int` with `GUC_UNIT_MS`): a number, optionally followed by one of
/// the units `us`, `ms`, `s`, `min`, `h`, `d`, rounded to whole ms.
/// Errors: 22023 with PostgreSQL's message and hint.
fn parse_milliseconds(name: &str, text: &str) -> Result<u64, SqlError> {
    let invalid = |hint: bool| {
        let mut message = format!("invalid value for parameter \"{name}\": \"{text}\"");
        if hint {
            message.push_str(
                "; valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"",
            );
        }
        SqlError::new("22023", message)
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| invalid(false))?;
    let factor = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1e3,
        "min" => 6e4,
        "h" => 3.6e6,
        "d" => 8.64e7,
        _ => return Err(invalid(true)),
    };
    let ms = (value * factor).round();
    if !(0.0..=2147483647.0).contains(&ms) {
        return Err(SqlError::new(
            "22023",
            format!(
                "{ms} ms is outside the valid range for parameter \"{name}\" (0 .. 2147483647)"
            ),
        ));
    }
    Ok(ms as u64)
}

/// Milliseconds as `SHOW` prints a time setting: `0`, or in the largest of
/// d, h, min, s, ms that divides it (`1000` → `1s`, `90000` → `90s`).
fn show_milliseconds(ms: u64) -> String {
    if ms == 0 {
        return "0".into();
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// The value of `SET name = value` as text (a string's contents, a
/// number's digits, `DEFAULT`).
fn set_value(values: &[Expr]) -> String {
    match values {
        [Expr::Value(v)] => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        [Expr::Identifier(i)] => i.value.clone(),
        other => other
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `SET statement_timeout …` and `SET datafusion.…` (the setting's name and
/// value), which Augur answers itself.
fn own_set(statement: &Statement) -> Option<(String, String)> {
    let Statement::Set(Set::SingleAssignment {
        hivevar: false,
        variable,
        values,
        ..
    }) = statement
    else {
        return None;
    };
    let name = variable.to_string().to_ascii_lowercase();
    (name == "statement_timeout" || name.starts_with("datafusion."))
        .then(|| (name, set_value(values)))
}

/// 42704, PostgreSQL's answer to a setting it does not have.
fn unrecognized(name: &str) -> SqlError {
    SqlError::new(
        "42704",
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

/// Applies an [`own_set`]: `statement_timeout` goes into the client's
/// metadata, a DataFusion setting into the session's configuration.
/// Errors: 42704 for a `datafusion.` key DataFusion does not have, 22023
/// for a value the setting does not take.
async fn apply_set(
    ctx: &SessionContext,
    client: &mut dyn HookClient,
    statement: &Statement,
    name: &str,
    value: &str,
) -> Result<(), SqlError> {
    if name == "statement_timeout" {
        let ms = if value.eq_ignore_ascii_case("default") {
            0
        } else {
            parse_milliseconds(name, value)?
        };
        client
            .metadata_mut()
            .insert(STATEMENT_TIMEOUT.to_string(), ms.to_string());
        return Ok(());
    }
    let known = ctx
        .state()
        .config()
        .options()
        .entries()
        .iter()
        .any(|e| e.key == name);
    if !known {
        return Err(unrecognized(name));
    }
    let state = ctx.state();
    let plan = state
        .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
            statement.clone(),
        )))
        .await;
    let outcome = match plan {
        Ok(plan) => ctx.execute_logical_plan(plan).await.map(|_| ()),
        Err(e) => Err(e),
    };
    outcome.map_err(|e| {
        SqlError::new(
            "22023",
            format!("invalid value for parameter \"{name}\": \"{value}\" ({e})"),
        )
    })
}

/// The column name and value of a `SHOW` Augur answers itself; an error for
/// a `datafusion.` key DataFusion does not have (42704).
fn setting(
    statement: &Statement,
    client: &(dyn ClientInfo + Send + Sync),
    ctx: &SessionContext,
) -> Option<Result<(String, String), SqlError>> {
    let Statement::ShowVariable { variable } = statement else {
        return None;
    };
    let words: Vec<String> = variable
        .iter()
        .map(|v| v.value.to_ascii_lowercase())
        .collect();
    let joined = words.join(".");
    if joined.starts_with("datafusion.") {
        let entry = ctx
            .state()
            .config()
            .options()
            .entries()
            .into_iter()
            .find(|e| e.key == joined);
        return Some(match entry {
            Some(e) => Ok((joined, e.value.unwrap_or_default())),
            None => Err(unrecognized(&joined)),
        });
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    Some(
        Ok(match words.as_slice() {
            ["statement_timeout"] => (
                "statement_timeout",
                show_milliseconds(statement_timeout(client).map_or(0, |d| d.as_millis() as u64)),
            ),
            ["server_version"] => ("server_version", SERVER_VERSION.to_string()),
            ["server_version_num"] => ("server_version_num", "150018".to_string()),
            ["transaction", "isolation", "level"] | ["transaction_isolation"] => {
                ("transaction_isolation", "read committed".to_string())
            }
            ["datestyle"] => (
                "DateStyle",
                client
                    .metadata()
                    .get("DateStyle")
                    .cloned()
                    .unwrap_or_else(|| "ISO, MDY".into()),
            ),
            ["standard_conforming_strings"] => ("standard_conforming_strings", "on".into()),
            ["server_encoding"] => ("server_encoding", "UTF8".into()),
            ["client_encoding"] => ("client_encoding", "UTF8".into()),
            ["integer_datetimes"] => ("integer_datetimes", "on".into()),
            ["max_identifier_length"] => ("max_identifier_length", "63".into()),
            ["timezone"] | ["time", "zone"] => (
                "TimeZone",
                client
                    .metadata()
                    .get("TimeZone")
                    .cloned()
                    .unwrap_or_else(|| "UTC".into()),
            ),
            ["search_path"] => ("search_path", "\"$user\", public".into()),
            // SHOW ALL: datafusion-postgres's hook
            ["all"] => return None,
            _ => {
                // the other settings Augur reports (lc_collate, jit, …);
                // PostgreSQL refuses names it does not have
                return Some(match crate::pg_functions::server_setting(&joined) {
                    Some(v) => Ok((joined.clone(), v.to_string())),
                    None => Err(unrecognized(&joined)),
                });
            }
        })
        .map(|(name, value): (&str, String)| (name.to_string(), value)),
    )
}

fn query_for(name: &str, value: &str) -> String {
    format!("SELECT '{}' AS \"{}\"", value.replace('\'', "''"), name)
}

async fn respond(ctx: &SessionContext, name: &str, value: &str) -> PgWireResult<Response> {
    let frame = ctx
        .sql(&query_for(name, value))
        .await
        .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
    // (PostgreSQL's tag is `SHOW`; pgwire appends a row count to every
    // row-returning tag, so the tag stays `SELECT 1`)
    Ok(Response::Query(
        df::encode_dataframe(frame, &Format::UnifiedText, None).await?,
    ))
}

fn to_pg_err(e: SqlError) -> PgWireError {
    super::to_pg(e)
}

/// The empty plan of a `SET` prepared with the extended protocol.
fn no_rows() -> LogicalPlan {
    LogicalPlan::EmptyRelation(datafusion::logical_expr::EmptyRelation {
        produce_one_row: false,
        schema: std::sync::Arc::new(datafusion::common::DFSchema::empty()),
    })
}

async fn set_or_show(
    statement: &Statement,
    ctx: &SessionContext,
    client: &mut dyn HookClient,
) -> Option<PgWireResult<Response>> {
    if let Some((name, value)) = own_set(statement) {
        return Some(
            apply_set(ctx, client, statement, &name, &value)
                .await
                .map(|()| Response::Execution(Tag::new("SET")))
                .map_err(to_pg_err),
        );
    }
    Some(match setting(statement, client, ctx)? {
        Ok((name, value)) => respond(ctx, &name, &value).await,
        Err(e) => Err(to_pg_err(e)),
    })
}

#[async_trait]
impl QueryHook for ShowSettings {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        set_or_show(statement, ctx, client).await
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        ctx: &SessionContext,
        client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        if own_set(statement).is_some() {
            return Some(Ok(no_rows()));
        }
        Some(match setting(statement, client, ctx)? {
            Ok((name, value)) => ctx
                .state()
                .create_logical_plan(&query_for(&name, &value))
                .await
                .map_err(|e| PgWireError::ApiError(Box::new(e))),
            Err(e) => Err(to_pg_err(e)),
        })
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _plan: &LogicalPlan,
        _params: &ParamValues,
        ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        set_or_show(statement, ctx, client).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each value and display is PostgreSQL 15's.
    #[test]
    fn statement_timeout_values_as_postgresql_reads_and_shows_them() {
        let ms = |t: &str| parse_milliseconds("statement_timeout", t);
        assert_eq!(ms("100ms"), Ok(100));
        assert_eq!(ms("100"), Ok(100));
        assert_eq!(ms("100 ms"), Ok(100));
        assert_eq!(ms("1.5s"), Ok(1500));
        assert_eq!(ms("2min"), Ok(120_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("0"), Ok(0));
        assert_eq!(ms("abc").unwrap_err().sqlstate, "22023");
        assert!(ms("5 parsecs").unwrap_err().message.contains("valid units"));
        assert_eq!(
            ms("-1").unwrap_err().message,
            "-1 ms is outside the valid range for parameter \"statement_timeout\" (0 .. 2147483647)"
        );
        let shown: Vec<String> = [0, 100, 1000, 90_000, 120_000, 3_600_000, 1500]
            .into_iter()
            .map(show_milliseconds)
            .collect();
        assert_eq!(shown, ["0", "100ms", "1s", "90s", "2min", "1h", "1500ms"]);
    }
}
