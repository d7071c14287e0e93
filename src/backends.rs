//! The server's client sessions, as PostgreSQL shows its backends:
//! `pg_catalog.pg_stat_activity` (one row per connected session: who, from
//! where, since when, and the statement it runs or last ran) and
//! `pg_cancel_backend(pid)` (a cancel request sent from SQL: the session's
//! running statement stops with 57014). pgAdmin's dashboard, DBeaver's
//! session manager and Grafana's PostgreSQL dashboards read these.
//!
//! A session registers at start-up (see `server::startup`) and unregisters
//! when its connection ends (the [`Registration`] guard drops); its state is
//! `active` from a statement's start until its last row is sent, `idle`
//! otherwise. An engine without a server (an embedded program) lists no
//! sessions.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{MemTable, Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::physical_plan::ExecutionPlan;

/// Fires a session's cancel (the same path as a CancelRequest).
pub type CancelFn = Box<dyn Fn() + Send + Sync>;

/// One session.
pub struct Backend {
    pub pid: i32,
    pub user: String,
    pub database: String,
    pub application_name: String,
    pub client: Option<SocketAddr>,
    pub started: SystemTime,
    activity: Mutex<Activity>,
    cancel: CancelFn,
}

struct Activity {
    active: bool,
    query: String,
    query_start: Option<SystemTime>,
    state_change: SystemTime,
}

impl Backend {
    pub fn new(
        pid: i32,
        user: String,
        database: String,
        application_name: String,
        client: Option<SocketAddr>,
        cancel: CancelFn,
    ) -> Self {
        let now = SystemTime::now();
        Self {
            pid,
            user,
            database,
            application_name,
            client,
            started: now,
            activity: Mutex::new(Activity {
                active: false,
                query: String::new(),
                query_start: None,
                state_change: now,
            }),
            cancel,
        }
    }

    /// Marks `query` as running until the returned guard drops.
    pub fn run(self: &Arc<Self>, query: &str) -> Running {
        let now = SystemTime::now();
        if let Ok(mut a) = self.activity.lock() {
            a.active = true;
            a.query = query.to_string();
            a.query_start = Some(now);
            a.state_change = now;
        }
        Running(self.clone())
    }
}

/// A statement running in its session; the session is idle once this drops.
pub struct Running(Arc<Backend>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut a) = self.0.activity.lock() {
            a.active = false;
            a.state_change = SystemTime::now();
        }
    }
}

/// All sessions of a server, by pid.
#[derive(Default)]
pub struct Backends {
    sessions: RwLock<BTreeMap<i32, Arc<Backend>>>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pids: Vec<i32> = self
            .sessions
            .read()
            .map_or_else(|_| Vec::new(), |s| s.keys().copied().collect());
        f.debug_struct("Backends").field("pids", &pids).finish()
    }
}

/// Unregisters its session when dropped (when the connection ends).
pub struct Registration {
    backends: Arc<Backends>,
    pid: i32,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut s) = self.backends.sessions.write() {
            s.remove(&self.pid);
        }
    }
}

impl Backends {
    /// Adds `backend`; it is listed until the returned guard drops.
    pub fn register(self: &Arc<Self>, backend: Arc<Backend>) -> Registration {
        let pid = backend.pid;
        if let Ok(mut s) = self.sessions.write() {
            s.insert(pid, backend);
        }
        Registration {
            backends: self.clone(),
            pid,
        }
    }

    /// Cancels the running statement of session `pid`; false when there
    /// is no such session.
    pub fn cancel(&self, pid: i32) -> bool {
        let backend = self.sessions.read().ok().and_then(|s| s.get(&pid).cloned());
        match backend {
            Some(b) => {
                (b.cancel)();
                true
            }
            None => false,
        }
    }

    fn snapshot(&self) -> Vec<Arc<Backend>> {
        self.sessions
            .read()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// `pg_cancel_backend(pid int4) → bool`: true when a session with that pid
/// exists (its running statement, if any, stops with 57014), false
/// otherwise; NULL for a NULL pid. As PostgreSQL's, it returns without
/// waiting for the statement to stop. An int8 argument is taken as int4
/// (out of int4's range: no session, false).
pub fn pg_cancel_backend_udf(backends: Arc<Backends>) -> ScalarUDF {
    ScalarUDF::new_from_impl(PgCancelBackend {
        backends,
        signature: Signature::one_of(
            vec![
                TypeSignature::Exact(vec![DataType::Int32]),
                TypeSignature::Exact(vec![DataType::Int64]),
            ],
            Volatility::Volatile,
        ),
    })
}

#[derive(Debug)]
struct PgCancelBackend {
    backends: Arc<Backends>,
    signature: Signature,
}

impl PartialEq for PgCancelBackend {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.backends, &other.backends)
    }
}
impl Eq for PgCancelBackend {}
impl std::hash::Hash for PgCancelBackend {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.backends).hash(state);
    }
}

