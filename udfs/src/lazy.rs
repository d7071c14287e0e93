//! A table whose rows come from running a job over the result of a SQL query,
//! at execution time only.
//!
//! `ml_train` and `ml_evaluate` return this provider: planning (and so a
//! client's Parse/Describe) only fixes the output schema; the inner query runs,
//! and the CPU-heavy job runs on tokio's blocking pool, when the statement is
//! executed. The async runtime is never blocked.
//!
//! Cancelling the statement (a client's CancelRequest, or a dropped
//! connection) drops the result stream; the job, which tokio cannot abort,
//! then stops at its next [`augur_ml::cancel::checkpoint`] with 57014 and
//! writes nothing.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionState;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, collect};

/// The work done over the inner query's batches; returns the output rows.
pub type Job = Arc<dyn Fn(SchemaRef, Vec<RecordBatch>) -> Result<RecordBatch> + Send + Sync>;

/// See the module documentation.
pub struct LazyQueryTable {
    schema: SchemaRef,
    query: String,
    job: Job,
}

impl LazyQueryTable {
    pub fn new(schema: SchemaRef, query: String, job: Job) -> Self {
        Self { schema, query, job }
    }
}

impl fmt::Debug for LazyQueryTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyQueryTable")
            .field("query", &self.query)
            .finish()
    }
}

/// The `SessionState` behind a `&dyn Session` (always one inside Augur).
pub fn session_state(session: &dyn Session) -> Result<&SessionState> {
    session
        .as_any()
        .downcast_ref::<SessionState>()
        .ok_or_else(|| DataFusionError::Internal("session is not a SessionState".into()))
}

#[async_trait]
impl TableProvider for LazyQueryTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::Temporary
    }
    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let state = session_state(session)?;
        let plan = state.create_logical_plan(&self.query).await?;
        let input = state.create_physical_plan(&plan).await?;
        let part = Arc::new(JobPartition {
            schema: self.schema.clone(),
            input,
            job: self.job.clone(),
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            self.schema.clone(),
            vec![part],
            projection,
            vec![],
            false,
            limit,
        )?))
    }
}

/// Sets the job's cancel flag when the stream waiting for it is dropped
/// before the job finished.
struct CancelOnDrop(Option<Arc<AtomicBool>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

struct JobPartition {
    schema: SchemaRef,
    input: Arc<dyn ExecutionPlan>,
    job: Job,
}

impl fmt::Debug for JobPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JobPartition")
    }
}

impl PartitionStream for JobPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let input = self.input.clone();
        let job = self.job.clone();
        let fut = async move {
            let schema = input.schema();
            let batches = collect(input, ctx).await?;
            let mut cancel = CancelOnDrop(Some(Arc::new(AtomicBool::new(false))));
            let flag = cancel.0.clone().unwrap_or_default();
            let result = tokio::task::spawn_blocking(move || {
                augur_ml::cancel::run(flag, || Ok(job(schema, batches)))
                    .map_err(crate::error::to_df)?
            })
            .await
            .map_err(|e| DataFusionError::Execution(format!("background job failed: {e}")))?;
            cancel.0 = None;
            result
        };
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::once(fut),
        ))
    }
}
