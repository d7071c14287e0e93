//! `pg_size_pretty(bigint) → text`: a size in bytes in the unit that keeps
//! it readable, as PostgreSQL 15's `pg_size_pretty` writes it.
//!
//! - Below 10240 the size is in bytes (`10239 bytes`); each larger unit
//!   (kB, MB, GB, TB, PB; powers of 1024) is used while the value, rounded
//!   half away from zero, stays below 20480 of the next smaller one: 10240
//!   is `10 kB`, 10752 `11 kB`, 1048576 `1024 kB`, 10485760 `10 MB`, the
//!   largest bigint `8192 PB`. Negative sizes are written the same way
//!   with a minus sign (`-10 kB`).
//! - Smaller integer types are widened to bigint; NULL gives NULL.
//! - Errors: none. (PostgreSQL also has a `numeric` variant; Augur has
//!   only the bigint one.)
//!
//! Example: `SELECT pg_size_pretty(pg_relation_size('telco_customers'))`

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_int64_array;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// PostgreSQL's units: name, the limit below which the unit is used, whether
/// the value is rounded half away from zero, and the unit's power of two.
const UNITS: [(&str, u64, bool, u32); 6] = [
    ("bytes", 10 * 1024, false, 0),
    ("kB", 20 * 1024 - 1, true, 10),
    ("MB", 20 * 1024 - 1, true, 20),
    ("GB", 20 * 1024 - 1, true, 30),
    ("TB", 20 * 1024 - 1, true, 40),
    ("PB", 20 * 1024 - 1, true, 50),
];

/// `size` as PostgreSQL's `pg_size_pretty(bigint)` writes it (the algorithm
/// of PostgreSQL 15's `dbsize.c`: the value is shifted one bit less than
/// the unit step when the next unit rounds, and rounded there by halving).
pub fn size_pretty(mut size: i64) -> String {
    for (i, &(name, limit, round, bits)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1);
        if next.is_none() || size.unsigned_abs() < limit {
            if round {
                size = (size + if size < 0 { -1 } else { 1 }) / 2;
            }
            return format!("{size} {name}");
        }
        let (_, _, next_round, next_bits) = next.copied().unwrap_or(("", 0, false, 0));
        let shift = next_bits - bits - u32::from(next_round) + u32::from(round);
        size /= 1i64 << shift;
    }
    unreachable!("the last unit always answers")
}

/// The `pg_size_pretty` scalar function.
pub fn pg_size_pretty() -> ScalarUDF {
    create_udf(
        "pg_size_pretty",
        vec![DataType::Int64],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let sizes = as_int64_array(&arrays[0])?;
            let out: StringArray = sizes.iter().map(|s| s.map(size_pretty)).collect();
            if scalar && out.len() == 1 {
                return Ok(ColumnarValue::Scalar(
                    datafusion::common::ScalarValue::try_from_array(&out, 0)?,
                ));
            }
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::size_pretty;

    #[test]
    fn as_postgresql_15() {
        // PostgreSQL 15.18: SELECT x, pg_size_pretty(x) FROM unnest(ARRAY[…]::int8[]) x
        let cases: [(i64, &str); 24] = [
            (0, "0 bytes"),
            (1, "1 bytes"),
            (10, "10 bytes"),
            (1023, "1023 bytes"),
            (1024, "1024 bytes"),
            (10239, "10239 bytes"),
            (10240, "10 kB"),
            (10485, "10 kB"),
            (10752, "11 kB"),
            (999424, "976 kB"),
            (999936, "977 kB"),
            (1000000, "977 kB"),
            (1048575, "1024 kB"),
            (1048576, "1024 kB"),
            (1572864, "1536 kB"),
            (10485760, "10 MB"),
            (1073741824, "1024 MB"),
            (1099511627776, "1024 GB"),
            (1125899906842624, "1024 TB"),
            (-1, "-1 bytes"),
            (-10240, "-10 kB"),
            (-10752, "-11 kB"),
            (i64::MAX, "8192 PB"),
            (i64::MIN, "-8192 PB"),
        ];
        for (size, want) in cases {
            assert_eq!(size_pretty(size), want, "{size}");
        }
    }
}
