"""Re-answers the statements of tests/replays/keys.txt with PostgreSQL 15's
answers (column names and type OIDs, row count, first row, command tag), in
the replay format of tests/it/replays.rs, keeping the file's comments.

The statements are what SQLAlchemy 2.1's Inspector and pgjdbc 42.5's
DatabaseMetaData sent to a PostgreSQL 15 server (log_statement=all) for a
table `telco_customers` without keys, indexes or constraints. Run against a
PostgreSQL 15 database holding such a table, as its owner:
PGHOST=... PGPORT=... PGUSER=... PGDATABASE=... python3 keys_replay.py
(psycopg2). Type OIDs Augur sends differently (int2vector, oidvector,
pg_node_tree, oid[], record) are written as `?`; `name` (19) is accepted as
text by the replay runner.
"""
import os
import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "..", "replays", "keys.txt")
DIFFERENT = {22, 30, 194, 1028, 2249}
# result columns whose type Augur sends differently, and how
KNOWN = {
    "generated": 'attgenerated is sent as text: arrow-pg cannot send an empty "char" in binary',
    "identity_options": "json_build_object gives text, not json",
    "collation": "json_build_object gives text, not json",
    "key_seq": "generate_series(1, 32) gives int8 (DataFusion's), not int4",
}


def cases(text):
    """(comments before, statement, answer lines) in file order."""
    out, comments, sql, answers = [], [], None, []
    for line in text.splitlines():
        if any(line.startswith(f"# {k}: ") for k in KNOWN):
            continue  # written again with the answers
        if line.startswith("> "):
            if sql is not None:
                out.append((comments, sql, answers))
                comments, answers = [], []
            sql = line[2:]
        elif line.startswith("< "):
            answers.append(line)
        elif line.startswith("#"):
            if sql is not None and answers:
                out.append((comments, sql, answers))
                comments, sql, answers = [], None, []
            comments.append(line)
        elif sql is not None and not answers:
            sql += "\n" + line
    if sql is not None:
        out.append((comments, sql, answers))
    return out, comments


def text(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "t" if v else "f"
    return str(v)


def main():
    items, trailing = cases(open(PATH).read())
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    out = []
    for comments, sql, old in items:
        out.extend(comments)
        out.append("> " + sql)
        cur.execute(sql)
        differ = {d.name for d in cur.description
                  if d.name in KNOWN and (d.name != "key_seq" or "generate_series" in sql)}
        out.append("< columns " + " | ".join(
            f"{d.name}:{'?' if d.type_code in DIFFERENT or d.name in differ else d.type_code}"
            for d in cur.description))
        out.extend(f"# {d.name}: {KNOWN[d.name]}" for d in cur.description if d.name in differ)
        rows = cur.fetchall()
        if "< tag SELECT *" in old:  # row count depends on the table's columns
            out.append("< tag SELECT *")
            continue
        out.append(f"< rows {len(rows)}")
        if rows:
            out.append("< row " + " | ".join(text(v) for v in rows[0]))
        out.append("< tag " + cur.statusmessage)
    out.extend(trailing)
    open(PATH, "w").write("\n".join(out) + "\n")


main()
