//! One place that maps every engine error to a PostgreSQL SQLSTATE.
//!
//! Augur's own errors carry their code ([`augur_udfs::error::MlError`] inside
//! `DataFusionError::External`); DataFusion's are classified by variant and,
//! for planning errors, by the message DataFusion 55 writes. Nothing a user
//! can cause is reported as `XX000`.

use augur_udfs::error::MlError;
use datafusion::arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;

/// An error as the client sees it: SQLSTATE and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub sqlstate: String,
    pub message: String,
}

impl SqlError {
    pub fn new(sqlstate: &str, message: impl Into<String>) -> Self {
        Self {
            sqlstate: sqlstate.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.sqlstate)
    }
}

impl std::error::Error for SqlError {}

impl From<DataFusionError> for SqlError {
    fn from(e: DataFusionError) -> Self {
        classify(&e)
    }
}

/// The SQLSTATE and message for a DataFusion error, with Arrow's type names
/// written as PostgreSQL's (see [`pg_type_names`]).
pub fn classify(e: &DataFusionError) -> SqlError {
    let mut e = classify_inner(e);
    e.message = pg_type_names(&e.message);
    e
}

/// PostgreSQL's name of an Arrow type name as DataFusion and Augur print it.
fn pg_name(arrow: &str) -> Option<&'static str> {
    Some(match arrow {
        "Utf8" | "Utf8View" | "LargeUtf8" => "text",
        "Int64" | "UInt32" => "bigint",
        "Int32" | "UInt16" => "integer",
        "Int16" | "Int8" | "UInt8" => "smallint",
        "UInt64" => "numeric",
        "Float64" => "double precision",
        "Float32" | "Float16" => "real",
        "Boolean" => "boolean",
        "Date32" | "Date64" => "date",
        "Binary" | "BinaryView" | "LargeBinary" => "bytea",
        _ => return None,
    })
}

/// `message` with Arrow's type names (`Utf8`, `Int64`, `Float64`,
/// `Timestamp(µs, None)`, `Decimal128(10, 2)`, …) replaced by PostgreSQL's
/// (`text`, `bigint`, `double precision`, `timestamp`, `numeric(10,2)`).
/// A name followed by `(` and a digit is a literal's display (`Int64(1)`,
/// a column named after a constant) and stays.
pub fn pg_type_names(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic()) {
        let (before, word_on) = rest.split_at(start);
        out.push_str(before);
        let len = word_on
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(word_on.len());
        let (word, after) = word_on.split_at(len);
        let prev_ok = out
            .chars()
            .last()
            .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
        let literal = after.starts_with('(')
            && after[1..].starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '"');
        if prev_ok {
            if let Some(name) = pg_name(word).filter(|_| !literal) {
                out.push_str(name);
                rest = after;
                continue;
            }
            if (word == "Timestamp" || word.starts_with("Decimal"))
                && after.starts_with('(')
                && let Some(close) = closing_paren(after)
            {
                let args = &after[1..close];
                if word == "Timestamp" {
                    out.push_str(if args.trim_end().ends_with("None") {
                        "timestamp"
                    } else {
                        "timestamp with time zone"
                    });
                } else {
                    out.push_str(&format!("numeric({})", args.replace(' ', "")));
                }
                rest = &after[close + 1..];
                continue;
            }
        }
        out.push_str(word);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The index of the `)` that closes the `(` `s` starts with.
