#!/usr/bin/env python3
"""Loads an interaction file the way a Python user would (pandas read_csv + a scipy CSR), prints one JSON line.

Usage: pandas_load.py FILE   (tab-separated user, item, value[, timestamp]; no header)
The id columns are read as strings, as Alternator does (ids are arbitrary strings).
"""
import json, sys, time
import numpy as np
import pandas as pd
import scipy.sparse as sp

path = sys.argv[1]
t0 = time.time()
df = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1, 2], dtype={0: str, 1: str, 2: np.float32})
u_codes, u_ids = pd.factorize(df[0])
i_codes, i_ids = pd.factorize(df[1])
m = sp.csr_matrix((df[2].values, (u_codes, i_codes)), shape=(len(u_ids), len(i_ids)))
m.sum_duplicates()
mt = m.T.tocsr()
print(json.dumps({"engine": "pandas " + pd.__version__ + " + scipy", "rows": len(df), "users": len(u_ids),
                  "items": len(i_ids), "nnz": int(m.nnz), "load_s": round(time.time() - t0, 3)}))
