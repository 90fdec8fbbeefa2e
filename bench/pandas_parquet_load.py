#!/usr/bin/env python3
"""Loads a Parquet interaction table the way a Python user would: pandas read_parquet (pyarrow)
+ factorized ids + a scipy CSR and its transpose, as bench/pandas_load.py does for text.
Prints one JSON line.

Usage: pandas_parquet_load.py FILE_OR_DIR [--user-col user] [--item-col item] [--rating-col rating]
"""
import argparse, json, time
import numpy as np
import pandas as pd
import scipy.sparse as sp

p = argparse.ArgumentParser()
p.add_argument("path"); p.add_argument("--user-col", default="user")
p.add_argument("--item-col", default="item"); p.add_argument("--rating-col", default="rating")
a = p.parse_args()
t0 = time.time()
df = pd.read_parquet(a.path, columns=[a.user_col, a.item_col, a.rating_col])
u_codes, u_ids = pd.factorize(df[a.user_col])
i_codes, i_ids = pd.factorize(df[a.item_col])
m = sp.csr_matrix((df[a.rating_col].to_numpy(np.float32), (u_codes, i_codes)), shape=(len(u_ids), len(i_ids)))
m.sum_duplicates()
mt = m.T.tocsr()
print(json.dumps({"engine": "pandas " + pd.__version__ + " read_parquet + scipy", "rows": len(df),
                  "users": len(u_ids), "items": len(i_ids), "nnz": int(m.nnz), "load_s": round(time.time() - t0, 3)}))
