//! Catalog support for PostgreSQL clients beyond what `datafusion-pg-catalog`
//! provides: Augur's SQL functions listed in `pg_proc` (schema `public`), so
//! that psql's `\df` and BI tools' function pickers see the ML functions, and
//! the catalog functions psql and SQLAlchemy's Inspector call that it lacks
//! (`pg_function_is_visible`, `pg_collation_is_visible`,
//! `pg_get_function_result`, `pg_get_function_arguments`,
//! `pg_get_serial_sequence`, `json_build_object`), the functions BI tools' key
//! and index browsers call (`generate_subscripts`,
//! `information_schema._pg_expandarray`, `pg_get_indexdef`), and `pg_typeof`,
//! `pg_size_pretty`, `pg_encoding_to_char` (one file each under
//! `pg_functions/`).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray, new_null_array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::MemTable;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use datafusion::prelude::SessionContext;

use crate::pg_catalog::PUBLIC_NAMESPACE;

mod augur_no_relation;
mod generate_subscripts;
mod pg_encoding_to_char;
mod pg_expandarray;
mod pg_get_indexdef;
mod pg_size_pretty;
mod pg_typeof;

/// First `pg_proc.oid` given to Augur's functions (above PostgreSQL's own).
const FIRST_OID: i32 = 1_000_000;

/// One of Augur's functions as `pg_proc` and `\df` show it.
struct Proc {
    oid: i32,
    name: String,
    result: String,
    arguments: String,
    set_returning: bool,
}

/// The return type of a scalar function for the argument types its signature
/// spells out exactly; `None` when the signature is generic (the function's own
/// `return_type` is only ever asked about types its signature accepts).
fn example_return_type(f: &datafusion::logical_expr::ScalarUDF) -> Option<DataType> {
    use datafusion::logical_expr::TypeSignature;
    let args: Vec<DataType> = match &f.signature().type_signature {
        TypeSignature::Exact(types) => types.clone(),
        TypeSignature::Uniform(n, types) => vec![types.first()?.clone(); *n],
        TypeSignature::OneOf(sigs) => match sigs.first()? {
            TypeSignature::Exact(types) => types.clone(),
            _ => return None,
        },
        _ => return None,
    };
    f.return_type(&args).ok()
}

/// Registers the functions and Augur's `pg_catalog` schema
/// ([`crate::pg_catalog`], with the extended `pg_proc`). `ours` are the names
/// of Augur's scalar functions, `tables` of its table functions, `data_dir`
/// the directory of the tables' files.
pub async fn register(
    ctx: &SessionContext,
    catalog: &str,
    ours: &[String],
    tables: &[String],
    data_dir: &std::path::Path,
) -> Result<()> {
    let mut procs = Vec::new();
    for (name, set_returning) in ours
        .iter()
        .map(|n| (n, false))
        .chain(tables.iter().map(|n| (n, true)))
    {
        let result = if set_returning {
            "SETOF record".to_string()
        } else {
            ctx.udf(name)
                .ok()
                .and_then(|f| example_return_type(&f))
                .map(|t| pg_type_name(&t))
                .unwrap_or_else(|| "anyelement".into())
        };
        procs.push(Proc {
            oid: FIRST_OID + procs.len() as i32,
            name: name.clone(),
            result,
            arguments: "VARIADIC \"any\"".into(),
            set_returning,
        });
    }
    procs.sort_by(|a, b| a.name.cmp(&b.name));

    let cat = ctx
        .catalog(catalog)
        .ok_or_else(|| DataFusionError::Plan(format!("no catalog {catalog}")))?;
    let inner = cat
        .schema("pg_catalog")
        .ok_or_else(|| DataFusionError::Plan("no pg_catalog".into()))?;
    let stock = inner
        .table("pg_proc")
        .await?
        .ok_or_else(|| DataFusionError::Plan("no pg_proc".into()))?;
    let batches = ctx.read_table(stock.clone())?.collect().await?;
    let schema = stock.schema();
    let mut all = batches;
    if let Some(template) = all.iter().find(|b| b.num_rows() > 0) {
        all.push(proc_rows(&template.slice(0, 1), &procs)?);
    }
    let table = MemTable::try_new(schema, vec![all])?;
    let (pg_catalog, files) = crate::pg_catalog::augur_pg_catalog(
        inner,
        Arc::new(table),
        ctx.state().catalog_list().clone(),
        data_dir.to_path_buf(),
    )
    .await?;
    cat.register_schema("pg_catalog", Arc::new(pg_catalog))?;
    for name in ["pg_relation_size", "pg_total_relation_size"] {
        ctx.register_udf(relation_size(name, files.clone()));
    }

    let info: Arc<HashMap<i32, (String, String)>> = Arc::new(
        procs
            .iter()
            .map(|p| (p.oid, (p.result.clone(), p.arguments.clone())))
            .collect(),
    );
    ctx.register_udf(constant_bool("pg_function_is_visible", DataType::Int32));
    ctx.register_udf(constant_bool("pg_collation_is_visible", DataType::Int32));
    ctx.register_udf(proc_text("pg_get_function_result", info.clone(), |r| &r.0));
    ctx.register_udf(proc_text("pg_get_function_arguments", info, |r| &r.1));
    ctx.register_udf(json_build_object());
    ctx.register_udf(crate::oid_array::augur_oid_array());
    ctx.register_udf(generate_subscripts::udf());
    ctx.register_udf(pg_expandarray::udf());
    ctx.register_udf(pg_get_indexdef::udf());
    ctx.register_udf(pg_typeof::pg_typeof());
    ctx.register_udf(augur_no_relation::augur_no_relation());
    ctx.register_udf(pg_size_pretty::pg_size_pretty());
    ctx.register_udf(pg_encoding_to_char::pg_encoding_to_char());
    ctx.register_udf(current_setting());
    ctx.register_udf(set_config());
    ctx.register_udf(current_schemas());
    ctx.register_udf(to_regtype(ctx).await?);
    ctx.register_udf(crate::regtype_text::regtype_text(ctx).await?);
    ctx.register_udf(type_name_udf("augur_pg_type_name", |t| pg_type_of(t).0));
    ctx.register_udf(type_name_udf("augur_pg_udt_name", |t| pg_type_of(t).1));
    ctx.register_udf(create_udf(
        "pg_get_serial_sequence",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        // Augur has no sequences
        Arc::new(|_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)))),
    ));
    Ok(())
}

