//! The embeddable engine: a DataFusion `SessionContext` with every Augur
//! function, the data directory's tables, the model registry and the
//! PostgreSQL catalogs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), augur::SqlError> {
//! let engine = augur::Engine::builder().data_dir("data").model_dir("models").build().await?;
//! let batches = engine.query("SELECT count(*) FROM telco_customers").await?;
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use augur_udfs::ModelStore;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{DdlStatement, LogicalPlan, WriteOp};
use datafusion::prelude::{DataFrame, SessionConfig};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;

use crate::catalog::{SCHEMA, TableCatalog};
use crate::errors::SqlError;
use crate::registry::{ModelRegistry, ModelsTable};
use crate::sql::SqlParser;

/// The database (DataFusion catalog) name clients see.
pub const DATABASE: &str = "augur";

/// What a statement produced.
pub enum Output {
    /// A result set, not yet executed (stream it or collect it).
    Rows(DataFrame),
    /// A command with its PostgreSQL tag, e.g. `CREATE TABLE`, `INSERT 0 5`, `SELECT 7043`.
    Command(String),
}

/// Builds an [`Engine`].
#[derive(Debug, Default)]
pub struct EngineBuilder {
    data_dir: Option<PathBuf>,
    model_dir: Option<PathBuf>,
    demo: bool,
    target_partitions: Option<usize>,
}

impl EngineBuilder {
    /// Directory of the tables (`*.parquet`, `*.csv`); created if missing.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }
    /// Directory of the model registry; defaults to `<data_dir>/../models`.
    pub fn model_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.model_dir = Some(dir.into());
        self
    }
    /// Install the demo tables the first time this data directory is opened.
    pub fn demo(mut self, on: bool) -> Self {
        self.demo = on;
        self
    }
    /// DataFusion's `target_partitions` (default: the number of CPUs).
    pub fn target_partitions(mut self, n: usize) -> Self {
        self.target_partitions = Some(n);
        self
    }

    /// Opens the directories, loads tables and models, registers functions.
    pub async fn build(self) -> Result<Engine, SqlError> {
        let data_dir = self.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        let model_dir = self.model_dir.unwrap_or_else(|| {
            data_dir
                .parent()
                .map(|p| p.join("models"))
                .unwrap_or_else(|| PathBuf::from("models"))
        });
        std::fs::create_dir_all(&data_dir).map_err(|e| {
            SqlError::new(
                "58030",
                format!("cannot create {}: {e}", data_dir.display()),
            )
        })?;
        if self.demo {
            // once per data directory: a dropped demo table stays dropped
            crate::demo::install_once(&data_dir)
                .map_err(|e| SqlError::new("58030", format!("cannot install demo data: {e}")))?;
        }
        let mut config = SessionConfig::new()
            .with_default_catalog_and_schema(DATABASE, SCHEMA)
            .with_create_default_catalog_and_schema(true)
            .with_information_schema(true);
        // PostgreSQL's `timestamptz` (and `now()`) is a UTC instant; without a
        // session time zone DataFusion would make it a zoneless timestamp
        config.options_mut().execution.time_zone = Some("+00:00".into());
        if let Some(n) = self.target_partitions {
            config = config.with_target_partitions(n);
        }
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(crate::yield_points::YieldInJoins))
            .with_analyzer_rule(Arc::new(crate::checked_arithmetic::CheckedArithmetic))
            .with_analyzer_rule(Arc::new(crate::pg_casts::CastRounding))
            .build();
        let ctx = SessionContext::new_with_state(state);
        // PostgreSQL's sum: numeric for bigint
        ctx.register_udaf(crate::sum_numeric::sum());
        let registry = Arc::new(
            ModelRegistry::open(&model_dir).map_err(|e| SqlError::new(e.sqlstate, e.message))?,
        );
        let store: Arc<dyn ModelStore> = registry.clone();
        let stock_udfs: Vec<String> = ctx.state().scalar_functions().keys().cloned().collect();
        let stock_tables: Vec<String> = ctx.state().table_functions().keys().cloned().collect();
        augur_udfs::register_all(&ctx, store.clone());
        let ours = |now: Vec<String>, before: &[String]| {
            let mut v: Vec<String> = now.into_iter().filter(|n| !before.contains(n)).collect();
            v.sort();
            v
        };
        let augur_udfs = ours(
            ctx.state().scalar_functions().keys().cloned().collect(),
            &stock_udfs,
        );
        let augur_tables = ours(
            ctx.state().table_functions().keys().cloned().collect(),
            &stock_tables,
        );
        ctx.register_table("models", Arc::new(ModelsTable::new(store)))?;
        ctx.register_udf(version_udf());
        let backends = Arc::new(crate::backends::Backends::default());
        ctx.register_udf(crate::backends::pg_cancel_backend_udf(backends.clone()));
        setup_pg_catalog(&ctx, DATABASE, EmptyContextProvider)
            .map_err(|e| SqlError::new("XX000", format!("cannot set up pg_catalog: {e}")))?;
        crate::pg_functions::register(&ctx, DATABASE, &augur_udfs, &augur_tables, &data_dir)
            .await
            .map_err(|e| SqlError::new("XX000", format!("cannot set up pg_proc: {e}")))?;
        ctx.catalog(DATABASE)
            .and_then(|c| c.schema("pg_catalog"))
            .ok_or_else(|| SqlError::new("XX000", "no pg_catalog schema"))?
            .register_table(
                "pg_stat_activity".into(),
                Arc::new(crate::backends::PgStatActivity::new(backends.clone())),
            )?;
        let catalog = Arc::new(TableCatalog::new(&data_dir));
        let tables = catalog.load_all(&ctx).await?;
        tracing::info!("data directory {}: tables {:?}", data_dir.display(), tables);
        Ok(Engine {
            ctx,
            catalog,
            registry,
            parser: Arc::new(SqlParser::new()),
            backends,
        })
    }
}