fn closing_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn classify_inner(e: &DataFusionError) -> SqlError {
    match e {
        DataFusionError::Context(_, inner) => classify_inner(inner),
        DataFusionError::Shared(inner) => classify_inner(inner),
        DataFusionError::Diagnostic(_, inner) => classify_inner(inner),
        DataFusionError::Collection(errs) if !errs.is_empty() => classify_inner(&errs[0]),
        DataFusionError::External(b) => external(b.as_ref()),
        DataFusionError::ArrowError(a, _) => arrow(a),
        DataFusionError::SQL(p, _) => SqlError::new("42601", format!("syntax error: {p}")),
        DataFusionError::SchemaError(s, _) => schema(s),
        DataFusionError::NotImplemented(m) => SqlError::new("0A000", format!("not supported: {m}")),
        DataFusionError::Plan(m) => plan(m),
        DataFusionError::Configuration(m) => SqlError::new("42704", m.clone()),
        DataFusionError::Execution(m) => execution(m),
        DataFusionError::ResourcesExhausted(m) => SqlError::new("53200", m.clone()),
        DataFusionError::IoError(io) => SqlError::new("58030", format!("I/O error: {io}")),
        DataFusionError::ObjectStore(o) => SqlError::new("58030", format!("storage error: {o}")),
        DataFusionError::ParquetError(p) => {
            SqlError::new("XX001", format!("Parquet file error: {p}"))
        }
        DataFusionError::ExecutionJoin(j) => SqlError::new("XX000", format!("task failed: {j}")),
        DataFusionError::Internal(m) if m.contains("failed to match any signature") => {
            signature_mismatch(m)
        }
        DataFusionError::Internal(m) => SqlError::new("XX000", format!("internal error: {m}")),
        other => SqlError::new("XX000", other.to_string()),
    }
}

fn external(b: &(dyn std::error::Error + Send + Sync + 'static)) -> SqlError {
    if let Some(m) = b.downcast_ref::<MlError>() {
        return SqlError::new(m.sqlstate, m.message.clone());
    }
    if let Some(s) = b.downcast_ref::<SqlError>() {
        return s.clone();
    }
    if let Some(d) = b.downcast_ref::<DataFusionError>() {
        return classify_inner(d);
    }
    if let Some(a) = b.downcast_ref::<ArrowError>() {
        return arrow(a);
    }
    SqlError::new("XX000", b.to_string())
}

fn arrow(a: &ArrowError) -> SqlError {
    match a {
        ArrowError::ExternalError(b) => external(b.as_ref()),
        ArrowError::DivideByZero => SqlError::new("22012", "division by zero"),
        ArrowError::CastError(m) | ArrowError::ParseError(m) => {
            integer_cast(m).unwrap_or_else(|| SqlError::new("22P02", m.clone()))
        }
        ArrowError::ArithmeticOverflow(m) => SqlError::new("22003", m.clone()),
        ArrowError::InvalidArgumentError(m) => SqlError::new("22023", m.clone()),
        ArrowError::MemoryError(m) => SqlError::new("53200", m.clone()),
        ArrowError::IoError(m, _) => SqlError::new("58030", m.clone()),
        other => SqlError::new("22000", other.to_string()),
    }
}

/// PostgreSQL's name of an Arrow integer type.
fn integer_type(arrow: &str) -> Option<&'static str> {
    Some(match arrow {
        "Int16" => "smallint",
        "Int32" => "integer",
        "Int64" => "bigint",
        _ => return None,
    })
}

/// A failed cast to an integer type as PostgreSQL reports it, from Arrow's
/// messages: a number out of the type's range (`70000::int2`,
/// `3e9::int4`) is 22003 `smallint out of range`; a string of digits out of
/// range (`'99999999999'::int4`) 22003 `value "…" is out of range for type
/// integer`; any other string 22P02 `invalid input syntax for type integer:
/// "…"`. `None` for other casts.
pub(crate) fn integer_cast(m: &str) -> Option<SqlError> {
    let m = m.strip_prefix("Cast error: ").unwrap_or(m);
    // "Can't cast value 70000 to type Int16" (integers, floats)
    if let Some(rest) = m.strip_prefix("Can't cast value ") {
        let (_, to) = rest.rsplit_once(" to type ")?;
        return Some(SqlError::new(
            "22003",
            format!("{} out of range", integer_type(to.trim())?),
        ));
    }
    // "value of 3000000000 is out of range Int32" (numerics)
    if let Some(rest) = m.strip_prefix("value of ") {
        let (_, to) = rest.rsplit_once(" is out of range ")?;
        return Some(SqlError::new(
            "22003",
            format!("{} out of range", integer_type(to.trim())?),
        ));
    }
    // "Cannot cast string '99999999999' to value of Int32 type"
    let rest = m.strip_prefix("Cannot cast string '")?;
    let (value, to) = rest.rsplit_once("' to value of ")?;
    let name = integer_type(to.strip_suffix(" type")?.trim())?;
    let digits = value.trim();
    let digits = digits.strip_prefix(['-', '+']).unwrap_or(digits);
    Some(
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            SqlError::new(
                "22003",
                format!("value \"{value}\" is out of range for type {name}"),
            )
        } else {
            SqlError::new(
                "22P02",
                format!("invalid input syntax for type {name}: \"{value}\""),
            )
        },
    )
}

