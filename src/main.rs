//! The `augur` command: `augur serve` (the default) runs the PostgreSQL-wire
//! server; `augur sql` runs SQL in-process and prints the results.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use datafusion::arrow::util::pretty::pretty_format_batches;

use augur::{Engine, Output};

/// mimalloc, as DataFusion's own CLI and benchmarks use: the server
/// allocates a buffer per result row, and glibc's malloc/free were a fifth
/// of the CPU profile of streaming a million rows.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "augur",
    version,
    about = "Customer insight in SQL, over the PostgreSQL protocol"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    dirs: Dirs,
}

#[derive(Args, Clone)]
struct Dirs {
    /// Directory of tables (*.parquet, *.csv); created and seeded with the demo tables if new.
    #[arg(
        long,
        global = true,
        env = "AUGUR_DATA_DIR",
        default_value = ".augur/data"
    )]
    data_dir: PathBuf,
    /// Directory of the model registry.
    #[arg(
        long,
        global = true,
        env = "AUGUR_MODEL_DIR",
        default_value = ".augur/models"
    )]
    model_dir: PathBuf,
    /// Do not install the demo tables into a new data directory.
    #[arg(long, global = true)]
    no_demo: bool,
    /// Address the server listens on.
    #[arg(
        long,
        global = true,
        env = "AUGUR_LISTEN",
        default_value = "127.0.0.1:5433"
    )]
    listen: String,
    /// Directory of the default embedding model for `embed(text)` (config.json,
    /// model.safetensors, tokenizer.json); default: the model cache's
    /// all-MiniLM-L6-v2, fetched by scripts/fetch-embed-model.
    #[arg(long, global = true, env = "AUGUR_EMBED_MODEL")]
    embed_model: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve over the PostgreSQL wire protocol (the default).
    Serve,
    /// Run SQL statements in-process and print the results.
    Sql {
        /// The SQL text (several statements separated by `;`).
        query: String,
    },
}

/// Holds an exclusive lock on the data and model directories for the life of
/// the process: two Augur processes writing the same files would lose writes.
fn lock_dirs(dirs: &Dirs) -> Result<Vec<std::fs::File>, Box<dyn std::error::Error>> {
    let mut locks = Vec::new();
    for dir in [&dirs.data_dir, &dirs.model_dir] {
        std::fs::create_dir_all(dir)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".augur.lock"))?;
        if file.try_lock().is_err() {
            return Err(format!(
                "another Augur process is using {}; stop it or pass another --data-dir/--model-dir",
                dir.display()
            )
            .into());
        }
        locks.push(file);
    }
    Ok(locks)
}

async fn engine(dirs: &Dirs) -> Result<Engine, augur::SqlError> {
    Engine::builder()
        .data_dir(&dirs.data_dir)
        .model_dir(&dirs.model_dir)
        .demo(!dirs.no_demo)
        .build()
        .await
}

/// Stack of every runtime thread: DataFusion plans and evaluates deep
/// expressions (long `a OR b OR …` chains from generated SQL) recursively.
const THREAD_STACK_BYTES: usize = 64 << 20;

fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK_BYTES)
        .build();
    match runtime {
        // on a runtime thread (not `main`), so the large stack applies
        Ok(rt) => rt.block_on(async {
            tokio::spawn(run())
                .await
                .unwrap_or(std::process::ExitCode::FAILURE)
        }),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AUGUR_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    if let Some(dir) = &cli.dirs.embed_model {
        augur_embed::set_default_model_dir(dir.clone());
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.dirs, &cli.dirs.listen).await,
        Command::Sql { query } => run_sql(&cli.dirs, &query).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(dirs: &Dirs, listen: &str) -> Result<(), Box<dyn std::error::Error>> {
    let _locks = lock_dirs(dirs)?;
    let engine = Arc::new(engine(dirs).await?);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(
        "Augur listening on {} — try: psql -h {} -p {}",
        listener.local_addr()?,
        listener.local_addr()?.ip(),
        listener.local_addr()?.port()
    );
    augur::serve(listener, engine, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

async fn run_sql(dirs: &Dirs, query: &str) -> Result<(), Box<dyn std::error::Error>> {
    let _locks = lock_dirs(dirs)?;
    let engine = engine(dirs).await?;
    for output in engine.sql(query).await? {
        match output {
            Output::Command(tag) => println!("{tag}"),
            Output::Rows(df) => {
                let batches = df.collect().await.map_err(augur::SqlError::from)?;
                println!("{}", pretty_format_batches(&batches)?)
            }
        }
    }
    Ok(())
}
