//! Cancellation of a running training (PostgreSQL's query cancel, 57014).
//!
//! A training runs on a blocking thread that the async server cannot
//! interrupt. [`run`] runs a job with a shared flag; the model maths calls
//! [`checkpoint`] between passes over the rows (every
//! [`crate::parallel::map_blocks`], every Lloyd/EM iteration, every tree of a
//! forest). Once the flag is set, the next checkpoint unwinds the job's stack
//! with a private payload (`std::panic::resume_unwind`, so no panic message is
//! printed) and [`run`] turns it into [`MlError`] 57014; nothing after the
//! checkpoint (in particular saving a model) runs. Work outside [`run`] (unit
//! tests, the CLI) has no flag and is never cancelled.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{MlError, Result};

/// SQLSTATE query_canceled.
pub const QUERY_CANCELED: &str = "57014";

thread_local! {
    static FLAG: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// The unwind payload of a cancelled job.
struct Cancelled;

/// The error a cancelled job returns.
pub fn cancelled() -> MlError {
    MlError::new(QUERY_CANCELED, "canceling statement due to user request")
}

/// Runs `job` on this thread with `flag` as its cancel flag: `Err(57014)` when
/// a [`checkpoint`] saw the flag set (or it was set when `job` returned);
/// other panics propagate unchanged.
pub fn run<T>(flag: Arc<AtomicBool>, job: impl FnOnce() -> Result<T>) -> Result<T> {
    let previous = FLAG.with(|f| f.replace(Some(flag.clone())));
    let outcome = catch_unwind(AssertUnwindSafe(job));
    FLAG.with(|f| *f.borrow_mut() = previous);
    match outcome {
        Ok(_) if flag.load(Ordering::Relaxed) => Err(cancelled()),
        Ok(result) => result,
        Err(payload) if payload.is::<Cancelled>() => Err(cancelled()),
        Err(payload) => resume_unwind(payload),
    }
}

/// True when the job running on this thread was cancelled.
pub fn is_cancelled() -> bool {
    FLAG.with(|f| {
        f.borrow()
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    })
}

/// Stops the job running on this thread (see the module documentation) if it
/// was cancelled; otherwise returns at once.
pub fn checkpoint() {
    if is_cancelled() {
        resume_unwind(Box::new(Cancelled));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_job_stops_at_its_next_checkpoint() {
        let flag = Arc::new(AtomicBool::new(false));
        let mut passes = 0;
        let out: Result<()> = run(flag.clone(), || {
            loop {
                checkpoint();
                passes += 1;
                if passes == 3 {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        });
        assert_eq!(passes, 3);
        assert_eq!(out.unwrap_err().sqlstate, QUERY_CANCELED);
        // the flag belongs to the job only
        assert!(!is_cancelled());
        checkpoint();
    }

    #[test]
    fn an_uncancelled_job_returns_its_result_and_other_panics_propagate() {
        let flag = Arc::new(AtomicBool::new(false));
        assert_eq!(run(flag.clone(), || Ok(7)).unwrap(), 7);
        let panicked = catch_unwind(|| run(flag, || -> Result<()> { panic!("boom") }));
        assert!(panicked.is_err());
    }
}