fn schema(s: &SchemaError) -> SqlError {
    if let SchemaError::FieldNotFound {
        field,
        valid_fields,
    } = s
    {
        // PostgreSQL's wording; the valid columns without the internal alias
        // of a CREATE MODEL … TRANSFORM query
        let shown = |c: &datafusion::common::Column| match &c.relation {
            Some(r) if r.table() == crate::sql::TRANSFORM_INPUT => c.name.clone(),
            _ => c.flat_name(),
        };
        let mut message = format!("column \"{}\" does not exist", shown(field));
        if !valid_fields.is_empty() {
            let valid: Vec<String> = valid_fields.iter().map(shown).collect();
            message.push_str(&format!("; valid columns: {}", valid.join(", ")));
        }
        return SqlError::new("42703", message);
    }
    let code = match s {
        SchemaError::FieldNotFound { .. } => "42703",
        SchemaError::AmbiguousReference { .. } => "42702",
        SchemaError::DuplicateQualifiedField { .. }
        | SchemaError::DuplicateUnqualifiedField { .. } => "42701",
    };
    SqlError::new(code, s.to_string())
}

fn plan(m: &str) -> SqlError {
    if m.contains("failed to match any signature") {
        return signature_mismatch(m);
    }
    // "… No function matches the given name and argument types 'upper(Boolean)'. …"
    if let Some(call) = m
        .split("No function matches the given name and argument types '")
        .nth(1)
        .and_then(|rest| rest.split("'.").next())
    {
        return SqlError::new(
            "42883",
            format!(
                "function {} does not exist; no function matches the given name and argument types, add explicit type casts",
                pg_type_names(call)
            ),
        );
    }
    let code = if m.starts_with("table '") && m.contains("' not found") {
        "42P01"
    } else if (m.starts_with("table function '") && m.contains("not found"))
        || m.starts_with("Invalid function")
        || m.starts_with("There is no")
    {
        "42883"
    } else if m.contains("No field named") || m.starts_with("column '") {
        "42703"
    } else if m.contains("already exists") {
        "42P07"
    } else if m.contains("No function matches")
        || m.contains("does not support")
        || m.contains("Cannot coerce")
        || m.contains("Cannot infer")
    {
        "42883"
    } else if m.contains("Unsupported") || m.contains("not supported") {
        "0A000"
    } else {
        "42000"
    };
    SqlError::new(code, m.to_string())
}

/// DataFusion reports a wrong argument count of a user-defined function as an
/// internal error that asks for a bug report; it is the caller's mistake (42883).
fn signature_mismatch(m: &str) -> SqlError {
    let detail = m
        .split("Error during planning: ")
        .nth(1)
        .unwrap_or(m)
        .split("\nThis issue")
        .next()
        .unwrap_or(m)
        .trim();
    SqlError::new("42883", detail.to_string())
}

