//! Yield points in joins, so that a running query can be cancelled.
//!
//! DataFusion's streams give the thread back to tokio when a *scan* has used
//! up the task's budget ([`CooperativeExec`] above leaves). A join can turn
//! one scanned batch into millions of output batches (a cross join of two
//! `generate_series` produces one batch per left row and right batch), and an
//! aggregation above it consumes them all within a single poll: the task never
//! yields, so neither a CancelRequest nor the connection's other work gets
//! the thread, and dropping the query cannot stop it. [`YieldInJoins`] puts a
//! [`CooperativeExec`] above every operator with more than one input (joins,
//! unions), which yields every 128 batches (tokio's budget).

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;

/// See the module documentation. Runs after DataFusion's own rules.
#[derive(Debug, Default)]
pub struct YieldInJoins;

impl PhysicalOptimizerRule for YieldInJoins {
    fn name(&self) -> &str {
        "YieldInJoins"
    }

    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if node.children().len() > 1 {
                let wrapped: Arc<dyn ExecutionPlan> = Arc::new(CooperativeExec::new(node));
                Ok(Transformed::yes(wrapped))
            } else {
                Ok(Transformed::no(node))
            }
        })
        .map(|t| t.data)
    }

    fn schema_check(&self) -> bool {
        true
    }
}
