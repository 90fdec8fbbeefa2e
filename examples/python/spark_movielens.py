#!/usr/bin/env python3
"""The Spark ALS notebook on MovieLens 100K, with pandas and `alternator` in place of pyspark.

Usage: python examples/python/spark_movielens.py [ML100K_DIR]   (default ../shared/data/ml-100k)

Trains ALS(rank=10, maxIter=10, regParam=0.1) on ua.base, predicts ua.test (cold-start rows
dropped), evaluates RMSE / MAE / R² with RegressionEvaluator, recommends 10 movies for every
user, and saves and reloads the model.
"""
import os
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from alternator import ALS, ALSModel  # was: from pyspark.ml.recommendation import ALS, ALSModel
from alternator.evaluation import RegressionEvaluator  # was: pyspark.ml.evaluation

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(root), "shared", "data", "ml-100k")

cols = ["user", "item", "rating", "timestamp"]
train = pd.read_csv(os.path.join(data_dir, "ua.base"), sep="\t", names=cols).drop(columns="timestamp")
test = pd.read_csv(os.path.join(data_dir, "ua.test"), sep="\t", names=cols).drop(columns="timestamp")

als = ALS(rank=10, maxIter=10, regParam=0.1, userCol="user", itemCol="item", ratingCol="rating",
          coldStartStrategy="drop")
als.setSeed(42)
start = time.time()
model = als.fit(train)
print(f"fit in {time.time() - start:.3f} s, rank {model.rank}")

predictions = model.transform(test)
print(predictions.head())
for metric in ("rmse", "mae", "r2"):
    value = RegressionEvaluator(metricName=metric, labelCol="rating",
                                predictionCol="prediction").evaluate(predictions)
    print(f"{metric}: {value:.4f}")
print(f"{len(test) - len(predictions)} cold-start rows dropped")

user_recs = model.recommendForAllUsers(10)
print(user_recs.head())

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "als_model")
    model.save(path)
    loaded = ALSModel.load(path)
    same = np.array_equal(loaded.transform(test).prediction.to_numpy(), predictions.prediction.to_numpy())
    print(f"saved and reloaded from {path}: same predictions: {same}")
    print(loaded.recommendForUserSubset(test[["user"]].drop_duplicates().head(3), 5))
