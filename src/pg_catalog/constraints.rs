//! `pg_index` and `pg_constraint`: empty, with PostgreSQL 15's columns and
//! types. Augur has no indexes, primary keys, unique, foreign-key or check
//! constraints, so every key and index browser — SQLAlchemy's Inspector
//! (`get_pk_constraint`, `get_indexes`, `get_foreign_keys`,
//! `get_unique_constraints`, `get_check_constraints`, which Superset calls
//! when a dataset is added), pgjdbc's `getPrimaryKeys`, `getIndexInfo`,
//! `getImportedKeys`, `getExportedKeys` (DBeaver, Metabase), psql's `\d` —
//! gets no rows, as from a PostgreSQL table without any.
//!
//! datafusion-pg-catalog's tables hold rows of a PostgreSQL cluster's own
//! system catalogs (indexes of relations that Augur's `pg_class` does not
//! list) with the array columns as text (`indkey` `'1 2'`), which
//! `unnest`, `generate_subscripts` and subscripts cannot read. Here the
//! columns have the types those expressions need: `int2vector` and `int2[]`
//! are `int2` lists, `oidvector` and `oid[]` are `oid` lists, `pg_node_tree`
//! is text; `oid` and `"char"` columns carry the metadata arrow-pg reads
//! (sent as `oid` 26 and `"char"` 18), as do `name` columns (19).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::error::Result;

use super::{CHAR_KEY, NAME_KEY, OID_ALIAS_KEY};

/// A column's PostgreSQL type, as far as the Arrow field goes.
#[derive(Clone, Copy)]
enum Pg {
    Oid,
    Char,
    Name,
    Bool,
    Int2,
    Int4,
    Int2Vector,
    OidVector,
    NodeTree,
}

fn field(name: &str, t: Pg) -> Field {
    let item = |t: DataType| DataType::List(Arc::new(Field::new_list_field(t, true)));
    let (data_type, meta) = match t {
        Pg::Oid => (DataType::Int32, Some((OID_ALIAS_KEY, "oid"))),
        Pg::Char => (DataType::Utf8, Some((CHAR_KEY, "char"))),
        Pg::Name => (DataType::Utf8, Some((NAME_KEY, "name"))),
        Pg::NodeTree => (DataType::Utf8, None),
        Pg::Bool => (DataType::Boolean, None),
        Pg::Int2 => (DataType::Int16, None),
        Pg::Int4 => (DataType::Int32, None),
        Pg::Int2Vector => (item(DataType::Int16), None),
        Pg::OidVector => (item(DataType::Int32), None),
    };
    let f = Field::new(name, data_type, true);
    match meta {
        Some((k, v)) => f.with_metadata([(k.to_string(), v.to_string())].into()),
        None => f,
    }
}

fn empty(columns: &[(&str, Pg)]) -> Result<MemTable> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, t)| field(n, *t))
            .collect::<Vec<_>>(),
    ));
    MemTable::try_new(schema, vec![vec![]])
}

/// `pg_index` (PostgreSQL 15.18's columns, in order).
pub fn pg_index() -> Result<MemTable> {
    use Pg::*;
    empty(&[
        ("indexrelid", Oid),
        ("indrelid", Oid),
        ("indnatts", Int2),
        ("indnkeyatts", Int2),
        ("indisunique", Bool),
        ("indnullsnotdistinct", Bool),
        ("indisprimary", Bool),
        ("indisexclusion", Bool),
        ("indimmediate", Bool),
        ("indisclustered", Bool),
        ("indisvalid", Bool),
        ("indcheckxmin", Bool),
        ("indisready", Bool),
        ("indislive", Bool),
        ("indisreplident", Bool),
        ("indkey", Int2Vector),
        ("indcollation", OidVector),
        ("indclass", OidVector),
        ("indoption", Int2Vector),
        ("indexprs", NodeTree),
        ("indpred", NodeTree),
    ])
}

/// `pg_constraint` (PostgreSQL 15.18's columns, in order).
pub fn pg_constraint() -> Result<MemTable> {
    use Pg::*;
    empty(&[
        ("oid", Oid),
        ("conname", Name),
        ("connamespace", Oid),
        ("contype", Char),
        ("condeferrable", Bool),
        ("condeferred", Bool),
        ("convalidated", Bool),
        ("conrelid", Oid),
        ("contypid", Oid),
        ("conindid", Oid),
        ("conparentid", Oid),
        ("confrelid", Oid),
        ("confupdtype", Char),
        ("confdeltype", Char),
        ("confmatchtype", Char),
        ("conislocal", Bool),
        ("coninhcount", Int4),
        ("connoinherit", Bool),
        ("conkey", Int2Vector),
        ("confkey", Int2Vector),
        ("conpfeqop", OidVector),
        ("conppeqop", OidVector),
        ("conffeqop", OidVector),
        ("confdelsetcols", Int2Vector),
        ("conexclop", OidVector),
        ("conbin", NodeTree),
    ])
}
