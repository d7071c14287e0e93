//! The `transform` training option: preprocessing functions captured in a
//! model, BigQuery ML's `TRANSFORM` clause.
//!
//! ```text
//! transform = [quantile_bucketize(tenure, 4), min_max_scaler(monthly_charges),
//!              imputer(total_charges, 'median'), one_hot_encoder(contract, 'none', 2, 0)]
//! ```
//!
//! Each entry is one of Augur's preprocessing window functions applied to one
//! feature column of the training query, written as in SQL without `OVER ()`
//! and with the same arguments (string arguments in `'…'` or `"…"`). Its
//! statistics are fitted on the training rows only (on each fold's training
//! rows in cross-validation), stored in the model file with the column's
//! encoding, and replayed at prediction, where the column is passed raw:
//!
//! | function | feature the model sees |
//! |---|---|
//! | `standard_scaler(x)` | `(x − mean) / sample std`, instead of the default population std |
//! | `min_max_scaler(x)` | `(x − min) / (max − min)` |
//! | `max_abs_scaler(x)` | `x / max |x|` |
//! | `robust_scaler(x [, [low, high] [, with_median [, with_quantile_range]]])` | `(x − median) / (q_high − q_low)` |
//! | `imputer(x, strategy)` | NULL replaced by the training `mean`, `median` or `most_frequent` value, then the default encoding |
//! | `one_hot_encoder(x [, drop [, top_k [, frequency_threshold]]])` | one feature per vocabulary category (text `x`) |
//! | `label_encoder(x [, top_k [, frequency_threshold]])` | the category's 1-based vocabulary index, 0 outside it (text `x`), standardised as numbers are |
//! | `bucketize(x, [splits] [, exclude_boundaries])` | one-hot over the buckets `bin_<i>` seen in training |
//! | `quantile_bucketize(x, num_buckets)` | the same, with split points at the training quantiles |
//!
//! The scalers replace the default standardisation; a NULL (or NaN, ±∞)
//! given to a scaled column is first replaced by the training mean, as for
//! any numeric feature. A column constant after its transform carries no
//! feature. Columns not named keep the default encoding.
//!
//! Errors (22023 unless said): unknown function (the message lists them),
//! bad arguments (as the standalone function reports them), a column named
//! twice; 42703 for a column that is not a feature of the training query;
//! 42804 for a scaler on text or an encoder on a number.

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result, sqlstate};

/// The preprocessing functions a model can capture.
pub const FUNCTIONS: &[&str] = &[
    "standard_scaler",
    "min_max_scaler",
    "max_abs_scaler",
    "robust_scaler",
    "imputer",
    "one_hot_encoder",
    "label_encoder",
    "bucketize",
    "quantile_bucketize",
];

/// Most buckets `quantile_bucketize` makes.
pub const MAX_BUCKETS: usize = 1_000_000;

/// How missing values are filled by `imputer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Mean,
    Median,
    MostFrequent,
}

/// One preprocessing function with its validated arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "function", rename_all = "snake_case")]
pub enum Transform {
    StandardScaler,
    MinMaxScaler,
    MaxAbsScaler,
    RobustScaler {
        low: f64,
        high: f64,
        with_median: bool,
        with_quantile_range: bool,
    },
    Imputer {
        strategy: Strategy,
    },
    OneHotEncoder {
        drop_most_frequent: bool,
        top_k: usize,
        frequency_threshold: usize,
    },
    LabelEncoder {
        top_k: usize,
        frequency_threshold: usize,
    },
    Bucketize {
        splits: Vec<f64>,
    },
    QuantileBucketize {
        num_buckets: usize,
    },
}

impl Transform {
    /// True for the functions that read text (the encoders).
    pub fn wants_text(&self) -> bool {
        matches!(
            self,
            Transform::OneHotEncoder { .. } | Transform::LabelEncoder { .. }
        )
    }
    /// True for the functions that read numbers only.
    pub fn wants_number(&self) -> bool {
        !self.wants_text() && !matches!(self, Transform::Imputer { .. })
    }
}

/// A transform applied to one column of the training query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnTransform {
    pub column: String,
    pub transform: Transform,
}

/// One argument as written.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Ident(String),
    Number(f64),
    Text(String),
    Bool(bool),
    List(Vec<Arg>),
}

