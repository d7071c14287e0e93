"""Writes tests/replays/postgres_semantics.txt: PostgreSQL 15's answers
(column names and type OIDs, first row, command tag, or SQLSTATE and
message) to the statements in STATEMENTS, in the replay format of
tests/it/replays.rs.

Run against a PostgreSQL 15 server: PGHOST=... PGPORT=... PGUSER=... python3
pg_semantics_replay.py > ../replays/postgres_semantics.txt (psycopg 3).
Statements in GAPS, where Augur's answer is known to differ, get a `# GAP`
comment and `?` for the differing column types.
"""

import psycopg
from psycopg.pq import ExecStatus, DiagnosticField

# (comment, statement); a comment line when the statement is None
STATEMENTS = [
    ("result columns of the same name", None),
    (None, "SELECT 1, 1"),
    (None, "SELECT NULL, NULL"),
    (None, "SELECT 1 AS x, 2 AS x"),
    (None, "SELECT a, a, t.a FROM (VALUES (1, 'x')) AS t(a, b)"),
    (None, "SELECT 1, 1 UNION ALL SELECT 2, 2 ORDER BY 1"),
    (None, "SELECT count(*), count(*) FROM (VALUES (1)) AS t(a)"),
    (None, "SELECT session_user, current_user, current_catalog"),
    ("integer literals are int4 (int8 when they do not fit), with int4 arithmetic", None),
    (None, "SELECT x FROM (SELECT 1 AS x) t"),
    (None, "VALUES (1)"),
    (None, "VALUES (1), (3000000000)"),
    (None, "SELECT CASE WHEN true THEN 1 ELSE 2 END"),
    (None, "SELECT 1500/1, 1 + 1, 7 / 2, -7 / 2, 7 % 3"),
    (None, "SELECT 3000000000, -2147483648, 2147483647 + 1::int8"),
    (None, "SELECT 1 UNION ALL SELECT 3000000000"),
    (None, "SELECT 1 UNION ALL SELECT 1.5::float8"),
    (None, "SELECT max(1), sum(1), min(x) FROM (VALUES (5)) AS t(x)"),
    (None, "SELECT ARRAY[1, 2]"),
    (None, "SELECT coalesce(NULL, 0), greatest(1, 2), x * 2 FROM (VALUES (21)) AS t(x)"),
    (None, "SELECT 2147483647 + 1"),
    (None, "SELECT 2147483647 * 2"),
    (None, "SELECT -2147483648 / -1"),
    (None, "SELECT 9223372036854775807 + 1"),
    (None, "SELECT x * 1000000 FROM (VALUES (5000)) AS t(x)"),
    (None, "SELECT 1 / 0"),
    (None, "CREATE TABLE sem_ctas AS SELECT 1 AS x, 3000000000 AS y"),
    (None, "SELECT x, y FROM sem_ctas"),
    (None, "DROP TABLE sem_ctas"),
    ("casts", None),
    (None, "SELECT 1.5::float, 1.5::float(25), 1.5::float(24), 1.5::double precision, 1.5::float8"),
    (None, "SELECT 1.5::int, 2.5::int4, '1.5'::numeric::int, (-2.5)::int, 2.5::bigint"),
    (None, "SELECT 2.5::float8::int, 3.5::float8::int, (-2.5)::float8::int, 0.5::float4::int"),
    (None, "SELECT x::int FROM (VALUES (2.5::float8), (-0.5::float8)) AS t(x)"),
    (None, "SELECT 42::date"),
    (None, "SELECT x::date FROM (VALUES (42)) AS t(x)"),
    (None, "SELECT 42::timestamp"),
    (None, "SELECT current_date::int"),
    (None, "SELECT 1::int8::bool"),
    (None, "SELECT 1::bool, true::int"),
    (None, "SELECT length(42)"),
    (None, "SELECT upper(x) FROM (VALUES (true)) AS t(x)"),
    (None, "SELECT length('abc'), length(42::text)"),
    ("division by zero, and the smallest integer negated or modulo -1", None),
    (None, "SELECT 1.0::float8 / 0"),
    (None, "SELECT 1::float8 / 0::float8"),
    (None, "SELECT 1.5::float4 / 0::float4"),
    (None, "SELECT x / y FROM (VALUES (1.0::float8, 0.0::float8)) AS t(x, y)"),
    (None, "SELECT 1 % 0"),
    (None, "SELECT 1::int8 % 0::int8"),
    (None, "SELECT 1::int2 / 0::int2"),
    (None, "SELECT 1::float8 / 4, -(-5), 7 % -3"),
    (None, "SELECT -(-2147483648)::int4"),
    (None, "SELECT -x FROM (VALUES (-2147483648)) AS t(x)"),
    (None, "SELECT -(-32768)::int2"),
    (None, "SELECT (-2147483648)::int4 % -1, (-9223372036854775807 - 1) % -1, 7 % -1"),
    ("casts out of an integer type's range", None),
    (None, "SELECT 70000::int2"),
    (None, "SELECT 70000::int8::int2"),
    (None, "SELECT x::int2 FROM (VALUES (70000)) AS t(x)"),
    (None, "SELECT '99999999999'::int4"),
    (None, "SELECT '70000'::int2"),
    (None, "SELECT 'abc'::int4"),
    (None, "SELECT 3e9::int4"),
    (None, "SELECT 3e9::float8::int4"),
    (None, "SELECT 1e19::int8"),
    ("sum of bigint is numeric (exact); of int4 and int2 bigint", None),
    (None, "SELECT sum(x) FROM (VALUES (9223372036854775807::int8), (1::int8)) AS t(x)"),
    (None, "SELECT sum(a), sum(b), sum(c), sum(d) FROM (VALUES (1::int4, 1::int2, 1::int8, 1::float8), (2::int4, 2::int2, 2::int8, 2::float8)) AS t(a, b, c, d)"),
    (None, "SELECT sum(x) OVER () FROM (VALUES (9223372036854775807::int8), (1::int8)) AS t(x)"),
    (None, "SELECT sum(x) FROM (VALUES (1::int8)) AS t(x) WHERE x > 1"),
    ("pg_typeof, pg_size_pretty, relation names", None),
    (None, "SELECT pg_typeof(1), pg_typeof(1::int8), pg_typeof('a'::text), pg_typeof(1.5::float8), pg_typeof('a'), pg_typeof(true), pg_typeof(NULL)"),
    (None, "SELECT pg_typeof(now()), pg_typeof(ARRAY[1]), pg_typeof(1::int2), pg_typeof(1::float4), pg_typeof(current_date), pg_typeof(sum(x)) FROM (VALUES (1::int8)) AS t(x)"),
    (None, "SELECT pg_size_pretty(10::int8), pg_size_pretty(10240::int8), pg_size_pretty(999424::int8), pg_size_pretty(1048576::int8), pg_size_pretty(10485760::int8), pg_size_pretty(-10752::int8), pg_size_pretty(NULL::int8)"),
    (None, "SELECT pg_relation_size('telco_customers')"),
    (None, "SELECT pg_size_pretty(pg_relation_size('telco_customers'))"),
    (None, "SELECT pg_relation_size('no_such_table')"),
    (None, "SELECT 'no_such_table'::regclass"),
    ("result column names of constants and SQL-standard function forms", None),
    (None, "SELECT true, NULL, upper('a'), 1::int8, 'a'::text, ARRAY[1], substr('abc', 1, 2), substring('abc' from 1 for 2), trim(' a '), position('b' in 'abc')"),
    (None, "SELECT now(), current_date"),
    ("statement_timeout", None),
    (None, "SET statement_timeout = '100ms'"),
    (None, "SHOW statement_timeout"),
    (None, "SELECT count(*) FROM generate_series(1, 100000) AS a(x) CROSS JOIN generate_series(1, 100000) AS b(y) WHERE (x::int8 * y) % 7 = 3"),
    (None, "SELECT 1"),
    (None, "SET statement_timeout = 2000"),
    (None, "SHOW statement_timeout"),
    (None, "SET statement_timeout = '2min'"),
    (None, "SHOW statement_timeout"),
    (None, "SET statement_timeout = 'abc'"),
    (None, "SET statement_timeout TO 0"),
    (None, "SHOW statement_timeout"),
]


