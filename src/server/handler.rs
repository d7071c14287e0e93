//! The query handlers: Augur's SQL front end and engine behind pgwire's
//! simple and extended query protocols, with `datafusion-postgres`'s hooks for
//! `SET`/`SHOW`, transactions and cursors, and `arrow-pg` for encoding.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::QueryHook;
use datafusion_postgres::arrow_pg::datatypes::arrow_schema_to_pg_fields;
use datafusion_postgres::arrow_pg::datatypes::df;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DescribePortalResponse, FieldInfo, Response, SendableRowStream, Tag};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, ErrorHandler, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::data::DataRow;
use pgwire::messages::extendedquery::Execute;
use pgwire::types::format::FormatOptions;

use super::parameter_types::{parameter_types, typed_by_functions, wire_types};
use crate::backends::{Backend, Running};
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

/// Cancel requests: pgwire runs each `do_query` against the connection's
/// cancel channel (BackendKeyData + CancelRequest → 57014), but the rows of a
/// result are computed while they stream, after `do_query` returned. This
/// takes a new channel for the stream as the last step of `do_query` (pgwire
/// polls the query before its own channel, so the query has completed when
/// that channel closes) and ends the stream with 57014 when a cancel request
/// comes. The signal stays pending when the next query takes the channel.
type CancelSignal = futures::future::Shared<futures::future::BoxFuture<'static, ()>>;

async fn cancel_signal<C: ClientInfo>(client: &C) -> CancelSignal {
    use futures::FutureExt;
    let rx = match client
        .session_extensions()
        .get::<Arc<pgwire::api::ConnectionHandle>>()
    {
        Some(handle) => Some(handle.start_query().await),
        None => None,
    };
    async move {
        let fired = match rx {
            Some(rx) => rx.await.is_ok(),
            None => false,
        };
        if !fired {
            futures::future::pending::<()>().await
        }
    }
    .boxed()
    .shared()
}

fn cancelled() -> PgWireError {
    to_pg(SqlError::new(
        "57014",
        "canceling statement due to user request",
    ))
}

fn timed_out() -> PgWireError {
    to_pg(SqlError::new(
        "57014",
        "canceling statement due to statement timeout",
    ))
}

/// When the statement starting now must end: the session's
/// `statement_timeout` from now (`None`: no limit). In a simple query each
/// statement has its own, as in PostgreSQL 13 and later.
fn deadline<C: ClientInfo + ?Sized>(client: &C) -> Option<tokio::time::Instant> {
    super::show::statement_timeout(client).map(|d| tokio::time::Instant::now() + d)
}

/// Runs `work` until `deadline`, after which it is dropped (which stops the
/// query at its next yield) and the answer is 57014.
async fn within<T>(
    deadline: Option<tokio::time::Instant>,
    work: impl std::future::Future<Output = PgWireResult<T>>,
) -> PgWireResult<T> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, work)
            .await
            .unwrap_or_else(|_| Err(timed_out())),
        None => work.await,
    }
}

/// `response` with its row stream ending in 57014 on a cancel request or
/// at `deadline`.
async fn with_cancel<C: ClientInfo>(
    client: &C,
    response: Response,
    deadline: Option<tokio::time::Instant>,
) -> Response {
    match response {
        Response::Query(mut q) => {
            // the last await of do_query (see CancelSignal)
            let signal = cancel_signal(client).await;
            q.data_rows = cancellable(q.data_rows, signal, deadline);
            Response::Query(q)
        }
        other => other,
    }
}