/// `pg_relation_size(regclass) → int8` and `pg_total_relation_size`: the
/// bytes the table takes on disk — its Parquet (or CSV) file in the data
/// directory, which holds all of it (Augur has no indexes or TOAST, so both
/// are the same). 0 for a relation without a file: system tables, `models`,
/// tables of other schemas. NULL for NULL. (DBeaver's navigator shows them.)
fn relation_size(
    name: &str,
    files: Arc<crate::pg_catalog::RelationFiles>,
) -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        name,
        vec![DataType::Int32],
        DataType::Int64,
        Volatility::Volatile,
        Arc::new(move |args: &[ColumnarValue]| {
            let args = ColumnarValue::values_to_arrays(args)?;
            let oids = datafusion::common::cast::as_int32_array(&args[0])?;
            let out: datafusion::arrow::array::Int64Array =
                oids.iter().map(|o| o.map(|o| files.size(o))).collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

/// The server settings clients read with `current_setting`, as PostgreSQL
/// 15 reports them for a UTC, UTF-8 server (Grafana's health check divides
/// `server_version_num` by 100).
pub fn server_setting(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "server_version" => crate::server::SERVER_VERSION,
        "server_version_num" => "150018",
        "search_path" => "\"$user\", public",
        "timezone" => "UTC",
        "datestyle" => "ISO, MDY",
        "intervalstyle" => "postgres",
        "standard_conforming_strings" => "on",
        "client_encoding" | "server_encoding" => "UTF8",
        "integer_datetimes" => "on",
        "transaction_isolation" | "default_transaction_isolation" => "read committed",
        "transaction_read_only" | "default_transaction_read_only" => "off",
        "max_identifier_length" => "63",
        "max_index_keys" => "32",
        "lc_collate" | "lc_ctype" => "C.UTF-8",
        "extra_float_digits" => "1",
        "application_name" => "",
        // Augur compiles no queries (asyncpg turns JIT off around its type
        // introspection when the server has it)
        "jit" => "off",
        _ => return None,
    })
}

/// `current_setting(name text [, missing_ok bool]) → text`: the value of a
/// server setting ([`server_setting`]); an unknown name is error 42704
/// (`unrecognized configuration parameter`), or NULL with `missing_ok`.
fn current_setting() -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        "current_setting",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(|args: &[ColumnarValue]| {
            let args = ColumnarValue::values_to_arrays(args)?;
            let names = datafusion::common::cast::as_string_array(&args[0])?;
            let mut out = Vec::with_capacity(names.len());
            for name in names.iter() {
                out.push(match name {
                    None => None,
                    Some(n) => Some(server_setting(n).ok_or_else(|| {
                        DataFusionError::External(Box::new(crate::errors::SqlError::new(
                            "42704",
                            format!("unrecognized configuration parameter \"{n}\""),
                        )))
                    })?),
                });
            }
            Ok(ColumnarValue::Array(Arc::new(StringArray::from(out))))
        }),
    )
}