# statements whose first row depends on the server (user and database
# names, the clock, table sizes)
NO_ROW = {
    "SELECT session_user, current_user, current_catalog",
    "SELECT pg_relation_size('telco_customers')",
    "SELECT pg_size_pretty(pg_relation_size('telco_customers'))",
    "SELECT now(), current_date",
}

# where Augur's answer is known to differ: the comment written before the
# statement, and the type OIDs written as `?` (Augur's type differs)
GAPS = {
    "SELECT pg_typeof(1), pg_typeof(1::int8), pg_typeof('a'::text), pg_typeof(1.5::float8), pg_typeof('a'), pg_typeof(true), pg_typeof(NULL)":
        ("pg_typeof is regtype (2206) in PostgreSQL, text in Augur", {2206}),
    "SELECT pg_typeof(now()), pg_typeof(ARRAY[1]), pg_typeof(1::int2), pg_typeof(1::float4), pg_typeof(current_date), pg_typeof(sum(x)) FROM (VALUES (1::int8)) AS t(x)":
        ("pg_typeof is regtype (2206) in PostgreSQL, text in Augur", {2206}),
}

# run before the statements: the table the size functions are asked about
# (Augur's demo data has it)
SETUP = "CREATE TABLE IF NOT EXISTS telco_customers (customer_id int8)"


