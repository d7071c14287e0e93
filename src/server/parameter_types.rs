//! The types of a prepared statement's `$n` parameters, inferred as
//! PostgreSQL infers them, so that drivers which send parameters typed as the
//! server describes them (tokio-postgres, pgjdbc, asyncpg) can bind plain
//! values:
//!
//! 1. what DataFusion infers (`col = $1`, `INSERT … VALUES ($1)`), also
//!    inside table-function arguments (`vector_search(…, $1)`);
//! 2. the type a parameter is cast to (`$1::int4`, `CAST($1 AS text)`);
//! 3. the signature of the function a parameter is an argument of
//!    (`pg_cancel_backend($1)` → int4, `upper($1)` → text, `abs($1)` →
//!    float8), and for `predict`/`predict_proba` with a literal model name
//!    the type of each feature's training column.
//!
//! For 3, a function with several candidate types at that position is
//! resolved by PostgreSQL's rule for an unknown argument: the string category
//! if a candidate is a string, else within the numeric category the preferred
//! type, float8 (`abs`, `power`, `sqrt`); among other numeric candidates the
//! first the signature lists (PostgreSQL would answer 42725 "function is not
//! unique" there; DataFusion resolves a NULL argument to that first one). A
//! function that accepts any type leaves the parameter untyped (`unknown`).
//! The first place that types a parameter wins.

use std::collections::HashMap;

use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use datafusion::common::DFSchema;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::expr::{AggregateFunction, Placeholder, ScalarFunction};
use datafusion::logical_expr::{
    Cast, Expr, ExprSchemable, LogicalPlan, ScalarUDF, TryCast, TypeSignature, TypeSignatureClass,
};
use datafusion_postgres::arrow_pg::datatypes::into_pg_type;
use pgwire::api::Type;
use pgwire::error::PgWireResult;

use super::handler::to_pg;

/// Types by placeholder id (`"$1"`); `None`: not (yet) typed.
type Types = HashMap<String, Option<DataType>>;

/// Parameter types in `$1, $2, ...` order (`None`: untyped).
pub fn parameter_types(plan: &LogicalPlan) -> PgWireResult<Vec<Option<DataType>>> {
    Ok(in_order(inferred(plan)?))
}

/// The PostgreSQL types of [`parameter_types`]' answer (`unknown` where untyped).
pub fn wire_types(inferred: &[Option<DataType>]) -> PgWireResult<Vec<Type>> {
    inferred
        .iter()
        .map(|t| match t {
            Some(dt) if *dt == crate::oid_array::oid_array_type() => Ok(Type::OID_ARRAY),
            Some(dt) => into_pg_type(dt),
            None => Ok(Type::UNKNOWN),
        })
        .collect()
}

/// `plan` with each parameter that only a function argument types (3.
/// above) given that type, so that the result columns are described as
/// they will be (`abs($1)` is float8), except parameters whose type the
/// client declared at Parse (`declared`, in `$n` order), which keep it.
pub fn typed_by_functions(
    plan: LogicalPlan,
    declared: &[Option<Type>],
) -> PgWireResult<LogicalPlan> {
    let mut params = plan.get_parameter_types().map_err(to_pg)?;
    if params.values().all(Option::is_some) {
        return Ok(plan);
    }
    type_from_casts(&mut params, &plan);
    let mut found = HashMap::new();
    function_argument_types(&params, &plan, &mut found);
    found.retain(|id, _| {
        !declared_type(declared, id).is_some_and(|t| t != Type::UNKNOWN)
            && params.get(id).is_some_and(Option::is_none)
    });
    if found.is_empty() {
        return Ok(plan);
    }
    let typed = plan
        .transform_up_with_subqueries(|node| {
            let node = node.map_expressions(|e| {
                e.transform_up(|e| match e {
                    Expr::Placeholder(Placeholder { id, field: None }) => match found.get(&id) {
                        Some(t) => Ok(Transformed::yes(Expr::Placeholder(
                            Placeholder::new_with_field(
                                id.clone(),
                                Some(Field::new(id, t.clone(), true).into()),
                            ),
                        ))),
                        None => Ok(Transformed::no(Expr::Placeholder(Placeholder {
                            id,
                            field: None,
                        }))),
                    },
                    other => Ok(Transformed::no(other)),
                })
            })?;
            // a parent's schema follows its children's
            node.map_data(LogicalPlan::recompute_schema)
        })
        .map_err(to_pg)?;
    Ok(typed.data)
}

