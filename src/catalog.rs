//! Tables of the data directory.
//!
//! At start every `*.parquet` and `*.csv` file in the data directory is a
//! table named after the file (lower-case). `CREATE TABLE … AS SELECT`,
//! `CREATE TABLE (…)`, `INSERT` and `DROP TABLE` on these tables are written
//! through to Parquet files atomically (temporary file, fsync, rename), so a
//! crash never leaves a half-written table and the tables survive a restart.
//! An `INSERT` rewrites the table's file with the old rows plus the new ones.
//! Tables read from CSV files are read-only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::common::TableReference;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{CreateMemoryTable, DmlStatement, DropTable, LogicalPlan, WriteOp};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use tokio::sync::Mutex;

use crate::errors::SqlError;
use crate::fsutil::{clean_temporaries, remove_durable, write_atomic};

/// The default schema all tables live in.
pub const SCHEMA: &str = "public";

/// Parquet files up to this size (compressed, on disk) are read into memory
/// at start and served from there, as tables written by Augur are after each
/// write: a query over a small table then neither reopens the file nor
/// decompresses it (the prepared single-row `predict_proba` of BENCHMARKS.md
/// spent most of its time there). Larger files are scanned from disk, in
/// parallel, by each query.
pub const IN_MEMORY_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Owns the data directory; serialises writes.
#[derive(Debug)]
pub struct TableCatalog {
    dir: PathBuf,
    write_lock: Mutex<()>,
}

fn err(code: &str, msg: impl Into<String>) -> DataFusionError {
    DataFusionError::External(Box::new(SqlError::new(code, msg)))
}