# statements that change tables shared by all sessions: the replay runs
# them through the simple protocol only (`< simple`)
SIMPLE_ONLY = {
    "CREATE TABLE sem_ctas AS SELECT 1 AS x, 3000000000 AS y",
    "SELECT x, y FROM sem_ctas",
    "DROP TABLE sem_ctas",
}


def answer(conn, sql):
    out = []
    res = conn.pgconn.exec_(sql.encode())
    if res.status == ExecStatus.FATAL_ERROR:
        code = res.error_field(DiagnosticField.SQLSTATE).decode()
        msg = res.error_field(DiagnosticField.MESSAGE_PRIMARY).decode()
        out.append(f"< error {code} {msg}")
        return out
    if res.status == ExecStatus.TUPLES_OK:
        unknown = GAPS.get(sql, ("", set()))[1]
        cols = [
            f"{res.fname(i).decode()}:{'?' if res.ftype(i) in unknown else res.ftype(i)}"
            for i in range(res.nfields)
        ]
        out.append("< columns " + " | ".join(cols))
        if res.ntuples > 0 and sql not in NO_ROW:
            vals = []
            for i in range(res.nfields):
                v = res.get_value(0, i)
                vals.append("NULL" if v is None else v.decode())
            out.append("< row " + " | ".join(vals))
    out.append(f"< tag {res.command_status.decode()}")
    return out


def main():
    conn = psycopg.connect(autocommit=True)
    conn.execute(SETUP)
    print("# Statements users type, with PostgreSQL 15's answers: result column")
    print("# names and types, integer literals and arithmetic, casts, division by zero,")
    print("# sums, pg_typeof and pg_size_pretty, relation names, statement_timeout.")
    print("# Made by tests/reference/pg_semantics_replay.py.")
    for comment, sql in STATEMENTS:
        if sql is None:
            print(f"# {comment}")
            continue
        if sql in GAPS:
            print(f"# GAP: {GAPS[sql][0]}")
        print(f"> {sql}")
        if sql in SIMPLE_ONLY:
            print("< simple")
        for line in answer(conn, sql):
            print(line)


if __name__ == "__main__":
    main()
