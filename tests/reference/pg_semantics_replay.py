"""Writes tests/replays/postgres_semantics.txt: PostgreSQL 15's answers
(column names and type OIDs, first row, command tag, or SQLSTATE and
message) to the statements in STATEMENTS, in the replay format of
tests/it/replays.rs.

Run against a PostgreSQL 15 server: PGHOST=... PGPORT=... PGUSER=... python3
pg_semantics_replay.py > ../replays/postgres_semantics.txt (psycopg 3).
Lines marked `# GAP` in the file are edited by hand afterwards, where
Augur's answer is known to differ; see the comments there.
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
    (None, "SELECT 1, 1 UNION ALL SELECT 2, 2"),
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


# statements whose first row depends on the server (user and database names)
NO_ROW = {"SELECT session_user, current_user, current_catalog"}


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
        cols = [f"{res.fname(i).decode()}:{res.ftype(i)}" for i in range(res.nfields)]
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
    print("# Statements users type, with PostgreSQL 15's answers: result column")
    print("# names and types, integer literals and arithmetic, casts, statement_timeout.")
    print("# Made by tests/reference/pg_semantics_replay.py.")
    for comment, sql in STATEMENTS:
        if sql is None:
            print(f"# {comment}")
            continue
        print(f"> {sql}")
        if sql in SIMPLE_ONLY:
            print("< simple")
        for line in answer(conn, sql):
            print(line)


if __name__ == "__main__":
    main()
