//! Augur's `pg_catalog`: datafusion-pg-catalog's schema with the tables BI
//! tools read replaced or corrected to answer as PostgreSQL 15 does.
//!
//! - `pg_settings`: PostgreSQL's columns and types (see [`pg_settings`]).
//! - `pg_class`, `pg_attribute`, `pg_namespace`, `pg_type`, `pg_proc`: every
//!   column PostgreSQL types `oid` is described as `oid` (26) — the crate
//!   describes some as `regtype`, `regclass` or `regnamespace` (2206, 2205,
//!   4089), which pgjdbc and Npgsql read differently — and the one-character
//!   codes PostgreSQL types `"char"` (`relkind`, `typtype`, …) as `"char"`
//!   (18), and the `name` columns (`relname`, `attname`, `nspname`,
//!   `typname`, `proname`) as `name` (19, [`NAME_KEY`]). The values are
//!   unchanged.
//! - `pg_namespace` lists `information_schema` (PostgreSQL lists
//!   `information_schema`, `pg_catalog` and `public`; Metabase and pgjdbc's
//!   `getSchemas` read it) and gives `public` PostgreSQL's fixed oid 2200.
//! - `pg_attribute.atttypid` is the type Augur sends the column as; the
//!   crate says `text` for every Arrow type it does not know, e.g. embedding
//!   columns (`List(Float32)`, `FixedSizeList(Float32)`, sent as `float4[]`)
//!   are 1021 with one dimension, as a PostgreSQL `real[]` column.
//! - `pg_class` notes each table's file for `pg_relation_size` and
//!   `pg_total_relation_size` ([`RelationFiles`]).
//! - `pg_proc` also lists Augur's SQL functions ([`crate::pg_functions`]).
//! - `pg_index` and `pg_constraint` are empty, with PostgreSQL's column types
//!   (see [`constraints`]): Augur has no indexes or constraints.
//!
//! The corrected tables are read from the crate's on every scan (they follow
//! `CREATE TABLE` and `DROP TABLE`), patched, and scanned from memory.