/// Parses the option's value: a comma-separated list of `function(column, args…)`.
pub fn parse(text: &str) -> Result<Vec<ColumnTransform>> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        text,
    };
    let mut out: Vec<ColumnTransform> = Vec::new();
    loop {
        p.skip_ws();
        if p.i >= p.s.len() {
            break;
        }
        let name = match p.arg()? {
            Arg::Ident(n) => n.to_ascii_lowercase(),
            _ => return Err(p.error("a function name")),
        };
        p.expect(b'(')?;
        let mut args = Vec::new();
        p.skip_ws();
        if p.peek() != Some(b')') {
            loop {
                args.push(p.arg()?);
                p.skip_ws();
                match p.peek() {
                    Some(b',') => p.i += 1,
                    _ => break,
                }
            }
        }
        p.expect(b')')?;
        let ct = build(&name, args)?;
        if out.iter().any(|o| o.column == ct.column) {
            return Err(MlError::invalid(format!(
                "transform: column \"{}\" is transformed twice; give one function per column",
                ct.column
            )));
        }
        out.push(ct);
        p.skip_ws();
        match p.peek() {
            Some(b',') | Some(b';') => p.i += 1,
            None => break,
            Some(_) => return Err(p.error("',' between functions")),
        }
    }
    if out.is_empty() {
        return Err(MlError::invalid(
            "transform: give at least one function, e.g. transform=[min_max_scaler(tenure)]",
        ));
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn error(&self, want: &str) -> MlError {
        MlError::invalid(format!(
            "transform: expected {want} at position {} of '{}'; write e.g. transform=[min_max_scaler(tenure), quantile_bucketize(monthly_charges, 4)]",
            self.i + 1,
            self.text
        ))
    }
    fn expect(&mut self, c: u8) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.error(&format!("'{}'", c as char)))
        }
    }
    fn arg(&mut self) -> Result<Arg> {
        self.skip_ws();
        let start = self.i;
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let mut v = String::new();
                loop {
                    match self.peek() {
                        None => return Err(self.error("a closing quote")),
                        Some(c) if c == q => {
                            self.i += 1;
                            // a doubled quote is a literal quote
                            if self.peek() == Some(q) {
                                self.i += 1;
                                v.push(q as char);
                            } else {
                                break;
                            }
                        }
                        Some(_) => {
                            let ch = self.text[self.i..].chars().next().expect("in bounds");
                            v.push(ch);
                            self.i += ch.len_utf8();
                        }
                    }
                }
                // "x" is a quoted identifier in SQL; as an argument it reads as text
                // unless it is the column (first argument), which build() decides
                Ok(if q == b'"' {
                    Arg::Ident(v)
                } else {
                    Arg::Text(v)
                })
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() != Some(b']') {
                    loop {
                        items.push(self.arg()?);
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => self.i += 1,
                            _ => break,
                        }
                    }
                }
                self.expect(b']')?;
                Ok(Arg::List(items))
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.' => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
                {
                    self.i += 1;
                }
                let t = &self.text[start..self.i];
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Arg::Number)
                    .ok_or_else(|| {
                        MlError::invalid(format!("transform: '{t}' is not a finite number"))
                    })
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
                {
                    self.i += 1;
                }
                let t = &self.text[start..self.i];
                Ok(match t.to_ascii_lowercase().as_str() {
                    "true" => Arg::Bool(true),
                    "false" => Arg::Bool(false),
                    _ => Arg::Ident(t.to_string()),
                })
            }
            _ => Err(self.error("an argument")),
        }
    }
}

fn describe(a: &Arg) -> String {
    match a {
        Arg::Ident(s) => format!("identifier {s}"),
        Arg::Number(n) => format!("number {n}"),
        Arg::Text(s) => format!("string '{s}'"),
        Arg::Bool(b) => format!("boolean {b}"),
        Arg::List(_) => "an array".into(),
    }
}

