"""Real Python clients against a running Augur server: psycopg 3, psycopg2,
SQLAlchemy's Inspector (what Superset calls), pandas.read_sql and asyncpg.

Each connects, browses the schema (tables incl. `models`, columns with their
types), runs a plain query, a prepared query with parameters and an ML query
(`predict_proba` of the `churn` model the harness trained), and checks rows.
Usage: python python_clients.py PORT
Reference values: the telco demo table has 7043 customers, 1869 churned
(../shared/data/SOURCES.md); predict_proba must agree with ml_predict.
"""
import asyncio
import math
import sys

PORT = int(sys.argv[1])
DSN = f"host=127.0.0.1 port={PORT} dbname=augur user=augur"
URL = f"127.0.0.1:{PORT}/augur"

FEATURES = ("female, senior_citizen, partner, dependents, tenure, phone_service, "
            "multiple_lines, internet_service, online_security, online_backup, "
            "device_protection, tech_support, streaming_tv, streaming_movies, contract, "
            "paperless_billing, payment_method, monthly_charges, total_charges")
PLAIN = "SELECT count(*) AS n, sum(CASE WHEN churn = 'Yes' THEN 1 ELSE 0 END) AS churned FROM telco_customers"
ML = (f"SELECT customer_id, predict_proba('churn', {FEATURES}) AS p "
      "FROM telco_customers WHERE customer_id <= 3 ORDER BY customer_id")
REF = "SELECT customer_id, probability FROM ml_predict('churn', 'SELECT * FROM telco_customers WHERE customer_id <= 3') ORDER BY customer_id"
TABLES = {"cdnow_orders", "models", "telco_customers"}
failures = []


def embed_reference():
    """(text, vector) of sentence-transformers' first reference embedding
    (tests/reference/embed_reference.json), when the server has the model
    (AUGUR_TEST_EMBED=1, set by .ci/clients after scripts/fetch-embed-model)."""
    import json
    import os
    if os.environ.get("AUGUR_TEST_EMBED") != "1":
        return None
    path = os.path.join(os.path.dirname(__file__), "..", "reference", "embed_reference.json")
    with open(path) as f:
        ref = json.load(f)
    return ref["texts"][0], ref["vectors"][0]


EMBED_REFERENCE = embed_reference()


def check(client, what, cond, detail=""):
    if not cond:
        failures.append(f"{client}: {what} {detail}")
        print(f"FAIL {client}: {what} {detail}")
    else:
        print(f"ok   {client}: {what}")


def check_ml(client, rows, ref):
    check(client, "ML rows", [r[0] for r in rows] == [1, 2, 3], rows)
    check(client, "ML probabilities match ml_predict",
          all(math.isclose(float(a[1]), float(b[1]), rel_tol=1e-9) for a, b in zip(rows, ref))
          and all(0.0 < float(r[1]) < 1.0 for r in rows), f"{rows} vs {ref}")


def dbapi(client, conn, placeholder):
    cur = conn.cursor()
    # browse: tables and columns through information_schema and pg_catalog
    cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    names = {r[0] for r in cur.fetchall()}
    check(client, "information_schema lists the demo tables and models", TABLES <= names, names)
    cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'telco_customers' ORDER BY ordinal_position")
    cols = cur.fetchall()
    check(client, "columns with types", cols[:2] == [("customer_id", "bigint"), ("churn", "text")]
          and ("monthly_charges", "double precision") in cols and len(cols) == 21, cols[:3])
    cur.execute("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
                "JOIN pg_catalog.pg_class c ON a.attrelid = c.oid WHERE c.relname = 'models' AND a.attnum > 0 ORDER BY a.attnum")
    mcols = cur.fetchall()
    check(client, "models columns", mcols[:2] == [("name", "text"), ("version", "bigint")], mcols[:3])
    cur.execute(PLAIN)
    check(client, "plain query", [tuple(r) for r in cur.fetchall()] == [(7043, 1869)])
    cur.execute(f"SELECT customer_id, churn, tenure FROM telco_customers WHERE customer_id = {placeholder} AND churn = {placeholder}",
                (2, "No"))
    rows = [tuple(r) for r in cur.fetchall()]
    check(client, "prepared query with parameters", len(rows) == 1 and rows[0][:2] == (2, "No"), rows)
    cur.execute(REF)
    ref = cur.fetchall()
    cur.execute(ML.replace("<= 3", f"<= {placeholder}"), (3,))
    check_ml(client, cur.fetchall(), ref)
    cur.execute("SELECT 1, 2.5::float8, NULL::text, 'x' || 'y'")
    check(client, "literals", tuple(cur.fetchone()) == (1, 2.5, None, "xy"))
    check(client, "column names", [d[0] for d in cur.description] == ["?column?", "float8", "text", "?column?"],
          [d[0] for d in cur.description])