mod constraints;
pub mod pg_settings;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, Int32Array, RecordBatch, StringArray, new_null_array,
};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{CatalogProviderList, MemTable, SchemaProvider, Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_postgres::arrow_pg::datatypes::into_pg_type;

/// `pg_namespace.oid` of `public` in every PostgreSQL database.
pub const PUBLIC_NAMESPACE: i32 = 2200;
/// `pg_namespace.oid` of `information_schema` in PostgreSQL 15.18 (initdb
/// creates it, so every cluster of that release has this oid).
pub const INFORMATION_SCHEMA_NAMESPACE: i32 = 13_207;

/// Field metadata (arrow-pg's contract) naming a column's oid type.
const OID_ALIAS_KEY: &str = "pg.oid_alias";
/// Field metadata (arrow-pg's contract) marking a `"char"` column.
const CHAR_KEY: &str = "pg.char";
/// Field metadata (Augur's, read by the wire layer) marking a column
/// PostgreSQL types `name` (19): sent as `name`, the same bytes as text.
pub const NAME_KEY: &str = "pg.name";

/// The columns PostgreSQL 15 types `name`, per patched table.
const NAME_COLUMNS: &[(&str, &[&str])] = &[
    ("pg_class", &["relname"]),
    ("pg_attribute", &["attname"]),
    ("pg_namespace", &["nspname"]),
    ("pg_type", &["typname"]),
    ("pg_proc", &["proname"]),
];

/// The columns PostgreSQL 15 types `oid` and `"char"`, per table (from
/// `pg_attribute` of PostgreSQL 15.18). `"char"` columns that can hold the
/// empty code (`attidentity`, `attgenerated`, `attcompression`) stay text:
/// arrow-pg cannot send an empty `"char"` in binary.
const OID_COLUMNS: &[(&str, &[&str], &[&str])] = &[
    (
        "pg_class",
        &[
            "oid",
            "relnamespace",
            "reltype",
            "reloftype",
            "relowner",
            "relam",
            "relfilenode",
            "reltablespace",
            "reltoastrelid",
            "relrewrite",
        ],
        &["relpersistence", "relkind", "relreplident"],
    ),
    (
        "pg_attribute",
        &["attrelid", "atttypid", "attcollation"],
        &["attalign", "attstorage"],
    ),
    ("pg_namespace", &["oid", "nspowner"], &[]),
    (
        "pg_type",
        &[
            "oid",
            "typnamespace",
            "typowner",
            "typrelid",
            "typelem",
            "typarray",
            "typbasetype",
            "typcollation",
        ],
        &[
            "typtype",
            "typcategory",
            "typdelim",
            "typalign",
            "typstorage",
        ],
    ),
    (
        "pg_proc",
        &[
            "oid",
            "pronamespace",
            "proowner",
            "prolang",
            "provariadic",
            "prorettype",
        ],
        &["prokind", "provolatile", "proparallel"],
    ),
];

/// `schema` with PostgreSQL's types for `table`'s oid, `"char"` and `name`
/// columns.
fn pg_types(table: &str, schema: &Schema) -> SchemaRef {
    let Some((_, oids, chars)) = OID_COLUMNS.iter().find(|(t, ..)| *t == table) else {
        return Arc::new(schema.clone());
    };
    let names = NAME_COLUMNS
        .iter()
        .find(|(t, _)| *t == table)
        .map_or(&[][..], |(_, n)| *n);
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let mut meta = f.metadata().clone();
            let name = f.name().as_str();
            if oids.contains(&name) && f.data_type() == &DataType::Int32 {
                meta.insert(OID_ALIAS_KEY.into(), "oid".into());
            } else if chars.contains(&name) && f.data_type() == &DataType::Utf8 {
                meta.insert(CHAR_KEY.into(), "char".into());
            } else if names.contains(&name)
                && matches!(
                    f.data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                )
            {
                meta.insert(NAME_KEY.into(), "name".into());
            }
            f.as_ref().clone().with_metadata(meta)
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// What a patched table does to the crate's rows (all of them, in one batch).
#[async_trait]
trait Patch: Send + Sync {
    /// The patched table's schema, from the crate's (with PostgreSQL's
    /// oid and `"char"` types): unchanged unless the patch adds or retypes
    /// columns.
    fn schema(&self, schema: SchemaRef) -> Result<SchemaRef> {
        Ok(schema)
    }
    async fn apply(&self, state: &dyn Session, batch: RecordBatch) -> Result<RecordBatch>;
}

/// All rows of `table`, in one batch.
async fn read_all(state: &dyn Session, table: &dyn TableProvider) -> Result<RecordBatch> {
    let plan = table.scan(state, None, &[], None).await?;
    let batches = datafusion::physical_plan::collect(plan, state.task_ctx()).await?;
    Ok(concat_batches(&table.schema(), &batches)?)
}

/// A table of the crate's `pg_catalog` with PostgreSQL's column types and
/// its rows passed through a patch.
struct Patched {
    inner: Arc<dyn TableProvider>,
    schema: SchemaRef,
    patch: Box<dyn Patch>,
}

impl fmt::Debug for Patched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Patched")
            .field("schema", &self.schema)
            .finish()
    }
}

impl Patched {
    fn new(
        table: &str,
        inner: Arc<dyn TableProvider>,
        patch: impl Patch + 'static,
    ) -> Result<Self> {
        let schema = patch.schema(pg_types(table, &inner.schema()))?;
        Ok(Self {
            inner,
            schema,
            patch: Box::new(patch),
        })
    }
}

#[async_trait]
impl TableProvider for Patched {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let all = read_all(state, self.inner.as_ref()).await?;
        let patched = self.patch.apply(state, all).await?;
        let batch = RecordBatch::try_new(self.schema.clone(), patched.columns().to_vec())?;
        MemTable::try_new(self.schema.clone(), vec![vec![batch]])?
            .scan(state, projection, filters, limit)
            .await
    }
}

/// The Int32 column `name` of `batch`.
fn int32_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a Int32Array> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Int32Array>())
        .ok_or_else(|| DataFusionError::Internal(format!("catalog column {name}")))
}

/// The text column `name` of `batch`, as Utf8.
fn text_column(batch: &RecordBatch, name: &str) -> Result<StringArray> {
    let c = batch
        .column_by_name(name)
        .ok_or_else(|| DataFusionError::Internal(format!("catalog column {name}")))?;
    Ok(cast(c, &DataType::Utf8)?
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| DataFusionError::Internal(format!("catalog column {name}")))?
        .clone())
}