/// `set_config(name text, value text, is_local bool) → text`: returns
/// `value`, as PostgreSQL does, for a setting of [`server_setting`] or a
/// custom (dotted) name, without changing anything: these settings are
/// fixed in Augur (asyncpg calls `set_config('jit', 'off', false)` before
/// reading type information). An unknown name is 42704; NULL name or value
/// is NULL. Session settings change with `SET`.
fn set_config() -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        "set_config",
        vec![DataType::Utf8, DataType::Utf8, DataType::Boolean],
        DataType::Utf8,
        Volatility::Volatile,
        Arc::new(|args: &[ColumnarValue]| {
            let args = ColumnarValue::values_to_arrays(args)?;
            let names = datafusion::common::cast::as_string_array(&args[0])?;
            let values = datafusion::common::cast::as_string_array(&args[1])?;
            let mut out = Vec::with_capacity(names.len());
            for (name, value) in names.iter().zip(values.iter()) {
                out.push(match (name, value) {
                    (Some(n), Some(v)) if server_setting(n).is_some() || n.contains('.') => {
                        Some(v.to_string())
                    }
                    (Some(n), Some(_)) => {
                        return Err(DataFusionError::External(Box::new(
                            crate::errors::SqlError::new(
                                "42704",
                                format!("unrecognized configuration parameter \"{n}\""),
                            ),
                        )));
                    }
                    _ => None,
                });
            }
            Ok(ColumnarValue::Array(Arc::new(StringArray::from(out))))
        }),
    )
}

/// `current_schemas(include_implicit bool) → name[]`: the schemas of the
/// search path that exist, as PostgreSQL 15 answers for `"$user", public`:
/// `{pg_catalog,public}` with the implicit schema, `{public}` without
/// (pgjdbc's `getSchemas`, DBeaver's type lookup, pgcli).
fn current_schemas() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{ListBuilder, StringBuilder};
    use datafusion::arrow::datatypes::Field;
    create_udf(
        "current_schemas",
        vec![DataType::Boolean],
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        Volatility::Stable,
        Arc::new(|args: &[ColumnarValue]| {
            let args = ColumnarValue::values_to_arrays(args)?;
            let implicit = datafusion::common::cast::as_boolean_array(&args[0])?;
            let mut out = ListBuilder::new(StringBuilder::new());
            for flag in implicit.iter() {
                match flag {
                    None => out.append_null(),
                    Some(with_implicit) => {
                        if with_implicit {
                            out.values().append_value("pg_catalog");
                        }
                        out.values().append_value("public");
                        out.append(true);
                    }
                }
            }
            Ok(ColumnarValue::Array(Arc::new(out.finish())))
        }),
    )
}

/// Rows for `procs`, each a copy of `template` (one row of PostgreSQL's
/// `pg_proc`) with its oid, name, namespace, kind and result set flag replaced.
fn proc_rows(template: &RecordBatch, procs: &[Proc]) -> Result<RecordBatch> {
    let n = procs.len();
    let schema = template.schema();
    let indices = datafusion::arrow::array::UInt32Array::from(vec![0u32; n]);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(template.columns()) {
        let replaced: Option<ArrayRef> = match field.name().as_str() {
            "oid" => Some(Arc::new(Int32Array::from_iter_values(
                procs.iter().map(|p| p.oid),
            ))),
            "proname" => Some(Arc::new(StringArray::from_iter_values(
                procs.iter().map(|p| p.name.as_str()),
            ))),
            "pronamespace" => Some(Arc::new(Int32Array::from(vec![PUBLIC_NAMESPACE; n]))),
            "prokind" => Some(Arc::new(StringArray::from(vec!["f"; n]))),
            "proretset" => Some(Arc::new(BooleanArray::from_iter(
                procs.iter().map(|p| Some(p.set_returning)),
            ))),
            "prosrc" => Some(Arc::new(StringArray::from_iter_values(
                procs.iter().map(|p| p.name.as_str()),
            ))),
            _ => None,
        };
        columns.push(match replaced {
            Some(a) if a.data_type() == field.data_type() => a,
            Some(a) => cast(&a, field.data_type())?,
            None if n == 0 => new_null_array(field.data_type(), 0),
            None => datafusion::arrow::compute::take(column, &indices, None)?,
        });
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn constant_bool(name: &str, arg: DataType) -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        name,
        vec![arg],
        DataType::Boolean,
        Volatility::Stable,
        Arc::new(|args: &[ColumnarValue]| {
            let args = ColumnarValue::values_to_arrays(args)?;
            Ok(ColumnarValue::Array(Arc::new(BooleanArray::from(vec![
                true;
                args[0].len()
            ]))))
        }),
    )
}

