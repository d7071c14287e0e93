//! `vector_search(base_table, column_to_search, query_value [, top_k [, distance_type]])`:
//! the `top_k` rows of a table nearest to a query vector (BigQuery's
//! `VECTOR_SEARCH`, by exhaustive search).
//!
//! - `base_table`: text literal, a table name (`'review_vectors'`,
//!   `'public.review_vectors'`) or a query (`'SELECT … FROM …'`).
//! - `column_to_search`: text literal, a vector column of it: `FixedSizeList`,
//!   `List` or `LargeList` of `Float32`/`Float64` (`embed(...)`, `float4[]`).
//! - `query_value`: a constant vector expression (`embed('late delivery')`,
//!   `ARRAY[0.1, …]`) or a scalar subquery returning one
//!   (`(SELECT embedding FROM review_vectors WHERE id = 3)`); evaluated once,
//!   when the statement executes. In a prepared statement it may be a
//!   parameter: `$1` (described as `float4[]`; `float8[]` values are taken
//!   too), `$1::float8[]`, `embed($1)` or `(SELECT $1::real[])`; the value
//!   is checked when it is bound, as a written one is.
//! - `top_k`: integer constant ≥ 1, default 10.
//! - `distance_type`: `'EUCLIDEAN'` (default, as BigQuery), `'COSINE'`
//!   (1 − cosine similarity) or `'DOT_PRODUCT'` (the negated inner product, so
//!   smaller is nearer, as pgvector's `<#>`); case-insensitive, `'l2'` and
//!   `'inner_product'` accepted too.
//!
//! Arguments may be passed by name, `top_k => 5, distance_type => 'COSINE'`.
//!
//! Returns the base table's columns plus `distance float8`, the `top_k`
//! nearest rows (fewer if the table has fewer) ordered by `distance`
//! ascending (ties in no particular order). Rows whose vector is NULL or has
//! a NULL, NaN or ±Infinity element are skipped, as are rows whose distance
//! is NaN (a zero vector under `COSINE`) or overflows to ±Infinity: such a
//! row has no place in a nearest-first order.
//!
//! Execution streams the table's partitions in parallel; each keeps only its
//! best `top_k` candidates (selected per batch, compacted when the buffer
//! doubles), and the partitions' candidates are merged at the end, so memory is
//! O(top_k) rows per partition and no full sort happens. Distances are
//! computed in f64 by `augur_ml::distance` over the vector column's buffer.
//!
//! Errors: 42P01 unknown table; 42703 unknown column (listing the vector
//! columns); 42804 a column or query value that is not a float vector;
//! 22000 a stored vector whose dimension differs from the query's, a query
//! vector with a NaN or ±Infinity element (named by its 1-based position), or
//! a zero query vector under `COSINE`; 22004 a NULL query vector (or NULL element);
//! 21000 a query subquery returning more than one row; 22023 `top_k` < 1 or
//! not an integer constant, an unknown `distance_type`, or a `query_value`
//! that is not constant (such as another table's column in `LATERAL`);
//! 42P02 a `$1` parameter with no value (a statement that was not
//! prepared); 42701 a base table that already has a `distance`
//! column (rename it in a query); 42883 a wrong argument count.
//!
//! Example: `SELECT id, distance FROM vector_search('review_vectors', 'embedding',
//! embed('late delivery'), top_k => 5, distance_type => 'COSINE')`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use augur_ml::distance::{DistanceType, distances, smallest};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, RecordBatch, RecordBatchOptions,
};
use datafusion::arrow::compute::{interleave_record_batch, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Float32Type, Float64Type, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ParamValues, ScalarValue, TableReference};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::expr::Placeholder;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, PhysicalExpr, collect};
use futures::StreamExt;

use super::vectors::{Row, Vectors, is_vector_type};
use crate::error::{invalid, sql_err, sqlstate};
use crate::lazy::session_state;
use crate::ml::common::plan_query;
use crate::table_function::{Param, opt_default, req};

const NAME: &str = "vector_search";

/// The parameters, for the argument-count check and `name => value` calls.
pub static PARAMETERS: [Param; 5] = [
    req("base_table"),
    req("column_to_search"),
    req("query_value"),
    opt_default("top_k", "10"),
    opt_default("distance_type", "'EUCLIDEAN'"),
];

#[derive(Debug)]
pub struct VectorSearch;

/// The `vector_search` table function.
pub fn vector_search() -> Arc<dyn TableFunctionImpl> {
    Arc::new(VectorSearch)
}

