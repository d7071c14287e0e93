"""Streams the 1,000,000-row benchmark table to psycopg 3 (text and binary
results) from Augur and from PostgreSQL, and times a prepared single-row
predict_proba on Augur against PostgreSQL's prepared SELECT 1.
Prints each figure, PostgreSQL's and the ratio (Augur / PostgreSQL throughput).
Usage: python wire_stream.py AUGUR_PORT PG_PORT [ROWS]
Not a test: run by bench/wire_vs_postgres.sh.
"""
import statistics
import sys
import time

import psycopg

AUGUR, PG = int(sys.argv[1]), int(sys.argv[2])
ROWS = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
QUERY = f"SELECT * FROM bench_rows LIMIT {ROWS}"
FEATURES = ("female, senior_citizen, partner, dependents, tenure, phone_service, multiple_lines, "
            "internet_service, online_security, online_backup, device_protection, tech_support, "
            "streaming_tv, streaming_movies, contract, paperless_billing, payment_method, "
            "monthly_charges, total_charges")


def connect(port, user):
    return psycopg.connect(f"host=127.0.0.1 port={port} dbname={user} user={user}", autocommit=True)


def stream(port, user, binary):
    with connect(port, user) as conn:
        best = 0.0
        for _ in range(2):  # best of two
            t0 = time.perf_counter()
            n = 0
            # server-side cursor: rows arrive in one streamed result (Execute without row limit)
            with conn.cursor(binary=binary) as cur:
                cur.execute(QUERY)
                while True:
                    batch = cur.fetchmany(10_000)
                    if not batch:
                        break
                    n += len(batch)
            dt = time.perf_counter() - t0
            assert n == ROWS, n
            best = max(best, n / dt)
        return best


def latency(port, user, sql, params):
    with connect(port, user) as conn:
        cur = conn.cursor()
        for _ in range(20):
            cur.execute(sql, params, prepare=True)
            cur.fetchall()
        times = []
        for _ in range(1000):
            t0 = time.perf_counter()
            cur.execute(sql, params, prepare=True)
            cur.fetchall()
            times.append(time.perf_counter() - t0)
        q = statistics.quantiles(times, n=100)
        return q[49] * 1e3, q[98] * 1e3


for binary in (False, True):
    a = stream(AUGUR, "augur", binary)
    p = stream(PG, "postgres", binary)
    fmt = "binary" if binary else "text"
    print(f"psycopg {fmt}: Augur {a:,.0f} rows/s, PostgreSQL {p:,.0f} rows/s, ratio {a / p:.2f}")

ap50, ap99 = latency(AUGUR, "augur",
                     f"SELECT predict_proba('churn', {FEATURES}) FROM telco_customers WHERE customer_id = %s", (1,))
pp50, pp99 = latency(PG, "postgres", "SELECT 1 WHERE %s::int IS NOT NULL", (1,))
print(f"prepared predict_proba (Augur) p50 {ap50:.3f} ms p99 {ap99:.3f} ms; "
      f"prepared SELECT 1 (PostgreSQL) p50 {pp50:.3f} ms p99 {pp99:.3f} ms")
