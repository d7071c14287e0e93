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
