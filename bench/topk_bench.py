"""Top-k nearest neighbours over stored vectors: the `vector_search` table
function against the ORDER BY plan. Times, over N stored 384-dimensional
float4 vectors (random unit vectors, seeded), in one Augur server:

- topk: `SELECT id FROM vecs ORDER BY cosine_similarity(v, q) DESC LIMIT k`
  (DataFusion's TopK: a bounded heap, no full sort);
- vector_search: `SELECT id FROM vector_search('vecs', 'v', q, k, 'COSINE')`
  (per-partition bounded selection over the vector buffer, distances in the
  optimised augur-ml kernel);
- floor: `SELECT max(cosine_similarity(v, q)) FROM vecs`, the same scan and
  the same N similarities through the scalar function, with no ranking.

Prints each figure and the ratio topk / vector_search. Checks both top-k
lists against numpy. Best of --repeat.

    ~/.cache/augur-venv/bin/python bench/topk_bench.py --augur $CARGO_TARGET_DIR/debug/augur
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from augur_server import start_augur  # noqa: E402


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--augur", required=True)
    a.add_argument("--rows", type=int, default=100_000)
    a.add_argument("--dim", type=int, default=384)
    a.add_argument("--k", type=int, default=10)
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--repeat", type=int, default=5)
    args = a.parse_args()
    rng = np.random.default_rng(7)
    x = rng.standard_normal((args.rows, args.dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[0] * 0.5 + x[1] * 0.5
    want = np.argsort(-(x.astype(np.float64) @ q.astype(np.float64)), kind="stable")[: args.k]
    work = Path(tempfile.mkdtemp())
    try:
        data = work / "data"
        data.mkdir()
        vec = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), args.dim)
        pq.write_table(pa.table({"id": pa.array(np.arange(args.rows)), "v": vec}),
                       data / "vecs.parquet")
        proc, port = start_augur(args.augur, data, args.threads, "unused")
        try:
            with psycopg.connect(f"host=127.0.0.1 port={port} user=augur dbname=augur",
                                 autocommit=True) as con:
                cur = con.cursor()
                cur.execute("CREATE TABLE vecs_mem AS SELECT * FROM vecs")
                qv = "ARRAY[" + ",".join(repr(float(v)) for v in q) + "]"
                queries = {
                    "topk": f"SELECT id FROM vecs_mem ORDER BY cosine_similarity(v, {qv}) DESC LIMIT {args.k}",
                    "vector_search": f"SELECT id FROM vector_search('vecs_mem', 'v', {qv}, {args.k}, 'COSINE')",
                    "floor": f"SELECT max(cosine_similarity(v, {qv})) FROM vecs_mem",
                }
                best = {}
                for name, sql in queries.items():
                    times = []
                    for _ in range(args.repeat):
                        t0 = time.perf_counter()
                        cur.execute(sql)
                        rows = cur.fetchall()
                        times.append(time.perf_counter() - t0)
                    best[name] = min(times)
                    if name in ("topk", "vector_search"):
                        got = [r[0] for r in rows]
                        assert got == list(want), (got, list(want))
        finally:
            proc.terminate()
            proc.wait()
    finally:
        shutil.rmtree(work)
    print(f"{args.rows} vectors x {args.dim}, k = {args.k}, {args.threads} threads, best of {args.repeat}")
    for name, t in best.items():
        print(f"{name}: {t * 1000:.1f} ms")
    print(f"ORDER BY ... LIMIT / vector_search: {best['topk'] / best['vector_search']:.2f}x")


if __name__ == "__main__":
    main()