/// Validates one function's arguments, as the standalone function does.
fn build(name: &str, args: Vec<Arg>) -> Result<ColumnTransform> {
    let bad = |msg: String| MlError::invalid(format!("transform: {name}: {msg}"));
    if !FUNCTIONS.contains(&name) {
        return Err(MlError::invalid(format!(
            "transform: unknown function '{name}'; the functions a model can capture are: {}",
            FUNCTIONS.join(", ")
        )));
    }
    let mut it = args.into_iter();
    let column = match it.next() {
        Some(Arg::Ident(c)) => c,
        Some(other) => {
            return Err(bad(format!(
                "the first argument must name a feature column, got {}",
                describe(&other)
            )));
        }
        None => return Err(bad("missing the column argument".into())),
    };
    let rest: Vec<Arg> = it.collect();
    let max_args = match name {
        "standard_scaler" | "min_max_scaler" | "max_abs_scaler" => 0,
        "robust_scaler" | "one_hot_encoder" => 3,
        "imputer" | "quantile_bucketize" => 1,
        _ => 2,
    };
    if rest.len() > max_args {
        return Err(bad(format!(
            "takes at most {} arguments after the column, got {}",
            max_args,
            rest.len()
        )));
    }
    let int = |i: usize, what: &str, default: i64| -> Result<i64> {
        match rest.get(i) {
            None => Ok(default),
            Some(Arg::Number(n)) if n.fract() == 0.0 => Ok(*n as i64),
            Some(a) => Err(bad(format!(
                "{what} must be an integer, got {}",
                describe(a)
            ))),
        }
    };
    let boolean = |i: usize, what: &str| -> Result<bool> {
        match rest.get(i) {
            None => Ok(true),
            Some(Arg::Bool(b)) => Ok(*b),
            Some(a) => Err(bad(format!(
                "{what} must be true or false, got {}",
                describe(a)
            ))),
        }
    };
    let text = |i: usize, what: &str| -> Result<Option<String>> {
        match rest.get(i) {
            None => Ok(None),
            Some(Arg::Text(s)) | Some(Arg::Ident(s)) => Ok(Some(s.to_ascii_lowercase())),
            Some(a) => Err(bad(format!("{what} must be a string, got {}", describe(a)))),
        }
    };
    let vocab = |i: usize| -> Result<(usize, usize)> {
        let top_k = int(i, "top_k", 32000)?;
        if !(1..1_000_000).contains(&top_k) {
            return Err(bad(format!("top_k must be from 1 to 999999, got {top_k}")));
        }
        let threshold = int(i + 1, "frequency_threshold", 5)?;
        if threshold < 0 {
            return Err(bad(format!(
                "frequency_threshold must be 0 or more, got {threshold}"
            )));
        }
        Ok((top_k as usize, threshold as usize))
    };
    let transform = match name {
        "standard_scaler" => Transform::StandardScaler,
        "min_max_scaler" => Transform::MinMaxScaler,
        "max_abs_scaler" => Transform::MaxAbsScaler,
        "robust_scaler" => {
            let (low, high) = match rest.first() {
                None => (25.0, 75.0),
                Some(Arg::List(v)) => match v.as_slice() {
                    [Arg::Number(l), Arg::Number(h)] if 0.0 < *l && l < h && *h < 100.0 => (*l, *h),
                    _ => {
                        return Err(bad(
                            "quantile_range must be [low, high] with 0 < low < high < 100".into(),
                        ));
                    }
                },
                Some(a) => {
                    return Err(bad(format!(
                        "quantile_range must be an array [low, high], got {}",
                        describe(a)
                    )));
                }
            };
            Transform::RobustScaler {
                low,
                high,
                with_median: boolean(1, "with_median")?,
                with_quantile_range: boolean(2, "with_quantile_range")?,
            }
        }
        "imputer" => {
            let strategy = match text(0, "strategy")?.as_deref() {
                Some("mean") => Strategy::Mean,
                Some("median") => Strategy::Median,
                Some("most_frequent") => Strategy::MostFrequent,
                other => {
                    return Err(bad(format!(
                        "strategy must be 'mean', 'median' or 'most_frequent', got {}",
                        other.map_or("nothing".into(), |s| format!("'{s}'"))
                    )));
                }
            };
            Transform::Imputer { strategy }
        }
        "one_hot_encoder" => {
            let drop_most_frequent = match text(0, "drop")?.as_deref() {
                None | Some("none") => false,
                Some("most_frequent") => true,
                Some(d) => {
                    return Err(bad(format!(
                        "drop must be 'none' or 'most_frequent', got '{d}'"
                    )));
                }
            };
            let (top_k, frequency_threshold) = vocab(1)?;
            Transform::OneHotEncoder {
                drop_most_frequent,
                top_k,
                frequency_threshold,
            }
        }
        "label_encoder" => {
            let (top_k, frequency_threshold) = vocab(0)?;
            Transform::LabelEncoder {
                top_k,
                frequency_threshold,
            }
        }
        "bucketize" => {
            let mut splits = match rest.first() {
                Some(Arg::List(v)) => v
                    .iter()
                    .map(|a| match a {
                        Arg::Number(n) => Ok(*n),
                        a => Err(bad(format!(
                            "split points must be numbers, got {}",
                            describe(a)
                        ))),
                    })
                    .collect::<Result<Vec<f64>>>()?,
                _ => {
                    return Err(bad(
                        "give the split points as an array, e.g. bucketize(tenure, [12, 24, 48])"
                            .into(),
                    ));
                }
            };
            if splits.windows(2).any(|w| w[0] > w[1]) {
                return Err(bad("split points must be in ascending order".into()));
            }
            let exclude = match rest.get(1) {
                None => false,
                Some(Arg::Bool(b)) => *b,
                Some(a) => {
                    return Err(bad(format!(
                        "exclude_boundaries must be true or false, got {}",
                        describe(a)
                    )));
                }
            };
            if exclude && splits.len() >= 2 {
                splits.remove(0);
                splits.pop();
            }
            Transform::Bucketize { splits }
        }
        "quantile_bucketize" => {
            if rest.is_empty() {
                return Err(bad(
                    "missing num_buckets, e.g. quantile_bucketize(tenure, 4)".into(),
                ));
            }
            let n = int(0, "num_buckets", 0)?;
            if !(1..=MAX_BUCKETS as i64).contains(&n) {
                return Err(bad(format!(
                    "num_buckets must be from 1 to {MAX_BUCKETS}, got {n}"
                )));
            }
            Transform::QuantileBucketize {
                num_buckets: n as usize,
            }
        }
        _ => unreachable!("checked against FUNCTIONS above"),
    };
    Ok(ColumnTransform { column, transform })
}

