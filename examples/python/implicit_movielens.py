#!/usr/bin/env python3
"""The `implicit` MovieLens notebook, with `alternator` in place of `implicit`.

Usage: python examples/python/implicit_movielens.py [ML100K_DIR]   (default ../shared/data/ml-100k)

Every rating becomes a confidence of alpha = 40 in a users x movies CSR matrix; 80% of it
trains AlternatingLeastSquares(factors=100, regularization=0.1, iterations=20); then the
script prints the recommendations for user 117, the movies most similar to movie 11
(Se7en), with titles from u.item, and the ranking metrics on the held-out 20%.
"""
import os
import sys
import time

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from alternator.als import AlternatingLeastSquares  # was: from implicit.als import ...
from alternator.evaluation import ranking_metrics_at_k, train_test_split

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(root), "shared", "data", "ml-100k")

ratings = pd.read_csv(os.path.join(data_dir, "u.data"), sep="\t",
                      names=["user_id", "movie_id", "rating", "unix_timestamp"])
titles = pd.read_csv(os.path.join(data_dir, "u.item"), sep="|", header=None, encoding="latin-1",
                     usecols=[0, 1], names=["movie_id", "title"]).set_index("movie_id")["title"]
print(f"{len(ratings)} ratings, {ratings.user_id.nunique()} users, {ratings.movie_id.nunique()} movies")

alpha = 40
sparse_user_item = csr_matrix(([alpha] * ratings.shape[0], (ratings["user_id"], ratings["movie_id"])))
print("user x item matrix:", sparse_user_item.shape, sparse_user_item.nnz, "stored")

train, test = train_test_split(sparse_user_item, train_percentage=0.8, random_state=42)
print("train", train.nnz, "test", test.nnz)

model = AlternatingLeastSquares(factors=100, regularization=0.1, iterations=20,
                                calculate_training_loss=False, random_state=42)
start = time.time()
model.fit(train)
print(f"fit in {time.time() - start:.2f} s")

user_id = 117
ids, scores = model.recommend(user_id, sparse_user_item[user_id], N=10)
print(f"\nTop 10 for user {user_id}:")
for i, s in zip(ids, scores):
    print(f"  {i:5d}  {s:.4f}  {titles.get(int(i), '?')}")

ids, scores = model.similar_items(11, N=11)
print(f"\nMost similar to {titles[11]}:")
for i, s in zip(ids, scores):
    print(f"  {i:5d}  {s:.4f}  {titles.get(int(i), '?')}")

metrics = ranking_metrics_at_k(model, train, test, K=10, show_progress=False)
print("\nranking metrics @10 on the held-out 20%:", {k: round(v, 4) for k, v in metrics.items()})
