#!/usr/bin/env bash
# Benchmark (not a test): Augur vs PostgreSQL 15 on the same machine, in one
# run, streaming a 1,000,000-row table of the demo schema (telco_customers
# repeated) to psycopg, text and binary, and prepared-statement latency.
# Also streams it to tokio-postgres (text over the simple protocol, binary over
# the extended one) with the small release-built client in bench/wire-client.
# Needs: the release binary (cargo build --release), PostgreSQL 15 server
# binaries (Debian postgresql-15), the client venv of .ci/clients.
# Usage: bench/wire_vs_postgres.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/augur-target}"
augur="${AUGUR_BIN:-$CARGO_TARGET_DIR/release/augur}"
pgbin=${PGBIN:-/usr/lib/postgresql/15/bin}
venv="$HOME/.cache/augur-clients-venv"
work=$(mktemp -d)
chmod 777 "$work"
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else bash -c "$*"; fi; }
cleanup() {
  kill "$apid" 2>/dev/null || true
  run_pg "$pgbin/pg_ctl -D $work/pg -m fast stop" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$augur" serve --listen 127.0.0.1:0 --data-dir "$work/data" --model-dir "$work/models" >"$work/augur.log" 2>&1 &
apid=$!
for _ in $(seq 1 600); do
  aport=$(sed -n 's/.*Augur listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/augur.log" | head -n1)
  [ -n "${aport:-}" ] && break
  sleep 0.1
done
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_pg "$pgbin/initdb -D $work/pg -U postgres --auth=trust" >/dev/null
run_pg "$pgbin/pg_ctl -D $work/pg -l $work/pg.log -o '-p $pport -k $work -c listen_addresses=127.0.0.1' -w start" >/dev/null

asql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$aport" -U augur -d augur "$@"; }
psql_pg() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pport" -U postgres -d postgres "$@"; }

reps=$(( (rows + 7042) / 7043 ))
asql -c "CREATE TABLE bench_rows AS SELECT t.* FROM telco_customers t, generate_series(1, $reps) g" >/dev/null
asql -c "CREATE MODEL churn OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churn']) AS SELECT * EXCLUDE (customer_id) FROM telco_customers" >/dev/null
# the same table in PostgreSQL, with the column types Augur reports
cols=$(asql -A -t -F ' ' -c "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'telco_customers' ORDER BY ordinal_position" | paste -sd, -)
asql -A -t -F ',' -c "SELECT * FROM telco_customers" >"$work/telco.csv"
psql_pg -c "CREATE TABLE telco_customers ($cols)"
psql_pg -c "\\copy telco_customers FROM '$work/telco.csv' WITH (FORMAT csv)"
psql_pg -c "CREATE TABLE bench_rows AS SELECT t.* FROM telco_customers t, generate_series(1, $reps) g"
echo "rows: $rows; Augur $("$augur" --version 2>/dev/null || echo binary "$augur"); $("$pgbin/postgres" --version)"
client_target="${WIRE_CLIENT_TARGET:-$HOME/.cache/augur-wire-client}"
CARGO_TARGET_DIR="$client_target" cargo build --release --quiet --manifest-path bench/wire-client/Cargo.toml
"$venv/bin/python" bench/wire_stream.py "$aport" "$pport" "$rows"
"$client_target/release/augur-wire-client-bench" "$aport" "$pport" "$rows"