/// See the module documentation.
pub struct Engine {
    ctx: SessionContext,
    catalog: Arc<TableCatalog>,
    registry: Arc<ModelRegistry>,
    parser: Arc<SqlParser>,
    backends: Arc<crate::backends::Backends>,
}

impl Engine {
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// An engine for one client session: the same tables, models, functions
    /// and catalogs (shared, so a table one session creates is there for all),
    /// with its own copy of the settings, so that `SET datafusion.…` (and SQL
    /// `PREPARE`) affect only that session, as in PostgreSQL. With `user`,
    /// `session_user` (and `current_user`, `user`) name that user.
    pub fn for_session(&self, user: Option<&str>) -> Engine {
        let ctx = SessionContext::new_with_state(self.ctx.state());
        if let Some(user) = user {
            for name in ["session_user", "current_user"] {
                ctx.register_udf(session_user_udf(name, user.to_string()));
            }
        }
        Engine {
            ctx,
            catalog: self.catalog.clone(),
            registry: self.registry.clone(),
            parser: self.parser.clone(),
            backends: self.backends.clone(),
        }
    }

    /// The server's client sessions (`pg_stat_activity`).
    pub fn backends(&self) -> &Arc<crate::backends::Backends> {
        &self.backends
    }

    /// Makes `pg_backend_pid()` answer `pid`, the process id this session's
    /// client was given in BackendKeyData (which its cancel requests carry),
    /// as PostgreSQL's does; the stock function answers 1 for every session.
    pub fn set_backend_pid(&self, pid: i32) {
        use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
        self.ctx.register_udf(create_udf(
            "pg_backend_pid",
            vec![],
            datafusion::arrow::datatypes::DataType::Int32,
            Volatility::Stable,
            Arc::new(move |_| {
                Ok(ColumnarValue::Scalar(
                    datafusion::common::ScalarValue::Int32(Some(pid)),
                ))
            }),
        ));
    }

