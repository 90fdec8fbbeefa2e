#!/usr/bin/env python3
"""One Python engine's implicit ALS on a train file, scored on a test file; prints one JSON line.

Usage: py_als.py --engine alternator|implicit|rusket --train F --test F [--factors 64] [--reg 0.05]
                 [--alpha 1.0] [--iters 15] [--threads 2] [--seed 0] [--k 10]

`alternator` and `implicit` run the very same code (the implicit API, only the import differs);
`rusket` 0.1.101 runs its conjugate gradient with implicit's 3 steps (`cg_iters=3`; its
confidence is 1 + alpha·r where implicit's is alpha·r). Every engine gets the same CSR matrix
(the peers' reader), 2 threads (RAYON_NUM_THREADS for the Rust engines, num_threads for implicit)
and is timed on `fit` (s/iteration = fit / iterations) and on top-K for every user. ndcg@K is
implicit's definition (training items filtered): implicit's own function for implicit,
alternator's (the same definition) for alternator and for rusket's factors.
"""
import argparse
import json
import os
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--engine", required=True, choices=["alternator", "implicit", "rusket"])
p.add_argument("--train", required=True)
p.add_argument("--test", required=True)
p.add_argument("--factors", type=int, default=64)
p.add_argument("--reg", type=float, default=0.05)
p.add_argument("--alpha", type=float, default=1.0)
p.add_argument("--iters", type=int, default=15)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--k", type=int, default=10)
p.add_argument("--one-plus", action="store_true",
               help="alternator/implicit train on r + 1/alpha, so that their confidence alpha·r' is "
                    "rusket's 1 + alpha·r (the same objective as rusket's); metrics use the original")
p.add_argument("--peers", default=os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "shared", "bench", "peers"))
a = p.parse_args()
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ["RAYON_NUM_THREADS"] = str(a.threads)
sys.path.insert(0, a.peers)

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from common import read_triples  # noqa: E402

tr, te = read_triples(a.train), read_triples(a.test)


def index(col):
    raw = tr[col].tolist() + te[col].tolist()
    return {v: i for i, v in enumerate(dict.fromkeys(raw))}


users, items = index("user"), index("item")


def mat(df):
    m = sp.csr_matrix((df.value.values.astype(np.float32),
                       (df.user.map(users).values, df.item.map(items).values)),
                      shape=(len(users), len(items)))
    m.sum_duplicates()
    return m


train, test = mat(tr), mat(te)
all_users = np.arange(train.shape[0])
out = {"engine": a.engine, "nnz": int(train.nnz), "users": train.shape[0], "items": train.shape[1],
       "factors": a.factors, "iters": a.iters, "threads": a.threads}

if a.engine in ("alternator", "implicit"):
    if a.engine == "alternator":
        import alternator as lib
        from alternator.cpu.als import AlternatingLeastSquares
        from alternator.evaluation import ranking_metrics_at_k
    else:
        import implicit as lib
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.evaluation import ranking_metrics_at_k
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    out["version"] = lib.__version__
    model = AlternatingLeastSquares(factors=a.factors, regularization=a.reg, alpha=a.alpha,
                                    iterations=a.iters, num_threads=a.threads, random_state=a.seed)
    fit_on = train
    if a.one_plus:
        fit_on = train.copy()
        fit_on.data += 1.0 / a.alpha
        out["one_plus"] = True
    t = time.time()
    model.fit(fit_on, show_progress=False)
    fit_s = time.time() - t
    t = time.time()
    model.recommend(all_users, train, N=a.k)
    out["recommend_all_s"] = round(time.time() - t, 4)
    metrics = ranking_metrics_at_k(model, train, test, K=a.k, show_progress=False)
else:
    import rusket
    from alternator.cpu.als import AlternatingLeastSquares
    from alternator.evaluation import ranking_metrics_at_k
    out["version"] = rusket.__version__ if hasattr(rusket, "__version__") else "0.1.101"
    model = rusket.ALS(factors=a.factors, regularization=a.reg, alpha=a.alpha, iterations=a.iters,
                       seed=a.seed, cg_iters=3)
    t = time.time()
    model.fit(train)
    fit_s = time.time() - t
    t = time.time()
    model.batch_recommend(n=a.k, exclude_seen=True, format="pandas")
    out["recommend_all_s"] = round(time.time() - t, 4)
    scorer = AlternatingLeastSquares(factors=a.factors)
    scorer.user_factors = np.asarray(model.user_factors, dtype=np.float32)
    scorer.item_factors = np.asarray(model.item_factors, dtype=np.float32)
    metrics = ranking_metrics_at_k(scorer, train, test, K=a.k)

out["fit_s"] = round(fit_s, 4)
out["per_iter_s"] = round(fit_s / a.iters, 5)
for key, val in metrics.items():
    out[f"{key}@{a.k}"] = round(float(val), 5)
print(json.dumps(out))
