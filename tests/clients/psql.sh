#!/usr/bin/env bash
# psql against a running Augur server: the browse meta-commands (\l \dt \d \df \dn),
# a plain query, a prepared query (PREPARE/EXECUTE) and an ML query; output checked.
# Usage: tests/clients/psql.sh PORT
set -uo pipefail
port=$1
fail=0
run() { psql -X -q -A -F '|' -h 127.0.0.1 -p "$port" -U augur -d augur -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
expect() { # name, command, fixed string expected in the output
  local out
  out=$(run "$2")
  if grep -qF -- "$3" <<<"$out"; then echo "ok   psql: $1"; else echo "FAIL psql: $1: expected '$3' in:"; echo "$out" | head -20; fail=1; fi
}
expect '\l lists augur' '\l' 'augur|'
expect '\dt lists telco_customers' '\dt' 'public|telco_customers|table|'
expect '\dt lists models' '\dt' 'public|models|table|'
expect '\d shows column types' '\d telco_customers' 'monthly_charges|double precision|'
expect '\d shows the first column' '\d telco_customers' 'customer_id|bigint|'
expect '\df lists predict_proba' '\df predict_proba' '|predict_proba|'
expect '\dn lists public' '\dn' 'public|'
expect 'plain query' "SELECT count(*) AS n, sum(CASE WHEN churn = 'Yes' THEN 1 ELSE 0 END) AS churned FROM telco_customers" '7043|1869'
expect 'prepared query' "PREPARE one(bigint) AS SELECT customer_id, churn FROM telco_customers WHERE customer_id = \$1; EXECUTE one(2)" '2|No'
expect 'ML query' "SELECT round(predict_proba('churn', female, senior_citizen, partner, dependents, tenure, phone_service, multiple_lines, internet_service, online_security, online_backup, device_protection, tech_support, streaming_tv, streaming_movies, contract, paperless_billing, payment_method, monthly_charges, total_charges) - probability, 12) AS diff, count(*) FROM ml_predict('churn', 'SELECT * FROM telco_customers') GROUP BY 1" '0|7043'
expect 'SELECT 1 column name' 'SELECT 1' '?column?'
[ "$fail" = 0 ] && echo "psql ok"
exit "$fail"
