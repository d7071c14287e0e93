//! Augur's `pg_catalog` beyond what the replays check: relation sizes are
//! the tables' files, byte for byte.

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;

use crate::common::engine;

fn rows(batches: &[RecordBatch]) -> Vec<(String, i64, i64)> {
    let mut out = Vec::new();
    for b in batches {
        let names = datafusion::arrow::compute::cast(
            b.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        for i in 0..b.num_rows() {
            out.push((
                names.as_string::<i32>().value(i).to_string(),
                b.column(1).as_primitive::<Int64Type>().value(i),
                b.column(2).as_primitive::<Int64Type>().value(i),
            ));
        }
    }
    out
}

#[tokio::test]
async fn relation_sizes_are_the_table_files() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path()).await;
    let sql = "SELECT c.relname, pg_catalog.pg_relation_size(c.oid), pg_catalog.pg_total_relation_size(c.oid) \
               FROM pg_catalog.pg_class c WHERE c.relnamespace = 2200 ORDER BY 1";
    let file = |t: &str| {
        std::fs::metadata(dir.path().join("data").join(format!("{t}.parquet")))
            .unwrap()
            .len() as i64
    };
    let (orders, customers) = (file("cdnow_orders"), file("telco_customers"));
    assert!(orders > 0 && customers > 0);
    assert_eq!(
        rows(&e.query(sql).await.unwrap()),
        [
            ("cdnow_orders".to_string(), orders, orders),
            ("models".to_string(), 0, 0),
            ("telco_customers".to_string(), customers, customers),
        ]
    );
    // a new table has its new file's size; a dropped one is gone
    e.query("CREATE TABLE t AS SELECT 1 AS a").await.unwrap();
    let sizes = rows(&e.query(sql).await.unwrap());
    assert!(sizes.contains(&("t".to_string(), file("t"), file("t"))));
    e.query("DROP TABLE t").await.unwrap();
    assert_eq!(rows(&e.query(sql).await.unwrap()).len(), 3);
}

/// Catalog columns PostgreSQL types `name` are described as `name` (19),
/// through joins and aliases, in both result formats; an expression over
/// them is text, as in PostgreSQL (PostgreSQL 15.18's answer to the same
/// statement: name, name, name, text). (`relname::text` is still `name`
/// here: DataFusion drops a cast to the column's own Arrow type.)
#[tokio::test]
async fn catalog_name_columns_are_sent_as_name() {
    use tokio_postgres::types::Type;
    let dir = tempfile::tempdir().unwrap();
    let server = crate::common::Server::start(engine(dir.path()).await).await;
    let client = server.connect().await;
    let sql = "SELECT c.relname AS t, n.nspname, a.attname, c.relname || '' AS concat_text \
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid \
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
               WHERE c.relname = 'telco_customers' AND a.attnum = 1";
    let stmt = client.prepare(sql).await.unwrap();
    let types: Vec<&Type> = stmt.columns().iter().map(|c| c.type_()).collect();
    assert_eq!(types, [&Type::NAME, &Type::NAME, &Type::NAME, &Type::TEXT]);
    // binary results (tokio-postgres asks for them): the text's bytes
    let row = client.query_one(&stmt, &[]).await.unwrap();
    let got: (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        got,
        (
            "telco_customers".to_string(),
            "public".to_string(),
            "customer_id".to_string()
        )
    );
    // text results (simple protocol)
    let rows = client.simple_query(sql).await.unwrap();
    let first = rows
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(2).map(String::from)),
            _ => None,
        })
        .flatten();
    assert_eq!(first.as_deref(), Some("customer_id"));
    server.stop().await;
}
