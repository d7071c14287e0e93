//! Values in PostgreSQL's own output formats where the encoders Augur uses
//! (pgwire's `ToSqlText`, arrow-pg's array writer) print them differently.
//! Each DataRow is rewritten as it streams; fields that already match are
//! copied unchanged, so the cost is one pass over the row bytes.
//!
//! | value | pgwire / arrow-pg | PostgreSQL 15 (`float8out`, `timestamp_out`, `array_send`) |
//! |---|---|---|
//! | float text | `inf`, `-inf`, `1.0`, `1e16`, `1e-5` | `Infinity`, `-Infinity`, `1`, `1e+16`, `1e-05` |
//! | float arrays, text | `{1.0,inf}` | `{1,Infinity}` |
//! | timestamp / time text | `2024-01-01 10:00:00.000000`, `…00.500000+00` | `2024-01-01 10:00:00`, `…00.5+00` |
//! | empty array, binary | ndim 1, dimension 0 | ndim 0 (no dimensions) |
//!
//! Floats follow PostgreSQL's rules: with `extra_float_digits > 0` (the
//! default 1, pgjdbc's 3) the shortest digits that read back to the same
//! value, in fixed notation when the decimal exponent is in [-4, 15) for
//! float8 or [-4, 6) for float4 and in `d.ddde+XX` notation otherwise
//! (src/common/d2s.c, f2s.c); with `extra_float_digits <= 0` `%.{15|6 +
//! extra}g` (float.c).

use bytes::{BufMut, BytesMut};
use futures::StreamExt;
use pgwire::api::Type;
use pgwire::api::results::{FieldFormat, FieldInfo, QueryResponse};
use pgwire::messages::data::DataRow;

/// How a column's values are rewritten.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Fix {
    Keep,
    Float {
        single: bool,
        extra: i8,
    },
    FloatArray {
        single: bool,
        extra: i8,
    },
    Time,
    /// a binary array: no dimensions when empty (arrow-pg writes one of
    /// length 0), and the element type `oid` for `oid[]` (arrow-pg writes
    /// `int4`, the Arrow type's)
    BinaryArray {
        oid_elements: bool,
    },
}

fn fix_for(field: &FieldInfo) -> Fix {
    let t = field.datatype();
    let extra = field.format_options().extra_float_digits;
    match field.format() {
        FieldFormat::Text => {
            if *t == Type::FLOAT4 || *t == Type::FLOAT8 {
                Fix::Float {
                    single: *t == Type::FLOAT4,
                    extra,
                }
            } else if *t == Type::FLOAT4_ARRAY || *t == Type::FLOAT8_ARRAY {
                Fix::FloatArray {
                    single: *t == Type::FLOAT4_ARRAY,
                    extra,
                }
            } else if *t == Type::TIMESTAMP || *t == Type::TIMESTAMPTZ || *t == Type::TIME {
                Fix::Time
            } else {
                Fix::Keep
            }
        }
        FieldFormat::Binary => {
            if t.name().starts_with('_') {
                Fix::BinaryArray {
                    oid_elements: *t == Type::OID_ARRAY,
                }
            } else {
                Fix::Keep
            }
        }
    }
}

/// Whether a field's values are text to the client, which PostgreSQL's
/// text never lets contain a NUL byte: every text-format field, and
/// binary-format fields of the string types (their binary form is the text).
fn is_text(field: &FieldInfo) -> bool {
    let t = field.datatype();
    field.format() == FieldFormat::Text
        || [
            Type::TEXT,
            Type::VARCHAR,
            Type::BPCHAR,
            Type::NAME,
            Type::CHAR,
            Type::JSON,
            Type::UNKNOWN,
        ]
        .contains(t)
}

/// 22021, PostgreSQL's answer to a NUL byte in text (it refuses them on
/// input, so no PostgreSQL value holds one).
pub(super) fn nul_in_text() -> pgwire::error::PgWireError {
    super::to_pg(crate::SqlError::new(
        "22021",
        "invalid byte sequence for encoding \"UTF8\": 0x00",
    ))
}