/// Is `name` usable as a table name from a file stem.
fn valid_table_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl TableCatalog {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            write_lock: Mutex::new(()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Registers every Parquet and CSV file of the data directory.
    pub async fn load_all(&self, ctx: &SessionContext) -> Result<Vec<String>> {
        std::fs::create_dir_all(&self.dir)?;
        clean_temporaries(&self.dir);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        let mut names = Vec::new();
        for path in entries {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let name = stem.to_ascii_lowercase();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !(ext == "parquet" || ext == "csv") {
                continue;
            }
            if !valid_table_name(&name) || ctx.table_exist(name.as_str())? {
                tracing::warn!(
                    "skipping {}: not a usable table name, or a duplicate",
                    path.display()
                );
                continue;
            }
            let location = path.to_string_lossy().to_string();
            let small = std::fs::metadata(&path).is_ok_and(|m| m.len() <= IN_MEMORY_MAX_BYTES);
            let res = if ext == "parquet" && small {
                self.register_in_memory(ctx, &name, &location).await
            } else if ext == "parquet" {
                ctx.register_parquet(name.as_str(), &location, ParquetReadOptions::default())
                    .await
            } else {
                ctx.register_csv(
                    name.as_str(),
                    &location,
                    CsvReadOptions::new().has_header(true),
                )
                .await
            };
            match res {
                Ok(()) => names.push(name),
                Err(e) => tracing::warn!("skipping {}: {e}", path.display()),
            }
        }
        Ok(names)
    }

    /// Registers the Parquet file at `location` as table `name`, its rows
    /// read once into memory (see [`IN_MEMORY_MAX_BYTES`]).
    async fn register_in_memory(
        &self,
        ctx: &SessionContext,
        name: &str,
        location: &str,
    ) -> Result<()> {
        let frame = ctx
            .read_parquet(location, ParquetReadOptions::default())
            .await?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await?;
        ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
        Ok(())
    }

    fn parquet_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.parquet"))
    }

    /// The bare table name of a reference in Augur's one schema.
    fn local_name(&self, ctx: &SessionContext, table: &TableReference) -> Result<String> {
        if let Some(schema) = table.schema()
            && schema != SCHEMA
        {
            return Err(err(
                "0A000",
                format!("tables can only be created in schema {SCHEMA}, not {schema}"),
            ));
        }
        if let Some(catalog) = table.catalog()
            && catalog != ctx.state().config().options().catalog.default_catalog
        {
            return Err(err("0A000", format!("unknown database {catalog}")));
        }
        let name = table.table().to_string();
        if !valid_table_name(&name) {
            return Err(err(
                "42602",
                format!(
                    "invalid table name \"{name}\": use lower-case letters, digits and underscores"
                ),
            ));
        }
        Ok(name)
    }

    async fn write_table(
        &self,
        ctx: &SessionContext,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        let path = self.parquet_path(name);
        let path2 = path.clone();
        let schema_for_mem = schema.clone();
        let batches_for_mem = batches.clone();
        tokio::task::spawn_blocking(move || {
            write_atomic(&path2, |f| {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                let mut w =
                    ArrowWriter::try_new(f, schema, Some(props)).map_err(std::io::Error::other)?;
                for b in &batches {
                    w.write(b).map_err(std::io::Error::other)?;
                }
                w.close().map_err(std::io::Error::other)?;
                Ok(())
            })
        })
        .await
        .map_err(|e| DataFusionError::Execution(e.to_string()))??;
        // Serve the new rows from memory from now on: a reader never sees the
        // table missing (the swap is two in-memory calls) or a file changing
        // under a plan made for the previous file. After a restart the table
        // is read from the Parquet file again.
        let table = Arc::new(MemTable::try_new(schema_for_mem, vec![batches_for_mem])?);
        ctx.deregister_table(name)?;
        ctx.register_table(name, table)?;
        Ok(())
    }

    fn is_file_table(&self, name: &str) -> bool {
        self.parquet_path(name).exists()
    }

    /// `CREATE TABLE … [AS SELECT]`: returns the command tag.
    pub async fn create(&self, ctx: &SessionContext, c: &CreateMemoryTable) -> Result<String> {
        let _guard = self.write_lock.lock().await;
        let name = self.local_name(ctx, &c.name)?;
        let exists = ctx.table_exist(name.as_str())?;
        let plain = matches!(c.input.as_ref(), LogicalPlan::EmptyRelation(e) if !e.produce_one_row);
        if exists && !c.or_replace {
            if c.if_not_exists {
                return Ok("CREATE TABLE".into());
            }
            return Err(err("42P07", format!("relation \"{name}\" already exists")));
        }
        if exists && !self.is_file_table(&name) {
            return Err(err(
                "0A000",
                format!(
                    "\"{name}\" is read-only (a CSV file or a system table); choose another name"
                ),
            ));
        }
        let df = ctx.execute_logical_plan(c.input.as_ref().clone()).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        self.write_table(ctx, &name, schema, batches).await?;
        Ok(if plain {
            "CREATE TABLE".into()
        } else {
            format!("SELECT {rows}")
        })
    }

    /// `INSERT INTO t …`: returns the command tag.
    pub async fn insert(&self, ctx: &SessionContext, d: &DmlStatement) -> Result<String> {
        let _guard = self.write_lock.lock().await;
        let name = self.local_name(ctx, &d.table_name)?;
        if !self.is_file_table(&name) {
            return Err(err(
                "0A000",
                format!("\"{name}\" is read-only (a CSV file, a view or a system table)"),
            ));
        }
        let overwrite = match &d.op {
            WriteOp::Insert(InsertOp::Append) => false,
            WriteOp::Insert(InsertOp::Overwrite) => true,
            _ => {
                return Err(err(
                    "0A000",
                    "only INSERT INTO and INSERT OVERWRITE are supported",
                ));
            }
        };
        let table = ctx.table_provider(name.as_str()).await?;
        let schema = table.schema();
        let new_rows = ctx
            .execute_logical_plan(d.input.as_ref().clone())
            .await?
            .collect()
            .await?;
        let inserted: usize = new_rows.iter().map(|b| b.num_rows()).sum();
        let mut all = if overwrite {
            vec![]
        } else {
            ctx.table(name.as_str()).await?.collect().await?
        };
        for b in new_rows {
            // the planner matched the columns; make the physical types the
            // table's (e.g. Utf8 parameters into a Utf8View column)
            let columns = b
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(c, f)| datafusion::arrow::compute::cast(c, f.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            all.push(RecordBatch::try_new(schema.clone(), columns)?);
        }
        self.write_table(ctx, &name, schema, all).await?;
        Ok(format!("INSERT 0 {inserted}"))
    }

    /// `DROP TABLE`: returns the command tag.
    pub async fn drop_table(&self, ctx: &SessionContext, d: &DropTable) -> Result<String> {
        let _guard = self.write_lock.lock().await;
        let name = self.local_name(ctx, &d.name)?;
        if !ctx.table_exist(name.as_str())? {
            if d.if_exists {
                return Ok("DROP TABLE".into());
            }
            return Err(err("42P01", format!("table \"{name}\" does not exist")));
        }
        let csv = self.dir.join(format!("{name}.csv"));
        let file = if self.is_file_table(&name) {
            self.parquet_path(&name)
        } else if csv.exists() {
            csv
        } else {
            return Err(err(
                "42809",
                format!("\"{name}\" is not a table that can be dropped"),
            ));
        };
        remove_durable(&file)?;
        ctx.deregister_table(name.as_str())?;
        Ok("DROP TABLE".into())
    }
}
