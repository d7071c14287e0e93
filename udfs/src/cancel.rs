//! The running statement's cancel flag, for SQL functions that compute for
//! long inside one call (`embed` over a batch of 8,192 texts takes minutes).
//!
//! The server puts a [`QueryCancel`] into the configuration a statement is
//! planned with ([`with_cancel_flag`]) and sets its flag when the statement is
//! cancelled (PostgreSQL's cancel request, 57014) or its result is dropped. A
//! function reads it from `ScalarFunctionArgs::config_options` with
//! [`is_cancelled`] between pieces of work and returns [`cancelled`]. Outside
//! the server (the library, the CLI) no flag is set and nothing is cancelled.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::common::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion::config::ConfigOptions;
use datafusion::dataframe::DataFrame;
use datafusion::error::{DataFusionError, Result};

/// The cancel flag of one statement, as a configuration extension.
#[derive(Debug, Clone, Default)]
pub struct QueryCancel(pub Arc<AtomicBool>);

impl ExtensionOptions for QueryCancel {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    /// Shares the flag on purpose: every copy of the statement's
    /// configuration (one per operator and partition) must see the cancel.
    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }
    fn set(&mut self, key: &str, _value: &str) -> Result<()> {
        Err(DataFusionError::Configuration(format!(
            "{}.{key} cannot be set",
            Self::PREFIX
        )))
    }
    fn entries(&self) -> Vec<ConfigEntry> {
        vec![]
    }
}

impl ConfigExtension for QueryCancel {
    const PREFIX: &'static str = "augur_statement";
}

/// `frame`, planned so that its functions see `flag` as the statement's
/// cancel flag.
pub fn with_cancel_flag(frame: DataFrame, flag: Arc<AtomicBool>) -> DataFrame {
    let (mut state, plan) = frame.into_parts();
    state
        .config_mut()
        .options_mut()
        .extensions
        .insert(QueryCancel(flag));
    // the functions' copy of the configuration is taken here
    state.mark_start_execution();
    DataFrame::new(state, plan)
}

/// Whether the statement running with `config` was cancelled.
pub fn is_cancelled(config: &ConfigOptions) -> bool {
    config
        .extensions
        .get::<QueryCancel>()
        .is_some_and(|c| c.0.load(Ordering::Relaxed))
}

/// PostgreSQL's query_canceled error (57014).
pub fn cancelled() -> DataFusionError {
    crate::error::to_df(augur_ml::cancel::cancelled())
}
