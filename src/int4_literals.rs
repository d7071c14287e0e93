//! PostgreSQL's type of an integer literal: `integer` (int4) when it fits in
//! 32 bits, `bigint` (int8) otherwise (`make_const` in PostgreSQL's
//! parse_node.c). DataFusion's SQL planner types every integer literal
//! Int64, so `SELECT 1 + 1`, `VALUES (1)`, `CASE … THEN 1 ELSE 2 END` and
//! `CREATE TABLE t AS SELECT 1 AS x` would reach clients as bigint.
//!
//! [`int4_literals`] retypes the literals of a freshly planned statement (the
//! planner's output, before type coercion) as Int32 where they fit, and
//! recomputes the schemas above them. DataFusion's coercion then follows
//! PostgreSQL's promotion rules: int4 op int4 is int4, int4 op int8 is int8,
//! int4 against a float or numeric column takes the column's type. Integer
//! arithmetic that overflows its type is an error, as in PostgreSQL (see
//! `checked_arithmetic`), so no result wraps around.
//!
//! Left as planned: `LIMIT`/`OFFSET` counts, the arguments of `count`
//! (`count(*)` is `count(Int64(1))`, which DataFusion's optimizer
//! recognises), table function arguments (evaluated while planning), and
//! the values of `INSERT` (cast to the table's column types anyway). Names stay as
//! DataFusion gave them (`Int64(1)`), so a column of a subquery keeps
//! the name an outer query refers to.

use std::sync::Arc;

use crate::errors::SqlError;
use crate::pg_functions::pg_type_name;
use datafusion::arrow::datatypes::Schema;
use datafusion::catalog::cte_worktable::CteWorkTable;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    DdlStatement, Expr, LogicalPlan, LogicalPlanBuilder, RecursiveQuery, TableScanBuilder, Union,
};
use datafusion::optimizer::analyzer::type_coercion::coerce_union_schema;

/// `plan` with its integer literals typed as PostgreSQL types them; see the
/// module documentation. Queries, and the queries of `CREATE TABLE … AS`
/// and `CREATE VIEW`, are rewritten; other statements are returned as they are.
pub fn int4_literals(plan: LogicalPlan) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(mut c)) => {
            c.input = Arc::new(query(Arc::unwrap_or_clone(c.input))?);
            Ok(LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(c)))
        }
        LogicalPlan::Ddl(DdlStatement::CreateView(mut v)) => {
            v.input = Arc::new(query(Arc::unwrap_or_clone(v.input))?);
            Ok(LogicalPlan::Ddl(DdlStatement::CreateView(v)))
        }
        LogicalPlan::Ddl(_)
        | LogicalPlan::Dml(_)
        | LogicalPlan::Statement(_)
        | LogicalPlan::Copy(_)
        | LogicalPlan::Explain(_)
        | LogicalPlan::Analyze(_)
        | LogicalPlan::DescribeTable(_)
        | LogicalPlan::Extension(_) => Ok(plan),
        other => query(other),
    }
}

/// Every node is visited bottom-up (subqueries included) and its schema
/// recomputed, since a retyped literal below changes the types above it.
fn query(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(node).map(|t| t.data)
}

fn node(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    match plan {
        // counts must stay Int64; nothing else in them has a result type
        LogicalPlan::Limit(_)
        | LogicalPlan::TableScan(_)
        | LogicalPlan::EmptyRelation(_)
        | LogicalPlan::Extension(_)
        | LogicalPlan::Dml(_)
        | LogicalPlan::Ddl(_)
        | LogicalPlan::Statement(_)
        | LogicalPlan::Copy(_)
        | LogicalPlan::Explain(_)
        | LogicalPlan::Analyze(_)
        | LogicalPlan::DescribeTable(_) => Ok(Transformed::no(plan)),
        LogicalPlan::Values(v) => {
            let mut changed = false;
            let rows: Vec<Vec<Expr>> = v
                .values
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|e| {
                            let t = retype(e.clone())?;
                            changed |= t.transformed;
                            Ok(t.data)
                        })
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<_>>()?;
            if !changed {
                return Ok(Transformed::no(LogicalPlan::Values(v)));
            }
            // the column types are inferred from the rows again (int4 unless a
            // row's value needs int8)
            let names: Vec<String> = v.schema.fields().iter().map(|f| f.name().clone()).collect();
            let rebuilt = LogicalPlanBuilder::values(rows)?.build()?;
            let same_names = rebuilt
                .schema()
                .fields()
                .iter()
                .map(|f| f.name())
                .eq(names.iter());
            if !same_names {
                return Ok(Transformed::no(LogicalPlan::Values(v)));
            }
            Ok(Transformed::yes(rebuilt))
        }
        LogicalPlan::RecursiveQuery(rq) => recursive_query(rq).map(Transformed::yes),
        LogicalPlan::Union(u) => {
            // the SQL planner gives a union the first input's types and the
            // analyzer coerces them to a common type later, so a client would
            // be told int4 for `SELECT 1 UNION SELECT 1.5` and sent floats:
            // the schema is the coerced one from the start
            let schema = Arc::new(coerce_union_schema(&u.inputs)?);
            Ok(Transformed::yes(LogicalPlan::Union(Union {
                inputs: u.inputs,
                schema,
            })))
        }
        other => {
            let names = NamePreserver::new(&other);
            let t = other.map_expressions(|e| {
                let saved = names.save(&e);
                Ok(retype(e)?.update_data(|e| saved.restore(e)))
            })?;
            // the schema follows the (possibly retyped) inputs and expressions
            Ok(Transformed::yes(t.data.recompute_schema()?))
        }
    }
}

