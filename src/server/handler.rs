//! The query handlers: Augur's SQL front end and engine behind pgwire's
//! simple and extended query protocols, with `datafusion-postgres`'s hooks for
//! `SET`/`SHOW`, transactions and cursors, and `arrow-pg` for encoding.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::QueryHook;
use datafusion_postgres::arrow_pg::datatypes::df;
use datafusion_postgres::arrow_pg::datatypes::{arrow_schema_to_pg_fields, into_pg_type};
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{FieldInfo, Response, Tag};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, ErrorHandler, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::types::format::FormatOptions;

use crate::engine::{Engine, Output};
use crate::errors::SqlError;

/// A prepared statement: its text and, unless empty, the parsed statement and plan.
pub type PreparedStatement = (String, Option<(Statement, LogicalPlan)>);

/// An engine error as a PostgreSQL ErrorResponse.
pub fn to_pg(e: impl Into<SqlError>) -> PgWireError {
    let e: SqlError = e.into();
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        e.sqlstate,
        e.message,
    )))
}

/// Gives errors raised while a result streams (after the handler returned)
/// their real SQLSTATE instead of pgwire's generic XX000.
pub struct SqlStateErrors;

impl ErrorHandler for SqlStateErrors {
    fn on_error<C: ClientInfo>(&self, _client: &C, error: &mut PgWireError) {
        let e = std::mem::replace(error, PgWireError::InvalidStartupMessage);
        *error = with_sqlstate(e);
        tracing::debug!("sending error: {error}");
    }
}

/// Replaces an engine error wrapped by pgwire or arrow-pg (`ApiError`) with
/// an ErrorResponse carrying its SQLSTATE.
fn with_sqlstate(e: PgWireError) -> PgWireError {
    match e {
        // datafusion-postgres' transaction hook says 25P01 (no_active_sql_transaction)
        // where PostgreSQL says 25P02 (in_failed_sql_transaction)
        PgWireError::UserError(info)
            if info.code == "25P01" && info.message.contains("transaction is aborted") =>
        {
            PgWireError::UserError(Box::new(ErrorInfo::new(
                "ERROR".into(),
                "25P02".into(),
                info.message.clone(),
            )))
        }
        PgWireError::ApiError(inner) => match inner.downcast::<DataFusionError>() {
            Ok(d) => to_pg(crate::errors::classify(&d)),
            Err(other) => match other.downcast::<SqlError>() {
                Ok(s) => to_pg(*s),
                Err(other) => PgWireError::ApiError(other),
            },
        },
        other => other,
    }
}

fn error_response(e: PgWireError) -> Response {
    match with_sqlstate(e) {
        PgWireError::UserError(info) => Response::Error(info),
        other => Response::Error(Box::new(ErrorInfo::new(
            "ERROR".into(),
            "XX000".into(),
            other.to_string(),
        ))),
    }
}

/// Turns a PostgreSQL command tag string into pgwire's `Tag`.
fn command_tag(tag: &str) -> Tag {
    let mut parts = tag.rsplitn(2, ' ');
    let last = parts.next().unwrap_or("");
    match (last.parse::<usize>(), parts.next()) {
        (Ok(rows), Some("INSERT 0")) => Tag::new("INSERT").with_oid(0).with_rows(rows),
        (Ok(rows), Some(head)) => Tag::new(head).with_rows(rows),
        _ => Tag::new(tag),
    }
}

pub struct AugurHandler {
    engine: Arc<Engine>,
    parser: Arc<AugurQueryParser>,
    hooks: Vec<Arc<dyn QueryHook>>,
}

impl AugurHandler {
    pub fn new(engine: Arc<Engine>) -> Self {
        let hooks: Vec<Arc<dyn QueryHook>> = vec![
            Arc::new(super::show::ShowSettings),
            Arc::new(CursorStatementHook),
            Arc::new(SetShowHook),
            Arc::new(TransactionStatementHook),
        ];
        Self {
            parser: Arc::new(AugurQueryParser {
                engine: engine.clone(),
                hooks: hooks.clone(),
            }),
            engine,
            hooks,
        }
    }

    async fn respond<C: ClientInfo>(
        &self,
        client: &C,
        output: Output,
        format: &Format,
    ) -> PgWireResult<Response> {
        match output {
            Output::Command(tag) => Ok(Response::Execution(command_tag(&tag))),
            Output::Rows(frame) => {
                let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
                Ok(Response::Query(
                    df::encode_dataframe(frame, format, Some(options)).await?,
                ))
            }
        }
    }
}

#[async_trait]
impl SimpleQueryHandler for AugurHandler {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo
            + ClientPortalStore
            + futures::Sink<PgWireBackendMessage>
            + Unpin
            + Send
            + Sync,
        C::PortalStore: PortalStore,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as futures::Sink<PgWireBackendMessage>>::Error>,
    {
        tracing::debug!("simple query: {query}");
        let statements = self.engine.parse(query).map_err(to_pg)?;
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let mut results = Vec::with_capacity(statements.len());
        let last = statements.len() - 1;
        'statements: for (i, statement) in statements.into_iter().enumerate() {
            for hook in &self.hooks {
                if let Some(r) = hook
                    .handle_simple_query(&statement, self.engine.session(), client)
                    .await
                {
                    match r {
                        Ok(r) => results.push(r),
                        Err(e) => {
                            results.push(error_response(e));
                            break 'statements;
                        }
                    }
                    continue 'statements;
                }
            }
            let outcome = async {
                let plan = self.engine.plan(&statement).await.map_err(to_pg)?;
                let mut output = self.engine.execute(plan).await.map_err(to_pg)?;
                if i < last {
                    // finish it before the next statement is planned
                    output = self.engine.materialize(output).await.map_err(to_pg)?;
                }
                self.respond(client, output, &Format::UnifiedText).await
            }
            .await;
            match outcome {
                Ok(r) => results.push(r),
                Err(e) => {
                    // like PostgreSQL: stop at the first error, keep earlier results
                    results.push(error_response(e));
                    break;
                }
            }
        }
        Ok(results)
    }
}

