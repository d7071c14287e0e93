//! The PostgreSQL wire-protocol server.
//!
//! [`serve`] takes a bound listener, the engine and a shutdown future, so
//! tests bind port 0 and stop the server cleanly. Each connection is its own
//! task; one client's error or disconnect never affects another.

mod batch_rows;
mod cursor;
mod handler;
pub(crate) mod names;
mod oid_types;
mod parameter_types;
mod pg_output;
mod show;
mod startup;

use std::future::Future;
use std::sync::Arc;

use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::{ConnectionManager, PgWireServerHandlers};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use handler::{AugurHandler, to_pg};
pub use startup::{AugurStartup, SERVER_VERSION};

use crate::engine::Engine;

/// The most connections served at once; more wait for a free slot.
pub const MAX_CONNECTIONS: usize = 256;

struct Handlers {
    query: Arc<AugurHandler>,
    startup: Arc<AugurStartup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.query.clone()
    }
    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.query.clone()
    }
    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }
    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }
    fn error_handler(&self) -> Arc<impl pgwire::api::ErrorHandler> {
        Arc::new(handler::SqlStateErrors)
    }
}

/// Serves `engine` on `listener` until `shutdown` completes; then stops
/// accepting and returns (open connections end with the runtime).
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = Arc::new(ConnectionManager::new());
    let handlers = Arc::new(Handlers {
        startup: Arc::new(AugurStartup::new(
            connections.clone(),
            engine.backends().clone(),
        )),
        query: Arc::new(AugurHandler::new(engine)),
        cancel: Arc::new(DefaultCancelHandler::new(connections)),
    });
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => {
                tracing::info!("shutting down");
                return Ok(());
            }
            accepted = listener.accept() => {
                let (socket, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        continue;
                    }
                };
                let handlers = handlers.clone();
                let slots = slots.clone();
                tokio::spawn(async move {
                    let Ok(_permit) = slots.acquire_owned().await else { return };
                    if let Err(e) = pgwire::tokio::process_socket(socket, None, handlers).await {
                        tracing::debug!("connection {peer} ended: {e}");
                    }
                });
            }
        }
    }
}
