#!/usr/bin/env python3
"""Writes a tab-separated interaction file (user, item, value; no header) as Parquet, the way
data platforms hand it over: one file as pandas writes it (int64 ids, float64 values, row
groups of 1Mi rows, Snappy), and a directory of part files as Spark writes a DataFrame (int32
ids, float32 values, Snappy, `_SUCCESS`).

Usage: parquet_make.py FILE.tsv OUT.parquet OUT_DIR [--parts 4]   (needs pandas and pyarrow)
"""
import argparse, os
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

p = argparse.ArgumentParser()
p.add_argument("tsv"); p.add_argument("file"); p.add_argument("dir")
p.add_argument("--parts", type=int, default=4)
a = p.parse_args()
df = pd.read_csv(a.tsv, sep="\t", header=None, usecols=[0, 1, 2], names=["user", "item", "rating"])
df.to_parquet(a.file, engine="pyarrow", compression="snappy", index=False)
os.makedirs(a.dir, exist_ok=True)
spark_like = pa.table({"user": df["user"].to_numpy(np.int32), "item": df["item"].to_numpy(np.int32),
                       "rating": df["rating"].to_numpy(np.float32)})
step = -(-len(df) // a.parts)
for k in range(a.parts):
    pq.write_table(spark_like.slice(k * step, step), os.path.join(a.dir, f"part-{k:05d}-bench-c000.snappy.parquet"),
                   compression="snappy")
open(os.path.join(a.dir, "_SUCCESS"), "w").close()
print(f"{len(df)} rows -> {a.file} ({os.path.getsize(a.file)} bytes), {a.dir} ({a.parts} parts)")
