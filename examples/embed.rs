//! Embedding Augur in a Rust program: open an engine on a directory, train a
//! churn model in SQL, score customers and read the results as Arrow batches.
//!
//! Run with `cargo run --example embed` (uses a temporary directory).

use augur::Engine;
use datafusion::arrow::util::pretty::pretty_format_batches;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("augur-embed-{}", std::process::id()));
    let engine = Engine::builder()
        .data_dir(dir.join("data"))
        .model_dir(dir.join("models"))
        .demo(true)
        .build()
        .await?;

    let summary = engine
        .query(
            "CREATE MODEL churn OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churn']) \
             AS SELECT * EXCLUDE (customer_id) FROM telco_customers",
        )
        .await?;
    println!("{}", pretty_format_batches(&summary)?);

    let riskiest = engine
        .query(
            "SELECT customer_id, contract, round(probability, 3) AS churn_probability \
             FROM ml_predict('churn', 'SELECT * FROM telco_customers WHERE churn = ''No''') \
             ORDER BY probability DESC LIMIT 5",
        )
        .await?;
    println!("{}", pretty_format_batches(&riskiest)?);

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
