//! DataRows for whole Arrow record batches, in PostgreSQL's output formats,
//! for result columns of the common types: `int2`/`int4`/`int8`, `float4`/
//! `float8`, `bool` and `text` (Arrow `Int16`/`Int32`/`Int64`, `Float32`/
//! `Float64`, `Boolean`, `Utf8`/`LargeUtf8`/`Utf8View`), text or binary.
//!
//! arrow-pg's encoder, which Augur uses for every other type, encodes one
//! value at a time through a `dyn` dispatch on the Arrow type and builds each
//! row in an allocation of its own; then `pg_output` reads every row again to
//! put floats into PostgreSQL's layout. Here each column is downcast once per
//! batch, the rows of the batch are written one after another into one buffer
//! (values already in PostgreSQL's layout), and the DataRows are slices of
//! that buffer (`BytesMut::split_to`, no copy). Streaming 1,000,000 rows of
//! the demo table this way is what BENCHMARKS.md's wire figures measure.
//!
//! Formats, as PostgreSQL 15 sends them: integers `int4out`/`int8out` (text)
//! and big-endian two's complement (binary); floats `float8out`/`float4out`
//! (see [`super::pg_output::format_float`]) and IEEE 754 bits big-endian;
//! `bool` `t`/`f` and one byte 1/0; `text` its UTF-8 bytes in both formats.
//! A text value holding a NUL byte ends the result with 22021, as in
//! `pg_output`.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float32Array, Float64Array, Int16Array, Int32Array,
    Int64Array, LargeStringArray, StringArray, StringViewArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Schema,
};
use datafusion::arrow::record_batch::RecordBatch;
use pgwire::api::Type;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;

use super::pg_output::{already_postgres, format_float, nul_in_text};

/// How one result column is written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Int16,
    Int32,
    Int64,
    /// `extra` is the session's `extra_float_digits`.
    Float32 {
        extra: i8,
    },
    Float64 {
        extra: i8,
    },
    Bool,
    Text,
}

#[derive(Clone, Copy, Debug)]
struct ColumnPlan {
    kind: Kind,
    binary: bool,
}

/// The column-wise encoding of a result, when every column has one of the
/// types this module writes and the type the client is told (`fields`) is
/// the Arrow type's own PostgreSQL type; `None` otherwise (arrow-pg's
/// encoder and `pg_output` then write the rows).
#[derive(Clone, Debug)]
pub struct BatchEncoder {
    columns: Arc<[ColumnPlan]>,
}

impl BatchEncoder {
    pub fn new(schema: &Schema, fields: &[FieldInfo]) -> Option<Self> {
        if schema.fields().len() != fields.len() || fields.is_empty() {
            return None;
        }
        let columns = schema
            .fields()
            .iter()
            .zip(fields)
            .map(|(arrow, pg)| {
                let t = pg.datatype();
                let extra = pg.format_options().extra_float_digits;
                let kind = match arrow.data_type() {
                    DataType::Int16 if *t == Type::INT2 => Kind::Int16,
                    DataType::Int32 if *t == Type::INT4 => Kind::Int32,
                    DataType::Int64 if *t == Type::INT8 => Kind::Int64,
                    DataType::Float32 if *t == Type::FLOAT4 => Kind::Float32 { extra },
                    DataType::Float64 if *t == Type::FLOAT8 => Kind::Float64 { extra },
                    DataType::Boolean if *t == Type::BOOL => Kind::Bool,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                        if *t == Type::TEXT || *t == Type::VARCHAR || *t == Type::NAME =>
                    {
                        Kind::Text
                    }
                    _ => return None,
                };
                Some(ColumnPlan {
                    kind,
                    binary: pg.format() == FieldFormat::Binary,
                })
            })
            .collect::<Option<Arc<[ColumnPlan]>>>()?;
        Some(Self { columns })
    }

