//! `pg_encoding_to_char(int4) → name`: PostgreSQL's name of an encoding
//! number, as psql's `\l` shows it in the Encoding column (`UTF8` for 6,
//! the encoding of Augur's database; datafusion-pg-catalog's version says
//! `UTF-8`, which is not a PostgreSQL encoding name).
//!
//! - The names of PostgreSQL 15's encodings 0 (`SQL_ASCII`) to 41
//!   (`SHIFT_JIS_2004`); an empty string for any other number, as in
//!   PostgreSQL. NULL gives NULL.
//! - Returns text (PostgreSQL: name, which clients read the same way).
//! - Errors: none.

use std::sync::Arc;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_int32_array;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// PostgreSQL 15's encodings, by number (`SELECT pg_encoding_to_char(i)`).
const ENCODINGS: [&str; 42] = [
    "SQL_ASCII",
    "EUC_JP",
    "EUC_CN",
    "EUC_KR",
    "EUC_TW",
    "EUC_JIS_2004",
    "UTF8",
    "MULE_INTERNAL",
    "LATIN1",
    "LATIN2",
    "LATIN3",
    "LATIN4",
    "LATIN5",
    "LATIN6",
    "LATIN7",
    "LATIN8",
    "LATIN9",
    "LATIN10",
    "WIN1256",
    "WIN1258",
    "WIN866",
    "WIN874",
    "KOI8R",
    "WIN1251",
    "WIN1252",
    "ISO_8859_5",
    "ISO_8859_6",
    "ISO_8859_7",
    "ISO_8859_8",
    "WIN1250",
    "WIN1253",
    "WIN1254",
    "WIN1255",
    "WIN1257",
    "KOI8U",
    "SJIS",
    "BIG5",
    "GBK",
    "UHC",
    "GB18030",
    "JOHAB",
    "SHIFT_JIS_2004",
];

/// The name of encoding `n`; empty for an unknown number.
pub fn encoding_name(n: i32) -> &'static str {
    usize::try_from(n)
        .ok()
        .and_then(|i| ENCODINGS.get(i))
        .copied()
        .unwrap_or("")
}

/// The `pg_encoding_to_char` scalar function.
pub fn pg_encoding_to_char() -> ScalarUDF {
    create_udf(
        "pg_encoding_to_char",
        vec![DataType::Int32],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let out: StringArray = as_int32_array(&arrays[0])?
                .iter()
                .map(|n| n.map(encoding_name))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::encoding_name;

    #[test]
    fn names_as_postgresql_15() {
        // SELECT i, pg_encoding_to_char(i) on PostgreSQL 15.18
        assert_eq!(encoding_name(6), "UTF8");
        assert_eq!(encoding_name(0), "SQL_ASCII");
        assert_eq!(encoding_name(41), "SHIFT_JIS_2004");
        assert_eq!(encoding_name(42), "");
        assert_eq!(encoding_name(-1), "");
    }
}