impl ScalarUDFImpl for PgCancelBackend {
    fn name(&self) -> &str {
        "pg_cancel_backend"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let pids = ColumnarValue::values_to_arrays(&args.args)?;
        let pids = datafusion::arrow::compute::cast(&pids[0], &DataType::Int64)?;
        let pids = pids.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        let out: BooleanArray = pids
            .iter()
            .map(|p| p.map(|p| i32::try_from(p).is_ok_and(|p| self.backends.cancel(p))))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}

/// `pg_catalog.pg_stat_activity` with PostgreSQL 15's columns. Columns
/// Augur has no value for (transaction ids, wait events, xact_start,
/// client_hostname, leader_pid, query_id) are NULL; `datid`/`usesysid` are
/// the oids of Augur's one database and user in pg_database / pg_roles
/// (NULL where unknown). Each scan reads the sessions at that moment.
#[derive(Debug)]
pub struct PgStatActivity {
    backends: Arc<Backends>,
    schema: SchemaRef,
}

fn oid_field(name: &str) -> Field {
    Field::new(name, DataType::Int32, true).with_metadata(
        [(
            datafusion_postgres::arrow_pg::datatypes::PG_OID_ALIAS_KEY.to_string(),
            "oid".to_string(),
        )]
        .into(),
    )
}

impl PgStatActivity {
    pub fn new(backends: Arc<Backends>) -> Self {
        let ts = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let text = |n: &str| Field::new(n, DataType::Utf8, true);
        let schema = Arc::new(Schema::new(vec![
            oid_field("datid"),
            text("datname"),
            Field::new("pid", DataType::Int32, true),
            Field::new("leader_pid", DataType::Int32, true),
            oid_field("usesysid"),
            text("usename"),
            text("application_name"),
            text("client_addr"),
            text("client_hostname"),
            Field::new("client_port", DataType::Int32, true),
            Field::new("backend_start", ts(), true),
            Field::new("xact_start", ts(), true),
            Field::new("query_start", ts(), true),
            Field::new("state_change", ts(), true),
            text("wait_event_type"),
            text("wait_event"),
            text("state"),
            text("backend_xid"),
            text("backend_xmin"),
            Field::new("query_id", DataType::Int64, true),
            text("query"),
            text("backend_type"),
        ]));
        Self { backends, schema }
    }

    fn batch(&self) -> Result<RecordBatch> {
        let sessions = self.backends.snapshot();
        let n = sessions.len();
        let micros = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .ok()
        };
        let activity: Vec<(bool, String, Option<i64>, Option<i64>)> = sessions
            .iter()
            .map(|b| match b.activity.lock() {
                Ok(a) => (
                    a.active,
                    a.query.clone(),
                    a.query_start.and_then(micros),
                    micros(a.state_change),
                ),
                Err(_) => (false, String::new(), None, None),
            })
            .collect();
        let ts = |v: Vec<Option<i64>>| -> ArrayRef {
            Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC"))
        };
        let strings = |v: Vec<Option<String>>| -> ArrayRef { Arc::new(StringArray::from(v)) };
        let nulls = || strings(vec![None; n]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(vec![None; n])),
            strings(sessions.iter().map(|b| Some(b.database.clone())).collect()),
            Arc::new(Int32Array::from_iter(sessions.iter().map(|b| Some(b.pid)))),
            Arc::new(Int32Array::from(vec![None; n])),
            Arc::new(Int32Array::from(vec![None; n])),
            strings(sessions.iter().map(|b| Some(b.user.clone())).collect()),
            strings(
                sessions
                    .iter()
                    .map(|b| Some(b.application_name.clone()))
                    .collect(),
            ),
            strings(
                sessions
                    .iter()
                    .map(|b| b.client.map(|a| a.ip().to_string()))
                    .collect(),
            ),
            nulls(),
            Arc::new(Int32Array::from_iter(
                sessions.iter().map(|b| b.client.map(|a| a.port() as i32)),
            )),
            ts(sessions.iter().map(|b| micros(b.started)).collect()),
            ts(vec![None; n]),
            ts(activity.iter().map(|a| a.2).collect()),
            ts(activity.iter().map(|a| a.3).collect()),
            nulls(),
            nulls(),
            strings(
                activity
                    .iter()
                    .map(|a| Some(if a.0 { "active" } else { "idle" }.to_string()))
                    .collect(),
            ),
            nulls(),
            nulls(),
            Arc::new(Int64Array::from(vec![None; n])),
            strings(activity.iter().map(|a| Some(a.1.clone())).collect()),
            strings(vec![Some("client backend".to_string()); n]),
        ];
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

#[async_trait]
impl TableProvider for PgStatActivity {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let table = MemTable::try_new(self.schema.clone(), vec![vec![self.batch()?]])?;
        table.scan(state, projection, filters, limit).await
    }
}