/// Where the query vector comes from.
#[derive(Debug, Clone)]
enum QueryValue {
    Constant(Expr),
    Subquery(Arc<LogicalPlan>),
}

fn is_float_vector(t: &DataType) -> bool {
    t != &DataType::Null && is_vector_type(t)
}

/// `'name'` or `'schema.name'` as a quoted SQL table reference; a text that
/// starts like a query is used as it is.
fn base_query(base: &str) -> String {
    let t = base.trim_start();
    let first: String = t
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    if t.starts_with('(') || ["select", "with", "values"].contains(&first.as_str()) {
        return base.to_string();
    }
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let r = TableReference::parse_str(base);
    let name = match &r {
        TableReference::Bare { table } => quote(table),
        TableReference::Partial { schema, table } => format!("{}.{}", quote(schema), quote(table)),
        TableReference::Full {
            catalog,
            schema,
            table,
        } => format!("{}.{}.{}", quote(catalog), quote(schema), quote(table)),
    };
    format!("SELECT * FROM {name}")
}

/// A text constant argument, or 22023 with an example.
fn text_arg(e: Option<&Expr>, what: &str, example: &str) -> Result<String> {
    match e {
        Some(Expr::Literal(ScalarValue::Utf8(Some(s)), _))
        | Some(Expr::Literal(ScalarValue::Utf8View(Some(s)), _))
        | Some(Expr::Literal(ScalarValue::LargeUtf8(Some(s)), _)) => Ok(s.clone()),
        other => Err(invalid(format!(
            "{NAME}: {what} must be a text constant, e.g. {example}; got {}",
            other.map_or("nothing".to_string(), |e| e.to_string())
        ))),
    }
}

fn top_k_arg(e: Option<&Expr>) -> Result<usize> {
    let bad = |what: String| {
        invalid(format!(
            "{NAME}: top_k must be a positive integer constant, e.g. top_k => 10; got {what}"
        ))
    };
    match e {
        None => Ok(10),
        Some(Expr::Literal(v, _)) if v.data_type().is_integer() => {
            match v.cast_to(&DataType::Int64) {
                Ok(ScalarValue::Int64(Some(k))) if k >= 1 => Ok(k as usize),
                _ => Err(bad(v.to_string())),
            }
        }
        Some(Expr::Literal(v, _)) => Err(bad(v.to_string())),
        Some(other) => Err(bad(other.to_string())),
    }
}

fn distance_type_arg(e: Option<&Expr>) -> Result<DistanceType> {
    let Some(e) = e else {
        return Ok(DistanceType::Euclidean);
    };
    let s = text_arg(Some(e), "distance_type", "distance_type => 'COSINE'")?;
    DistanceType::parse(&s).ok_or_else(|| {
        invalid(format!(
            "{NAME}: unknown distance_type '{s}'; use 'EUCLIDEAN', 'COSINE' or 'DOT_PRODUCT'"
        ))
    })
}

fn query_value_arg(e: &Expr) -> Result<QueryValue> {
    if let Expr::ScalarSubquery(sq) = e {
        let t = sq.subquery.schema().field(0).data_type().clone();
        if !is_float_vector(&t) {
            return Err(sql_err(
                sqlstate::DATATYPE_MISMATCH,
                format!(
                    "{NAME}: query_value must be a float4[] or float8[] vector, the subquery returns {t}"
                ),
            ));
        }
        return Ok(QueryValue::Subquery(sq.subquery.clone()));
    }
    let outer = !e.column_refs().is_empty()
        || e.exists(|x| Ok(matches!(x, Expr::OuterReferenceColumn(..))))?;
    if outer {
        return Err(invalid(format!(
            "{NAME}: query_value cannot refer to a column of another table (as in LATERAL or a correlated subquery): each call is one search with one query vector. Pass a constant vector such as embed('text') or ARRAY[0.1, 0.2], or a scalar subquery (SELECT v FROM t WHERE id = 1); for nearest rows per row of a table, rank l2_distance(a.v, b.v) with row_number() OVER (PARTITION BY a.id ORDER BY …); got {e}"
        )));
    }
    let not_constant = !e.column_refs().is_empty()
        || e.exists(|x| {
            Ok(matches!(
                x,
                Expr::ScalarSubquery(_)
                    | Expr::Exists(_)
                    | Expr::InSubquery(_)
                    | Expr::OuterReferenceColumn(..)
                    | Expr::AggregateFunction(_)
                    | Expr::WindowFunction(_)
            ))
        })?;
    if not_constant {
        return Err(invalid(format!(
            "{NAME}: query_value must be a constant vector such as embed('text') or ARRAY[0.1, 0.2], or a scalar subquery (SELECT v FROM t WHERE id = 1); got {e}"
        )));
    }
    if has_placeholder(e)? {
        // bound at Bind (see `bind`); a bare `$1` is described as float4[]
        let e = match e {
            Expr::Placeholder(p) if p.field.is_none() => Expr::Placeholder(Placeholder {
                id: p.id.clone(),
                field: Some(Arc::new(Field::new(
                    "query_value",
                    DataType::new_list(DataType::Float32, true),
                    true,
                ))),
            }),
            other => other.clone(),
        };
        return Ok(QueryValue::Constant(e));
    }
    let t = e.get_type(&DFSchema::empty())?;
    if t == DataType::Null {
        return Err(sql_err(
            sqlstate::NULL_VALUE_NOT_ALLOWED,
            format!("{NAME}: query_value is NULL (or has a NULL element)"),
        ));
    }
    if !is_float_vector(&t) {
        return Err(sql_err(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "{NAME}: query_value must be a float4[] or float8[] vector (such as embed('text')), got {t}"
            ),
        ));
    }
    Ok(QueryValue::Constant(e.clone()))
}

