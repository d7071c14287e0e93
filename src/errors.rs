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

/// The SQLSTATE and message for a DataFusion error.
pub fn classify(e: &DataFusionError) -> SqlError {
    match e {
        DataFusionError::Context(_, inner) => classify(inner),
        DataFusionError::Shared(inner) => classify(inner),
        DataFusionError::Diagnostic(_, inner) => classify(inner),
        DataFusionError::Collection(errs) if !errs.is_empty() => classify(&errs[0]),
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
        return classify(d);
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
        ArrowError::CastError(m) | ArrowError::ParseError(m) => SqlError::new("22P02", m.clone()),
        ArrowError::ArithmeticOverflow(m) => SqlError::new("22003", m.clone()),
        ArrowError::InvalidArgumentError(m) => SqlError::new("22023", m.clone()),
        ArrowError::MemoryError(m) => SqlError::new("53200", m.clone()),
        ArrowError::IoError(m, _) => SqlError::new("58030", m.clone()),
        other => SqlError::new("22000", other.to_string()),
    }
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
        "22P02"
    } else {
        "22000"
    };
    SqlError::new(code, m.to_string())
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