def run_psycopg3():
    import psycopg
    with psycopg.connect(DSN, autocommit=True) as conn:
        dbapi("psycopg3", conn, "%s")
        # server-side prepared statement, binary results
        with conn.cursor(binary=True) as cur:
            for _ in range(6):
                cur.execute("SELECT customer_id, monthly_charges, churn FROM telco_customers WHERE customer_id = %s",
                            (5,), prepare=True)
                row = cur.fetchone()
            check("psycopg3", "binary prepared", row is not None and row[0] == 5 and isinstance(row[1], float), row)
    with psycopg.connect(DSN) as conn:  # not autocommit: BEGIN ... COMMIT
        cur = conn.cursor()
        cur.execute("SELECT %s::text, coalesce(%s, 'd')", (None, None))
        check("psycopg3", "untyped NULL parameters", tuple(cur.fetchone()) == (None, "d"))
        conn.commit()


def run_psycopg2():
    import psycopg2
    conn = psycopg2.connect(DSN)
    try:
        dbapi("psycopg2", conn, "%s")
        conn.rollback()
    finally:
        conn.close()


def run_sqlalchemy():
    import pandas as pd
    import sqlalchemy as sa
    for driver in ("psycopg2", "psycopg"):
        client = f"sqlalchemy+{driver}"
        engine = sa.create_engine(f"postgresql+{driver}://augur@{URL}")
        insp = sa.inspect(engine)
        check(client, "schemas", "public" in insp.get_schema_names(), insp.get_schema_names())
        tables = set(insp.get_table_names())
        check(client, "get_table_names", TABLES <= tables, tables)
        cols = {c["name"]: c["type"] for c in insp.get_columns("telco_customers")}
        check(client, "get_columns types",
              isinstance(cols.get("customer_id"), sa.BigInteger) and isinstance(cols.get("churn"), sa.Text)
              and isinstance(cols.get("monthly_charges"), sa.Float), cols)
        mcols = {c["name"]: c["type"] for c in insp.get_columns("models")}
        check(client, "models columns", isinstance(mcols.get("name"), sa.Text)
              and isinstance(mcols.get("created_at"), sa.DateTime), mcols)
        # Superset adds a dataset with these: Augur has no keys, indexes or
        # constraints, so the answers are PostgreSQL's for a table without any
        pk = insp.get_pk_constraint("telco_customers")
        check(client, "get_pk_constraint (none)", pk["constrained_columns"] == [] and pk.get("name") is None, pk)
        check(client, "get_indexes (none)", insp.get_indexes("telco_customers") == [])
        check(client, "get_foreign_keys (none)", insp.get_foreign_keys("telco_customers") == [])
        check(client, "get_unique_constraints (none)", insp.get_unique_constraints("telco_customers") == [])
        check(client, "get_check_constraints (none)", insp.get_check_constraints("telco_customers") == [])
        comment = insp.get_table_comment("telco_customers")
        check(client, "get_table_comment (none)", comment == {"text": None}, comment)
        views = insp.get_view_names()
        check(client, "get_view_names", isinstance(views, list) and not TABLES & set(views), views)
        with engine.connect() as conn:
            df = pd.read_sql(sa.text(PLAIN), conn)
            check(client, "pandas.read_sql plain", df.to_dict("records") == [{"n": 7043, "churned": 1869}], df)
            df = pd.read_sql(sa.text("SELECT customer_id, tenure FROM telco_customers WHERE customer_id = :id"),
                             conn, params={"id": 4})
            check(client, "pandas.read_sql with parameters", list(df["customer_id"]) == [4], df)
            ref = conn.execute(sa.text(REF)).fetchall()
            df = pd.read_sql(sa.text(ML.replace("<= 3", "<= :n")), conn, params={"n": 3})
            check_ml(client, list(df.itertuples(index=False)), ref)
        engine.dispose()


