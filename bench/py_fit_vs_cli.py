#!/usr/bin/env python3
"""The cost of the Python layer: `AlternatingLeastSquares.fit(csr)` against the CLI's `fit`
on the same file (CG, rank 64, reg 0.05, alpha 1, 15 iterations, 2 threads), alternating,
best of each. Run with a python that has the alternator package (a release build) and pandas.

Usage: py_fit_vs_cli.py TRAIN_FILE [PAIRS=5]   (from the repository root, after
`cargo build --release -p alternator-cli`)
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from alternator.cpu.als import AlternatingLeastSquares

train, pairs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
df = pd.read_csv(train, sep="\t", header=None, usecols=[0, 1, 2], names=["u", "i", "v"],
                 dtype={"u": str, "i": str, "v": np.float32})
users, items = pd.factorize(df.u)[0], pd.factorize(df.i)[0]  # the CLI's first-appearance order
m = sp.csr_matrix((df.v.values, (users, items)))
m.sum_duplicates()
cli, py = [], []
for _ in range(pairs):
    out = subprocess.run(["target/release/alternator", "fit", "--train", train, "--model",
                          "/tmp/py_fit_vs_cli.alt", "--implicit-prefs",
                          "--rank", "64", "--reg-param", "0.05", "--alpha", "1", "--max-iter", "15",
                          "--threads", "2", "--json"], check=True, capture_output=True, text=True).stdout
    cli.append(json.loads(out.strip().splitlines()[-1])["fit_seconds"])
    model = AlternatingLeastSquares(factors=64, regularization=0.05, alpha=1.0, iterations=15,
                                    num_threads=2, random_state=0)
    t = time.time()
    model.fit(m, show_progress=False)
    py.append(time.time() - t)
print(json.dumps({"shape": m.shape, "cli_fit_s": min(cli), "python_fit_s": min(py),
                  "overhead_pct": round((min(py) / min(cli) - 1) * 100, 2), "cli_all": cli, "python_all": py}))
