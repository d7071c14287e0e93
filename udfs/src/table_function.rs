//! What every Augur table function shares: its argument count is checked
//! before it plans anything, and its parameter names are known to the SQL
//! front end (which turns `name => value` arguments into positional ones).

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ParamValues;
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::error::Result;
use datafusion::logical_expr::LogicalPlan;

use crate::error::sql_err;

/// One parameter of a table function: its name, whether it may be left
/// out and, for some optional ones, the SQL text of the default (used to fill
/// the gap when a later argument is passed by name).
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub optional: bool,
    pub default: Option<&'static str>,
}

/// A required parameter.
pub const fn req(name: &'static str) -> Param {
    Param {
        name,
        optional: false,
        default: None,
    }
}

/// An optional parameter that can only be left out at the end.
pub const fn opt(name: &'static str) -> Param {
    Param {
        name,
        optional: true,
        default: None,
    }
}

/// An optional parameter whose default is the SQL text `default`.
pub const fn opt_default(name: &'static str, default: &'static str) -> Param {
    Param {
        name,
        optional: true,
        default: Some(default),
    }
}

/// A table function with its parameter list: calls with too few or too many
/// arguments fail with 42883 (PostgreSQL's undefined_function, what it says
/// for a call that matches no signature) naming the signature.
#[derive(Debug)]
pub struct Checked {
    name: &'static str,
    params: &'static [Param],
    required: usize,
    inner: Arc<dyn TableFunctionImpl>,
}

/// Wraps `inner` so that its argument count is checked against `params`
/// (required parameters first, then optional ones).
pub fn checked(
    name: &'static str,
    params: &'static [Param],
    inner: Arc<dyn TableFunctionImpl>,
) -> Arc<Checked> {
    let required = params.iter().take_while(|p| !p.optional).count();
    Arc::new(Checked {
        name,
        params,
        required,
        inner,
    })
}

impl Checked {
    pub fn name(&self) -> &'static str {
        self.name
    }
    pub fn params(&self) -> &'static [Param] {
        self.params
    }

    /// `name(a, b [, c])`.
    pub fn signature(&self) -> String {
        let mut s = format!("{}(", self.name);
        for (i, p) in self.params.iter().enumerate() {
            match (i, i < self.required) {
                (0, true) => s.push_str(p.name),
                (_, true) => s.push_str(&format!(", {}", p.name)),
                (0, false) => s.push_str(&format!("[{}", p.name)),
                (_, false) => s.push_str(&format!(" [, {}", p.name)),
            }
        }
        s.push_str(&"]".repeat(self.params.len() - self.required));
        s.push(')');
        s
    }
}

impl TableFunctionImpl for Checked {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let n = args.exprs().len();
        if n < self.required || n > self.params.len() {
            let expected = if self.required == self.params.len() {
                format!("{}", self.required)
            } else {
                format!("{} to {}", self.required, self.params.len())
            };
            return Err(sql_err(
                "42883",
                format!(
                    "{} takes {expected} argument{}, got {n}: {}",
                    self.name,
                    if self.params.len() == 1 { "" } else { "s" },
                    self.signature()
                ),
            ));
        }
        self.inner.call_with_args(args)
    }
}

/// Plans holding the `$n` parameters that table-function arguments in `plan`
/// take (DataFusion plans those arguments into the function's table, where
/// `LogicalPlan::get_parameter_types` cannot see them); the server reads the
/// parameter types of a prepared statement from these too.
pub fn parameter_plans(plan: &LogicalPlan) -> Result<Vec<LogicalPlan>> {
    let mut out = Vec::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && let Some(p) = crate::embed::vector_search::parameter_plan(provider.as_ref())?
        {
            out.push(p);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(out)
}

/// `plan` with the `$n` parameters of table-function arguments replaced by
/// `params` (the rest of the plan's parameters are left to
/// `LogicalPlan::replace_params_with_values`). Errors as the function gives
/// for a written argument of that value.
pub fn bind_parameters(plan: LogicalPlan, params: &ParamValues) -> Result<LogicalPlan> {
    Ok(plan
        .transform_up_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = &node
                && let Ok(provider) = source_as_provider(&scan.source)
                && let Some(bound) = crate::embed::vector_search::bind(provider.as_ref(), params)?
            {
                let mut scan = scan.clone();
                scan.source = provider_as_source(bound);
                return Ok(Transformed::yes(LogicalPlan::TableScan(scan)));
            }
            Ok(Transformed::no(node))
        })?
        .data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Nothing;
    impl TableFunctionImpl for Nothing {
        fn call_with_args(&self, _: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
            unreachable!()
        }
    }

    #[test]
    fn signatures_show_optional_parameters() {
        static P: [Param; 4] = [req("a"), req("b"), opt_default("c", "1"), opt("d")];
        assert_eq!(
            checked("f", &P, Arc::new(Nothing)).signature(),
            "f(a, b [, c [, d]])"
        );
        static Q: [Param; 1] = [opt("c")];
        assert_eq!(checked("g", &Q, Arc::new(Nothing)).signature(), "g([c])");
    }
}
