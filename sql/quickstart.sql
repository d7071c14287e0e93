-- Augur quickstart: churn prediction and customer segmentation in plain SQL.
--
-- Start the server from the repository root (on first start it creates
-- .augur/data with the demo tables telco_customers and cdnow_orders, and
-- .augur/models):
--     cargo run --release
-- then run this file:
--     psql -h 127.0.0.1 -p 5433 -d augur -f sql/quickstart.sql
--
-- The script can be run again and again: every CREATE MODEL trains a new
-- version of the model (see the models table at the end), and the feature
-- table is rebuilt with CREATE OR REPLACE TABLE.

-- ---------------------------------------------------------------------------
-- 1. The data: 7043 telecom customers, 26.5 % of whom churned.
-- ---------------------------------------------------------------------------
SELECT churn, count(*) AS customers, round(avg(monthly_charges), 2) AS avg_monthly_charges
FROM telco_customers
GROUP BY churn
ORDER BY churn;

-- ---------------------------------------------------------------------------
-- 2. Train a churn classifier (logistic regression).
--    Every column except the label is a feature: numbers are standardised,
--    text columns are one-hot encoded, missing numbers take the training mean.
--    customer_id is an identifier, not a feature, so it is excluded; instead it
--    decides the split: customers with customer_id % 5 = 0 (20 %) are held
--    out for evaluation, the other 80 % train the model.
-- ---------------------------------------------------------------------------
CREATE MODEL churn
OPTIONS (
  model_type        = 'logistic_reg',
  input_label_cols  = ['churn'],
  data_split_method = 'custom',
  data_split_col    = 'is_eval'      -- TRUE = evaluation row, not a feature
)
AS SELECT * EXCLUDE (customer_id), customer_id % 5 = 0 AS is_eval
   FROM telco_customers;

-- ---------------------------------------------------------------------------
-- 3. How good is it? Metrics on the 1408 held-out customers.
--    (roc_auc about 0.84, the same as scikit-learn on this split.)
-- ---------------------------------------------------------------------------
SELECT metric, round(value, 4) AS value
FROM ml_evaluate('churn')
ORDER BY metric;

-- ---------------------------------------------------------------------------
-- 4. Score every customer. ml_predict adds predicted_churn and probability
--    (of 'Yes') to the query's rows. The 10 customers most likely to leave
--    among those who have not left yet:
-- ---------------------------------------------------------------------------
SELECT customer_id, contract, tenure, monthly_charges,
       round(probability, 3) AS churn_probability
FROM ml_predict('churn', 'SELECT * FROM telco_customers')
WHERE churn = 'No'
ORDER BY probability DESC, customer_id
LIMIT 10;

-- The same score is available as a scalar function, with the features in
-- training order (listed in the models table), e.g. for one customer:
SELECT customer_id,
       round(predict_proba('churn', female, senior_citizen, partner, dependents, tenure,
                           phone_service, multiple_lines, internet_service, online_security,
                           online_backup, device_protection, tech_support, streaming_tv,
                           streaming_movies, contract, paperless_billing, payment_method,
                           monthly_charges, total_charges), 3) AS churn_probability
FROM telco_customers
WHERE customer_id = 1;

-- ---------------------------------------------------------------------------
-- 5. RFM features from the CDNOW order history (69 659 orders, 23 570 customers):
--    recency   = days between the customer's last order and the last order in the data,
--    frequency = number of orders,
--    monetary  = total spend.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TABLE customer_rfm AS
SELECT customer_id,
       CAST((SELECT max(order_date) FROM cdnow_orders) - max(order_date) AS BIGINT) AS recency,
       count(*)          AS frequency,
       sum(dollar_value) AS monetary
FROM cdnow_orders
GROUP BY customer_id
ORDER BY customer_id;

SELECT customer_id, recency, frequency, round(monetary, 2) AS monetary
FROM customer_rfm
ORDER BY customer_id
LIMIT 3;

-- ---------------------------------------------------------------------------
-- 6. Segment the customers with k-means (k = 4) on the three RFM features
--    (standardised automatically). k-means uses every row for training.
-- ---------------------------------------------------------------------------
CREATE MODEL customer_segments
OPTIONS (model_type = 'kmeans', num_clusters = 4)
AS SELECT recency, frequency, monetary FROM customer_rfm;

-- What the segments look like, biggest spenders first.
SELECT centroid_id                  AS segment,
       count(*)                     AS customers,
       round(avg(recency), 1)       AS avg_recency_days,
       round(avg(frequency), 1)     AS avg_orders,
       round(avg(monetary), 2)      AS avg_spend
FROM ml_predict('customer_segments', 'SELECT * FROM customer_rfm')
GROUP BY centroid_id
ORDER BY avg_spend DESC;

-- ---------------------------------------------------------------------------
-- 7. Every trained model version (metrics JSON cut to 4 decimals for display).
--    Re-running this script adds versions;
--    predict('churn@1', ...) or ml_evaluate('churn@1') use a specific one.
-- ---------------------------------------------------------------------------
SELECT name, version, algorithm, training_rows,
       regexp_replace(metrics, '(\.[0-9]{4})[0-9]+', '\1', 'g') AS metrics
FROM models
ORDER BY name, version;