/// `response` with its rows in PostgreSQL's output formats. A row with a NUL
/// byte in a text value ends the result with error 22021: drivers read text
/// as NUL-terminated C strings (libpq, psqlODBC) or reject it, so the value
/// would arrive cut short or break the connection.
pub fn postgres_formats(mut response: QueryResponse) -> QueryResponse {
    let fixes: Vec<Fix> = response.row_schema.iter().map(fix_for).collect();
    let texts: Vec<bool> = response.row_schema.iter().map(is_text).collect();
    let keep = fixes.iter().all(|f| *f == Fix::Keep);
    if keep && !texts.contains(&true) {
        return response;
    }
    let rows = std::mem::replace(&mut response.data_rows, Box::pin(futures::stream::empty()));
    response.data_rows = Box::pin(rows.map(move |row| {
        let row = row?;
        if has_nul_in_text(&row, &texts) {
            return Err(nul_in_text());
        }
        Ok(if keep { row } else { rewrite_row(row, &fixes) })
    }));
    response
}

/// The values of a DataRow in order (`None` for NULL); ends early on a
/// malformed row (which is then passed on unchanged).
fn fields(row: &DataRow) -> impl Iterator<Item = Option<&[u8]>> {
    let data = &row.data[..];
    let mut pos = 0;
    (0..row.field_count as usize).map_while(move |_| {
        let len = i32::from_be_bytes(data.get(pos..pos + 4)?.try_into().ok()?);
        pos += 4;
        if len < 0 {
            return Some(None);
        }
        let value = data.get(pos..pos + len as usize)?;
        pos += len as usize;
        Some(Some(value))
    })
}

/// Whether a field marked in `texts` holds a NUL byte.
fn has_nul_in_text(row: &DataRow, texts: &[bool]) -> bool {
    fields(row)
        .zip(texts)
        .any(|(value, text)| *text && value.is_some_and(|v| v.contains(&0)))
}

/// Whether any value of `row` prints differently in PostgreSQL (the same
/// checks as [`rewrite_row`], without building the new row).
fn needs_rewrite(row: &DataRow, fixes: &[Fix]) -> bool {
    fields(row)
        .zip(fixes)
        .any(|(value, fix)| match (value, *fix) {
            (None, _) | (_, Fix::Keep) => false,
            (Some(v), Fix::Float { single, extra }) => {
                std::str::from_utf8(v).map_or(true, |s| !already_postgres(s, single, extra))
            }
            _ => true,
        })
}

fn rewrite_row(mut row: DataRow, fixes: &[Fix]) -> DataRow {
    if !needs_rewrite(&row, fixes) {
        return row; // the common case: no copy, no allocation
    }
    let mut out = BytesMut::with_capacity(row.data.len() + 8);
    let mut written = 0;
    for (i, value) in fields(&row).enumerate() {
        written += 1;
        let Some(value) = value else {
            out.put_i32(-1);
            continue;
        };
        let fixed = match fixes.get(i).copied().unwrap_or(Fix::Keep) {
            Fix::Keep => None,
            Fix::Float { single, extra } => std::str::from_utf8(value)
                .ok()
                .and_then(|s| float_text(s, single, extra)),
            Fix::FloatArray { single, extra } => std::str::from_utf8(value)
                .ok()
                .and_then(|s| float_array_text(s, single, extra)),
            Fix::Time => std::str::from_utf8(value).ok().and_then(time_text),
            Fix::BinaryArray { oid_elements } => binary_array(value, oid_elements),
        };
        let value = fixed.as_deref().unwrap_or(value);
        out.put_i32(value.len() as i32);
        out.put_slice(value);
    }
    if written == row.field_count as usize {
        row.data = out;
    }
    row
}

/// A float printed by pgwire, printed as PostgreSQL does.
fn float_text(s: &str, single: bool, extra: i8) -> Option<Vec<u8>> {
    if already_postgres(s, single, extra) {
        return None;
    }
    let v: f64 = match s {
        "inf" | "Infinity" => f64::INFINITY,
        "-inf" | "-Infinity" => f64::NEG_INFINITY,
        _ => s.parse().ok()?,
    };
    Some(format_float(v, single, extra).into_bytes())
}

fn float_array_text(s: &str, single: bool, extra: i8) -> Option<Vec<u8>> {
    let inner = s.strip_prefix('{')?.strip_suffix('}')?;
    if inner.contains(['{', '"']) {
        return None; // nested arrays or quoted elements: left as they are
    }
    if inner.is_empty() {
        return Some(b"{}".to_vec());
    }
    if inner
        .split(',')
        .all(|item| item == "NULL" || already_postgres(item, single, extra))
    {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    out.push('{');
    for (i, item) in inner.split(',').enumerate() {
        if i > 0 {
            out.push(',');
        }
        if item == "NULL" {
            out.push_str(item);
        } else {
            match float_text(item, single, extra) {
                Some(fixed) => out.push_str(std::str::from_utf8(&fixed).ok()?),
                None => out.push_str(item),
            }
        }
    }
    out.push('}');
    Some(out.into_bytes())
}

/// Sign, significant digits and decimal exponent of Ryu's text for a
/// finite float (`123.45` → (false, "12345", 2); `1.5e-7` → (false, "15", -7)).
fn shortest_digits(text: &str) -> (bool, String, i32) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int}{frac}");
    let significant = all.trim_start_matches('0');
    let leading_zeros = (all.len() - significant.len()) as i32;
    (
        negative,
        significant.to_string(),
        int.len() as i32 - 1 - leading_zeros + exp,
    )
}