fn declared_type(declared: &[Option<Type>], id: &str) -> Option<Type> {
    let i = id
        .strip_prefix('$')?
        .parse::<usize>()
        .ok()?
        .checked_sub(1)?;
    declared.get(i).cloned().flatten()
}

/// Every parameter's type by id, by the rules of the module documentation.
fn inferred(plan: &LogicalPlan) -> PgWireResult<Types> {
    let mut params = plan.get_parameter_types().map_err(to_pg)?;
    // parameters in table-function arguments (`vector_search(…, $1)`)
    let inner = augur_udfs::table_function::parameter_plans(plan).map_err(to_pg)?;
    for inner in &inner {
        for (id, t) in inner.get_parameter_types().map_err(to_pg)? {
            let slot = params.entry(id).or_insert(None);
            if slot.is_none() {
                *slot = t;
            }
        }
        type_from_casts(&mut params, inner);
    }
    type_from_casts(&mut params, plan);
    if params.values().any(Option::is_none) {
        let mut found = HashMap::new();
        for p in std::iter::once(plan).chain(&inner) {
            function_argument_types(&params, p, &mut found);
        }
        for (id, t) in found {
            if let Some(slot @ None) = params.get_mut(&id) {
                *slot = Some(t);
            }
        }
    }
    Ok(params)
}

/// `params` as a list in `$1, $2, ...` order.
fn in_order(params: Types) -> Vec<Option<DataType>> {
    let mut ids: Vec<(usize, Option<DataType>)> = params
        .into_iter()
        .filter_map(|(k, v)| {
            k.trim_start_matches('$')
                .parse::<usize>()
                .ok()
                .map(|i| (i, v))
        })
        .collect();
    ids.sort_by_key(|(i, _)| *i);
    let max = ids.last().map_or(0, |(i, _)| *i);
    let mut out = vec![None; max];
    for (i, t) in ids {
        if i >= 1 {
            out[i - 1] = t;
        }
    }
    out
}

/// Gives each untyped parameter of `params` the type it is cast to in `plan`.
fn type_from_casts(params: &mut Types, plan: &LogicalPlan) {
    if params.values().all(Option::is_some) {
        return;
    }
    for (id, t) in cast_parameter_types(plan) {
        if let Some(slot @ None) = params.get_mut(&id) {
            *slot = Some(t);
        }
    }
}

