//! `SHOW` for the server settings clients read, answered with PostgreSQL 15's
//! values (the rest falls through to `datafusion-postgres`'s `SET`/`SHOW` hook).

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::QueryHook;
use datafusion_postgres::arrow_pg::datatypes::df;
use datafusion_postgres::hooks::HookClient;
use pgwire::api::ClientInfo;
use pgwire::api::portal::Format;
use pgwire::api::results::Response;
use pgwire::error::{PgWireError, PgWireResult};

use super::startup::SERVER_VERSION;

pub struct ShowSettings;

/// The column name and value of a `SHOW` Augur answers itself.
fn setting(
    statement: &Statement,
    client: &(dyn ClientInfo + Send + Sync),
) -> Option<(&'static str, String)> {
    let Statement::ShowVariable { variable } = statement else {
        return None;
    };
    let words: Vec<String> = variable
        .iter()
        .map(|v| v.value.to_ascii_lowercase())
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    Some(match words.as_slice() {
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
        _ => return None,
    })
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

#[async_trait]
impl QueryHook for ShowSettings {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        let (name, value) = setting(statement, client)?;
        Some(respond(ctx, name, &value).await)
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        ctx: &SessionContext,
        client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        let (name, value) = setting(statement, client)?;
        Some(
            ctx.state()
                .create_logical_plan(&query_for(name, &value))
                .await
                .map_err(|e| PgWireError::ApiError(Box::new(e))),
        )
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _plan: &LogicalPlan,
        _params: &ParamValues,
        ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        let (name, value) = setting(statement, client)?;
        Some(respond(ctx, name, &value).await)
    }
}