/// Rewrites "Invalid function 'f'" when `f` exists, but as a table or window
/// function, into what PostgreSQL would say and how to call it.
pub fn function_misuse(
    err: SqlError,
    is_table_function: impl Fn(&str) -> bool,
    is_window_function: impl Fn(&str) -> bool,
) -> SqlError {
    let Some(name) = err
        .message
        .strip_prefix("Invalid function '")
        .and_then(|r| r.split('\'').next())
    else {
        return err;
    };
    if is_table_function(name) {
        SqlError::new(
            "42809",
            format!("{name} is a table function: call it in FROM, e.g. SELECT * FROM {name}(…)"),
        )
    } else if is_window_function(name) {
        SqlError::new(
            "42809",
            format!(
                "window function {name} requires an OVER clause: write {name}(…) OVER () (or OVER (PARTITION BY …))"
            ),
        )
    } else {
        err
    }
}

fn execution(m: &str) -> SqlError {
    let code = if m.starts_with("Prepared statement '") && m.ends_with("does not exist") {
        "26000"
    } else if m.contains("Divide by zero") || m.contains("division by zero") {
        "22012"
    } else if m.contains("Cannot cast") || m.contains("Cast error") {
        if let Some(e) = m.find("Cast error: ").and_then(|i| integer_cast(&m[i..])) {
            return e;
        }
        "22P02"
    } else {
        "22000"
    };
    SqlError::new(code, m.to_string())
}

#[cfg(test)]
mod pg_type_name_tests {
    use super::pg_type_names;

    #[test]
    fn arrow_type_names_become_postgresql_names() {
        assert_eq!(
            pg_type_names("Cannot cast Utf8 to Int64; got Float64 and Utf8View"),
            "Cannot cast text to bigint; got double precision and text"
        );
        assert_eq!(
            pg_type_names(
                "column \"d\" has type Date32, Timestamp(Microsecond, None), Timestamp(Microsecond, Some(\"+00:00\")), Decimal128(10, 2)"
            ),
            "column \"d\" has type date, timestamp, timestamp with time zone, numeric(10,2)"
        );
        // a literal's display, and words that merely contain a type name, stay
        assert_eq!(
            pg_type_names("No field named Int64(1). MyInt64 Int32x Boolean"),
            "No field named Int64(1). MyInt64 Int32x boolean"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misused_functions_say_how_to_call_them() {
        let e = |name: &str| {
            SqlError::new(
                "42883",
                format!("Invalid function '{name}'.\nDid you mean 'x'?"),
            )
        };
        let t = |n: &str| n == "ml_deploy";
        let w = |n: &str| n == "standard_scaler";
        let got = function_misuse(e("ml_deploy"), t, w);
        assert_eq!(got.sqlstate, "42809");
        assert!(got.message.contains("SELECT * FROM ml_deploy(…)"));
        let got = function_misuse(e("standard_scaler"), t, w);
        assert!(
            got.message.contains("requires an OVER clause"),
            "{}",
            got.message
        );
        assert_eq!(function_misuse(e("nope"), t, w).sqlstate, "42883");
        let got = signature_mismatch(
            "Function 'f' failed to match any signature, errors: Error during planning: The function 'f' expected 1 arguments but received 2.\nThis issue was likely caused by a bug",
        );
        assert_eq!(
            (got.sqlstate.as_str(), got.message.as_str()),
            (
                "42883",
                "The function 'f' expected 1 arguments but received 2."
            )
        );
    }

    #[test]
    fn augur_errors_keep_their_code_through_wrapping() {
        let inner = augur_udfs::error::sql_err("22004", "label is NULL");
        let wrapped = DataFusionError::Context("while training".into(), Box::new(inner));
        let arrowed = DataFusionError::ArrowError(
            Box::new(ArrowError::ExternalError(Box::new(wrapped))),
            None,
        );
        assert_eq!(classify(&arrowed).sqlstate, "22004");
        assert_eq!(
            classify(&DataFusionError::Plan(
                "table 'augur.public.x' not found".into()
            ))
            .sqlstate,
            "42P01"
        );
        assert_eq!(
            classify(&DataFusionError::NotImplemented("x".into())).sqlstate,
            "0A000"
        );
    }
}