/// Parses and plans at Parse time; nothing runs until Execute.
pub struct AugurQueryParser {
    engine: Arc<Engine>,
    hooks: Vec<Arc<dyn QueryHook>>,
}

/// Parameter types in `$1, $2, ...` order.
fn parameter_types(plan: &LogicalPlan) -> PgWireResult<Vec<Option<DataType>>> {
    let params = plan.get_parameter_types().map_err(to_pg)?;
    let mut ids: Vec<(usize, Option<DataType>)> = params
        .into_iter()
        .filter_map(|(k, v)| {
            k.trim_start_matches('$')
                .parse::<usize>()
                .ok()
                .map(|i| (i, v))
        })
        .collect();
    ids.sort_by_key(|(i, _)| *i);
    let max = ids.last().map_or(0, |(i, _)| *i);
    let mut out = vec![None; max];
    for (i, t) in ids {
        if i >= 1 {
            out[i - 1] = t;
        }
    }
    Ok(out)
}

fn wire_types(plan: &LogicalPlan) -> PgWireResult<Vec<Type>> {
    parameter_types(plan)?
        .iter()
        .map(|t| match t {
            Some(dt) => into_pg_type(dt),
            None => Ok(Type::UNKNOWN),
        })
        .collect()
}

#[async_trait]
impl QueryParser for AugurQueryParser {
    type Statement = PreparedStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut statements = self.engine.parse(sql).map_err(to_pg)?;
        if statements.len() > 1 {
            return Err(to_pg(SqlError::new(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            )));
        }
        let Some(statement) = statements.pop() else {
            return Ok(None);
        };
        for hook in &self.hooks {
            if let Some(plan) = hook
                .handle_extended_parse_query(&statement, self.engine.session(), client)
                .await
            {
                return Ok(Some((sql.to_string(), Some((statement, plan?)))));
            }
        }
        let plan = self.engine.plan(&statement).await.map_err(to_pg)?;
        Ok(Some((sql.to_string(), Some((statement, plan)))))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        match stmt {
            (_, Some((_, plan))) => wire_types(plan),
            _ => Ok(vec![]),
        }
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        match stmt {
            (_, Some((_, plan)))
                if !matches!(
                    plan,
                    LogicalPlan::Ddl(_) | LogicalPlan::Dml(_) | LogicalPlan::Statement(_)
                ) =>
            {
                arrow_schema_to_pg_fields(
                    plan.schema().as_arrow(),
                    column_format.unwrap_or(&Format::UnifiedText),
                    None,
                )
            }
            _ => Ok(vec![]),
        }
    }
}

#[async_trait]
impl ExtendedQueryHandler for AugurHandler {
    type Statement = PreparedStatement;
    type QueryParser = AugurQueryParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo
            + ClientPortalStore
            + futures::Sink<PgWireBackendMessage>
            + Unpin
            + Send
            + Sync,
        C::PortalStore: PortalStore,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as futures::Sink<PgWireBackendMessage>>::Error>,
    {
        let (_, Some((statement, plan))) = &portal.statement.statement else {
            return Ok(Response::EmptyQuery);
        };
        let inferred = parameter_types(plan)?;
        let inferred_refs: Vec<Option<&DataType>> = inferred.iter().map(|t| t.as_ref()).collect();
        let wire = wire_types(plan)?;
        let wire_refs: Vec<Option<&Type>> = wire.iter().map(Some).collect();
        let params =
            df::deserialize_parameters_with_server_types(portal, &inferred_refs, &wire_refs)?;
        for hook in &self.hooks {
            if let Some(r) = hook
                .handle_extended_query(statement, plan, &params, self.engine.session(), client)
                .await
            {
                return r;
            }
        }
        let described: Vec<DataType> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let plan = plan
            .clone()
            .replace_params_with_values(&params)
            .map_err(to_pg)?;
        let output = self.engine.execute(plan).await.map_err(to_pg)?;
        if let Output::Rows(frame) = &output {
            // a model retrained with another label type, or a table replaced,
            // changes the result types the client was told at Describe
            let now: Vec<&DataType> = frame
                .schema()
                .fields()
                .iter()
                .map(|f| f.data_type())
                .collect();
            // (an untyped parameter is described as NULL and may take any type)
            let changed = now
                .iter()
                .zip(&described)
                .any(|(a, b)| *a != b && *b != DataType::Null);
            if !described.is_empty() && now.len() == described.len() && changed {
                return Err(to_pg(SqlError::new(
                    "0A000",
                    "cached plan must not change result type: a model or table it reads was replaced; prepare the statement again",
                )));
            }
        }
        self.respond(client, output, &portal.result_column_format)
            .await
    }
}