fn proc_text(
    name: &str,
    info: Arc<HashMap<i32, (String, String)>>,
    pick: fn(&(String, String)) -> &String,
) -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        name,
        vec![DataType::Int32],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |args: &[ColumnarValue]| {
            let args = ColumnarValue::values_to_arrays(args)?;
            let oids = args[0]
                .as_any()
                .downcast_ref::<Int32Array>()
                .ok_or_else(|| DataFusionError::Internal("oid argument".into()))?;
            // PostgreSQL's own functions: no text (not listed by `\df` anyway)
            let out: StringArray = oids
                .iter()
                .map(|o| o.map(|o| info.get(&o).map_or("", |r| pick(r).as_str())))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

/// PostgreSQL's name of an Arrow result type, for `\df`.
pub(crate) fn pg_type_name(t: &DataType) -> String {
    match t {
        DataType::Float64 => "double precision",
        DataType::Float32 => "real",
        DataType::Int64 => "bigint",
        DataType::Int32 => "integer",
        DataType::Boolean => "boolean",
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "text",
        DataType::List(_) | DataType::FixedSizeList(..) => "real[]",
        _ => "anyelement",
    }
    .to_string()
}

/// `json_build_object(key, value, ...)`: a JSON object text per row, keys
/// as text, numbers and booleans as JSON values, everything else as text.
/// (SQLAlchemy's Inspector builds identity and collation details with it.)
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuildObject {
    signature: datafusion::logical_expr::Signature,
}

impl datafusion::logical_expr::ScalarUDFImpl for JsonBuildObject {
    fn name(&self) -> &str {
        "json_build_object"
    }
    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<ColumnarValue> {
        if !args.args.len().is_multiple_of(2) {
            return Err(DataFusionError::Execution(
                "argument list must have even number of elements".into(),
            ));
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = args.number_rows;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let mut obj = serde_json::Map::new();
            for pair in arrays.chunks(2) {
                let key = ScalarValue::try_from_array(&pair[0], row)?;
                let value = ScalarValue::try_from_array(&pair[1], row)?;
                let json = match value {
                    v if v.is_null() => serde_json::Value::Null,
                    ScalarValue::Boolean(Some(b)) => serde_json::Value::Bool(b),
                    ScalarValue::Int8(Some(_))
                    | ScalarValue::Int16(Some(_))
                    | ScalarValue::Int32(Some(_))
                    | ScalarValue::Int64(Some(_))
                    | ScalarValue::Float32(Some(_))
                    | ScalarValue::Float64(Some(_)) => serde_json::from_str(&value.to_string())
                        .unwrap_or(serde_json::Value::String(value.to_string())),
                    v => serde_json::Value::String(v.to_string()),
                };
                obj.insert(key.to_string(), json);
            }
            out.push(serde_json::Value::Object(obj).to_string());
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::from(out))))
    }
}

fn json_build_object() -> datafusion::logical_expr::ScalarUDF {
    datafusion::logical_expr::ScalarUDF::new_from_impl(JsonBuildObject {
        signature: datafusion::logical_expr::Signature::variadic_any(Volatility::Stable),
    })
}