    /// The DataFusion session, for registering more tables or functions.
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }

    /// The model registry.
    pub fn registry(&self) -> &Arc<ModelRegistry> {
        &self.registry
    }

    /// Splits and parses SQL text (with `CREATE MODEL` rewritten). A bug
    /// that panics while parsing or rewriting is `XX000` for this statement,
    /// not a dropped connection.
    pub fn parse(&self, sql: &str) -> Result<Vec<Statement>, SqlError> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.parser.parse(sql)))
            .unwrap_or_else(|_| Err(internal_panic("parsing")))
    }

    /// Plans one statement without executing anything. A bug that panics in
    /// planning is `XX000` for this statement, not a dropped connection.
    pub async fn plan(&self, stmt: &Statement) -> Result<LogicalPlan, SqlError> {
        use futures::FutureExt;
        std::panic::AssertUnwindSafe(self.plan_unguarded(stmt))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(internal_panic("planning")))
    }

    async fn plan_unguarded(&self, stmt: &Statement) -> Result<LogicalPlan, SqlError> {
        if let Statement::Deallocate { name, .. } = stmt
            && name.value.eq_ignore_ascii_case("all")
        {
            // drivers (psycopg) send DEALLOCATE ALL after errors; SQL-level prepared
            // statements live in the shared session, so there is nothing per-client to free
            return Ok(LogicalPlan::Statement(
                datafusion::logical_expr::Statement::Deallocate(
                    datafusion::logical_expr::Deallocate { name: "ALL".into() },
                ),
            ));
        }
        let state = self.ctx.state();
        let to_plan = |st: &Statement| {
            state.statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
                st.clone(),
            )))
        };
        let mut planned = to_plan(stmt).await;
        // PostgreSQL returns result columns of the same name (`SELECT 1, 1`);
        // DataFusion's projection refuses them
        if let Err(e) = &planned
            && e.to_string().contains("require unique expression names")
            && let Some(renamed) = crate::sql::with_unique_names(stmt)
        {
            planned = to_plan(&renamed).await;
        }
        let plan = planned
            .and_then(crate::int4_literals::int4_literals)
            .map_err(|e| {
                crate::errors::function_misuse(
                    e.into(),
                    |n| state.table_functions().contains_key(n),
                    |n| state.window_functions().contains_key(n),
                )
            })?;
        crate::pg_casts::check(&plan, &function_names(stmt))?;
        Ok(plan)
    }

    /// Executes a planned statement. Table writes go to the data directory.
    pub async fn execute(&self, plan: LogicalPlan) -> Result<Output, SqlError> {
        let tag = match &plan {
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(c)) => {
                return Ok(Output::Command(self.catalog.create(&self.ctx, c).await?));
            }
            LogicalPlan::Ddl(DdlStatement::DropTable(d)) => {
                return Ok(Output::Command(
                    self.catalog.drop_table(&self.ctx, d).await?,
                ));
            }
            LogicalPlan::Dml(d) if matches!(d.op, WriteOp::Insert(_)) => {
                return Ok(Output::Command(self.catalog.insert(&self.ctx, d).await?));
            }
            LogicalPlan::Dml(d) => {
                return Err(SqlError::new(
                    "0A000",
                    format!(
                        "{} is not supported; rebuild the table with CREATE OR REPLACE TABLE … AS SELECT",
                        d.op
                    ),
                ));
            }
            LogicalPlan::Ddl(d) => Some(ddl_tag(d)),
            LogicalPlan::Statement(datafusion::logical_expr::Statement::Deallocate(d))
                if d.name == "ALL" =>
            {
                return Ok(Output::Command("DEALLOCATE ALL".into()));
            }
            LogicalPlan::Statement(st) => statement_tag(st),
            _ => None,
        };
        let df = self.ctx.execute_logical_plan(plan).await?;
        match tag {
            Some(tag) => {
                df.collect().await?;
                Ok(Output::Command(tag))
            }
            None => Ok(Output::Rows(df)),
        }
    }

    /// Parses, plans and executes every statement of `sql` in order. Each
    /// statement completes before the next is planned (so `CREATE MODEL …;
    /// SELECT predict(…)` works); the last result set is returned unexecuted.
    pub async fn sql(&self, sql: &str) -> Result<Vec<Output>, SqlError> {
        let statements = self.parse(sql)?;
        let last = statements.len().saturating_sub(1);
        let mut out = Vec::new();
        for (i, stmt) in statements.iter().enumerate() {
            let plan = self.plan(stmt).await?;
            let output = self.execute(plan).await?;
            out.push(if i < last {
                self.materialize(output).await?
            } else {
                output
            });
        }
        Ok(out)
    }

    /// Runs a result set to completion, keeping its rows in memory.
    pub async fn materialize(&self, output: Output) -> Result<Output, SqlError> {
        match output {
            Output::Rows(df) => {
                let schema = Arc::new(df.schema().as_arrow().clone());
                let batches = df.collect().await?;
                let table = MemTable::try_new(schema, vec![batches])?;
                Ok(Output::Rows(self.ctx.read_table(Arc::new(table))?))
            }
            command => Ok(command),
        }
    }

    /// Runs `sql` and collects the rows of its last statement.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
        match self.sql(sql).await?.pop() {
            Some(Output::Rows(df)) => Ok(df.collect().await?),
            _ => Ok(vec![]),
        }
    }
}

