//! Shared fixtures: engines on fresh directories and servers on port 0.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use augur::Engine;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// An engine over `dir/data` and `dir/models`, with the demo tables.
pub async fn engine(dir: &Path) -> Arc<Engine> {
    Arc::new(
        Engine::builder()
            .data_dir(dir.join("data"))
            .model_dir(dir.join("models"))
            .demo(true)
            .build()
            .await
            .expect("engine starts"),
    )
}

/// A running server; dropping `stop` (or sending on it) shuts it down.
pub struct Server {
    pub addr: SocketAddr,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub async fn start(engine: Arc<Engine>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(augur::serve(listener, engine, async move {
            let _ = rx.await;
        }));
        Server {
            addr,
            stop: Some(tx),
            task,
        }
    }

    pub async fn connect(&self) -> tokio_postgres::Client {
        let conn_str = format!(
            "host={} port={} user=augur dbname=augur",
            self.addr.ip(),
            self.addr.port()
        );
        let (client, connection) = tokio_postgres::connect(&conn_str, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }
}

/// The SQLSTATE of a tokio-postgres error.
pub fn code(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.code().code().to_string())
        .unwrap_or_else(|| format!("not a db error: {e}"))
}

/// The column list of the telco churn model's features, in table order.
pub const CHURN_FEATURES: &str = "female, senior_citizen, partner, dependents, tenure, phone_service, \
    multiple_lines, internet_service, online_security, online_backup, device_protection, tech_support, \
    streaming_tv, streaming_movies, contract, paperless_billing, payment_method, monthly_charges, total_charges";

/// Trains the churn model on 80% of the demo customers (customer_id % 5 <> 0).
pub const TRAIN_CHURN: &str = "CREATE MODEL churn OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churn'], \
    data_split_method = 'custom', data_split_col = 'is_eval') \
    AS SELECT * EXCLUDE (customer_id), customer_id % 5 = 0 AS is_eval FROM telco_customers";
