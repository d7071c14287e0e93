//! Arrow arrays to the model core's plain columns.

use augur_ml::data::{Column, ColumnValues, LabelType};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::error::Result;

use crate::error::{sql_err, sqlstate};

/// The PostgreSQL name of the type of a column a model can use, and whether
/// it is read as text, or `None` when a model cannot use the type.
pub fn feature_kind(dt: &DataType) -> Option<(&'static str, bool)> {
    Some(match dt {
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => ("smallint", false),
        DataType::Int32 | DataType::UInt16 => ("integer", false),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => ("bigint", false),
        DataType::Float16 | DataType::Float32 => ("real", false),
        DataType::Float64 => ("double precision", false),
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => ("numeric", false),
        DataType::Boolean => ("boolean", false),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ("text", true),
        DataType::Dictionary(_, v) if feature_kind(v).is_some_and(|k| k.1) => ("text", true),
        DataType::Null => ("text", true),
        _ => return None,
    })
}

/// The label type family of an Arrow type.
pub fn label_type(dt: &DataType) -> LabelType {
    match dt {
        DataType::Boolean => LabelType::Boolean,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => LabelType::Float,
        d if d.is_integer() => LabelType::Integer,
        d if feature_kind(d).is_some_and(|k| !k.1) => LabelType::Float,
        _ => LabelType::Text,
    }
}

/// Converts one Arrow array. Errors with 42804 for types a model cannot use.
pub fn to_values(name: &str, array: &ArrayRef) -> Result<(&'static str, ColumnValues)> {
    let Some((sql_type, is_text)) = feature_kind(array.data_type()) else {
        return Err(sql_err(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "column \"{name}\" has type {} which a model cannot use; cast it to a number or to text",
                array.data_type()
            ),
        ));
    };
    if let Some(values) = fast_values(array, is_text) {
        return Ok((sql_type, values));
    }
    if is_text {
        let a = cast(array, &DataType::Utf8)?;
        let s = a.as_string::<i32>();
        Ok((
            sql_type,
            ColumnValues::Text(s.iter().map(|v| v.map(str::to_owned)).collect()),
        ))
    } else {
        let a = cast(array, &DataType::Float64)?;
        let f = a.as_primitive::<Float64Type>();
        Ok((sql_type, ColumnValues::Numeric(f.iter().collect())))
    }
}

/// The common types converted by augur-ml's optimised loops (this crate is
/// unoptimised in dev builds), or `None` for the general path.
fn fast_values(array: &ArrayRef, is_text: bool) -> Option<ColumnValues> {
    use augur_ml::data::Validity;
    use datafusion::arrow::datatypes::{Int32Type, Int64Type};
    let validity = array.nulls().map(|n| Validity {
        bits: n.inner().values(),
        offset: n.inner().offset(),
    });
    let mut out = if is_text {
        ColumnValues::Text(Vec::new())
    } else {
        ColumnValues::Numeric(Vec::new())
    };
    let done = match array.data_type() {
        DataType::Float64 => out.extend_f64(array.as_primitive::<Float64Type>().values(), validity),
        DataType::Int64 => out.extend_i64(array.as_primitive::<Int64Type>().values(), validity),
        DataType::Int32 => out.extend_i32(array.as_primitive::<Int32Type>().values(), validity),
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            out.extend_utf8(a.value_offsets(), a.value_data(), validity)
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            let buffers: Vec<&[u8]> = a.data_buffers().iter().map(|b| b.as_slice()).collect();
            out.extend_utf8_view(a.views(), &buffers, validity)
        }
        _ => false,
    };
    done.then_some(out)
}

/// The name of element `k` (0-based) of vector column `name`: `name[k+1]`.
pub fn element_name(name: &str, k: usize) -> String {
    format!("{name}[{}]", k + 1)
}

/// The source column of an expanded vector feature name (`v[3]` → `v`), or
/// `None` for an ordinary name.
pub fn vector_source(feature: &str) -> Option<&str> {
    let (base, rest) = feature.rsplit_once('[')?;
    let digits = rest.strip_suffix(']')?;
    (!base.is_empty() && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(base)
}

/// The length of a float vector type known at planning (`FixedSizeList`), or
/// `None` when `dt` is not a fixed-size float vector.
pub fn fixed_vector_len(dt: &DataType) -> Option<usize> {
    match dt {
        DataType::FixedSizeList(f, n) if f.data_type().is_floating() => Some(*n as usize),
        _ => None,
    }
}

/// True for a float vector type (fixed-size or variable list of floats).
pub fn is_vector(dt: &DataType) -> bool {
    match dt {
        DataType::FixedSizeList(f, _) | DataType::List(f) | DataType::LargeList(f) => {
            f.data_type().is_floating()
        }
        _ => false,
    }
}

/// Splits a float vector column (such as `embed(...)`) into one numeric
/// column per element (`name[1]`, `name[2]`, ...; type `real`). A NULL
/// vector gives NULL in every element (imputed like any NULL number).
/// Errors with 22000 when the rows' vectors differ in length.
pub fn vector_elements(name: &str, array: &ArrayRef) -> Result<Vec<Column>> {
    use crate::embed::vectors::Vectors;
    let rows = array.len();
    let v = Vectors::new(array.clone());
    let mut dim = fixed_vector_len(array.data_type());
    for i in 0..rows {
        if let Some(r) = v.row(i) {
            match dim {
                None => dim = Some(r.len()),
                Some(d) if d != r.len() => {
                    return Err(sql_err(
                        sqlstate::DATA_EXCEPTION,
                        format!(
                            "column \"{name}\": different vector dimensions {d} and {}",
                            r.len()
                        ),
                    ));
                }
                _ => {}
            }
        }
    }
    let dim = dim.unwrap_or(0);
    let sql_type = match array.data_type() {
        DataType::FixedSizeList(f, _) | DataType::List(f) | DataType::LargeList(f)
            if f.data_type() == &DataType::Float64 =>
        {
            "double precision"
        }
        _ => "real",
    };
    let mut cols: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(rows); dim];
    for i in 0..rows {
        let r = v.row(i);
        for (k, c) in cols.iter_mut().enumerate() {
            c.push(r.map(|r| r.get(k)));
        }
    }
    Ok(cols
        .into_iter()
        .enumerate()
        .map(|(k, values)| Column {
            name: element_name(name, k),
            sql_type: sql_type.into(),
            values: ColumnValues::Numeric(values),
        })
        .collect())
}

/// Converts a named column; a float vector column becomes one column per
/// element (see [`vector_elements`]).
pub fn to_columns(name: &str, array: &ArrayRef) -> Result<Vec<Column>> {
    if is_vector(array.data_type()) {
        vector_elements(name, array)
    } else {
        Ok(vec![to_column(name, array)?])
    }
}

/// Converts a named column.
pub fn to_column(name: &str, array: &ArrayRef) -> Result<Column> {
    let (sql_type, values) = to_values(name, array)?;
    Ok(Column {
        name: name.to_string(),
        sql_type: sql_type.to_string(),
        values,
    })
}

/// True when the array holds only NULLs or is empty.
pub fn all_null(array: &dyn Array) -> bool {
    array.null_count() == array.len()
}
