//! Plain column data handed to the model core.

use serde::{Deserialize, Serialize};

/// The values of one column. Numeric covers every integer, floating point,
/// decimal and boolean SQL type (booleans as 0/1); Text covers strings.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    Numeric(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

impl ColumnValues {
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Numeric(v) => v.len(),
            ColumnValues::Text(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn is_null(&self, row: usize) -> bool {
        match self {
            ColumnValues::Numeric(v) => v[row].is_none(),
            ColumnValues::Text(v) => v[row].is_none(),
        }
    }
    /// The value of one row as text (numbers in Rust's shortest round-trip form).
    pub fn text_at(&self, row: usize) -> Option<String> {
        match self {
            ColumnValues::Numeric(v) => v[row].map(format_number),
            ColumnValues::Text(v) => v[row].clone(),
        }
    }
    /// Keep only the rows whose mask entry is true.
    pub fn filter(&self, mask: &[bool]) -> ColumnValues {
        fn keep<T: Clone>(v: &[T], mask: &[bool]) -> Vec<T> {
            v.iter()
                .zip(mask)
                .filter(|(_, m)| **m)
                .map(|(x, _)| x.clone())
                .collect()
        }
        match self {
            ColumnValues::Numeric(v) => ColumnValues::Numeric(keep(v, mask)),
            ColumnValues::Text(v) => ColumnValues::Text(keep(v, mask)),
        }
    }
}

/// Formats a number the way labels are stored: integers without a fraction.
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A named column with the SQL type it had in the training query.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// PostgreSQL type name as shown to users (`bigint`, `double precision`, `text`, `boolean`).
    pub sql_type: String,
    pub values: ColumnValues,
}

/// How a label is typed, so predictions come back in the label's own SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelType {
    Text,
    Integer,
    Boolean,
    Float,
}
