//! `pg_catalog.pg_settings` with PostgreSQL 15's columns and types.
//!
//! datafusion-pg-catalog's view names `boot_val` `bool_val`, types
//! `enumvals` as text and lists one setting with NULL details; DBeaver and
//! pgAdmin read `SELECT * FROM pg_settings` by column name. This table lists
//! the settings Augur reports ([`crate::pg_functions::server_setting`]), each
//! with the category, description, context, type, bounds, enum values and
//! boot value PostgreSQL 15.18 gives for it (`SELECT * FROM pg_settings` on a
//! stock server). `setting` and `reset_val` are Augur's values; `source` is
//! `default`, as Augur has no configuration file.
//!
//! `statement_timeout`, a setting of the session in Augur, is listed with
//! its default (0), whatever the session has set.
//!
//! Columns (PostgreSQL type → Arrow): name, setting, unit, category,
//! short_desc, extra_desc, context, vartype, source, min_val, max_val
//! (text → Utf8), enumvals (text[] → List(Utf8)), boot_val, reset_val,
//! sourcefile (text → Utf8), sourceline (int4 → Int32), pending_restart
//! (bool → Boolean). NULL where PostgreSQL has NULL.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int32Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::error::Result;

use crate::pg_functions::server_setting;

/// One setting as PostgreSQL 15 describes it.
struct Setting {
    name: &'static str,
    category: &'static str,
    short_desc: &'static str,
    extra_desc: Option<&'static str>,
    context: &'static str,
    vartype: &'static str,
    unit: Option<&'static str>,
    min_val: Option<&'static str>,
    max_val: Option<&'static str>,
    enumvals: Option<&'static [&'static str]>,
    boot_val: &'static str,
}

const LOCALE: &str = "Client Connection Defaults / Locale and Formatting";
const STATEMENT: &str = "Client Connection Defaults / Statement Behavior";
const PRESET: &str = "Preset Options";
const ISOLATION: &[&str] = &[
    "serializable",
    "repeatable read",
    "read committed",
    "read uncommitted",
];

const fn text(
    name: &'static str,
    category: &'static str,
    short_desc: &'static str,
    context: &'static str,
    vartype: &'static str,
    boot_val: &'static str,
) -> Setting {
    Setting {
        name,
        category,
        short_desc,
        extra_desc: None,
        context,
        vartype,
        unit: None,
        min_val: None,
        max_val: None,
        enumvals: None,
        boot_val,
    }
}

/// PostgreSQL 15.18's descriptions, in its order (by name).
const SETTINGS: &[Setting] = &[
    Setting {
        extra_desc: Some("Also controls interpretation of ambiguous date inputs."),
        ..text(
            "DateStyle",
            LOCALE,
            "Sets the display format for date and time values.",
            "user",
            "string",
            "ISO, MDY",
        )
    },
    Setting {
        enumvals: Some(&["postgres", "postgres_verbose", "sql_standard", "iso_8601"]),
        ..text(
            "IntervalStyle",
            LOCALE,
            "Sets the display format for interval values.",
            "user",
            "enum",
            "postgres",
        )
    },
    text(
        "TimeZone",
        LOCALE,
        "Sets the time zone for displaying and interpreting time stamps.",
        "user",
        "string",
        "GMT",
    ),
    text(
        "application_name",
        "Reporting and Logging / What to Log",
        "Sets the application name to be reported in statistics and logs.",
        "user",
        "string",
        "",
    ),
    text(
        "client_encoding",
        LOCALE,
        "Sets the client's character set encoding.",
        "user",
        "string",
        "SQL_ASCII",
    ),
    Setting {
        enumvals: Some(ISOLATION),
        ..text(
            "default_transaction_isolation",
            STATEMENT,
            "Sets the transaction isolation level of each new transaction.",
            "user",
            "enum",
            "read committed",
        )
    },
    text(
        "default_transaction_read_only",
        STATEMENT,
        "Sets the default read-only status of new transactions.",
        "user",
        "bool",
        "off",
    ),
    Setting {
        extra_desc: Some(
            "This affects real, double precision, and geometric data types. A zero or \
             negative parameter value is added to the standard number of digits (FLT_DIG \
             or DBL_DIG as appropriate). Any value greater than zero selects precise \
             output mode.",
        ),
        min_val: Some("-15"),
        max_val: Some("3"),
        ..text(
            "extra_float_digits",
            LOCALE,
            "Sets the number of digits displayed for floating-point values.",
            "user",
            "integer",
            "1",
        )
    },
    text(
        "integer_datetimes",
        PRESET,
        "Shows whether datetimes are integer based.",
        "internal",
        "bool",
        "on",
    ),
    text(
        "jit",
        "Query Tuning / Other Planner Options",
        "Allow JIT compilation.",
        "user",
        "bool",
        "on",
    ),
    text(
        "lc_collate",
        PRESET,
        "Shows the collation order locale.",
        "internal",
        "string",
        "C",
    ),
    text(
        "lc_ctype",
        PRESET,
        "Shows the character classification and case conversion locale.",
        "internal",
        "string",
        "C",
    ),
    Setting {
        min_val: Some("63"),
        max_val: Some("63"),
        ..text(
            "max_identifier_length",
            PRESET,
            "Shows the maximum identifier length.",
            "internal",
            "integer",
            "63",
        )
    },
    Setting {
        min_val: Some("32"),
        max_val: Some("32"),
        ..text(
            "max_index_keys",
            PRESET,
            "Shows the maximum number of index keys.",
            "internal",
            "integer",
            "32",
        )
    },
    text(
        "search_path",
        STATEMENT,
        "Sets the schema search order for names that are not schema-qualified.",
        "user",
        "string",
        "\"$user\", public",
    ),
    text(
        "server_encoding",
        PRESET,
        "Shows the server (database) character set encoding.",
        "internal",
        "string",
        "SQL_ASCII",
    ),
    text(
        "server_version",
        PRESET,
        "Shows the server version.",
        "internal",
        "string",
        crate::server::SERVER_VERSION,
    ),
    Setting {
        min_val: Some("150018"),
        max_val: Some("150018"),
        ..text(
            "server_version_num",
            PRESET,
            "Shows the server version as an integer.",
            "internal",
            "integer",
            "150018",
        )
    },
    text(
        "standard_conforming_strings",
        "Version and Platform Compatibility / Previous PostgreSQL Versions",
        "Causes '...' strings to treat backslashes literally.",
        "user",
        "bool",
        "on",
    ),
    // a setting of the session (`SET statement_timeout`); the table shows
    // its default
    Setting {
        extra_desc: Some("A value of 0 turns off the timeout."),
        unit: Some("ms"),
        min_val: Some("0"),
        max_val: Some("2147483647"),
        ..text(
            "statement_timeout",
            STATEMENT,
            "Sets the maximum allowed duration of any statement.",
            "user",
            "integer",
            "0",
        )
    },
    Setting {
        enumvals: Some(ISOLATION),
        ..text(
            "transaction_isolation",
            STATEMENT,
            "Sets the current transaction's isolation level.",
            "user",
            "enum",
            "read committed",
        )
    },
    text(
        "transaction_read_only",
        STATEMENT,
        "Sets the current transaction's read-only status.",
        "user",
        "bool",
        "off",
    ),
];