/// Whether pgwire's text for a float is already PostgreSQL's, so the value
/// need not be parsed and printed again (the common case, and most of a
/// float column's streaming cost). With `extra_float_digits >= 1` pgwire
/// prints Ryu's shortest digits, the digits PostgreSQL's `d2s`/`f2s` print;
/// the two differ only in layout: Ryu's `1.0`, `1e16`, `0.00001` and
/// `inf`/`NaN` against PostgreSQL's `1`, `1e+16`, `1e-05`, `Infinity`. A
/// plain `d.ddd` with a non-zero fraction, at most 15 (float4: 6) integer
/// digits and no more than three zeros after `0.` is printed alike by both.
pub(super) fn already_postgres(s: &str, single: bool, extra: i8) -> bool {
    if extra < 1 {
        return false;
    }
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    let Some(dot) = b.iter().position(|&c| c == b'.') else {
        return false;
    };
    if b.is_empty()
        || !b.iter().all(|&c| c.is_ascii_digit() || c == b'.')
        || b.ends_with(b".0")
        || b.starts_with(b"0.0000")
    {
        return false;
    }
    let integer_digits = if b[0] == b'0' { 0 } else { dot };
    integer_digits <= if single { 6 } else { 15 }
}

/// PostgreSQL's text form of a float8 (`single = false`) or float4.
pub fn format_float(v: f64, single: bool, extra: i8) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let max_digits: i32 = if single { 6 } else { 15 };
    let (negative, digits, exp) = if extra > 0 {
        // Ryu's shortest digits, as PostgreSQL's d2s/f2s (which are Ryu):
        // Rust's own shortest printing breaks ties the other way
        // (float4 -423881.125 prints as -423881.13; PostgreSQL -423881.12).
        let mut buffer = ryu::Buffer::new();
        let text = if single {
            buffer.format_finite(v as f32)
        } else {
            buffer.format_finite(v)
        };
        shortest_digits(text)
    } else {
        // scientific form of the rounded digits: "-1.2345e-7"
        let precision = (max_digits + extra as i32).max(1) as usize;
        let sci = format!("{:.*e}", precision - 1, v);
        let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
        let exp: i32 = exp.parse().expect("integer exponent");
        let (negative, mantissa) = match mantissa.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mantissa),
        };
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        (negative, digits, exp)
    };
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let threshold = if extra > 0 {
        max_digits
    } else {
        (max_digits + extra as i32).max(1)
    };
    let mut out = String::with_capacity(24);
    if negative {
        out.push('-');
    }
    if digits == "0" {
        out.push('0');
        return out;
    }
    if (-4..threshold).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}

/// Drops the trailing zeros of the fractional seconds (and the point when
/// nothing is left), as PostgreSQL prints timestamps and times.
fn time_text(s: &str) -> Option<Vec<u8>> {
    let dot = s.find('.')?;
    let frac_end = s[dot + 1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(s.len(), |i| dot + 1 + i);
    let frac = s[dot + 1..frac_end].trim_end_matches('0');
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..dot]);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out.push_str(&s[frac_end..]);
    Some(out.into_bytes())
}

/// PostgreSQL sends an empty array with no dimensions (ndim 0, flags 0, the
/// element type); arrow-pg sends one dimension of length 0.
fn binary_array(value: &[u8], oid_elements: bool) -> Option<Vec<u8>> {
    let empty = empty_array(value);
    if !oid_elements {
        return empty;
    }
    // ndim | flags | element oid | …
    let mut out = empty.unwrap_or_else(|| value.to_vec());
    if out.len() >= 12 {
        out[8..12].copy_from_slice(&Type::OID.oid().to_be_bytes());
    }
    Some(out)
}