fn has_placeholder(e: &Expr) -> Result<bool> {
    e.exists(|x| Ok(matches!(x, Expr::Placeholder(_))))
}

impl QueryValue {
    fn has_placeholder(&self) -> Result<bool> {
        match self {
            QueryValue::Constant(e) => has_placeholder(e),
            QueryValue::Subquery(p) => Ok(!p.get_parameter_types()?.is_empty()),
        }
    }
}

/// When `provider` is a `vector_search` whose `query_value` holds `$n`
/// parameters: a plan holding them, from which their types are read
/// (`$1` alone is `float4[]`, `$1::float8[]` its cast type).
pub fn parameter_plan(provider: &dyn TableProvider) -> Result<Option<LogicalPlan>> {
    let Some(t) = provider.downcast_ref::<VectorSearchTable>() else {
        return Ok(None);
    };
    if !t.query.has_placeholder()? {
        return Ok(None);
    }
    Ok(Some(match &t.query {
        QueryValue::Constant(e) => LogicalPlanBuilder::empty(true)
            .project(vec![e.clone().alias("query_value")])?
            .build()?,
        QueryValue::Subquery(p) => p.as_ref().clone(),
    }))
}

/// When `provider` is a `vector_search` whose `query_value` holds `$n`
/// parameters: the same search with their values, checked as a written
/// query_value is (42804 not a float vector, 22004 NULL).
pub fn bind(
    provider: &dyn TableProvider,
    params: &ParamValues,
) -> Result<Option<Arc<dyn TableProvider>>> {
    let Some(t) = provider.downcast_ref::<VectorSearchTable>() else {
        return Ok(None);
    };
    if !t.query.has_placeholder()? {
        return Ok(None);
    }
    let query = match &t.query {
        QueryValue::Constant(e) => {
            let bound = e
                .clone()
                .transform_up(|x| match x {
                    Expr::Placeholder(p) => {
                        let (v, m) = params.get_placeholders_with_values(&p.id)?.into_inner();
                        Ok(Transformed::yes(Expr::Literal(v, m)))
                    }
                    other => Ok(Transformed::no(other)),
                })?
                .data;
            query_value_arg(&bound)?
        }
        QueryValue::Subquery(p) => {
            let bound = p.as_ref().clone().replace_params_with_values(params)?;
            let t = bound.schema().field(0).data_type().clone();
            if !is_float_vector(&t) && t != DataType::Null {
                return Err(sql_err(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "{NAME}: query_value must be a float4[] or float8[] vector, the subquery returns {t}"
                    ),
                ));
            }
            QueryValue::Subquery(Arc::new(bound))
        }
    };
    Ok(Some(Arc::new(VectorSearchTable {
        schema: t.schema.clone(),
        plan: t.plan.clone(),
        column: t.column,
        query,
        k: t.k,
        kind: t.kind,
    })))
}