/// The type each parameter is first cast to in `plan`, by placeholder id.
fn cast_parameter_types(plan: &LogicalPlan) -> HashMap<String, DataType> {
    let mut found = HashMap::new();
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|e| {
            e.apply(|e| {
                // `augur_oid_array($1)` (`$1::oid[]`): an `oid[]` parameter
                if let Expr::ScalarFunction(f) = e
                    && f.name() == "augur_oid_array"
                    && let Some(Expr::Placeholder(p)) = f.args.first().map(|a| match a {
                        Expr::Cast(Cast { expr, .. }) => expr.as_ref(),
                        other => other,
                    })
                {
                    found
                        .entry(p.id.clone())
                        .or_insert_with(crate::oid_array::oid_array_type);
                }
                if let Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) = e
                    && let Expr::Placeholder(p) = expr.as_ref()
                {
                    found
                        .entry(p.id.clone())
                        .or_insert_with(|| field.data_type().clone());
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    found
}

/// Adds to `found` the type of each parameter untyped in `params` that is
/// an argument of a scalar or aggregate function in `plan` (the first such
/// use of a parameter decides).
fn function_argument_types(
    params: &Types,
    plan: &LogicalPlan,
    found: &mut HashMap<String, DataType>,
) {
    let untyped = |e: &Expr| match e {
        Expr::Placeholder(Placeholder { id, field: None })
            if params.get(id).is_some_and(Option::is_none) =>
        {
            Some(id.clone())
        }
        _ => None,
    };
    let _ = plan.apply_with_subqueries(|node| {
        let mut schema: Option<DFSchema> = None;
        node.apply_expressions(|e| {
            e.apply(|e| {
                let (args, types) = match e {
                    Expr::ScalarFunction(ScalarFunction { func, args })
                        if args.iter().any(|a| untyped(a).is_some()) =>
                    {
                        let schema = schema.get_or_insert_with(|| input_schema(node));
                        (args, scalar_argument_types(func, args, schema))
                    }
                    Expr::AggregateFunction(AggregateFunction { func, params: p })
                        if p.args.iter().any(|a| untyped(a).is_some()) =>
                    {
                        let n = p.args.len();
                        let types = (0..n)
                            .map(|i| {
                                signature_candidates(&func.signature().type_signature, n, i)
                                    .and_then(preferred)
                            })
                            .collect();
                        (&p.args, types)
                    }
                    _ => return Ok(TreeNodeRecursion::Continue),
                };
                for (arg, t) in args.iter().zip(types) {
                    if let (Some(id), Some(t)) = (untyped(arg), t)
                        && into_pg_type(&t).is_ok()
                    {
                        found.entry(id).or_insert(t);
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
}

/// The schema the expressions of `node` are typed against.
fn input_schema(node: &LogicalPlan) -> DFSchema {
    let inputs = node.inputs();
    if inputs.is_empty() {
        return node.schema().as_ref().clone();
    }
    let mut schema = DFSchema::empty();
    for input in inputs {
        schema.merge(input.schema());
    }
    schema
}

/// The type each argument of a scalar function call takes from the
/// function (`None` where it does not say).
fn scalar_argument_types(
    func: &ScalarUDF,
    args: &[Expr],
    schema: &DFSchema,
) -> Vec<Option<DataType>> {
    if let Some(types) = augur_udfs::ml::argument_types::argument_types(func, args) {
        return (0..args.len()).map(|i| types.get(i).cloned()).collect();
    }
    let n = args.len();
    let signature = &func.signature().type_signature;
    if matches!(signature, TypeSignature::UserDefined) {
        // the function's own coercion, with NULL for each unknown argument
        // (`embed($1)` → text)
        let known: Vec<DataType> = args
            .iter()
            .map(|a| match a {
                Expr::Placeholder(Placeholder { field: None, .. }) => DataType::Null,
                a => a.get_type(schema).unwrap_or(DataType::Null),
            })
            .collect();
        let Ok(coerced) = func.coerce_types(&known) else {
            return vec![None; n];
        };
        return coerced
            .into_iter()
            .map(|t| (t != DataType::Null).then(|| normalised(t)))
            .collect();
    }
    (0..n)
        .map(|i| signature_candidates(signature, n, i).and_then(preferred))
        .collect()
}

/// The types a signature accepts at position `i` of `n` arguments, in its
/// order; `None` when it accepts any type there (or says nothing useful).
fn signature_candidates(signature: &TypeSignature, n: usize, i: usize) -> Option<Vec<DataType>> {
    let mut out = Vec::new();
    collect_candidates(signature, n, i, &mut out).then_some(out)
}

/// Pushes onto `out` the types `signature` accepts at `i` of `n`; false when
/// it accepts any type there.
fn collect_candidates(
    signature: &TypeSignature,
    n: usize,
    i: usize,
    out: &mut Vec<DataType>,
) -> bool {
    match signature {
        TypeSignature::Exact(types) if types.len() == n => out.push(types[i].clone()),
        TypeSignature::Uniform(k, types) if *k == n => out.extend(types.iter().cloned()),
        TypeSignature::Variadic(types) if n >= 1 => out.extend(types.iter().cloned()),
        TypeSignature::Numeric(k) if *k == n => out.push(DataType::Float64),
        TypeSignature::String(k) if *k == n => out.push(DataType::Utf8),
        TypeSignature::Coercible(coercions) if coercions.len() == n => {
            match class_type(coercions[i].desired_type()) {
                Some(t) => out.push(t),
                None => return false,
            }
        }
        TypeSignature::OneOf(signatures) => {
            return signatures.iter().all(|s| collect_candidates(s, n, i, out));
        }
        TypeSignature::Any(k) | TypeSignature::Comparable(k) if *k == n => return false,
        TypeSignature::VariadicAny
        | TypeSignature::UserDefined
        | TypeSignature::ArraySignature(_) => {
            return false;
        }
        _ => {}
    }
    true
}

/// The type a parameter takes for a coercion class (`None`: any type).
fn class_type(class: &TypeSignatureClass) -> Option<DataType> {
    use datafusion::common::types::{LogicalType, NativeType};
    Some(match class {
        TypeSignatureClass::Native(t) => match t.native() {
            NativeType::String => DataType::Utf8,
            NativeType::Binary => DataType::Binary,
            NativeType::Null => return None,
            other => other.default_cast_for(&DataType::Null).ok()?,
        },
        TypeSignatureClass::Integer => DataType::Int64,
        TypeSignatureClass::Float | TypeSignatureClass::Numeric => DataType::Float64,
        TypeSignatureClass::Decimal => DataType::Decimal128(38, 10),
        TypeSignatureClass::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        TypeSignatureClass::Time => DataType::Time64(TimeUnit::Microsecond),
        TypeSignatureClass::Interval => DataType::Interval(IntervalUnit::MonthDayNano),
        TypeSignatureClass::Binary => DataType::Binary,
        TypeSignatureClass::Duration | TypeSignatureClass::Any => return None,
    })
}

/// Picks one of a function's candidate types for an unknown argument, as
/// PostgreSQL does (see the module documentation).
fn preferred(candidates: Vec<DataType>) -> Option<DataType> {
    let mut unique: Vec<DataType> = Vec::new();
    for t in candidates.into_iter().map(normalised) {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    match unique.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many if many.contains(&DataType::Utf8) => Some(DataType::Utf8),
        many if many.iter().all(DataType::is_numeric) => {
            Some(if many.contains(&DataType::Float64) {
                DataType::Float64
            } else {
                many[0].clone()
            })
        }
        _ => None,
    }
}

/// Every string type as `text` (Utf8): what a text parameter binds to.
fn normalised(t: DataType) -> DataType {
    match t {
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_arguments_resolve_as_in_postgresql() {
        let numeric = TypeSignature::Numeric(1);
        assert_eq!(
            signature_candidates(&numeric, 1, 0).and_then(preferred),
            Some(DataType::Float64)
        );
        let ints = TypeSignature::OneOf(vec![
            TypeSignature::Exact(vec![DataType::Int32]),
            TypeSignature::Exact(vec![DataType::Int64]),
        ]);
        assert_eq!(
            signature_candidates(&ints, 1, 0).and_then(preferred),
            Some(DataType::Int32)
        );
        let strings = TypeSignature::Uniform(1, vec![DataType::Utf8View, DataType::Utf8]);
        assert_eq!(
            signature_candidates(&strings, 1, 0).and_then(preferred),
            Some(DataType::Utf8)
        );
        let any = TypeSignature::OneOf(vec![TypeSignature::Any(1), TypeSignature::Any(2)]);
        assert_eq!(signature_candidates(&any, 1, 0), None);
        let mixed = TypeSignature::Uniform(1, vec![DataType::Boolean, DataType::Date32]);
        assert_eq!(signature_candidates(&mixed, 1, 0).and_then(preferred), None);
    }
}
