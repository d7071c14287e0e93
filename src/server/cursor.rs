//! SQL cursors: `DECLARE name [BINARY] [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR
//! query`, `FETCH [NEXT | FORWARD [n | ALL] | n | ALL] [FROM | IN] name`,
//! `CLOSE name | ALL`, with PostgreSQL's command tags (`DECLARE CURSOR`,
//! `FETCH n`, `CLOSE CURSOR`). Used by psycopg named cursors, Tableau's
//! "Use Declare/Fetch" and postgres_fdw.
//!
//! The cursor's query goes through Augur's own front end (ML statements,
//! PostgreSQL rewrites, column names) and streams: each FETCH pulls the next
//! rows from the running query, which is kept as a named portal of the
//! session. Cursors scan forward only: `FETCH PRIOR`/`BACKWARD`/`ABSOLUTE`
//! answer 0A000 (PostgreSQL's answer for a `NO SCROLL` cursor is 55000).
//! Rows are encoded as text (`DECLARE … BINARY` is refused with 0A000).
//!
//! Transactions as in PostgreSQL: a `WITHOUT HOLD` cursor (the default) can
//! only be declared in a transaction block (25P01 otherwise) and is closed at
//! its `COMMIT` or `ROLLBACK`; a `WITH HOLD` cursor lives until `CLOSE` or the
//! end of the connection, unless the transaction that declared it rolls back.
//! Cursor statements in an aborted transaction fail with 25P02.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{CloseCursor, DeclareType, FetchDirection, Statement, Value};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use futures::StreamExt;
use pgwire::api::ClientInfo;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::results::{QueryResponse, Response, Tag};
use pgwire::api::stmt::StoredStatement;
use pgwire::api::store::PortalStore;
use pgwire::error::PgWireResult;
use pgwire::messages::response::TransactionStatus;

use super::handler::{encode_rows, result_fields, to_pg};
use crate::engine::{Engine, Output};
use crate::errors::SqlError;

pub struct Cursors {
    pub engine: Arc<Engine>,
}

/// The SQL cursors of a session (a session extension): name → (holdable,
/// declared in the current transaction block).
#[derive(Default)]
struct SessionCursors(std::sync::Mutex<std::collections::HashMap<String, (bool, bool)>>);

fn session_cursors(client: &dyn HookClient) -> Arc<SessionCursors> {
    client
        .session_extensions()
        .get_or_insert_with(SessionCursors::default)
}

/// Closes the cursors a transaction end closes: at COMMIT those without
/// hold, at ROLLBACK also the holdable ones the transaction declared.
fn end_transaction(client: &dyn HookClient, commit: bool) {
    let cursors = session_cursors(client);
    let mut cursors = cursors.0.lock().unwrap_or_else(|e| e.into_inner());
    cursors.retain(|name, (holdable, declared_now)| {
        let keep = *holdable && (commit || !*declared_now);
        if keep {
            *declared_now = false;
        } else {
            client.portal_store().rm_portal(name);
        }
        keep
    });
}

fn aborted() -> pgwire::error::PgWireError {
    to_pg(SqlError::new(
        "25P02",
        "current transaction is aborted, commands ignored until end of transaction block",
    ))
}

fn empty_plan() -> LogicalPlan {
    LogicalPlan::EmptyRelation(datafusion::logical_expr::EmptyRelation {
        produce_one_row: false,
        schema: Arc::new(datafusion::common::DFSchema::empty()),
    })
}

impl Cursors {
    async fn run(
        &self,
        statement: &Statement,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        let cursor_statement = matches!(
            statement,
            Statement::Declare { .. } | Statement::Fetch { .. } | Statement::Close { .. }
        );
        if cursor_statement && client.transaction_status() == TransactionStatus::Error {
            return Some(Err(aborted()));
        }
        Some(match statement {
            Statement::Commit { .. } => {
                // (the transaction hook answers the statement itself)
                end_transaction(
                    client,
                    client.transaction_status() != TransactionStatus::Error,
                );
                return None;
            }
            Statement::Rollback {
                savepoint: None, ..
            } => {
                end_transaction(client, false);
                return None;
            }
            Statement::Declare { stmts } => self.declare(stmts, client).await,
            Statement::Fetch {
                name, direction, ..
            } => fetch(client, &name.value, direction).await,
            Statement::Close { cursor } => {
                let cursors = session_cursors(client);
                let mut cursors = cursors.0.lock().unwrap_or_else(|e| e.into_inner());
                match cursor {
                    CloseCursor::All => {
                        for name in cursors.keys() {
                            client.portal_store().rm_portal(name);
                        }
                        cursors.clear();
                    }
                    CloseCursor::Specific { name } => {
                        if cursors.remove(&name.value).is_none() {
                            return Some(Err(missing(&name.value)));
                        }
                        client.portal_store().rm_portal(&name.value)
                    }
                }
                Ok(Response::Execution(Tag::new("CLOSE CURSOR")))
            }
            _ => return None,
        })
    }