impl TableFunctionImpl for VectorSearch {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let base = text_arg(
            exprs.first(),
            "base_table",
            "'review_vectors' or 'SELECT id, embedding FROM review_vectors'",
        )?;
        let column = text_arg(exprs.get(1), "column_to_search", "'embedding'")?;
        let query = query_value_arg(
            exprs
                .get(2)
                .ok_or_else(|| invalid(format!("{NAME}: query_value is missing")))?,
        )?;
        let k = top_k_arg(exprs.get(3))?;
        let kind = distance_type_arg(exprs.get(4))?;
        let state = session_state(args.session())?;
        let plan = plan_query(state, &base_query(&base), NAME)?;
        let base_schema: Schema = plan.schema().as_arrow().clone();
        let Some((index, field)) = base_schema
            .fields()
            .iter()
            .enumerate()
            .find(|(_, f)| f.name() == &column)
        else {
            let vectors: Vec<&str> = base_schema
                .fields()
                .iter()
                .filter(|f| is_float_vector(f.data_type()))
                .map(|f| f.name().as_str())
                .collect();
            return Err(sql_err(
                sqlstate::UNDEFINED_COLUMN,
                format!(
                    "{NAME}: '{base}' has no column \"{column}\" (its vector columns: {})",
                    if vectors.is_empty() {
                        "none".to_string()
                    } else {
                        vectors.join(", ")
                    }
                ),
            ));
        };
        if !is_float_vector(field.data_type()) {
            return Err(sql_err(
                sqlstate::DATATYPE_MISMATCH,
                format!(
                    "{NAME}: column \"{column}\" is {}, not a float4[] or float8[] vector",
                    field.data_type()
                ),
            ));
        }
        if base_schema.fields().iter().any(|f| f.name() == "distance") {
            return Err(sql_err(
                "42701",
                format!(
                    "{NAME}: '{base}' already has a column \"distance\"; rename it in a query, e.g. 'SELECT *, distance AS old_distance …' without the original"
                ),
            ));
        }
        let mut fields: Vec<Field> = base_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("distance", DataType::Float64, false));
        Ok(Arc::new(VectorSearchTable {
            schema: Arc::new(Schema::new(fields)),
            plan,
            column: index,
            query,
            k,
            kind,
        }))
    }
}

/// The provider `vector_search` returns; the search runs in `scan`'s stream.
struct VectorSearchTable {
    schema: SchemaRef,
    plan: LogicalPlan,
    column: usize,
    query: QueryValue,
    k: usize,
    kind: DistanceType,
}

impl fmt::Debug for VectorSearchTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VectorSearchTable")
            .field("k", &self.k)
            .field("kind", &self.kind)
            .finish()
    }
}

/// The query vector, planned.
enum PlannedQuery {
    Constant(Arc<dyn PhysicalExpr>),
    Subquery(Arc<dyn ExecutionPlan>),
}

#[async_trait]
impl TableProvider for VectorSearchTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::Temporary
    }
    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if self.query.has_placeholder()? {
            return Err(sql_err(
                "42P02",
                format!(
                    "{NAME}: query_value has a parameter ($1) with no value; bind it (a prepared statement) or write the vector into the statement"
                ),
            ));
        }
        let state = session_state(session)?;
        let input = state.create_physical_plan(&self.plan).await?;
        let query = match &self.query {
            QueryValue::Constant(e) => {
                PlannedQuery::Constant(state.create_physical_expr(e.clone(), &DFSchema::empty())?)
            }
            QueryValue::Subquery(p) => PlannedQuery::Subquery(state.create_physical_plan(p).await?),
        };
        let part = Arc::new(SearchPartition {
            schema: self.schema.clone(),
            search: Arc::new(Search {
                input,
                query,
                column: self.column,
                k: self.k,
                kind: self.kind,
            }),
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            self.schema.clone(),
            vec![part],
            projection,
            vec![],
            false,
            None,
        )?))
    }
}

struct Search {
    input: Arc<dyn ExecutionPlan>,
    query: PlannedQuery,
    column: usize,
    k: usize,
    kind: DistanceType,
}

struct SearchPartition {
    schema: SchemaRef,
    search: Arc<Search>,
}

impl fmt::Debug for SearchPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VectorSearch: top_k={}, distance_type={}",
            self.search.k,
            self.search.kind.name()
        )
    }
}

impl PartitionStream for SearchPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let search = self.search.clone();
        let schema = self.schema.clone();
        let fut = async move { search.run(schema, ctx).await };
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::once(fut),
        ))
    }
}