/// `batch` with `column` replaced by `values`.
fn replace(batch: &RecordBatch, column: &str, values: ArrayRef) -> Result<RecordBatch> {
    let schema = batch.schema();
    let idx = schema.index_of(column)?;
    let mut columns = batch.columns().to_vec();
    columns[idx] = values;
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// PostgreSQL's fixed namespace oids by name.
fn fixed_namespace(name: &str) -> Option<i32> {
    match name {
        "public" => Some(PUBLIC_NAMESPACE),
        "information_schema" => Some(INFORMATION_SCHEMA_NAMESPACE),
        _ => None,
    }
}

/// The crate's namespaces: its oid → (PostgreSQL's oid, name). The crate
/// numbers `public` and `information_schema` from 16384 up; PostgreSQL's
/// are fixed (2200 and 13207), and Augur's `pg_proc` rows use 2200.
#[derive(Debug, Default)]
struct Namespaces(HashMap<i32, (i32, String)>);

impl Namespaces {
    async fn read(state: &dyn Session, pg_namespace: &dyn TableProvider) -> Result<Self> {
        let batch = read_all(state, pg_namespace).await?;
        let oids = int32_column(&batch, "oid")?;
        let names = text_column(&batch, "nspname")?;
        let mut map = HashMap::new();
        for (oid, name) in oids.iter().zip(names.iter()) {
            if let (Some(oid), Some(name)) = (oid, name) {
                map.insert(
                    oid,
                    (fixed_namespace(name).unwrap_or(oid), name.to_string()),
                );
            }
        }
        Ok(Self(map))
    }
    fn map(&self, oids: &Int32Array) -> Int32Array {
        oids.iter()
            .map(|o| o.map(|o| self.0.get(&o).map_or(o, |(pg, _)| *pg)))
            .collect()
    }
    fn name(&self, oid: i32) -> Option<&str> {
        self.0.get(&oid).map(|(_, n)| n.as_str())
    }
}

/// `pg_namespace`: PostgreSQL's oids, and an `information_schema` row when
/// the crate's lacks one.
struct NamespacePatch;

#[async_trait]
impl Patch for NamespacePatch {
    async fn apply(&self, _: &dyn Session, batch: RecordBatch) -> Result<RecordBatch> {
        let names = text_column(&batch, "nspname")?;
        let oids: Int32Array = int32_column(&batch, "oid")?
            .iter()
            .zip(names.iter())
            .map(|(o, n)| n.and_then(fixed_namespace).or(o))
            .collect();
        let batch = replace(&batch, "oid", Arc::new(oids))?;
        with_information_schema(batch, &names)
    }
}

/// On-disk sizes of the tables of the data directory, by `pg_class.oid`,
/// refreshed on every scan of `pg_class` (clients take the oids they pass to
/// `pg_relation_size` from `pg_class` or a `::regclass` cast, which reads it).
#[derive(Debug, Default)]
pub struct RelationFiles {
    dir: PathBuf,
    files: RwLock<HashMap<i32, PathBuf>>,
}

impl RelationFiles {
    fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            files: RwLock::default(),
        }
    }

    /// The table's file size in bytes: its Parquet (or CSV) file in the data
    /// directory; 0 for a relation without a file (system tables, `models`)
    /// or an oid `pg_class` has not listed.
    pub fn size(&self, oid: i32) -> i64 {
        let files = self.files.read().unwrap_or_else(|e| e.into_inner());
        files
            .get(&oid)
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len() as i64)
    }

    fn learn(&self, oids: &Int32Array, names: &StringArray, namespaces: &Int32Array) {
        let mut files = HashMap::new();
        for i in 0..oids.len() {
            if oids.is_null(i) || names.is_null(i) || namespaces.value(i) != PUBLIC_NAMESPACE {
                continue;
            }
            let name = names.value(i);
            for ext in ["parquet", "csv"] {
                let path = self.dir.join(format!("{name}.{ext}"));
                if path.is_file() {
                    files.insert(oids.value(i), path);
                    break;
                }
            }
        }
        *self.files.write().unwrap_or_else(|e| e.into_inner()) = files;
    }
}

/// `pg_class`: PostgreSQL's namespace oids; notes the tables' files.
struct ClassPatch {
    pg_namespace: Arc<dyn TableProvider>,
    files: Arc<RelationFiles>,
}