/// 42804 when the column's kind does not suit the function.
pub fn check_kind(ct: &ColumnTransform, is_text: bool, sql_type: &str) -> Result<()> {
    let name = function_name(&ct.transform);
    if is_text && ct.transform.wants_number() {
        return Err(MlError::new(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "transform: {name}({}) needs a numeric column, got {sql_type}; cast it in the training query",
                ct.column
            ),
        ));
    }
    if !is_text && ct.transform.wants_text() {
        return Err(MlError::new(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "transform: {name}({}) needs a text column, got {sql_type}; cast it to text in the training query",
                ct.column
            ),
        ));
    }
    Ok(())
}

/// The SQL name of a transform.
pub fn function_name(t: &Transform) -> &'static str {
    match t {
        Transform::StandardScaler => "standard_scaler",
        Transform::MinMaxScaler => "min_max_scaler",
        Transform::MaxAbsScaler => "max_abs_scaler",
        Transform::RobustScaler { .. } => "robust_scaler",
        Transform::Imputer { .. } => "imputer",
        Transform::OneHotEncoder { .. } => "one_hot_encoder",
        Transform::LabelEncoder { .. } => "label_encoder",
        Transform::Bucketize { .. } => "bucketize",
        Transform::QuantileBucketize { .. } => "quantile_bucketize",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_list_of_functions() {
        let t = parse(
            "quantile_bucketize(tenure, 4), min_max_scaler(monthly_charges); imputer(total_charges, \"median\"), one_hot_encoder(contract, 'most_frequent', 2, 0), robust_scaler(x, [10, 90], false), bucketize(\"Age\", [1, 2.5, 3], true)",
        )
        .unwrap();
        assert_eq!(t.len(), 6);
        assert_eq!(
            t[0].transform,
            Transform::QuantileBucketize { num_buckets: 4 }
        );
        assert_eq!(
            t[2].transform,
            Transform::Imputer {
                strategy: Strategy::Median
            }
        );
        assert_eq!(
            t[3].transform,
            Transform::OneHotEncoder {
                drop_most_frequent: true,
                top_k: 2,
                frequency_threshold: 0
            }
        );
        assert_eq!(
            t[4].transform,
            Transform::RobustScaler {
                low: 10.0,
                high: 90.0,
                with_median: false,
                with_quantile_range: true
            }
        );
        assert_eq!(t[5].column, "Age");
        assert_eq!(t[5].transform, Transform::Bucketize { splits: vec![2.5] });
    }

    #[test]
    fn rejects_bad_lists_clearly() {
        for (text, needle) in [
            ("scale(x)", "unknown function 'scale'"),
            ("min_max_scaler(x, 3)", "at most 0 arguments"),
            ("quantile_bucketize(x, 0)", "num_buckets must be from 1"),
            ("imputer(x, 'avg')", "strategy must be"),
            ("min_max_scaler(x), max_abs_scaler(x)", "transformed twice"),
            ("min_max_scaler(x", "expected ')'"),
            ("bucketize(x, [3, 1])", "ascending"),
            ("", "at least one function"),
            ("min_max_scaler(1)", "must name a feature column"),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.sqlstate, "22023", "{text}");
            assert!(err.message.contains(needle), "{text}: {}", err.message);
        }
    }
}
