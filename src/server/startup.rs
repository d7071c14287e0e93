//! Connection start-up: no authentication (Augur listens on loopback by
//! default), the ParameterStatus set PostgreSQL 15 sends, and BackendKeyData
//! registered for cancel requests.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::{
    ClientInfo, ConnectionManager, PidSecretKeyGenerator, RandomPidSecretKeyGenerator,
};
use pgwire::api::{ConnectionGuard, ConnectionHandle};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use crate::backends::{Backend, Backends};

/// The PostgreSQL version Augur reports; its catalogs follow PostgreSQL 15.
pub const SERVER_VERSION: &str = "15.18";

pub struct AugurStartup {
    pub connections: Arc<ConnectionManager>,
    backends: Arc<Backends>,
    pid_generator: RandomPidSecretKeyGenerator,
    params: DefaultServerParameterProvider,
}

impl AugurStartup {
    pub fn new(connections: Arc<ConnectionManager>, backends: Arc<Backends>) -> Self {
        let mut params = DefaultServerParameterProvider::default();
        params.server_version = SERVER_VERSION.to_string();
        params.date_style = "ISO, MDY".to_string();
        params.time_zone = "UTC".to_string();
        params.search_path = "\"$user\", public".to_string();
        Self {
            connections,
            backends,
            pid_generator: RandomPidSecretKeyGenerator::default(),
            params,
        }
    }
}

#[async_trait]
impl StartupHandler for AugurStartup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let PgWireFrontendMessage::Startup(ref startup) = message {
            protocol_negotiation(client, startup).await?;
            save_startup_parameters_to_metadata(client, startup);
            let (pid, secret) = self.pid_generator.generate(client);
            client.set_pid_and_secret_key(pid, secret.clone());
            let (handle, guard) = self.connections.register(pid, secret);
            let [user, database, application_name] = [
                pgwire::api::METADATA_USER,
                pgwire::api::METADATA_DATABASE,
                pgwire::api::METADATA_APPLICATION_NAME,
            ]
            .map(|key| client.metadata().get(key).cloned().unwrap_or_default());
            let cancel = handle.clone();
            let backend = Arc::new(Backend::new(
                pid,
                user,
                database,
                application_name,
                Some(client.socket_addr()),
                Box::new(move || {
                    // pg_cancel_backend runs inside the runtime; the cancel
                    // itself is asynchronous, as a CancelRequest's
                    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        let cancel = cancel.clone();
                        runtime.spawn(async move { cancel.cancel().await });
                    }
                }),
            ));
            let registration = self.backends.register(backend.clone());
            client.session_extensions().insert(backend);
            client.session_extensions().insert(Arc::new(registration));
            client
                .session_extensions()
                .insert::<Arc<ConnectionHandle>>(handle);
            client.session_extensions().insert::<ConnectionGuard>(guard);
            finish_authentication(client, &self.params).await?;
            client.flush().await?;
        }
        Ok(())
    }
}