/// A vector as f64s; errors for NULL.
fn query_vector(array: &ArrayRef) -> Result<Vec<f64>> {
    let v = Vectors::new(array.clone());
    match (array.len(), v.row(0)) {
        (0, _) | (_, None) => Err(sql_err(
            sqlstate::NULL_VALUE_NOT_ALLOWED,
            format!("{NAME}: query_value is NULL (or has a NULL element)"),
        )),
        (_, Some(r)) => Ok((0..r.len()).map(|i| r.get(i)).collect()),
    }
}

fn dimension_error(stored: usize, query: usize) -> DataFusionError {
    sql_err(
        sqlstate::DATA_EXCEPTION,
        format!("{NAME}: different vector dimensions {stored} (stored) and {query} (query_value)"),
    )
}

impl Search {
    async fn query(&self, ctx: Arc<TaskContext>) -> Result<Vec<f64>> {
        let array = match &self.query {
            PlannedQuery::Constant(e) => {
                let e = e.clone();
                // embed() runs a transformer: off the async runtime
                tokio::task::spawn_blocking(move || {
                    let one = RecordBatch::try_new_with_options(
                        Arc::new(Schema::empty()),
                        vec![],
                        &RecordBatchOptions::new().with_row_count(Some(1)),
                    )?;
                    e.evaluate(&one)?.into_array(1)
                })
                .await
                .map_err(|e| DataFusionError::Execution(format!("{NAME}: {e}")))??
            }
            PlannedQuery::Subquery(p) => {
                let batches = collect(p.clone(), ctx).await?;
                let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
                if rows > 1 {
                    return Err(sql_err(
                        "21000",
                        format!(
                            "{NAME}: more than one row returned by the query_value subquery ({rows})"
                        ),
                    ));
                }
                match batches.iter().find(|b| b.num_rows() == 1) {
                    Some(b) => b.column(0).clone(),
                    None => {
                        return Err(sql_err(
                            sqlstate::NULL_VALUE_NOT_ALLOWED,
                            format!("{NAME}: the query_value subquery returned no row"),
                        ));
                    }
                }
            }
        };
        let q = query_vector(&array)?;
        if let Some((i, v)) = q.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(sql_err(
                sqlstate::DATA_EXCEPTION,
                format!(
                    "{NAME}: query_value element {} is {}; a query vector must have finite elements",
                    i + 1,
                    if v.is_nan() {
                        "NaN"
                    } else if *v > 0.0 {
                        "Infinity"
                    } else {
                        "-Infinity"
                    }
                ),
            ));
        }
        if self.kind == DistanceType::Cosine && q.iter().all(|v| *v == 0.0) {
            return Err(sql_err(
                sqlstate::DATA_EXCEPTION,
                format!(
                    "{NAME}: the query vector is all zeros, so its COSINE distance is undefined"
                ),
            ));
        }
        Ok(q)
    }

    async fn run(self: Arc<Self>, schema: SchemaRef, ctx: Arc<TaskContext>) -> Result<RecordBatch> {
        let q = Arc::new(self.query(ctx.clone()).await?);
        let parts = self.input.output_partitioning().partition_count();
        let mut tasks = tokio::task::JoinSet::new();
        for p in 0..parts {
            let mut stream = self.input.execute(p, ctx.clone())?;
            let q = q.clone();
            let (column, k, kind) = (self.column, self.k, self.kind);
            tasks.spawn(async move {
                let mut best = Best::new(k);
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    let d = batch_distances(batch.column(column), &q, kind)?;
                    best.push(batch, &d.0, &d.1)?;
                }
                best.finish()
            });
        }
        let mut all = Best::new(self.k);
        while let Some(r) = tasks.join_next().await {
            let (batch, d) =
                r.map_err(|e| DataFusionError::Execution(format!("{NAME}: {e}")))??;
            if let Some(batch) = batch {
                all.push(batch, &d, &[])?;
            }
        }
        let (batch, d) = all.finish()?;
        let Some(batch) = batch else {
            return Ok(RecordBatch::new_empty(schema));
        };
        let mut columns = batch.columns().to_vec();
        columns.push(Arc::new(Float64Array::from(d)));
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}