    async fn declare(
        &self,
        stmts: &[datafusion::sql::sqlparser::ast::Declare],
        client: &mut dyn HookClient,
    ) -> PgWireResult<Response> {
        for declare in stmts {
            if declare.declare_type != Some(DeclareType::Cursor) {
                return Err(to_pg(SqlError::new(
                    "42601",
                    "only DECLARE … CURSOR FOR a query is supported",
                )));
            }
            if declare.binary == Some(true) {
                return Err(to_pg(SqlError::new(
                    "0A000",
                    "binary cursors are not supported; declare the cursor without BINARY",
                )));
            }
            let (Some(name), Some(query)) = (declare.names.first(), &declare.for_query) else {
                return Err(to_pg(SqlError::new(
                    "42601",
                    "DECLARE needs a cursor name and FOR <query>",
                )));
            };
            let holdable = declare.hold == Some(true);
            if !holdable && client.transaction_status() == TransactionStatus::Idle {
                return Err(to_pg(SqlError::new(
                    "25P01",
                    "DECLARE CURSOR can only be used in transaction blocks",
                )));
            }
            let cursors = session_cursors(client);
            if cursors
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(&name.value)
                || client.portal_store().get_portal(&name.value).is_some()
            {
                return Err(to_pg(SqlError::new(
                    "42P03",
                    format!("cursor \"{}\" already exists", name.value),
                )));
            }
            let statement = Statement::Query(query.clone());
            let engine = super::handler::session_engine(&self.engine, client);
            let plan = engine.plan(&statement).await.map_err(to_pg)?;
            let output = engine.execute(plan.clone()).await.map_err(to_pg)?;
            let Output::Rows(frame) = output else {
                return Err(to_pg(SqlError::new(
                    "42601",
                    "a cursor's query must return rows",
                )));
            };
            let rows = encode_rows(client, frame, &Format::UnifiedText, &statement).await?;
            let stored = Arc::new(StoredStatement::new(
                name.value.clone(),
                (query.to_string(), Some((statement, plan))),
                vec![],
            ));
            let portal = Portal::new_cursor(name.value.clone(), stored);
            portal.start(rows).await;
            client.portal_store().put_portal(Arc::new(portal));
            let in_block = client.transaction_status() != TransactionStatus::Idle;
            cursors
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.value.clone(), (holdable, in_block));
        }
        Ok(Response::Execution(Tag::new("DECLARE CURSOR")))
    }
}

fn missing(name: &str) -> pgwire::error::PgWireError {
    to_pg(SqlError::new(
        "34000",
        format!("cursor \"{name}\" does not exist"),
    ))
}

/// How many rows a FETCH asks for; 0 for all.
fn row_count(direction: &FetchDirection) -> PgWireResult<usize> {
    let count = |v: &Value| match v {
        Value::Number(n, _) => n.parse::<usize>().map_err(|_| {
            to_pg(SqlError::new(
                "0A000",
                "FETCH takes a non-negative row count (cursors scan forward only)",
            ))
        }),
        _ => Err(to_pg(SqlError::new("42601", "FETCH needs a row count"))),
    };
    match direction {
        FetchDirection::Next | FetchDirection::Forward { limit: None } => Ok(1),
        FetchDirection::Forward { limit: Some(v) } | FetchDirection::Count { limit: v } => {
            // FETCH 0 re-reads the current row in PostgreSQL; forward-only cursors have none
            match count(v)? {
                0 => Err(to_pg(SqlError::new(
                    "0A000",
                    "FETCH 0 is not supported (cursors scan forward only)",
                ))),
                n => Ok(n),
            }
        }
        FetchDirection::ForwardAll | FetchDirection::All => Ok(0),
        _ => Err(to_pg(SqlError::new(
            "0A000",
            "cursors scan forward only: use FETCH [FORWARD] n, NEXT or ALL",
        ))),
    }
}

async fn fetch(
    client: &mut dyn HookClient,
    name: &str,
    direction: &FetchDirection,
) -> PgWireResult<Response> {
    let max_rows = row_count(direction)?;
    let portal = match client.portal_store().get_portal(name) {
        Some(entry) => match entry.value() {
            Some(portal) => Arc::clone(portal),
            None => return Err(missing(name)),
        },
        None => return Err(missing(name)),
    };
    let mut fetched = fetch_chunked(&portal, max_rows).await?;
    fetched.set_command_tag("FETCH");
    if fetched.row_schema.is_empty() {
        // a cursor read to its end still describes its columns
        fetched.row_schema = Arc::new(result_fields(&portal.statement.statement, None)?);
    }
    Ok(Response::Query(fetched))
}

/// Rows fetched per call into the portal: pgwire reserves room for the whole
/// requested count up front, so `FETCH 1000000000` would abort the process.
const FETCH_CHUNK: usize = 4096;

/// `portal.fetch(max_rows)` (0 = all) in chunks of at most [`FETCH_CHUNK`] rows.
async fn fetch_chunked<S: Clone>(
    portal: &Portal<S>,
    max_rows: usize,
) -> PgWireResult<QueryResponse> {
    let mut rows = Vec::new();
    let mut schema = None;
    loop {
        let want = if max_rows == 0 {
            FETCH_CHUNK
        } else {
            (max_rows - rows.len()).min(FETCH_CHUNK)
        };
        let result = portal.fetch(want).await?;
        let mut response = result.response;
        if schema.is_none() || !response.row_schema.is_empty() {
            schema = Some(response.row_schema.clone());
        }
        let stream = response.data_rows();
        let mut stream = std::pin::pin!(stream);
        while let Some(row) = stream.next().await {
            rows.push(row?);
        }
        if !result.suspended || (max_rows != 0 && rows.len() >= max_rows) {
            break;
        }
    }
    let schema = schema.unwrap_or_else(|| Arc::new(vec![]));
    Ok(QueryResponse::new(
        schema,
        futures::stream::iter(rows.into_iter().map(Ok)),
    ))
}

#[async_trait]
impl QueryHook for Cursors {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.run(statement, client).await
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        matches!(
            statement,
            Statement::Declare { .. } | Statement::Fetch { .. } | Statement::Close { .. }
        )
        .then(|| Ok(empty_plan()))
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _plan: &LogicalPlan,
        _params: &ParamValues,
        _ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.run(statement, client).await
    }
}