fn schema() -> SchemaRef {
    let utf8 = |n: &str| Field::new(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        utf8("name"),
        utf8("setting"),
        utf8("unit"),
        utf8("category"),
        utf8("short_desc"),
        utf8("extra_desc"),
        utf8("context"),
        utf8("vartype"),
        utf8("source"),
        utf8("min_val"),
        utf8("max_val"),
        Field::new(
            "enumvals",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
        utf8("boot_val"),
        utf8("reset_val"),
        utf8("sourcefile"),
        Field::new("sourceline", DataType::Int32, true),
        Field::new("pending_restart", DataType::Boolean, true),
    ]))
}

/// The `pg_settings` table.
pub fn table() -> Result<MemTable> {
    let schema = schema();
    let n = SETTINGS.len();
    let col = |f: fn(&Setting) -> Option<&'static str>| -> ArrayRef {
        Arc::new(SETTINGS.iter().map(f).collect::<StringArray>())
    };
    let setting = |s: &Setting| server_setting(s.name).or(Some(s.boot_val));
    let mut enumvals = ListBuilder::new(StringBuilder::new());
    for s in SETTINGS {
        match s.enumvals {
            Some(values) => {
                for v in values {
                    enumvals.values().append_value(v);
                }
                enumvals.append(true);
            }
            None => enumvals.append_null(),
        }
    }
    let columns: Vec<ArrayRef> = vec![
        col(|s| Some(s.name)),
        col(setting),
        col(|s| s.unit),
        col(|s| Some(s.category)),
        col(|s| Some(s.short_desc)),
        col(|s| s.extra_desc),
        col(|s| Some(s.context)),
        col(|s| Some(s.vartype)),
        col(|_| Some("default")),
        col(|s| s.min_val),
        col(|s| s.max_val),
        Arc::new(enumvals.finish()),
        col(|s| Some(s.boot_val)),
        col(setting),
        col(|_| None),
        Arc::new(Int32Array::from(vec![None; n])),
        Arc::new(BooleanArray::from(vec![Some(false); n])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    MemTable::try_new(schema, vec![vec![batch]])
}

#[cfg(test)]
mod tests {
    use super::SETTINGS;
    use crate::pg_functions::server_setting;

    #[test]
    fn every_listed_setting_has_a_value() {
        for s in SETTINGS.iter().filter(|s| s.name != "statement_timeout") {
            assert!(server_setting(s.name).is_some(), "{}", s.name);
        }
    }
}