/// The names of the functions `stmt` calls, lower-cased as written.
fn function_names(stmt: &Statement) -> Vec<String> {
    use datafusion::sql::sqlparser::ast::{Expr, visit_expressions};
    let mut names = Vec::new();
    let _ = visit_expressions(stmt, |e| {
        if let Expr::Function(f) = e
            && let Some(i) = f.name.0.last().and_then(|p| p.as_ident())
        {
            names.push(i.value.to_lowercase());
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    names
}

/// The command tag of a DataFusion statement plan; `None` when it returns rows.
fn statement_tag(st: &datafusion::logical_expr::Statement) -> Option<String> {
    use datafusion::logical_expr::Statement as S;
    Some(
        match st {
            S::TransactionStart(_) => "BEGIN",
            S::TransactionEnd(_) => "COMMIT",
            S::SetVariable(_) | S::ResetVariable(_) => "SET",
            S::Prepare(_) => "PREPARE",
            S::Deallocate(_) => "DEALLOCATE",
            S::Execute(_) => return None,
        }
        .to_string(),
    )
}

fn ddl_tag(d: &DdlStatement) -> String {
    match d {
        DdlStatement::CreateView(_) => "CREATE VIEW",
        DdlStatement::DropView(_) => "DROP VIEW",
        DdlStatement::CreateCatalogSchema(_) => "CREATE SCHEMA",
        DdlStatement::DropCatalogSchema(_) => "DROP SCHEMA",
        DdlStatement::CreateFunction(_) => "CREATE FUNCTION",
        DdlStatement::DropFunction(_) => "DROP FUNCTION",
        DdlStatement::CreateIndex(_) => "CREATE INDEX",
        DdlStatement::CreateExternalTable(_) => "CREATE TABLE",
        _ => "OK",
    }
    .to_string()
}

/// `session_user` / `current_user` (`user` is rewritten to it): the user the
/// client connected as (Augur has no `SET ROLE`); Utf8, never NULL.
fn session_user_udf(name: &str, user: String) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
    create_udf(
        name,
        vec![],
        datafusion::arrow::datatypes::DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_| {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::Utf8(Some(user.clone())),
            ))
        }),
    )
}

/// `version()` as PostgreSQL writes it (clients such as SQLAlchemy parse it).
fn version_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
    let banner = format!(
        "PostgreSQL {} (Augur {}) on {}-{}, compiled by rustc",
        crate::server::SERVER_VERSION,
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS
    );
    create_udf(
        "version",
        vec![],
        datafusion::arrow::datatypes::DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |_| {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::Utf8(Some(banner.clone())),
            ))
        }),
    )
}

/// The error of a statement whose parsing or planning panicked (a bug; the
/// panic and its backtrace are in the server log).
fn internal_panic(stage: &str) -> SqlError {
    SqlError::new(
        "XX000",
        format!("internal error while {stage} the statement (see the server log)"),
    )
}