/// A recursive CTE whose terms were retyped: the recursive term reads the
/// work table (its own previous rows) with the static term's types from
/// before retyping (`WITH RECURSIVE t(n) AS (SELECT 0 UNION ALL SELECT n + 1
/// FROM t …)` would read `n` as int8 and produce int8 for an int4 column).
/// The work table takes the static term's new types, nullable as the SQL
/// planner makes them, and the recursive term's schemas are recomputed. A
/// recursive term that still produces another type than the static term is
/// an error at planning, as in PostgreSQL (42804).
fn recursive_query(rq: RecursiveQuery) -> Result<LogicalPlan> {
    let fields: Vec<_> = rq
        .static_term
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        rq.static_term.schema().inner().metadata().clone(),
    ));
    let work_table = provider_as_source(Arc::new(CteWorkTable::new(&rq.name, schema)));
    let recursive_term = Arc::unwrap_or_clone(rq.recursive_term)
        .transform_up(|p| match p {
            LogicalPlan::TableScan(scan)
                if source_as_provider(&scan.source).is_ok_and(|t| t.is::<CteWorkTable>())
                    && scan.table_name.table() == rq.name =>
            {
                let scan = TableScanBuilder::new(scan.table_name, Arc::clone(&work_table))
                    .with_projection(scan.projection)
                    .with_filters(scan.filters)
                    .with_fetch(scan.fetch)
                    .build()?;
                Ok(Transformed::yes(LogicalPlan::TableScan(scan)))
            }
            other => Ok(Transformed::yes(other.recompute_schema()?)),
        })?
        .data;
    let produced = recursive_term.schema().fields();
    for (i, (s, r)) in rq
        .static_term
        .schema()
        .fields()
        .iter()
        .zip(produced)
        .enumerate()
    {
        if s.data_type() != r.data_type() {
            return Err(DataFusionError::External(Box::new(SqlError::new(
                "42804",
                format!(
                    "recursive query \"{}\" column {} has type {} in non-recursive term but type {} overall",
                    rq.name,
                    i + 1,
                    pg_type_name(s.data_type()),
                    pg_type_name(r.data_type())
                ),
            ))));
        }
    }
    RecursiveQuery::try_new(
        rq.name,
        rq.static_term,
        Arc::new(recursive_term),
        rq.is_distinct,
    )
    .map(LogicalPlan::RecursiveQuery)
}

/// `expr` with its Int64 literals that fit in 32 bits as Int32.
fn retype(expr: Expr) -> Result<Transformed<Expr>> {
    expr.transform_down(|e| match e {
        Expr::AggregateFunction(ref a) if a.func.name() == "count" => {
            Ok(Transformed::new(e, false, TreeNodeRecursion::Jump))
        }
        Expr::WindowFunction(ref w) if w.fun.name() == "count" => {
            Ok(Transformed::new(e, false, TreeNodeRecursion::Jump))
        }
        Expr::Literal(ScalarValue::Int64(Some(v)), meta) => match i32::try_from(v) {
            Ok(v) => Ok(Transformed::yes(Expr::Literal(
                ScalarValue::Int32(Some(v)),
                meta,
            ))),
            Err(_) => Ok(Transformed::no(Expr::Literal(
                ScalarValue::Int64(Some(v)),
                meta,
            ))),
        },
        other => Ok(Transformed::no(other)),
    })
}