/// Polls `rows` in a task of its own and hands them over in chunks, so the
/// connection's task stays free to see a cancel request however long one
/// poll of the query takes (a CPU-bound join or aggregation). Dropping the
/// returned stream (a cancel, a closed portal, a dropped connection) aborts
/// the task and with it the query, at the query's next yield. A panic in the
/// query ends the stream with XX000 instead of truncating the result.
/// `cancel` is the statement's flag (see `augur_udfs::cancel`), set at the
/// same time, for functions that compute for long inside one poll (`embed`).
fn polled_apart(
    rows: SendableRowStream,
    cancel: Arc<std::sync::atomic::AtomicBool>,
) -> SendableRowStream {
    use futures::StreamExt;
    struct Task(
        tokio::task::JoinHandle<()>,
        Arc<std::sync::atomic::AtomicBool>,
    );
    impl Drop for Task {
        fn drop(&mut self) {
            self.1.store(true, std::sync::atomic::Ordering::Relaxed);
            self.0.abort();
        }
    }
    const CHUNK_ROWS: usize = 1024;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<PgWireResult<DataRow>>>(4);
    let task = Task(
        tokio::spawn(async move {
            let mut chunks = rows.ready_chunks(CHUNK_ROWS);
            while let Some(chunk) = chunks.next().await {
                if tx.send(chunk).await.is_err() {
                    break;
                }
            }
        }),
        cancel,
    );
    Box::pin(
        futures::stream::unfold(Some((rx, task)), |state| async move {
            let (mut rx, mut task) = state?;
            match rx.recv().await {
                Some(chunk) => Some((futures::stream::iter(chunk), Some((rx, task)))),
                None => match (&mut task.0).await {
                    Err(e) if e.is_panic() => Some((
                        futures::stream::iter(vec![Err(to_pg(SqlError::new(
                            "XX000",
                            "internal error: the query failed unexpectedly",
                        )))]),
                        None,
                    )),
                    _ => None,
                },
            }
        })
        .flatten(),
    )
}

/// `response` with `running` held until its rows are sent: the session is
/// `active` in pg_stat_activity until then.
fn active_until_sent(response: Response, running: Option<Running>) -> Response {
    use futures::StreamExt;
    match (response, running) {
        (Response::Query(mut q), Some(running)) => {
            let rows = std::mem::replace(&mut q.data_rows, Box::pin(futures::stream::empty()));
            q.data_rows = Box::pin(rows.map(move |row| {
                let _ = &running;
                row
            }));
            Response::Query(q)
        }
        (other, _) => other,
    }
}

/// Why a result stream was stopped.
#[derive(Clone, Copy)]
enum Stop {
    Cancel,
    Timeout,
}

/// Ends a result stream with error 57014 when the cancel signal comes or
/// the deadline passes.
fn cancellable(
    rows: SendableRowStream,
    signal: CancelSignal,
    deadline: Option<tokio::time::Instant>,
) -> SendableRowStream {
    use futures::FutureExt;
    let stop = async move {
        let timer = async move {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => futures::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = signal => Stop::Cancel,
            () = timer => Stop::Timeout,
        }
    }
    .boxed();
    Box::pin(UntilStopped {
        rows,
        stop: Some(stop),
        since_check: STOP_CHECK_ROWS,
    })
}

/// Rows streamed without a look at the stop signal, at most.
const STOP_CHECK_ROWS: u32 = 256;

/// `rows` until `stop` completes, then its error. `stop` is polled whenever
/// `rows` has nothing ready (so a wait for rows wakes on it) and every
/// [`STOP_CHECK_ROWS`] rows otherwise: polling it for every row (a
/// `take_until`) cost ~10% of streaming a large result.
struct UntilStopped {
    rows: SendableRowStream,
    stop: Option<futures::future::BoxFuture<'static, Stop>>,
    since_check: u32,
}

impl UntilStopped {
    fn stopped(&mut self, why: Stop) -> std::task::Poll<Option<PgWireResult<DataRow>>> {
        self.stop = None;
        // drops the query now, not when the response is dropped
        self.rows = Box::pin(futures::stream::empty());
        std::task::Poll::Ready(Some(Err(match why {
            Stop::Cancel => cancelled(),
            Stop::Timeout => timed_out(),
        })))
    }
}

