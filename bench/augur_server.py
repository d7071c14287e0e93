"""Starts an Augur server for the bench scripts (127.0.0.1, a free port)."""

import os
import re
import subprocess
import time


def start_augur(binary, data_dir, threads, model):
    """Starts `augur serve` on `data_dir` (its CSV files become tables), with
    `threads` rayon threads and `model` as the default embedding model; returns
    (process, port)."""
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), AUGUR_EMBED_MODEL=str(model))
    log = open(data_dir.parent / "server.log", "w+")
    p = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--no-demo",
         "--data-dir", str(data_dir), "--model-dir", str(data_dir.parent / "models")],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    for _ in range(600):
        log.seek(0)
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read())
        if m:
            return p, int(m.group(1))
        if p.poll() is not None:
            break
        time.sleep(0.1)
    log.seek(0)
    raise SystemExit("augur did not start:\n" + log.read())