/// Each row's distance to `q` (NaN for a NULL vector), and the rows to skip.
fn batch_distances(
    array: &ArrayRef,
    q: &[f64],
    kind: DistanceType,
) -> Result<(Vec<f64>, Vec<u32>)> {
    let n = array.len();
    let mut out = Vec::with_capacity(n);
    let mut skip = Vec::new();
    if let DataType::FixedSizeList(_, dim) = array.data_type() {
        let dim = *dim as usize;
        let list = array.as_fixed_size_list();
        let values = list.values();
        if array.null_count() == n {
            return Ok((vec![f64::NAN; n], (0..n as u32).collect()));
        }
        if dim != q.len() {
            return Err(dimension_error(dim, q.len()));
        }
        if dim > 0 && values.null_count() == 0 && values.len() == n * dim {
            match values.data_type() {
                DataType::Float32 => distances(
                    values.as_primitive::<Float32Type>().values(),
                    dim,
                    q,
                    kind,
                    &mut out,
                ),
                DataType::Float64 => distances(
                    values.as_primitive::<Float64Type>().values(),
                    dim,
                    q,
                    kind,
                    &mut out,
                ),
                _ => {}
            }
            if out.len() == n {
                skip.extend((0..n as u32).filter(|&i| array.is_null(i as usize)));
                return Ok((out, skip));
            }
            out.clear();
        }
    }
    // lists of any length, and NULL elements: row by row
    let vectors = Vectors::new(array.clone());
    let q_norm = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    for i in 0..n {
        match vectors.row(i) {
            Some(r) if r.len() != q.len() => return Err(dimension_error(r.len(), q.len())),
            Some(Row::F32(x)) => out.push(augur_ml::distance::distance(x, q, q_norm, kind)),
            Some(Row::F64(x)) => out.push(augur_ml::distance::distance(x, q, q_norm, kind)),
            None => {
                out.push(f64::NAN);
                skip.push(i as u32);
            }
        }
    }
    Ok((out, skip))
}

/// The best `k` rows seen so far: candidate batches with their distances,
/// compacted to `k` rows whenever they hold more than `2k`.
struct Best {
    k: usize,
    batches: Vec<RecordBatch>,
    distances: Vec<Vec<f64>>,
    rows: usize,
    /// a row must be nearer than this to enter (the k-th best after compaction)
    bound: Option<f64>,
}

impl Best {
    fn new(k: usize) -> Self {
        Self {
            k,
            batches: Vec::new(),
            distances: Vec::new(),
            rows: 0,
            bound: None,
        }
    }

    /// Adds the rows of `batch` (distances `d`; `skip` sorted) that can still make the top k.
    fn push(&mut self, batch: RecordBatch, d: &[f64], skip: &[u32]) -> Result<()> {
        let idx = smallest(d, self.k, self.bound, |i| {
            skip.binary_search(&(i as u32)).is_err()
        });
        if idx.is_empty() {
            return Ok(());
        }
        let kept = if idx.len() == batch.num_rows() {
            batch
        } else {
            take_record_batch(
                &batch,
                &datafusion::arrow::array::UInt32Array::from(idx.clone()),
            )?
        };
        self.distances
            .push(idx.iter().map(|&i| d[i as usize]).collect());
        self.rows += kept.num_rows();
        self.batches.push(kept);
        if self.rows > 2 * self.k.max(512) {
            self.compact(false)?;
        }
        Ok(())
    }

    /// Keeps the best `k` rows in one batch (sorted by distance when `sort`).
    fn compact(&mut self, sort: bool) -> Result<()> {
        let mut all: Vec<(f64, usize, usize)> = Vec::with_capacity(self.rows);
        for (b, d) in self.distances.iter().enumerate() {
            all.extend(d.iter().enumerate().map(|(r, &v)| (v, b, r)));
        }
        let by = |a: &(f64, usize, usize), b: &(f64, usize, usize)| a.0.total_cmp(&b.0);
        if all.len() > self.k {
            all.select_nth_unstable_by(self.k, by);
            all.truncate(self.k);
        }
        if sort {
            all.sort_by(by);
        }
        if all.len() == self.k {
            self.bound = Some(all.iter().map(|a| a.0).fold(f64::NEG_INFINITY, f64::max));
        }
        let refs: Vec<&RecordBatch> = self.batches.iter().collect();
        let indices: Vec<(usize, usize)> = all.iter().map(|a| (a.1, a.2)).collect();
        let batch = interleave_record_batch(&refs, &indices)?;
        self.rows = batch.num_rows();
        self.batches = vec![batch];
        self.distances = vec![all.iter().map(|a| a.0).collect()];
        Ok(())
    }

    /// The best rows, sorted by distance, with their distances.
    fn finish(mut self) -> Result<(Option<RecordBatch>, Vec<f64>)> {
        if self.batches.is_empty() {
            return Ok((None, Vec::new()));
        }
        self.compact(true)?;
        Ok((self.batches.pop(), self.distances.pop().unwrap_or_default()))
    }
}