impl futures::Stream for UntilStopped {
    type Item = PgWireResult<DataRow>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = &mut *self;
        let Some(stop) = this.stop.as_mut() else {
            return Poll::Ready(None);
        };
        if this.since_check >= STOP_CHECK_ROWS {
            this.since_check = 0;
            if let Poll::Ready(why) = stop.as_mut().poll(cx) {
                return this.stopped(why);
            }
        }
        match this.rows.as_mut().poll_next(cx) {
            Poll::Ready(Some(row)) => {
                this.since_check += 1;
                Poll::Ready(Some(row))
            }
            Poll::Ready(None) => {
                this.stop = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                this.since_check = 0;
                match stop.as_mut().poll(cx) {
                    Poll::Ready(why) => this.stopped(why),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

/// The engine of `client`'s session (see [`Engine::for_session`]), made on
/// its first statement.
pub fn session_engine(engine: &Engine, client: &(impl ClientInfo + ?Sized)) -> Arc<Engine> {
    client.session_extensions().get_or_insert_with(|| {
        let session = engine.for_session(
            client
                .metadata()
                .get(pgwire::api::METADATA_USER)
                .map(String::as_str),
        );
        session.set_backend_pid(client.pid_and_secret_key().0);
        session
    })
}

/// A `SHOW`'s result with PostgreSQL's command tag, `SHOW`: pgwire writes a
/// row count into every row-returning tag (`SELECT 1`), so the rows (and,
/// in the simple protocol, the RowDescription) are sent here and the
/// statement answers as a command. Only for a statement whose messages go
/// out at once: the one statement of a simple query, or an Execute.
async fn show_with_its_tag<C>(
    client: &mut C,
    response: pgwire::api::results::QueryResponse,
    describe: bool,
) -> PgWireResult<Response>
where
    C: futures::Sink<PgWireBackendMessage> + Unpin,
    C::Error: std::fmt::Debug,
    PgWireError: From<<C as futures::Sink<PgWireBackendMessage>>::Error>,
{
    use futures::{SinkExt, StreamExt};
    if describe {
        let fields = response.row_schema.iter().map(Into::into).collect();
        client
            .feed(PgWireBackendMessage::RowDescription(
                pgwire::messages::data::RowDescription::new(fields),
            ))
            .await?;
    }
    let mut rows = response.data_rows;
    while let Some(row) = rows.next().await {
        client.feed(PgWireBackendMessage::DataRow(row?)).await?;
    }
    Ok(Response::Execution(Tag::new("SHOW")))
}

/// Statements Augur accepts without effect (it has no savepoints or
/// session state to discard), with PostgreSQL's command tag.
fn no_op_tag(statement: &Statement) -> Option<String> {
    match statement {
        Statement::Savepoint { .. } => Some("SAVEPOINT".into()),
        Statement::ReleaseSavepoint { .. } => Some("RELEASE".into()),
        Statement::Rollback {
            savepoint: Some(_), ..
        } => Some("ROLLBACK".into()),
        Statement::Discard { object_type } => Some(format!("DISCARD {object_type}")),
        _ => None,
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
            Arc::new(super::cursor::Cursors {
                engine: engine.clone(),
            }),
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
        statement: &Statement,
    ) -> PgWireResult<Response> {
        match output {
            Output::Command(tag) => Ok(Response::Execution(command_tag(&tag))),
            Output::Rows(frame) => Ok(Response::Query(
                encode_rows(client, frame, format, statement).await?,
            )),
        }
    }
}

impl AugurHandler {
    /// Executes a query portal without a row limit, sending each row as
    /// it is encoded. pgwire's own Execute collects a portal's rows into
    /// memory before sending the first one (to know whether a row limit
    /// suspends it), so a large result read through the extended protocol
    /// (psycopg binary cursors, asyncpg, pgjdbc) held every row in the
    /// server's memory and reached the client late. Afterwards the portal is
    /// finished: another Execute of it sends no rows, as in PostgreSQL.
    async fn execute_streaming<C>(
        &self,
        client: &mut C,
        portal: Arc<Portal<PreparedStatement>>,
    ) -> PgWireResult<()>
    where
        C: ClientInfo
            + ClientPortalStore
            + futures::Sink<PgWireBackendMessage>
            + Unpin
            + Send
            + Sync,
        C::PortalStore: PortalStore<Statement = PreparedStatement>,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as futures::Sink<PgWireBackendMessage>>::Error>,
    {
        use futures::{SinkExt, StreamExt};
        use pgwire::api::PgWireConnectionState;
        client.set_state(PgWireConnectionState::QueryInProgress);
        let response = ExtendedQueryHandler::do_query(self, client, portal.as_ref(), 0).await;
        // mark the portal finished (started with no rows, then drained)
        portal
            .start(pgwire::api::results::QueryResponse::new(
                Arc::new(vec![]),
                futures::stream::empty(),
            ))
            .await;
        portal.fetch(0).await?;
        match response? {
            Response::Query(mut q) => {
                let mut rows = 0;
                while let Some(row) = q.data_rows.next().await {
                    client.feed(PgWireBackendMessage::DataRow(row?)).await?;
                    rows += 1;
                }
                let tag = Tag::new(q.command_tag()).with_rows(rows);
                client
                    .send(PgWireBackendMessage::CommandComplete(tag.into()))
                    .await?;
            }
            Response::Execution(tag) => {
                client
                    .send(PgWireBackendMessage::CommandComplete(tag.into()))
                    .await?;
            }
            Response::EmptyQuery => {
                client
                    .feed(PgWireBackendMessage::EmptyQueryResponse(
                        pgwire::messages::response::EmptyQueryResponse::new(),
                    ))
                    .await?;
            }
            Response::Error(e) => return Err(PgWireError::UserError(e)),
            _ => {
                return Err(to_pg(SqlError::new(
                    "XX000",
                    "internal error: a query answered as a command",
                )));
            }
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        Ok(())
    }
}

/// The rows of `frame` for the client: PostgreSQL's column names for
/// `statement`, its output formats (see `pg_output`), the client's
/// DateStyle and extra_float_digits.
pub async fn encode_rows<C: ClientInfo + ?Sized>(
    client: &C,
    frame: datafusion::dataframe::DataFrame,
    format: &Format,
    statement: &Statement,
) -> PgWireResult<pgwire::api::results::QueryResponse> {
    use futures::StreamExt;
    let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let frame = augur_udfs::cancel::with_cancel_flag(frame, cancel.clone());
    let schema = Arc::new(super::oid_types::consistent_markers(
        frame.schema().as_arrow(),
    ));
    let encoded_as = Arc::new(arrow_schema_to_pg_fields(&schema, format, Some(options))?);
    let mut fields = super::oid_types::oid_arrays(&schema, (*encoded_as).clone());
    if let Some(names) = super::names::pg_column_names(statement) {
        fields = super::names::rename(fields, Some(&names));
    }
    let fields = Arc::new(untyped_as_text(super::names::name_typed(&schema, fields)));
    // physical planning: a bug that panics there is XX000, not a dropped connection
    let batches =
        futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(frame.execute_stream()))
            .await
            .map_err(|_| {
                to_pg(SqlError::new(
                    "XX000",
                    "internal error while planning the statement (see the server log)",
                ))
            })?
            .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
    let batch_error = |e: DataFusionError| PgWireError::ApiError(Box::new(e));
    match super::batch_rows::BatchEncoder::new(&schema, &fields) {
        Some(encoder) => {
            let rows = batches.flat_map(move |batch| {
                futures::stream::iter(match batch {
                    Ok(batch) => encoder.encode(&batch),
                    Err(e) => vec![Err(batch_error(e))],
                })
            });
            let rows = polled_apart(Box::pin(rows), cancel);
            Ok(pgwire::api::results::QueryResponse::new(fields, rows))
        }
        None => {
            // arrow-pg's encoder, then PostgreSQL's output formats
            let rows = batches.flat_map(move |batch| {
                let rows: Vec<PgWireResult<DataRow>> = match batch {
                    Ok(batch) => datafusion_postgres::arrow_pg::datatypes::encode_recordbatch(
                        encoded_as.clone(),
                        batch,
                    )
                    .collect(),
                    Err(e) => vec![Err(batch_error(e))],
                };
                futures::stream::iter(rows)
            });
            let rows = polled_apart(Box::pin(rows), cancel);
            let response = pgwire::api::results::QueryResponse::new(fields, rows);
            Ok(super::pg_output::postgres_formats(response))
        }
    }
}

/// PostgreSQL resolves a result column of unknown type (`SELECT NULL AS x`)
/// to text (25); arrow-pg describes Arrow's Null type as `unknown` (705).
fn untyped_as_text(fields: Vec<FieldInfo>) -> Vec<FieldInfo> {
    fields
        .into_iter()
        .map(|f| {
            if *f.datatype() == Type::UNKNOWN {
                super::names::retyped(&f, Type::TEXT)
            } else {
                f
            }
        })
        .collect()
}

/// Moves the session's transaction status as `response` does. pgwire sets
/// it only after the whole simple query, so the later statements of
/// `BEGIN; DECLARE …` would see the status from before the `BEGIN`.
fn track_transaction<C: ClientInfo>(client: &mut C, response: &Response) {
    use pgwire::messages::response::TransactionStatus as S;
    let now = client.transaction_status();
    let next = match (response, now) {
        (Response::TransactionStart(_), S::Idle) => S::Transaction,
        (Response::TransactionEnd(_), _) => S::Idle,
        (Response::Error(_), S::Transaction) => S::Error,
        _ => now,
    };
    client.set_transaction_status(next);
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
        let running = client
            .session_extensions()
            .get::<Arc<Backend>>()
            .map(|backend| backend.run(query));
        let engine = session_engine(&self.engine, client);
        let statements = engine.parse(query).map_err(to_pg)?;
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let mut results = Vec::with_capacity(statements.len());
        let mut last_deadline = None;
        let last = statements.len() - 1;
        let alone = statements.len() == 1;
        'statements: for (i, statement) in statements.into_iter().enumerate() {
            if let Some(previous) = results.last() {
                track_transaction(client, previous);
            }
            last_deadline = None;
            if let Some(tag) = no_op_tag(&statement) {
                results.push(Response::Execution(Tag::new(&tag)));
                continue;
            }
            for hook in &self.hooks {
                if let Some(r) = hook
                    .handle_simple_query(&statement, engine.session(), client)
                    .await
                {
                    match r {
                        Ok(Response::Query(q))
                            if alone && matches!(statement, Statement::ShowVariable { .. }) =>
                        {
                            match show_with_its_tag(client, q, true).await {
                                Ok(r) => results.push(r),
                                Err(e) => results.push(error_response(e)),
                            }
                        }
                        Ok(r) => results.push(r),
                        Err(e) => {
                            results.push(error_response(e));
                            break 'statements;
                        }
                    }
                    continue 'statements;
                }
            }
            let until = deadline(client);
            last_deadline = until;
            let outcome = within(until, async {
                let plan = engine.plan(&statement).await.map_err(to_pg)?;
                let mut output = engine.execute(plan).await.map_err(to_pg)?;
                if i < last {
                    // finish it before the next statement is planned
                    output = engine.materialize(output).await.map_err(to_pg)?;
                }
                self.respond(client, output, &Format::UnifiedText, &statement)
                    .await
            })
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
        // only the last result streams lazily; earlier ones are materialised
        if let Some(last) = results.pop() {
            results.push(active_until_sent(
                with_cancel(client, last, last_deadline).await,
                running,
            ));
        }
        Ok(results)
    }
}

/// Parses and plans at Parse time; nothing runs until Execute.
pub struct AugurQueryParser {
    engine: Arc<Engine>,
    hooks: Vec<Arc<dyn QueryHook>>,
}

#[async_trait]
impl QueryParser for AugurQueryParser {
    type Statement = PreparedStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let engine = session_engine(&self.engine, client);
        let mut statements = engine.parse(sql).map_err(to_pg)?;
        if statements.len() > 1 {
            return Err(to_pg(SqlError::new(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            )));
        }
        let Some(statement) = statements.pop() else {
            return Ok(None);
        };
        if no_op_tag(&statement).is_some() {
            let empty = LogicalPlan::EmptyRelation(datafusion::logical_expr::EmptyRelation {
                produce_one_row: false,
                schema: Arc::new(datafusion::common::DFSchema::empty()),
            });
            return Ok(Some((sql.to_string(), Some((statement, empty)))));
        }
        for hook in &self.hooks {
            if let Some(plan) = hook
                .handle_extended_parse_query(&statement, engine.session(), client)
                .await
            {
                return Ok(Some((sql.to_string(), Some((statement, plan?)))));
            }
        }
        let plan = engine.plan(&statement).await.map_err(to_pg)?;
        let plan = typed_by_functions(plan, types)?;
        Ok(Some((sql.to_string(), Some((statement, plan)))))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        match stmt {
            (_, Some((_, plan))) => wire_types(&parameter_types(plan)?),
            _ => Ok(vec![]),
        }
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        result_fields(stmt, column_format)
    }
}

/// The RowDescription fields of a prepared statement (none for commands).
pub fn result_fields(
    stmt: &PreparedStatement,
    column_format: Option<&Format>,
) -> PgWireResult<Vec<FieldInfo>> {
    match stmt {
        (_, Some((statement, plan)))
            if !matches!(
                plan,
                LogicalPlan::Ddl(_) | LogicalPlan::Dml(_) | LogicalPlan::Statement(_)
            ) =>
        {
            let schema = super::oid_types::consistent_markers(plan.schema().as_arrow());
            let fields = arrow_schema_to_pg_fields(
                &schema,
                column_format.unwrap_or(&Format::UnifiedText),
                None,
            )?;
            let fields = super::oid_types::oid_arrays(&schema, fields);
            let names = super::names::pg_column_names(statement);
            let fields = super::names::name_typed(plan.schema().as_arrow(), fields);
            Ok(untyped_as_text(super::names::rename(
                fields,
                names.as_deref(),
            )))
        }
        _ => Ok(vec![]),
    }
}

/// arrow-pg drops a NULL parameter whose type neither the client (OID 0) nor
/// the plan gives (`SELECT $1::text`, `coalesce($1, 'd')` with NULL), which
/// shifts the later parameters; PostgreSQL reads it as an untyped NULL. This
/// puts a NULL back at each such position.
fn with_untyped_nulls<S>(
    portal: &Portal<S>,
    inferred: &[Option<DataType>],
    params: ParamValues,
) -> ParamValues {
    let ParamValues::List(mut values) = params else {
        return params;
    };
    if values.len() >= portal.parameters.len() {
        return ParamValues::List(values);
    }
    for (i, value) in portal.parameters.iter().enumerate() {
        let hint = portal.statement.parameter_types.get(i).cloned().flatten();
        let untyped =
            hint.is_none_or(|t| t == Type::UNKNOWN) && inferred.get(i).cloned().flatten().is_none();
        if value.is_none() && untyped && i <= values.len() {
            values.insert(i, ScalarValue::Utf8(None).into());
        }
    }
    ParamValues::List(values)
}

/// The largest row limit of one `Execute` (see `on_execute`).
pub const MAX_EXECUTE_ROWS: usize = 1 << 20;

#[async_trait]
impl ExtendedQueryHandler for AugurHandler {
    type Statement = PreparedStatement;
    type QueryParser = AugurQueryParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    /// Like the default, except that a row limit above [`MAX_EXECUTE_ROWS`] is
    /// lowered to it: pgwire reserves memory for the whole limit before
    /// reading a row, so a client's `Execute` with a limit of 2³¹ − 1 would
    /// abort the server. A larger result then arrives in parts, each ended by
    /// PortalSuspended, as the protocol allows for any row limit.
    async fn on_execute<C>(&self, client: &mut C, mut message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo
            + ClientPortalStore
            + futures::Sink<PgWireBackendMessage>
            + Unpin
            + Send
            + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as futures::Sink<PgWireBackendMessage>>::Error>,
    {
        if message.max_rows as usize > MAX_EXECUTE_ROWS {
            message.max_rows = MAX_EXECUTE_ROWS as i32;
        }
        // the session is `active` in pg_stat_activity until the rows are sent
        let name = message.name.as_deref().unwrap_or(pgwire::api::DEFAULT_NAME);
        let portal = match client.portal_store().get_portal(name) {
            Some(pgwire::api::store::Entry::Value(portal)) => Some(portal),
            _ => None,
        };
        let _running = match (client.session_extensions().get::<Arc<Backend>>(), &portal) {
            (Some(backend), Some(portal)) => Some(backend.run(&portal.statement.statement.0)),
            _ => None,
        };
        if message.max_rows == 0
            && matches!(
                client.state(),
                pgwire::api::PgWireConnectionState::ReadyForQuery
            )
            && let Some(portal) = portal
            && matches!(
                &portal.statement.statement,
                (_, Some((Statement::Query(_), _)))
            )
            && matches!(
                *portal.state().lock().await,
                pgwire::api::portal::PortalExecutionState::Initial
            )
        {
            return self.execute_streaming(client, portal).await;
        }
        self._on_execute(client, message).await
    }

    /// Like the default, except that a `FETCH` portal is described by the
    /// columns of the cursor it reads (psycopg 3 sends FETCH through the
    /// extended protocol and reads the RowDescription of Describe).
    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        target: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo
            + ClientPortalStore
            + futures::Sink<PgWireBackendMessage>
            + Unpin
            + Send
            + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as futures::Sink<PgWireBackendMessage>>::Error>,
    {
        let mut statement = &target.statement.statement;
        let cursor;
        if let (_, Some((Statement::Fetch { name, .. }, _))) = statement
            && let Some(pgwire::api::store::Entry::Value(portal)) =
                client.portal_store().get_portal(&name.value)
        {
            cursor = portal;
            statement = &cursor.statement.statement;
        }
        let fields = self
            .parser
            .get_result_schema(statement, Some(&target.result_column_format))?;
        Ok(DescribePortalResponse::new(fields))
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
        if let Some(tag) = no_op_tag(statement) {
            return Ok(Response::Execution(Tag::new(&tag)));
        }
        let inferred = parameter_types(plan)?;
        let inferred_refs: Vec<Option<&DataType>> = inferred.iter().map(|t| t.as_ref()).collect();
        let wire = wire_types(&inferred)?;
        // an `oid[]` parameter arrives as PostgreSQL's array of 4-byte oids,
        // which arrow-pg reads as `integer[]` (the same bytes)
        let decode_as: Vec<Type> = wire
            .iter()
            .map(|t| {
                if *t == Type::OID_ARRAY {
                    Type::INT4_ARRAY
                } else {
                    t.clone()
                }
            })
            .collect();
        let wire_refs: Vec<Option<&Type>> = decode_as.iter().map(Some).collect();
        let params = with_untyped_nulls(
            portal,
            &inferred,
            df::deserialize_parameters_with_server_types(portal, &inferred_refs, &wire_refs)
                .map_err(parameter_out_of_range)?,
        );
        let engine = session_engine(&self.engine, client);
        for hook in &self.hooks {
            if let Some(r) = hook
                .handle_extended_query(statement, plan, &params, engine.session(), client)
                .await
            {
                return match r {
                    Ok(Response::Query(q))
                        if matches!(statement, Statement::ShowVariable { .. }) =>
                    {
                        show_with_its_tag(client, q, false).await
                    }
                    other => other,
                };
            }
        }
        let described: Vec<DataType> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let plan = augur_udfs::table_function::bind_parameters(plan.clone(), &params)
            .and_then(|p| p.replace_params_with_values(&params))
            .map_err(to_pg)?;
        let until = deadline(client);
        let output = within(until, async { engine.execute(plan).await.map_err(to_pg) }).await?;
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
        let response = self
            .respond(client, output, &portal.result_column_format, statement)
            .await?;
        Ok(with_cancel(client, response, until).await)
    }
}

/// A bound integer parameter that does not fit the type the statement gives
/// it (`$1::int2` bound to 70000) as PostgreSQL reports it: 22003
/// `smallint out of range` (arrow-pg says 22023 `INT value 70000 is out of
/// range for Int16`). Other errors are kept.
fn parameter_out_of_range(e: PgWireError) -> PgWireError {
    if let PgWireError::UserError(info) = &e
        && info.code == "22023"
        && let Some(rest) = info.message.strip_prefix("INT value ")
        && let Some((_, to)) = rest.rsplit_once(" is out of range for ")
    {
        let name = match to {
            "Int16" => "smallint",
            "Int32" => "integer",
            "Int64" => "bigint",
            _ => return e,
        };
        return PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".to_owned(),
            "22003".to_owned(),
            format!("{name} out of range"),
        )));
    }
    e
}
