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

/// A validity bitmap as Arrow stores it: row `i` is valid (not NULL) when bit
/// `offset + i` of `bits` (least significant bit first) is set.
#[derive(Debug, Clone, Copy)]
pub struct Validity<'a> {
    pub bits: &'a [u8],
    pub offset: usize,
}

impl Validity<'_> {
    fn is_valid(&self, i: usize) -> bool {
        let b = self.offset + i;
        self.bits[b / 8] & (1 << (b % 8)) != 0
    }
}

/// Converting Arrow buffers, non-generic so that the loops are compiled with
/// this crate's optimisations (the SQL layer is unoptimised in dev builds:
/// there, converting telco churn ×30's 21 columns took 1.1–2.0 s of a
/// `CREATE MODEL`). Each appends to a column of the right kind and returns
/// false (appending nothing) for a column of the other kind.
impl ColumnValues {
    fn numeric_mut(&mut self) -> Option<&mut Vec<Option<f64>>> {
        match self {
            ColumnValues::Numeric(v) => Some(v),
            ColumnValues::Text(_) => None,
        }
    }
    fn text_mut(&mut self) -> Option<&mut Vec<Option<String>>> {
        match self {
            ColumnValues::Text(v) => Some(v),
            ColumnValues::Numeric(_) => None,
        }
    }
    /// Appends Float64 values.
    pub fn extend_f64(&mut self, values: &[f64], validity: Option<Validity>) -> bool {
        let Some(out) = self.numeric_mut() else {
            return false;
        };
        out.reserve(values.len());
        match validity {
            None => out.extend(values.iter().map(|v| Some(*v))),
            Some(n) => out.extend(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| n.is_valid(i).then_some(*v)),
            ),
        }
        true
    }
    /// Appends Int64 values (as f64).
    pub fn extend_i64(&mut self, values: &[i64], validity: Option<Validity>) -> bool {
        let Some(out) = self.numeric_mut() else {
            return false;
        };
        out.reserve(values.len());
        match validity {
            None => out.extend(values.iter().map(|v| Some(*v as f64))),
            Some(n) => out.extend(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| n.is_valid(i).then_some(*v as f64)),
            ),
        }
        true
    }
    /// Appends Int32 values (as f64).
    pub fn extend_i32(&mut self, values: &[i32], validity: Option<Validity>) -> bool {
        let Some(out) = self.numeric_mut() else {
            return false;
        };
        out.reserve(values.len());
        match validity {
            None => out.extend(values.iter().map(|v| Some(f64::from(*v)))),
            Some(n) => out.extend(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| n.is_valid(i).then_some(f64::from(*v))),
            ),
        }
        true
    }
    /// Appends strings stored as Arrow `Utf8`: row `i` is
    /// `data[offsets[i]..offsets[i + 1]]` (`offsets` has one more entry than rows).
    pub fn extend_utf8(
        &mut self,
        offsets: &[i32],
        data: &[u8],
        validity: Option<Validity>,
    ) -> bool {
        let Some(out) = self.text_mut() else {
            return false;
        };
        let rows = offsets.len().saturating_sub(1);
        out.reserve(rows);
        for i in 0..rows {
            if validity.is_some_and(|n| !n.is_valid(i)) {
                out.push(None);
                continue;
            }
            let (lo, hi) = (offsets[i] as usize, offsets[i + 1] as usize);
            out.push(Some(String::from_utf8_lossy(&data[lo..hi]).into_owned()));
        }
        true
    }
    /// Appends strings stored as Arrow `Utf8View`: each view is a 16-byte
    /// little-endian value holding the length (low 32 bits) and either the
    /// string itself (length ≤ 12, from byte 4) or its buffer index (bytes
    /// 8..12) and offset (bytes 12..16) into `buffers`.
    pub fn extend_utf8_view(
        &mut self,
        views: &[u128],
        buffers: &[&[u8]],
        validity: Option<Validity>,
    ) -> bool {
        let Some(out) = self.text_mut() else {
            return false;
        };
        out.reserve(views.len());
        for (i, view) in views.iter().enumerate() {
            if validity.is_some_and(|n| !n.is_valid(i)) {
                out.push(None);
                continue;
            }
            let len = (*view as u32) as usize;
            let bytes = view.to_le_bytes();
            let s = if len <= 12 {
                String::from_utf8_lossy(&bytes[4..4 + len]).into_owned()
            } else {
                let buffer = (*view >> 64) as u32 as usize;
                let offset = (*view >> 96) as u32 as usize;
                match buffers
                    .get(buffer)
                    .and_then(|b| b.get(offset..offset + len))
                {
                    Some(b) => String::from_utf8_lossy(b).into_owned(),
                    None => String::new(),
                }
            };
            out.push(Some(s));
        }
        true
    }
    /// Appends the rows of another column of the same kind; false otherwise.
    pub fn append(&mut self, other: ColumnValues) -> bool {
        match (self, other) {
            (ColumnValues::Numeric(a), ColumnValues::Numeric(b)) => a.extend(b),
            (ColumnValues::Text(a), ColumnValues::Text(b)) => a.extend(b),
            _ => return false,
        }
        true
    }
}

/// Formats a number the way labels are stored: integers without a fraction.
pub fn format_number(x: f64) -> String {
    let mut s = String::new();
    write_number(&mut s, x);
    s
}

/// Appends [`format_number`]'s text of `x` to `out`.
pub fn write_number(out: &mut String, x: f64) {
    use std::fmt::Write;
    let _ = if x.fract() == 0.0 && x.abs() < 1e15 {
        write!(out, "{}", x as i64)
    } else {
        write!(out, "{x}")
    };
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
