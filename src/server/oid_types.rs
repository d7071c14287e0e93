//! The PostgreSQL types of result columns that Arrow field metadata names
//! (arrow-pg's contract: `pg.oid_alias` on an `Int32` field is an `oid`,
//! `regtype`, … column; `pg.char` on a `Utf8` field is `"char"`).
//!
//! DataFusion keeps a field's metadata through a cast, so
//! `elemtype::regtype::text` is a `Utf8` field still marked `oid`: arrow-pg
//! would describe it as `oid` and send text bytes where a binary client reads
//! a 4-byte oid. [`consistent_markers`] drops a marker whose Arrow type cannot
//! hold it. Arrays of oids (`array_agg(atttypid)::oid[]`, asyncpg's type
//! introspection) are `oid[]` (1028), as in PostgreSQL, where arrow-pg would
//! say `integer[]`: [`oid_arrays`]; their binary values name the element
//! type, which `pg_output` sets to `oid` (see `Fix::BinaryArray`).

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use pgwire::api::Type;
use pgwire::api::results::FieldInfo;

const OID_ALIAS_KEY: &str = "pg.oid_alias";
const CHAR_KEY: &str = "pg.char";

/// `schema` without the type markers its fields' Arrow types cannot hold.
pub fn consistent_markers(schema: &Schema) -> Schema {
    let misplaced = |f: &Field| {
        (f.metadata().contains_key(OID_ALIAS_KEY) && f.data_type() != &DataType::Int32)
            || (f.metadata().contains_key(CHAR_KEY)
                && !matches!(f.data_type(), DataType::Utf8 | DataType::Utf8View))
    };
    if !schema.fields().iter().any(|f| misplaced(f)) {
        return schema.clone();
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if misplaced(f) {
                let mut meta = f.metadata().clone();
                meta.remove(OID_ALIAS_KEY);
                meta.remove(CHAR_KEY);
                f.as_ref().clone().with_metadata(meta)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Whether `field` is a list of `oid`s.
fn is_oid_array(field: &Field) -> bool {
    matches!(field.data_type(), DataType::List(item) | DataType::LargeList(item)
        if item.data_type() == &DataType::Int32
            && item.metadata().get(OID_ALIAS_KEY).is_some_and(|k| k == "oid"))
}

/// `fields` (described from `schema`) with `oid[]` for the lists of oids.
pub fn oid_arrays(schema: &Schema, fields: Vec<FieldInfo>) -> Vec<FieldInfo> {
    if !schema.fields().iter().any(|f| is_oid_array(f)) {
        return fields;
    }
    fields
        .into_iter()
        .zip(schema.fields().iter())
        .map(|(f, arrow)| {
            if is_oid_array(arrow) {
                super::names::retyped(&f, Type::OID_ARRAY)
            } else {
                f
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn oid(name: &str, t: DataType) -> Field {
        Field::new(name, t, true).with_metadata(HashMap::from([(
            OID_ALIAS_KEY.to_string(),
            "oid".to_string(),
        )]))
    }

    #[test]
    fn markers_stay_only_where_the_type_holds_them() {
        let schema = Schema::new(vec![oid("a", DataType::Int32), oid("b", DataType::Utf8)]);
        let fixed = consistent_markers(&schema);
        assert!(fixed.field(0).metadata().contains_key(OID_ALIAS_KEY));
        assert!(fixed.field(1).metadata().is_empty());
    }

    #[test]
    fn lists_of_oids_are_oid_arrays() {
        let list = DataType::List(Arc::new(oid("item", DataType::Int32)));
        let schema = Schema::new(vec![
            Field::new("o", list, true),
            Field::new("i", DataType::new_list(DataType::Int32, true), true),
        ]);
        let fields = datafusion_postgres::arrow_pg::datatypes::arrow_schema_to_pg_fields(
            &schema,
            &pgwire::api::portal::Format::UnifiedBinary,
            None,
        )
        .unwrap();
        let fields = oid_arrays(&schema, fields);
        assert_eq!(fields[0].datatype(), &Type::OID_ARRAY);
        assert_eq!(fields[1].datatype(), &Type::INT4_ARRAY);
    }
}