fn empty_array(value: &[u8]) -> Option<Vec<u8>> {
    // ndim 1 | flags | element oid | dim length 0 | lower bound
    if value.len() == 20 && value[..4] == [0, 0, 0, 1] && value[12..16] == [0, 0, 0, 0] {
        let mut out = vec![0u8; 8];
        out.extend_from_slice(&value[8..12]);
        Some(out)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value whose pgwire text the fast path keeps prints the same
    /// through the full rewrite, over magnitudes 1e-7 .. 1e17 in both widths;
    /// and the fast path does keep the common cases.
    #[test]
    fn kept_float_text_equals_the_rewrite() {
        use pgwire::types::format::float_digits::ExtraFloatDigits;
        let digits = ExtraFloatDigits(1);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut kept = 0;
        for i in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x >> 11) as f64 / (1u64 << 53) as f64;
            let v = mantissa * 10f64.powi((i % 25) - 7);
            let v = if i % 3 == 0 { -v } else { v };
            for (text, single) in [
                (digits.format_f64(v).to_string(), false),
                (digits.format_f32(v as f32).to_string(), true),
            ] {
                if already_postgres(&text, single, 1) {
                    kept += 1;
                    let parsed: f64 = text.parse().unwrap();
                    assert_eq!(format_float(parsed, single, 1), text, "{v} single={single}");
                }
            }
        }
        assert!(kept > 200_000, "{kept}");
        assert!(already_postgres("29.85", false, 1));
        assert!(!already_postgres("29.85", false, 0));
        assert!(!already_postgres("1.0", false, 1));
        assert!(!already_postgres("0.00001", false, 1));
        assert!(!already_postgres("1234567.5", true, 1));
    }

    /// PostgreSQL 15 answers (`SELECT x::float8`, `x::float4`, default
    /// extra_float_digits 1, and `SET extra_float_digits = 0`).
    #[test]
    fn floats_print_as_postgresql_15() {
        let f8 = |v: f64| format_float(v, false, 1);
        let f4 = |v: f32| format_float(v as f64, true, 1);
        assert_eq!(f8(1.0), "1");
        assert_eq!(f8(-0.0), "-0");
        assert_eq!(f8(0.1), "0.1");
        assert_eq!(f8(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(f8(1e16), "1e+16");
        assert_eq!(f8(1e15), "1e+15");
        assert_eq!(f8(123456789012345.0), "123456789012345");
        assert_eq!(f8(0.0001), "0.0001");
        assert_eq!(f8(0.00001), "1e-05");
        assert_eq!(f8(1.5e300), "1.5e+300");
        assert_eq!(f8(-2.5e-10), "-2.5e-10");
        assert_eq!(f8(f64::INFINITY), "Infinity");
        assert_eq!(f8(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(f8(f64::NAN), "NaN");
        assert_eq!(f8(29.85), "29.85");
        assert_eq!(f4(0.1), "0.1");
        assert_eq!(f4(100000.0), "100000");
        assert_eq!(f4(1000000.0), "1e+06");
        assert_eq!(f4(1.5), "1.5");
        assert_eq!(f4(std::f32::consts::PI), "3.1415927");
        // a tie between two shortest forms: PostgreSQL (Ryu) takes the even digit
        assert_eq!(f4(-423_881.12), "-423881.12"); // the float4 -423881.125
        // extra_float_digits = 0: %.15g and %.6g
        assert_eq!(format_float(0.1, false, 0), "0.1");
        assert_eq!(format_float(1.0 / 3.0, false, 0), "0.333333333333333");
        assert_eq!(
            format_float(std::f32::consts::PI as f64, true, 0),
            "3.14159"
        );
        assert_eq!(format_float(1e15, false, 0), "1e+15");
    }

    #[test]
    fn times_drop_zero_fractions() {
        let t = |s: &str| String::from_utf8(time_text(s).unwrap()).unwrap();
        assert_eq!(t("2024-01-01 10:00:00.000000"), "2024-01-01 10:00:00");
        assert_eq!(
            t("2024-07-01 06:30:00.500000+00"),
            "2024-07-01 06:30:00.5+00"
        );
        assert_eq!(t("10:00:00.000100"), "10:00:00.0001");
        assert!(time_text("2024-01-01 10:00:00").is_none());
    }

    #[test]
    fn float_arrays_and_empty_arrays() {
        let a = |s: &str| String::from_utf8(float_array_text(s, false, 1).unwrap()).unwrap();
        assert_eq!(a("{1.0,inf,NULL,1e16}"), "{1,Infinity,NULL,1e+16}");
        assert_eq!(a("{}"), "{}");
        let empty = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(
            empty_array(&empty).unwrap(),
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20]
        );
    }
}