async def asyncpg_main():
    import asyncpg
    conn = await asyncpg.connect(host="127.0.0.1", port=PORT, database="augur", user="augur")
    try:
        rows = await conn.fetch("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        check("asyncpg", "tables", TABLES <= {r[0] for r in rows}, rows)
        cols = await conn.fetch("SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_name = $1 ORDER BY ordinal_position", "telco_customers")
        check("asyncpg", "columns", (cols[0]["column_name"], cols[0]["data_type"]) == ("customer_id", "bigint"), cols[:2])
        r = await conn.fetchrow(PLAIN)
        check("asyncpg", "plain query", tuple(r) == (7043, 1869), r)
        r = await conn.fetch("SELECT customer_id, churn FROM telco_customers WHERE customer_id = $1 AND churn = $2", 2, "No")
        check("asyncpg", "prepared query (binary)", [tuple(x) for x in r] == [(2, "No")], r)
        stmt = await conn.prepare(ML.replace("<= 3", "<= $1"))
        ref = await conn.fetch(REF)
        check_ml("asyncpg", await stmt.fetch(3), [tuple(x) for x in ref])
        # every feature a parameter: asyncpg encodes each Python value by the type
        # Augur describes (the model's training column: bigint, float8, text)
        feats = tuple(await conn.fetchrow(f"SELECT {FEATURES} FROM telco_customers WHERE customer_id = 1"))
        params = ", ".join(f"${i}" for i in range(1, len(feats) + 1))
        stmt = await conn.prepare(f"SELECT predict_proba('churn', {params})")
        kinds = {type(v) for v in feats}
        check("asyncpg", "feature parameters typed as the model's columns",
              [t.name for t in stmt.get_parameters()][:7] == ["int8"] * 6 + ["text"]
              and kinds == {int, float, str}, (stmt.get_parameters(), kinds))
        p = await stmt.fetchval(*feats)
        p1 = await conn.fetchval("SELECT probability FROM ml_predict('churn', "
                                 "'SELECT * FROM telco_customers WHERE customer_id = 1')")
        check("asyncpg", "predict_proba of parameters equals ml_predict",
              p is not None and math.isclose(p, p1, rel_tol=1e-12), (p, p1))
        r = await conn.fetchrow("SELECT 1::int4 AS a, 2.5::float8 AS b, true AS c, 'x'::text AS d, DATE '2024-02-29' AS e")
        check("asyncpg", "binary types", tuple(r)[:4] == (1, 2.5, True, "x") and str(r["e"]) == "2024-02-29", r)
        # arrays asyncpg has no built-in codec for: it introspects their types first
        r = await conn.fetchrow("SELECT ARRAY[1.5, -2.25]::real[] AS v, ARRAY[1, 3000000000]::bigint[] AS w")
        check("asyncpg", "real[] and bigint[]", (r["v"], r["w"]) == ([1.5, -2.25], [1, 3000000000]), r)
        r = await conn.fetch("SELECT typname FROM pg_type WHERE oid = any($1::oid[]) ORDER BY 1", [20, 700])
        check("asyncpg", "oid[] parameter", [x[0] for x in r] == ["float4", "int8"], r)
        if EMBED_REFERENCE is not None:
            text, want = EMBED_REFERENCE
            got = (await conn.fetchrow("SELECT embed($1) AS e", text))["e"]
            cos = sum(a * b for a, b in zip(got, want)) / math.sqrt(sum(a * a for a in got) * sum(b * b for b in want))
            check("asyncpg", "embed() as real[] matches sentence-transformers",
                  len(got) == 384 and cos > 0.9999, f"len {len(got)}, cosine {cos}")
    finally:
        await conn.close()


def main():
    only = sys.argv[2:] or ["psycopg3", "psycopg2", "sqlalchemy", "asyncpg"]
    runs = {"psycopg3": run_psycopg3, "psycopg2": run_psycopg2, "sqlalchemy": run_sqlalchemy,
            "asyncpg": lambda: asyncio.run(asyncpg_main())}
    for name in only:
        try:
            runs[name]()
        except Exception as e:  # a client error is a failure of that client
            failures.append(f"{name}: {type(e).__name__}: {e}")
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print("python clients ok")


main()
