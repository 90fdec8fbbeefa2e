"""Spark's ALS API on pandas."""

import os

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from alternator import ALS, ALSModel  # noqa: E402
from alternator.evaluation import RegressionEvaluator  # noqa: E402


def ratings(seed=0, users=60, items=40, n=1500, ids=str):
    rng = np.random.default_rng(seed)
    u = rng.integers(0, users, n)
    i = rng.integers(0, items, n)
    r = np.clip(np.round(3 + np.sin(u) * np.cos(i) * 2 + rng.normal(0, 0.3, n)), 1, 5)
    return pd.DataFrame({"user": [ids(x) for x in u], "item": [ids(f"i{x}") if ids is str else 1000 + x for x in i],
                         "rating": r})


def test_defaults_and_validation():
    als = ALS()
    assert (als.rank, als.maxIter, als.regParam, als.implicitPrefs, als.alpha) == (10, 10, 0.1, False, 1.0)
    assert (als.userCol, als.itemCol, als.ratingCol, als.predictionCol) == ("user", "item", "rating", "prediction")
    assert als.coldStartStrategy == "nan" and als.getRank() == 10
    assert als.setRank(4).setMaxIter(3).rank == 4
    with pytest.raises(ValueError):
        ALS(coldStartStrategy="zero")
    with pytest.raises(ValueError, match="regParam"):
        ALS(regParam=-1.0).fit(ratings())
    with pytest.raises(ValueError, match="column 'score'"):
        ALS(ratingCol="score").fit(ratings())


def test_fit_transform_cold_start_and_ids():
    train = ratings(ids=str)
    model = ALS(rank=4, maxIter=5, seed=1).fit(train)
    assert model.rank == 4
    test = pd.DataFrame({"user": ["u-new", train.user[0]], "item": [train.item[0], train.item[1]],
                         "rating": [3.0, 4.0]})
    out = model.transform(test)
    assert list(out.columns) == ["user", "item", "rating", "prediction"]
    assert np.isnan(out.prediction[0]) and np.isfinite(out.prediction[1])
    assert out.prediction.dtype == np.float32
    model.setColdStartStrategy("drop")
    assert len(model.transform(test)) == 1
    assert np.isnan(RegressionEvaluator(labelCol="rating").evaluate(out))
    # Same seed, same model; ids come back as given (strings here, integers below).
    again = ALS(rank=4, maxIter=5, seed=1).fit(train)
    assert np.array_equal(np.stack(again.userFactors.features), np.stack(model.userFactors.features))
    assert set(model.userFactors.id) == set(train.user)
    ints = ratings(ids=int)
    m = ALS(rank=3, maxIter=3).fit(ints)
    assert m.itemFactors.id.dtype.kind == "i" and set(m.itemFactors.id) == set(ints.item)


def test_recommend_for_all_and_subsets():
    train = ratings(ids=int)
    model = ALS(rank=4, maxIter=5).fit(train)
    users = model.recommendForAllUsers(3)
    assert list(users.columns) == ["user", "recommendations"]
    assert len(users) == train.user.nunique()
    first = users.recommendations[0]
    assert len(first) == 3 and first[0].rating >= first[1].rating >= first[2].rating
    u = users.user[0]
    best = first[0].item
    pred = model.transform(pd.DataFrame({"user": [u], "item": [best]})).prediction[0]
    assert pred == pytest.approx(first[0].rating, rel=1e-5)
    # Spark ranks every item, rated ones too: the top item has the largest prediction.
    every = pd.DataFrame({"user": u, "item": train.item.unique()})
    assert model.transform(every).prediction.max() == pytest.approx(first[0].rating, rel=1e-5)
    items = model.recommendForAllItems(2)
    assert list(items.columns) == ["item", "recommendations"] and len(items) == train.item.nunique()
    sub = model.recommendForUserSubset(pd.DataFrame({"user": [u, u, -5]}), 2)
    assert sub.user.tolist() == [u]
    isub = model.recommendForItemSubset(train.head(3), 100)
    assert all(len(r) == train.user.nunique() for r in isub.recommendations)


def test_implicit_prefs_uses_spark_confidence():
    plays = ratings(ids=int)
    model = ALS(implicitPrefs=True, alpha=2.0, rank=5, maxIter=5).fit(plays)
    preds = model.transform(plays).prediction
    assert np.all(np.isfinite(preds)) and preds.max() < 2.0


def test_save_load(tmp_path):
    train = ratings(ids=int)
    model = ALS(rank=4, maxIter=4, userCol="user", coldStartStrategy="drop").fit(train)
    path = str(tmp_path / "m")
    model.save(path)
    assert os.path.exists(os.path.join(path, "model.alt"))
    with pytest.raises(FileExistsError):
        model.save(path)
    model.write().overwrite().save(path)
    back = ALSModel.load(path)
    assert back.rank == 4 and back.coldStartStrategy == "drop"
    a, b = model.transform(train), back.transform(train)
    assert np.array_equal(a.prediction.to_numpy(), b.prediction.to_numpy())
    assert back.recommendForAllUsers(2).user.dtype.kind == "i"


def test_evaluator_metrics():
    df = pd.DataFrame({"rating": [1.0, 2.0, 3.0, 4.0], "prediction": [1.5, 2.0, 2.0, 4.0]})
    ev = RegressionEvaluator(labelCol="rating")
    assert ev.evaluate(df) == pytest.approx(np.sqrt((0.25 + 1.0) / 4))
    assert ev.setMetricName("mae").evaluate(df) == pytest.approx(1.5 / 4)
    assert ev.setMetricName("mse").evaluate(df) == pytest.approx(1.25 / 4)
    assert ev.setMetricName("r2").evaluate(df) == pytest.approx(1 - 1.25 / 5.0)
    assert ev.isLargerBetter()
    with pytest.raises(ValueError):
        ev.setMetricName("auc")


def test_movielens_rmse(ml100k):
    cols = ["user", "item", "rating", "timestamp"]
    train = pd.read_csv(os.path.join(ml100k, "ua.base"), sep="\t", names=cols)
    test = pd.read_csv(os.path.join(ml100k, "ua.test"), sep="\t", names=cols)
    model = ALS(rank=10, maxIter=10, regParam=0.1, coldStartStrategy="drop").fit(train)
    pred = model.transform(test)
    rmse = RegressionEvaluator(metricName="rmse", labelCol="rating").evaluate(pred)
    assert rmse == pytest.approx(0.960, abs=0.005)
    assert len(pred) == len(test) - 2


def test_spark_format_round_trip(tmp_path):
    train = ratings(ids=int)
    model = ALS(rank=4, maxIter=4, userCol="user", coldStartStrategy="drop").fit(train)
    path = str(tmp_path / "spark")
    model.save(path, format="spark")
    assert os.path.isdir(os.path.join(path, "userFactors")) and os.path.isfile(os.path.join(path, "metadata", "part-00000"))
    with pytest.raises(FileExistsError):
        model.write_spark(path)
    model.write_spark(path, overwrite=True)
    back = ALSModel.load(path)
    assert back.rank == 4 and back.coldStartStrategy == "drop" and back.userCol == "user"
    a, b = model.transform(train), back.transform(train)
    assert np.allclose(a.prediction.to_numpy(), b.prediction.to_numpy(), atol=1e-5)
    assert back.recommendForAllUsers(2).user.dtype.kind == "i"
    with pytest.raises(ValueError):
        model.save(str(tmp_path / "x"), format="csv")
    strings = ALS(rank=2, maxIter=2).fit(ratings(ids=str))
    with pytest.raises(ValueError):
        strings.save(str(tmp_path / "s"), format="spark")
