-- Augur customer insight: profile and clean the data, compare churn models,
-- explain and tune the winner, deploy it, segment the customers and train a
-- churn model per segment. All in SQL, on the demo telco churn table.
--
-- Start the server (cargo run --release), then:
--     psql -h 127.0.0.1 -p 5433 -d augur -f sql/customer_insight.sql
-- It can be run again: models get new versions, tables are replaced.

-- ---------------------------------------------------------------------------
-- 1. Profile and clean: one row per column, duplicates, missing values, outliers.
-- ---------------------------------------------------------------------------
SELECT column_name, data_type, null_count, distinct_count, min, max,
       round(mean, 2) AS mean, round(stddev, 2) AS stddev
FROM ml_profile('SELECT tenure, monthly_charges, total_charges, contract, churn FROM telco_customers');

-- Unusual bills (z-score > 2) and each customer's tenure relative to their contract type.
SELECT customer_id, contract, imputer(total_charges, 'median') OVER () AS total_charges_filled,
       outlier_zscore(monthly_charges, 2) OVER () AS unusual_bill,
       round(standard_scaler(tenure) OVER (PARTITION BY contract), 2) AS tenure_z_in_contract,
       quantile_bucketize(monthly_charges, 4) OVER () AS charges_quartile
FROM telco_customers ORDER BY customer_id LIMIT 5;

-- Duplicate customers (same id twice): none.
SELECT count(*) AS duplicated_ids
FROM (SELECT customer_id FROM telco_customers GROUP BY customer_id HAVING count(*) > 1);

-- Missing values: total_charges is NULL for 11 brand-new customers (tenure 0).
SELECT count(*) FILTER (WHERE total_charges IS NULL) AS missing_total_charges,
       min(tenure) FILTER (WHERE total_charges IS NULL) AS their_min_tenure,
       max(tenure) FILTER (WHERE total_charges IS NULL) AS their_max_tenure
FROM telco_customers;

-- A clean copy: a customer who has not been billed yet has been charged nothing.
CREATE OR REPLACE TABLE customers AS
SELECT * REPLACE (coalesce(total_charges, 0.0) AS total_charges),
       customer_id % 5 = 0 AS is_eval          -- the same 20 % held out everywhere
FROM telco_customers;

-- ---------------------------------------------------------------------------
-- 2. Compare three churn models by 5-fold cross-validated ROC AUC on the training rows.
-- ---------------------------------------------------------------------------
SELECT 'logistic_reg' AS model_type, round(avg(value), 4) AS cv_roc_auc, round(stddev(value), 4) AS sd
FROM ml_cross_validate('SELECT * EXCLUDE (customer_id, is_eval) FROM customers WHERE NOT is_eval',
                       'model_type=logistic_reg, input_label_cols=churn', 5)
WHERE metric = 'roc_auc'
UNION ALL
SELECT 'naive_bayes', round(avg(value), 4), round(stddev(value), 4)
FROM ml_cross_validate('SELECT * EXCLUDE (customer_id, is_eval) FROM customers WHERE NOT is_eval',
                       'model_type=naive_bayes, input_label_cols=churn', 5)
WHERE metric = 'roc_auc'
UNION ALL
SELECT 'random_forest_classifier', round(avg(value), 4), round(stddev(value), 4)
FROM ml_cross_validate('SELECT * EXCLUDE (customer_id, is_eval) FROM customers WHERE NOT is_eval',
                       'model_type=random_forest_classifier, input_label_cols=churn, num_parallel_tree=30, max_tree_depth=8', 5)
WHERE metric = 'roc_auc'
ORDER BY cv_roc_auc DESC;

-- ---------------------------------------------------------------------------
-- 3. Tune the winner's L2 penalty (grid search, same folds for every trial);
--    the best trial is refitted, evaluated on the held-out 20 % and deployed.
-- ---------------------------------------------------------------------------
SELECT trial_id, hyperparameters, round(objective_value, 4) AS cv_roc_auc, is_optimal
FROM ml_tune('churn_model', 'SELECT * EXCLUDE (customer_id) FROM customers',
             'model_type=logistic_reg, input_label_cols=churn, data_split_method=custom, data_split_col=is_eval',
             'l2_reg = [0.1, 1, 10, 100]',
             'folds = 5')
ORDER BY trial_id;

-- The deployed version and its held-out metrics.
SELECT name, version, deployed, metrics FROM models WHERE name = 'churn_model' AND deployed;

-- ---------------------------------------------------------------------------
-- 4. Explain it: the strongest pushes towards churn, and why one customer scores high.
-- ---------------------------------------------------------------------------
SELECT feature, category, round(weight, 3) AS weight
FROM ml_weights('churn_model')
ORDER BY abs(weight) DESC
LIMIT 8;

SELECT feature, round(attribution, 3) AS attribution
FROM ml_explain_predict('churn_model', 'SELECT * FROM customers WHERE customer_id = 3160', 5)
ORDER BY rank;

-- ---------------------------------------------------------------------------
-- 5. Segment the customers by value and tenure (k-means, k = 3). The TRANSFORM
--    clause keeps the scaling in the model: each column is scaled to [0, 1] by the
--    training minimum and maximum, and ml_predict on raw rows replays it.
-- ---------------------------------------------------------------------------
CREATE MODEL value_segments
TRANSFORM (min_max_scaler(tenure) OVER (), min_max_scaler(monthly_charges) OVER (),
           min_max_scaler(total_charges) OVER ())
OPTIONS (model_type = 'kmeans', num_clusters = 3)
AS SELECT tenure, monthly_charges, total_charges FROM customers;

CREATE OR REPLACE TABLE segmented AS
SELECT * EXCLUDE (centroid_id), 'segment_' || CAST(centroid_id AS VARCHAR) AS segment
FROM ml_predict('value_segments', 'SELECT * FROM customers');

SELECT segment, count(*) AS customers, round(avg(tenure), 1) AS avg_tenure,
       round(avg(monthly_charges), 1) AS avg_monthly, round(avg(CASE WHEN churn = 'Yes' THEN 1.0 ELSE 0.0 END), 3) AS churn_rate
FROM segmented GROUP BY segment ORDER BY segment;

-- ---------------------------------------------------------------------------
-- 6. One churn model per segment, in one statement, under one name.
-- ---------------------------------------------------------------------------
CREATE MODEL churn_by_segment
OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churn'], grouping_cols = ['segment'],
         data_split_method = 'custom', data_split_col = 'is_eval')
AS SELECT * EXCLUDE (customer_id) FROM segmented;

-- Held-out ROC AUC per segment: each segment's rows are scored by its own model.
SELECT segment, count(*) AS held_out, round(roc_auc(churn = 'Yes', probability), 4) AS roc_auc
FROM ml_predict('churn_by_segment', 'SELECT * FROM segmented WHERE is_eval')
GROUP BY segment ORDER BY segment;

-- The per-segment model against the single deployed model on the same held-out rows.
-- (Here one model wins slightly: each segment has fewer rows to learn from. Segment
-- models pay off when segments behave differently; measure before you switch.)
SELECT 'per segment' AS model, round(value, 4) AS roc_auc FROM ml_evaluate('churn_by_segment') WHERE metric = 'roc_auc'
UNION ALL
SELECT 'one model', round(value, 4) FROM ml_evaluate('churn_model') WHERE metric = 'roc_auc';