    /// The rows of `batch` (whose schema is the one given to [`Self::new`]).
    /// A text value with a NUL byte ends the rows with 22021.
    pub fn encode(&self, batch: &RecordBatch) -> Vec<PgWireResult<DataRow>> {
        let rows = batch.num_rows();
        let columns: Vec<Column> = self
            .columns
            .iter()
            .zip(batch.columns())
            .map(|(plan, array)| Column::new(*plan, array))
            .collect();
        let field_count = columns.len() as i16;
        let mut buf = BytesMut::with_capacity(estimated_size(batch));
        let mut ends = Vec::with_capacity(rows);
        let mut failed = None;
        'rows: for row in 0..rows {
            for column in &columns {
                if let Err(e) = column.write(row, &mut buf) {
                    failed = Some(e);
                    break 'rows;
                }
            }
            ends.push(buf.len());
        }
        let mut out = Vec::with_capacity(ends.len() + 1);
        let mut start = 0;
        for end in ends {
            out.push(Ok(DataRow::new(buf.split_to(end - start), field_count)));
            start = end;
        }
        if let Some(e) = failed {
            out.push(Err(e));
        }
        out
    }
}

/// A guess at the bytes of a batch's rows, so the buffer rarely grows.
fn estimated_size(batch: &RecordBatch) -> usize {
    let values: usize = batch
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            DataType::Utf8 => c.as_string::<i32>().values().len(),
            DataType::LargeUtf8 => c.as_string::<i64>().values().len(),
            _ => c.len() * 12,
        })
        .sum();
    values + batch.num_rows() * batch.num_columns() * 4
}