/// PostgreSQL's `information_schema` type name and `udt_name` of an Arrow
/// type as DataFusion's `information_schema.columns` writes it.
fn pg_type_of(arrow: &str) -> (String, String) {
    let (a, b) = match arrow {
        "Int64" | "UInt32" => ("bigint", "int8"),
        "Int32" | "UInt16" => ("integer", "int4"),
        "Int16" | "Int8" | "UInt8" => ("smallint", "int2"),
        "UInt64" => ("numeric", "numeric"),
        "Float64" => ("double precision", "float8"),
        "Float32" | "Float16" => ("real", "float4"),
        "Utf8" | "Utf8View" | "LargeUtf8" => ("text", "text"),
        "Boolean" => ("boolean", "bool"),
        "Date32" | "Date64" => ("date", "date"),
        "Binary" | "LargeBinary" | "BinaryView" => ("bytea", "bytea"),
        "Null" => ("text", "text"),
        t if t.starts_with("Decimal") => ("numeric", "numeric"),
        t if t.starts_with("Timestamp") && (t.contains("Some") || t.contains("\"")) => {
            ("timestamp with time zone", "timestamptz")
        }
        t if t.starts_with("Timestamp") => ("timestamp without time zone", "timestamp"),
        t if t.starts_with("Time") => ("time without time zone", "time"),
        t if t.starts_with("Interval") || t.starts_with("Duration") => ("interval", "interval"),
        t if t.contains("List") => {
            let inner = t
                .split(|c: char| !c.is_ascii_alphanumeric())
                // the first Arrow type name: `List(Float32)`,
                // `FixedSizeList(2 x Float32)`, `List(Field { name: "item",
                // data_type: Utf8, … })`
                .find(|w| {
                    w.starts_with(|c: char| c.is_ascii_uppercase())
                        && !w.contains("List")
                        && *w != "Field"
                })
                .unwrap_or("Utf8");
            return ("ARRAY".into(), format!("_{}", pg_type_of(inner).1));
        }
        _ => ("text", "text"),
    };
    (a.to_string(), b.to_string())
}

fn type_name_udf(name: &str, f: fn(&str) -> String) -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        name,
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let args = ColumnarValue::values_to_arrays(args)?;
            let input = cast(&args[0], &DataType::Utf8)?;
            let input = input
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| DataFusionError::Internal("type name".into()))?;
            let out: StringArray = input.iter().map(|t| t.map(f)).collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

/// `to_regtype(name)`: the `pg_type` oid of a type name, NULL when there is
/// none (SQLAlchemy's psycopg dialect looks up `hstore` with it).
async fn to_regtype(ctx: &SessionContext) -> Result<datafusion::logical_expr::ScalarUDF> {
    let batches = ctx
        .sql("SELECT typname, CAST(oid AS INT) FROM pg_catalog.pg_type")
        .await?
        .collect()
        .await?;
    let mut oids: HashMap<String, i32> = HashMap::new();
    for b in &batches {
        let names = cast(b.column(0), &DataType::Utf8)?;
        let names = names
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| DataFusionError::Internal("typname".into()))?;
        let ids = b
            .column(1)
            .as_any()
            .downcast_ref::<Int32Array>()
            .ok_or_else(|| DataFusionError::Internal("oid".into()))?;
        for (n, o) in names.iter().zip(ids.iter()) {
            if let (Some(n), Some(o)) = (n, o) {
                oids.entry(n.to_string()).or_insert(o);
            }
        }
    }
    let oids = Arc::new(oids);
    Ok(create_udf(
        "to_regtype",
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Stable,
        Arc::new(move |args: &[ColumnarValue]| {
            let args = ColumnarValue::values_to_arrays(args)?;
            let names = cast(&args[0], &DataType::Utf8)?;
            let names = names
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| DataFusionError::Internal("type name".into()))?;
            let out: Int32Array = names
                .iter()
                .map(|n| {
                    n.and_then(|n| {
                        let n = n.trim().trim_matches('"');
                        let n = n.strip_prefix("pg_catalog.").unwrap_or(n);
                        oids.get(n).copied()
                    })
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::pg_type_of;

    #[test]
    fn information_schema_type_names_as_postgresql() {
        // PostgreSQL 15's information_schema.columns.data_type / udt_name
        for (arrow, pg, udt) in [
            ("Int64", "bigint", "int8"),
            ("Utf8View", "text", "text"),
            ("Float64", "double precision", "float8"),
            (
                "Timestamp(Microsecond, Some(\"UTC\"))",
                "timestamp with time zone",
                "timestamptz",
            ),
            ("Timestamp(µs)", "timestamp without time zone", "timestamp"),
            ("Decimal128(10, 2)", "numeric", "numeric"),
            ("Date32", "date", "date"),
            // embeddings, as PostgreSQL's real[] columns
            ("List(Float32)", "ARRAY", "_float4"),
            ("FixedSizeList(384 x Float32)", "ARRAY", "_float4"),
            (
                "FixedSizeList(Field { name: \"item\", data_type: Float32, nullable: true }, 384)",
                "ARRAY",
                "_float4",
            ),
        ] {
            assert_eq!(
                pg_type_of(arrow),
                (pg.to_string(), udt.to_string()),
                "{arrow}"
            );
        }
    }
}