/// Columns of PostgreSQL 15's `pg_class` the crate lacks, added before
/// `relpartbound` (where PostgreSQL has them), always NULL: `relacl`
/// (`aclitem[]`, NULL: the owner's default privileges) and `reloptions`
/// (`text[]`, NULL: no storage options); both are sent as `text[]`.
/// SQLAlchemy's `get_indexes` reads `reloptions`, pgjdbc's
/// `getTablePrivileges` and `getColumnPrivileges` `relacl`.
const CLASS_ADDED: [&str; 2] = ["relacl", "reloptions"];

fn text_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

#[async_trait]
impl Patch for ClassPatch {
    /// PostgreSQL's types: `reltuples` is `real` (the crate's is `float8`),
    /// and the [`CLASS_ADDED`] columns.
    fn schema(&self, schema: SchemaRef) -> Result<SchemaRef> {
        let mut fields: Vec<Field> = Vec::new();
        for f in schema.fields() {
            if f.name() == "relpartbound" {
                for name in CLASS_ADDED {
                    if schema.field_with_name(name).is_err() {
                        fields.push(Field::new(name, text_list(), true));
                    }
                }
            }
            if f.name() == "reltuples" {
                fields.push(f.as_ref().clone().with_data_type(DataType::Float32));
            } else {
                fields.push(f.as_ref().clone());
            }
        }
        Ok(Arc::new(Schema::new_with_metadata(
            fields,
            schema.metadata().clone(),
        )))
    }
    async fn apply(&self, state: &dyn Session, batch: RecordBatch) -> Result<RecordBatch> {
        let ns = Namespaces::read(state, self.pg_namespace.as_ref()).await?;
        let namespaces = ns.map(int32_column(&batch, "relnamespace")?);
        let names = text_column(&batch, "relname")?;
        self.files
            .learn(int32_column(&batch, "oid")?, &names, &namespaces);
        let batch = replace(&batch, "relnamespace", Arc::new(namespaces))?;
        let schema = self.schema(batch.schema())?;
        let columns = schema
            .fields()
            .iter()
            .map(|f| match batch.column_by_name(f.name()) {
                Some(c) => Ok(cast(c, f.data_type())?),
                None => Ok(new_null_array(f.data_type(), batch.num_rows())),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}

/// `pg_attribute`: the type of each column as Augur sends it. The crate
/// types every column whose Arrow type it does not know as `text`; this
/// looks the column's Arrow type up and gives the type arrow-pg sends it as
/// (embeddings `List(Float32)`/`FixedSizeList(Float32)` are `float4[]`,
/// 1021, one dimension), with that type's `attlen`, `attbyval`, `attalign`
/// and `attstorage` from `pg_type`.
struct AttributePatch {
    catalogs: Arc<dyn CatalogProviderList>,
    pg_class: Arc<dyn TableProvider>,
    pg_namespace: Arc<dyn TableProvider>,
    pg_type: Arc<dyn TableProvider>,
}

/// What `pg_type` says of a type: length, by value, alignment, storage, element.
type TypeInfo = (i16, bool, String, String, i32);

impl AttributePatch {
    async fn types(&self, state: &dyn Session) -> Result<HashMap<i32, TypeInfo>> {
        let t = read_all(state, self.pg_type.as_ref()).await?;
        let oids = int32_column(&t, "oid")?;
        let len = cast(
            t.column_by_name("typlen")
                .ok_or_else(|| DataFusionError::Internal("typlen".into()))?,
            &DataType::Int16,
        )?;
        let len = len
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int16Array>()
            .ok_or_else(|| DataFusionError::Internal("typlen".into()))?;
        let byval = cast(
            t.column_by_name("typbyval")
                .ok_or_else(|| DataFusionError::Internal("typbyval".into()))?,
            &DataType::Boolean,
        )?;
        let byval = datafusion::common::cast::as_boolean_array(&byval)?;
        let align = text_column(&t, "typalign")?;
        let storage = text_column(&t, "typstorage")?;
        let elem = cast(
            t.column_by_name("typelem")
                .ok_or_else(|| DataFusionError::Internal("typelem".into()))?,
            &DataType::Int32,
        )?;
        let elem = datafusion::common::cast::as_int32_array(&elem)?;
        let mut out = HashMap::new();
        for i in 0..t.num_rows() {
            out.insert(
                oids.value(i),
                (
                    len.value(i),
                    byval.value(i),
                    align.value(i).to_string(),
                    storage.value(i).to_string(),
                    elem.value(i),
                ),
            );
        }
        Ok(out)
    }

    /// The Arrow schema of the relation `oid`, by the crate's `pg_class`.
    async fn relation(
        &self,
        classes: &HashMap<i32, (i32, String)>,
        ns: &Namespaces,
        oid: i32,
    ) -> Result<Option<SchemaRef>> {
        let Some((nsp, name)) = classes.get(&oid) else {
            return Ok(None);
        };
        let Some(schema) = ns.name(*nsp) else {
            return Ok(None);
        };
        for catalog in self.catalogs.catalog_names() {
            let found = match self
                .catalogs
                .catalog(&catalog)
                .and_then(|c| c.schema(schema))
            {
                Some(s) => s.table(name).await?,
                None => None,
            };
            if let Some(t) = found {
                return Ok(Some(t.schema()));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl Patch for AttributePatch {
    async fn apply(&self, state: &dyn Session, batch: RecordBatch) -> Result<RecordBatch> {
        let typids = int32_column(&batch, "atttypid")?;
        let text_rows: Vec<usize> = (0..batch.num_rows())
            .filter(|&i| typids.is_valid(i) && typids.value(i) == TEXT)
            .collect();
        if text_rows.is_empty() {
            return Ok(batch);
        }
        let ns = Namespaces::read(state, self.pg_namespace.as_ref()).await?;
        let class = read_all(state, self.pg_class.as_ref()).await?;
        let mut classes = HashMap::new();
        let (oids, nsps, names) = (
            int32_column(&class, "oid")?,
            int32_column(&class, "relnamespace")?,
            text_column(&class, "relname")?,
        );
        for i in 0..class.num_rows() {
            classes.insert(oids.value(i), (nsps.value(i), names.value(i).to_string()));
        }
        let types = self.types(state).await?;
        let relids = int32_column(&batch, "attrelid")?;
        let attnums = cast(
            batch
                .column_by_name("attnum")
                .ok_or_else(|| DataFusionError::Internal("attnum".into()))?,
            &DataType::Int64,
        )?;
        let attnums = datafusion::common::cast::as_int64_array(&attnums)?;
        let mut schemas: HashMap<i32, Option<SchemaRef>> = HashMap::new();
        let mut changed: Vec<(usize, i32)> = Vec::new();
        for i in text_rows {
            let relid = relids.value(i);
            if let std::collections::hash_map::Entry::Vacant(slot) = schemas.entry(relid) {
                slot.insert(self.relation(&classes, &ns, relid).await?);
            }
            let field = schemas[&relid].as_ref().and_then(|s| {
                s.fields()
                    .get((attnums.value(i) - 1).max(0) as usize)
                    .cloned()
            });
            let Some(field) = field else { continue };
            let Ok(t) = into_pg_type(field.data_type()) else {
                continue;
            };
            let oid = t.oid() as i32;
            if oid != TEXT && types.contains_key(&oid) {
                changed.push((i, oid));
            }
        }
        if changed.is_empty() {
            return Ok(batch);
        }
        let mut typid: Vec<Option<i32>> = typids.iter().collect();
        let mut len: Vec<Option<i16>> =
            column_values::<datafusion::arrow::datatypes::Int16Type>(&batch, "attlen")?;
        let mut ndims: Vec<Option<i32>> =
            column_values::<datafusion::arrow::datatypes::Int32Type>(&batch, "attndims")?;
        let byval_col = datafusion::common::cast::as_boolean_array(
            batch
                .column_by_name("attbyval")
                .ok_or_else(|| DataFusionError::Internal("attbyval".into()))?,
        )?;
        let mut byval: Vec<Option<bool>> = byval_col.iter().collect();
        let mut align: Vec<Option<String>> = text_column(&batch, "attalign")?
            .iter()
            .map(|v| v.map(String::from))
            .collect();
        let mut storage: Vec<Option<String>> = text_column(&batch, "attstorage")?
            .iter()
            .map(|v| v.map(String::from))
            .collect();
        for (i, oid) in changed {
            let (l, bv, al, st, elem) = &types[&oid];
            typid[i] = Some(oid);
            len[i] = Some(*l);
            byval[i] = Some(*bv);
            align[i] = Some(al.clone());
            storage[i] = Some(st.clone());
            ndims[i] = Some(i32::from(*elem != 0 && *l == -1));
        }
        let mut out = replace(&batch, "atttypid", Arc::new(Int32Array::from(typid)))?;
        out = replace(
            &out,
            "attlen",
            cast(
                &(Arc::new(datafusion::arrow::array::Int16Array::from(len)) as ArrayRef),
                batch.schema().field_with_name("attlen")?.data_type(),
            )?,
        )?;
        out = replace(
            &out,
            "attndims",
            cast(
                &(Arc::new(Int32Array::from(ndims)) as ArrayRef),
                batch.schema().field_with_name("attndims")?.data_type(),
            )?,
        )?;
        out = replace(
            &out,
            "attbyval",
            Arc::new(datafusion::arrow::array::BooleanArray::from(byval)),
        )?;
        out = replace(
            &out,
            "attalign",
            cast(
                &(Arc::new(StringArray::from(align)) as ArrayRef),
                batch.schema().field_with_name("attalign")?.data_type(),
            )?,
        )?;
        replace(
            &out,
            "attstorage",
            cast(
                &(Arc::new(StringArray::from(storage)) as ArrayRef),
                batch.schema().field_with_name("attstorage")?.data_type(),
            )?,
        )
    }
}

/// The values of the integer column `name`, cast to `T`.
fn column_values<T: datafusion::arrow::datatypes::ArrowPrimitiveType>(
    batch: &RecordBatch,
    name: &str,
) -> Result<Vec<Option<T::Native>>> {
    let c = batch
        .column_by_name(name)
        .ok_or_else(|| DataFusionError::Internal(format!("catalog column {name}")))?;
    let c = cast(c, &T::DATA_TYPE)?;
    Ok(c.as_any()
        .downcast_ref::<datafusion::arrow::array::PrimitiveArray<T>>()
        .ok_or_else(|| DataFusionError::Internal(format!("catalog column {name}")))?
        .iter()
        .collect())
}

/// `pg_type.oid` of `text`.
const TEXT: i32 = 25;

/// The `pg_catalog` schema: the crate's, with the tables above replaced.
#[derive(Debug)]
pub struct AugurPgCatalog {
    inner: Arc<dyn SchemaProvider>,
    tables: HashMap<&'static str, Arc<dyn TableProvider>>,
    added: RwLock<HashMap<String, Arc<dyn TableProvider>>>,
}

#[async_trait]
impl SchemaProvider for AugurPgCatalog {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.extend(self.added().keys().cloned());
        names
    }
    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let name = name.to_ascii_lowercase();
        if let Some(t) = self.tables.get(name.as_str()) {
            return Ok(Some(t.clone()));
        }
        if let Some(t) = self.added().get(&name) {
            return Ok(Some(t.clone()));
        }
        self.inner.table(&name).await
    }
    fn table_exist(&self, name: &str) -> bool {
        self.added().contains_key(&name.to_ascii_lowercase()) || self.inner.table_exist(name)
    }
    /// Adds a table the crate does not have (`pg_stat_activity`).
    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        let mut added = self.added.write().unwrap_or_else(|p| p.into_inner());
        Ok(added.insert(name.to_ascii_lowercase(), table))
    }
}

impl AugurPgCatalog {
    fn added(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<dyn TableProvider>>> {
        self.added.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// Builds [`AugurPgCatalog`] over the crate's schema `inner`; `pg_proc` is
/// the crate's with Augur's functions added, `catalogs` are the session's
/// catalogs (the tables `pg_attribute` describes), `data_dir` holds the
/// tables' files. Returns the schema and the relation files
/// `pg_relation_size` reads.
pub async fn augur_pg_catalog(
    inner: Arc<dyn SchemaProvider>,
    pg_proc: Arc<dyn TableProvider>,
    catalogs: Arc<dyn CatalogProviderList>,
    data_dir: PathBuf,
) -> Result<(AugurPgCatalog, Arc<RelationFiles>)> {
    let get = |name: &'static str| {
        let inner = inner.clone();
        async move {
            inner
                .table(name)
                .await?
                .ok_or_else(|| DataFusionError::Plan(format!("no pg_catalog.{name}")))
        }
    };
    let files = Arc::new(RelationFiles::new(data_dir));
    let mut tables: HashMap<&'static str, Arc<dyn TableProvider>> = HashMap::new();
    tables.insert("pg_settings", Arc::new(pg_settings::table()?));
    tables.insert("pg_index", Arc::new(constraints::pg_index()?));
    tables.insert("pg_constraint", Arc::new(constraints::pg_constraint()?));
    tables.insert(
        "pg_namespace",
        Arc::new(Patched::new(
            "pg_namespace",
            get("pg_namespace").await?,
            NamespacePatch,
        )?),
    );
    tables.insert(
        "pg_class",
        Arc::new(Patched::new(
            "pg_class",
            get("pg_class").await?,
            ClassPatch {
                pg_namespace: get("pg_namespace").await?,
                files: files.clone(),
            },
        )?),
    );
    tables.insert(
        "pg_attribute",
        Arc::new(Patched::new(
            "pg_attribute",
            get("pg_attribute").await?,
            AttributePatch {
                catalogs,
                pg_class: get("pg_class").await?,
                pg_namespace: get("pg_namespace").await?,
                pg_type: get("pg_type").await?,
            },
        )?),
    );
    let stock_types = get("pg_type").await?;
    tables.insert(
        "pg_type",
        Arc::new(Patched::new(
            "pg_type",
            stock_types.clone(),
            InformationSchemaOid {
                column: "typnamespace",
                pg_type: stock_types.clone(),
            },
        )?),
    );
    tables.insert(
        "pg_proc",
        Arc::new(Patched::new(
            "pg_proc",
            pg_proc,
            InformationSchemaOid {
                column: "pronamespace",
                pg_type: stock_types,
            },
        )?),
    );
    Ok((
        AugurPgCatalog {
            inner,
            tables,
            added: RwLock::new(HashMap::new()),
        },
        files,
    ))
}

/// The crate's `pg_type` and `pg_proc` rows of `information_schema` (its
/// domains, `_pg_expandarray`, …) carry the namespace oid of the database
/// they were exported from (not 13207, PostgreSQL 15's, which `pg_namespace`
/// lists): joined to `pg_namespace` (asyncpg's type introspection, psql's
/// `\dT`) they would vanish. That oid — the namespace of the
/// `information_schema.cardinal_number` domain — becomes 13207 in `column`.
struct InformationSchemaOid {
    column: &'static str,
    pg_type: Arc<dyn TableProvider>,
}

#[async_trait]
impl Patch for InformationSchemaOid {
    async fn apply(&self, state: &dyn Session, batch: RecordBatch) -> Result<RecordBatch> {
        let types = read_all(state, self.pg_type.as_ref()).await?;
        let names = text_column(&types, "typname")?;
        let spaces = int32_column(&types, "typnamespace")?;
        let Some(stock) = names
            .iter()
            .zip(spaces.iter())
            .find_map(|(n, o)| (n == Some("cardinal_number")).then_some(o).flatten())
        else {
            return Ok(batch);
        };
        if stock == INFORMATION_SCHEMA_NAMESPACE {
            return Ok(batch);
        }
        let mapped: Int32Array = int32_column(&batch, self.column)?
            .iter()
            .map(|o| {
                o.map(|o| {
                    if o == stock {
                        INFORMATION_SCHEMA_NAMESPACE
                    } else {
                        o
                    }
                })
            })
            .collect();
        replace(&batch, self.column, Arc::new(mapped))
    }
}

/// `batch` (pg_namespace rows) with an `information_schema` row when the
/// crate's lacks one.
fn with_information_schema(batch: RecordBatch, names: &StringArray) -> Result<RecordBatch> {
    if names.iter().any(|n| n == Some("information_schema")) {
        return Ok(batch);
    }
    let schema = batch.schema();
    let row: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| -> Result<ArrayRef> {
            Ok(match f.name().as_str() {
                "oid" => Arc::new(Int32Array::from(vec![INFORMATION_SCHEMA_NAMESPACE])),
                "nspname" => cast(
                    &(Arc::new(StringArray::from(vec!["information_schema"])) as ArrayRef),
                    f.data_type(),
                )?,
                "nspowner" => Arc::new(Int32Array::from(vec![10])),
                _ => new_null_array(f.data_type(), 1),
            })
        })
        .collect::<Result<_>>()?;
    let extra = RecordBatch::try_new(schema.clone(), row)?;
    Ok(concat_batches(&schema, &[batch, extra])?)
}