enum Values<'a> {
    Int16(&'a Int16Array),
    Int32(&'a Int32Array),
    Int64(&'a Int64Array),
    Float32(&'a Float32Array, i8),
    Float64(&'a Float64Array, i8),
    Bool(&'a BooleanArray),
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
}

struct Column<'a> {
    values: Values<'a>,
    nulls: Option<&'a NullBuffer>,
    binary: bool,
}

impl<'a> Column<'a> {
    fn new(plan: ColumnPlan, array: &'a ArrayRef) -> Self {
        let values = match plan.kind {
            Kind::Int16 => Values::Int16(array.as_primitive::<Int16Type>()),
            Kind::Int32 => Values::Int32(array.as_primitive::<Int32Type>()),
            Kind::Int64 => Values::Int64(array.as_primitive::<Int64Type>()),
            Kind::Float32 { extra } => Values::Float32(array.as_primitive::<Float32Type>(), extra),
            Kind::Float64 { extra } => Values::Float64(array.as_primitive::<Float64Type>(), extra),
            Kind::Bool => Values::Bool(array.as_boolean()),
            Kind::Text => match array.data_type() {
                DataType::Utf8 => Values::Utf8(array.as_string::<i32>()),
                DataType::LargeUtf8 => Values::LargeUtf8(array.as_string::<i64>()),
                _ => Values::Utf8View(array.as_string_view()),
            },
        };
        Self {
            values,
            // these types have no logical nulls beyond their null buffer
            nulls: array.nulls().filter(|n| n.null_count() > 0),
            binary: plan.binary,
        }
    }

    fn write(&self, row: usize, buf: &mut BytesMut) -> PgWireResult<()> {
        if self.nulls.is_some_and(|n| n.is_null(row)) {
            buf.put_i32(-1);
            return Ok(());
        }
        match (&self.values, self.binary) {
            (Values::Int16(a), false) => put_text(buf, itoa::Buffer::new().format(a.value(row))),
            (Values::Int32(a), false) => put_text(buf, itoa::Buffer::new().format(a.value(row))),
            (Values::Int64(a), false) => put_text(buf, itoa::Buffer::new().format(a.value(row))),
            (Values::Int16(a), true) => {
                buf.put_i32(2);
                buf.put_i16(a.value(row));
            }
            (Values::Int32(a), true) => {
                buf.put_i32(4);
                buf.put_i32(a.value(row));
            }
            (Values::Int64(a), true) => {
                buf.put_i32(8);
                buf.put_i64(a.value(row));
            }
            (Values::Float32(a, extra), false) => {
                put_float_text(buf, a.value(row) as f64, true, *extra)
            }
            (Values::Float64(a, extra), false) => put_float_text(buf, a.value(row), false, *extra),
            (Values::Float32(a, _), true) => {
                buf.put_i32(4);
                buf.put_f32(a.value(row));
            }
            (Values::Float64(a, _), true) => {
                buf.put_i32(8);
                buf.put_f64(a.value(row));
            }
            (Values::Bool(a), false) => put_text(buf, if a.value(row) { "t" } else { "f" }),
            (Values::Bool(a), true) => {
                buf.put_i32(1);
                buf.put_u8(a.value(row) as u8);
            }
            (Values::Utf8(a), _) => put_string(buf, a.value(row))?,
            (Values::LargeUtf8(a), _) => put_string(buf, a.value(row))?,
            (Values::Utf8View(a), _) => put_string(buf, a.value(row))?,
        }
        Ok(())
    }
}

fn put_text(buf: &mut BytesMut, text: &str) {
    buf.put_i32(text.len() as i32);
    buf.put_slice(text.as_bytes());
}

fn put_string(buf: &mut BytesMut, text: &str) -> PgWireResult<()> {
    if memchr::memchr(0, text.as_bytes()).is_some() {
        return Err(nul_in_text());
    }
    put_text(buf, text);
    Ok(())
}

/// A float in PostgreSQL's text form: Ryu's shortest digits when their
/// layout is already PostgreSQL's (`29.85`), or once `.0` is dropped from
/// an integral value (`20.0` → `20`); [`format_float`] otherwise.
fn put_float_text(buf: &mut BytesMut, v: f64, single: bool, extra: i8) {
    if extra >= 1 && v.is_finite() {
        let mut ryu = ryu::Buffer::new();
        let s = if single {
            ryu.format_finite(v as f32)
        } else {
            ryu.format_finite(v)
        };
        if let Some(integral) = s.strip_suffix(".0") {
            let digits = integral.strip_prefix('-').unwrap_or(integral);
            if digits.len() <= if single { 6 } else { 15 }
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                return put_text(buf, integral);
            }
        } else if already_postgres(s, single, extra) {
            return put_text(buf, s);
        }
    }
    put_text(buf, &format_float(v, single, extra));
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Field;
    use pgwire::types::format::FormatOptions;

    fn float_text(v: f64, single: bool, extra: i8) -> String {
        let mut buf = BytesMut::new();
        put_float_text(&mut buf, v, single, extra);
        String::from_utf8(buf[4..].to_vec()).unwrap()
    }

    /// The fast layouts print exactly what `format_float` (PostgreSQL's
    /// float8out/float4out, checked against PostgreSQL 15 in pg_output's
    /// tests) prints, over magnitudes 1e-7 .. 1e17, integral values and
    /// the edges of fixed notation.
    #[test]
    fn float_text_equals_postgresql_layout() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut values = vec![
            0.0, -0.0, 1.0, -1.0, 20.0, 1e15, 1e16, 999_999.0, 1e6, 123_456.0, 0.0001, 0.00001,
        ];
        for i in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x >> 11) as f64 / (1u64 << 53) as f64;
            let v = mantissa * 10f64.powi((i % 25) - 7);
            values.push(if i % 3 == 0 { -v } else { v });
            values.push(v.round());
        }
        for v in values {
            for single in [false, true] {
                for extra in [-3, 0, 1, 3] {
                    let v = if single { v as f32 as f64 } else { v };
                    assert_eq!(
                        float_text(v, single, extra),
                        format_float(v, single, extra),
                        "{v} single={single} extra={extra}"
                    );
                }
            }
        }
        assert_eq!(float_text(20.0, false, 1), "20");
        assert_eq!(float_text(-0.0, false, 1), "-0");
        assert_eq!(float_text(1e15, false, 1), "1e+15");
        assert_eq!(float_text(1e6, true, 1), "1e+06");
    }

    fn field(name: &str, t: Type, format: FieldFormat) -> FieldInfo {
        FieldInfo::new(name.into(), None, None, t, format)
            .with_format_options(Arc::new(FormatOptions::default()))
    }

    fn values(row: &DataRow) -> Vec<Option<Vec<u8>>> {
        let mut out = Vec::new();
        let mut data = &row.data[..];
        for _ in 0..row.field_count {
            let len = i32::from_be_bytes(data[..4].try_into().unwrap());
            data = &data[4..];
            if len < 0 {
                out.push(None);
            } else {
                out.push(Some(data[..len as usize].to_vec()));
                data = &data[len as usize..];
            }
        }
        assert!(data.is_empty());
        out
    }

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("i", DataType::Int64, true),
            Field::new("f", DataType::Float64, true),
            Field::new("s", DataType::Utf8View, true),
            Field::new("b", DataType::Boolean, true),
            Field::new("r", DataType::Float32, true),
            Field::new("n", DataType::Int32, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![Some(-42), None, Some(i64::MAX)])),
                Arc::new(Float64Array::from(vec![Some(29.85), Some(1e16), None])),
                Arc::new(StringViewArray::from(vec![
                    Some("Month-to-month"),
                    None,
                    Some(""),
                ])),
                Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
                Arc::new(Float32Array::from(vec![Some(0.1), None, Some(f32::NAN)])),
                Arc::new(Int32Array::from(vec![Some(1), Some(-7), None])),
            ],
        )
        .unwrap()
    }

    /// The demo batch encoded with the types PostgreSQL gives its columns.
    fn encoded(format: FieldFormat) -> Vec<Vec<Option<Vec<u8>>>> {
        let batch = batch();
        use Type as T;
        let fields: Vec<FieldInfo> = [T::INT8, T::FLOAT8, T::TEXT, T::BOOL, T::FLOAT4, T::INT4]
            .into_iter()
            .enumerate()
            .map(|(i, t)| field(&format!("c{i}"), t, format))
            .collect();
        BatchEncoder::new(&batch.schema(), &fields)
            .unwrap()
            .encode(&batch)
            .into_iter()
            .map(|r| values(&r.unwrap()))
            .collect()
    }

    /// Text values as PostgreSQL 15 prints them (`SELECT -42::int8,
    /// 29.85::float8, 1e16::float8, true, 0.1::float4, 'NaN'::float4`).
    #[test]
    fn a_batch_in_text() {
        let rows = encoded(FieldFormat::Text);
        let t = |s: &str| Some(s.as_bytes().to_vec());
        assert_eq!(
            rows,
            vec![
                vec![
                    t("-42"),
                    t("29.85"),
                    t("Month-to-month"),
                    t("t"),
                    t("0.1"),
                    t("1")
                ],
                vec![None, t("1e+16"), None, t("f"), None, t("-7")],
                vec![t("9223372036854775807"), None, t(""), None, t("NaN"), None],
            ]
        );
    }

    /// Binary values as PostgreSQL's int8send, float8send, textsend,
    /// boolsend, float4send, int4send write them.
    #[test]
    fn a_batch_in_binary() {
        let rows = encoded(FieldFormat::Binary);
        assert_eq!(
            rows[0],
            vec![
                Some((-42i64).to_be_bytes().to_vec()),
                Some(29.85f64.to_be_bytes().to_vec()),
                Some(b"Month-to-month".to_vec()),
                Some(vec![1]),
                Some(0.1f32.to_be_bytes().to_vec()),
                Some(1i32.to_be_bytes().to_vec()),
            ]
        );
        assert_eq!(rows[1][5], Some((-7i32).to_be_bytes().to_vec()));
        assert_eq!(rows[2][3], None);
    }

    #[test]
    fn a_nul_in_text_ends_the_rows_with_22021() {
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(vec!["a", "b\0c", "d"]))],
        )
        .unwrap();
        let fields = [field("s", Type::TEXT, FieldFormat::Text)];
        let rows = BatchEncoder::new(&schema, &fields).unwrap().encode(&batch);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_ok());
        let Err(pgwire::error::PgWireError::UserError(e)) = &rows[1] else {
            panic!("expected 22021, got {:?}", rows[1]);
        };
        assert_eq!(e.code, "22021");
    }

    /// Types the client is told differently from the Arrow type (an oid
    /// column, a date) are left to arrow-pg.
    #[test]
    fn other_types_are_not_encoded_here() {
        let schema = Schema::new(vec![Field::new("o", DataType::Int32, false)]);
        let oid = [field("o", Type::OID, FieldFormat::Text)];
        assert!(BatchEncoder::new(&schema, &oid).is_none());
        let schema = Schema::new(vec![Field::new("d", DataType::Date32, false)]);
        let date = [field("d", Type::DATE, FieldFormat::Text)];
        assert!(BatchEncoder::new(&schema, &date).is_none());
    }
}
