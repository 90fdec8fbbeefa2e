"""Spark MLlib's ALS API on pandas: :class:`ALS` (the estimator) and :class:`ALSModel`.

Explicit ratings follow Spark's ``ALS()`` (ALS-WR: each user solves
``(Σ_i y_i y_iᵀ + λ·n_u·I) x_u = Σ_i r_ui y_i``, defaults rank 10, 10 iterations,
``regParam`` 0.1); ``implicitPrefs=True`` follows Spark's implicit feedback (confidence
``1 + α·|r|``, λ scaled by the row's number of positive entries). User and item ids may be
any integers or strings; every output gives them back as they were given.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import namedtuple
from typing import Any, Optional

import numpy as np

from . import _alternator
from ._progress import progress_bar

__all__ = ["ALS", "ALSModel"]

_PARAMS = (
    "rank", "maxIter", "regParam", "implicitPrefs", "alpha", "nonnegative", "userCol",
    "itemCol", "ratingCol", "predictionCol", "coldStartStrategy", "seed", "numThreads",
)


def _pandas():
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas is an extra
        raise ImportError(
            "alternator's Spark API needs pandas: pip install 'alternator[pandas]'"
        ) from None
    return pandas


def _frame(data):
    """A pandas DataFrame from a DataFrame or a pyarrow Table."""
    pd = _pandas()
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):
        return data.to_pandas()
    raise TypeError(f"expected a pandas DataFrame or a pyarrow Table, got {type(data).__name__}")


class _Params:
    """Spark-style parameter access: ``setX`` / ``getX`` for every parameter."""

    def __getattr__(self, name):
        if name.startswith(("set", "get")) and len(name) > 3:
            param = name[3].lower() + name[4:]
            if param in _PARAMS and param in self.__dict__:
                if name.startswith("set"):
                    def setter(value):
                        setattr(self, param, value)
                        self._check()
                        return self
                    return setter
                return lambda: self.__dict__[param]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _check(self):
        pass


class ALS(_Params):
    """Spark's ALS: each user solves ``(Σ_i y_i y_iᵀ + λ·n_u·I) x_u = Σ_i r_ui y_i`` (ALS-WR), then each item.

    ``ALS(rank=10, maxIter=10, regParam=0.1, ...).fit(df)`` → :class:`ALSModel`. With
    ``implicitPrefs=True``: Hu–Koren–Volinsky with confidence ``c = 1 + α|r|`` and λ scaled by
    the row's number of positive entries. Parameters, defaults and ``setX``/``getX`` are
    Spark's; ``seed=None`` uses 42, ``numThreads=0`` every core.
    """

    def __init__(self, *, rank: int = 10, maxIter: int = 10, regParam: float = 0.1,  # noqa: N803
                 implicitPrefs: bool = False, alpha: float = 1.0, nonnegative: bool = False,
                 userCol: str = "user", itemCol: str = "item", ratingCol: str = "rating",
                 predictionCol: str = "prediction", coldStartStrategy: str = "nan",
                 seed: Optional[int] = None, numThreads: int = 0):
        self.rank = rank
        self.maxIter = maxIter
        self.regParam = regParam
        self.implicitPrefs = implicitPrefs
        self.alpha = alpha
        self.nonnegative = nonnegative
        self.userCol = userCol
        self.itemCol = itemCol
        self.ratingCol = ratingCol
        self.predictionCol = predictionCol
        self.coldStartStrategy = coldStartStrategy
        self.seed = seed
        self.numThreads = numThreads
        self._check()

    def _check(self):
        if self.coldStartStrategy not in ("nan", "drop"):
            raise ValueError(
                f"coldStartStrategy must be 'nan' or 'drop', got {self.coldStartStrategy!r}"
            )

    def setParams(self, **kwargs) -> "ALS":  # noqa: N802
        for k, v in kwargs.items():
            if k not in _PARAMS:
                raise TypeError(f"unknown ALS parameter {k!r}")
            setattr(self, k, v)
        self._check()
        return self

    def fit(self, dataset, show_progress: bool = False) -> "ALSModel":
        """Trains on the rows of ``dataset`` (pandas DataFrame or pyarrow Table) with columns
        ``userCol``, ``itemCol``, ``ratingCol``; every rating counts (repeated pairs are
        separate terms, as in Spark). Ctrl-C stops the fit after the iteration in progress."""
        pd = _pandas()
        df = _frame(dataset)
        for col in (self.userCol, self.itemCol, self.ratingCol):
            if col not in df.columns:
                raise ValueError(f"column {col!r} is not in the data frame "
                                 f"(columns: {', '.join(map(str, df.columns))})")
        users, items = df[self.userCol], df[self.itemCol]
        for col, s in ((self.userCol, users), (self.itemCol, items)):
            if s.isna().any():
                raise ValueError(f"column {col!r} has missing ids")
        ucodes, uids = pd.factorize(users, sort=False)
        icodes, iids = pd.factorize(items, sort=False)
        ratings = np.ascontiguousarray(df[self.ratingCol].to_numpy(dtype=np.float32))
        bar = progress_bar(int(self.maxIter), show_progress)

        def on_iteration(iteration, elapsed, loss):
            if bar is not None:
                bar.update(1)

        seed = 42 if self.seed is None else int(self.seed) & 0xFFFF_FFFF_FFFF_FFFF
        try:
            native = _alternator.fit_ids(
                [str(u) for u in uids], [str(i) for i in iids],
                np.ascontiguousarray(ucodes, dtype=np.int64),
                np.ascontiguousarray(icodes, dtype=np.int64),
                ratings, int(self.rank), int(self.maxIter), float(self.regParam),
                bool(self.implicitPrefs), float(self.alpha), bool(self.nonnegative), seed,
                int(self.numThreads), on_iteration,
            )
        finally:
            if bar is not None:
                bar.close()
        params = {p: getattr(self, p) for p in _PARAMS}
        return ALSModel(native, pd.Index(uids), pd.Index(iids), params)


class ALSModel(_Params):
    """A trained Spark-style model: ``transform``, ``recommendFor*``, ``userFactors``,
    ``itemFactors``, ``rank``, ``save`` and ``ALSModel.load``."""

    def __init__(self, native, users, items, params):
        self._native = native
        self._users = users
        self._items = items
        for k in _PARAMS:
            self.__dict__[k] = params.get(k)

    @property
    def rank(self) -> int:
        """The number of latent factors."""
        return self._native.rank

    def _check(self):
        if self.coldStartStrategy not in ("nan", "drop"):
            raise ValueError(
                f"coldStartStrategy must be 'nan' or 'drop', got {self.coldStartStrategy!r}"
            )

    def transform(self, dataset):
        """``dataset`` with a ``predictionCol`` column: ``x_uᵀy_i`` (float32), NaN for a user
        or item the model has not seen, whose rows ``coldStartStrategy="drop"`` leaves out."""
        df = _frame(dataset)
        u = self._users.get_indexer(df[self.userCol])
        i = self._items.get_indexer(df[self.itemCol])
        pred = self._native.predict(np.ascontiguousarray(u, dtype=np.int64),
                                    np.ascontiguousarray(i, dtype=np.int64))
        out = df.copy()
        out[self.predictionCol] = pred
        if self.coldStartStrategy == "drop":
            out = out[~np.isnan(pred)]
        return out

    def _recommend(self, users: bool, n: int, queries=None):
        pd = _pandas()
        if int(n) < 1:
            raise ValueError(f"numItems/numUsers must be at least 1, got {n}")
        ids, scores = self._native.recommend(users, int(n), queries)
        query_ids = self._users if users else self._items
        target_ids = self._items if users else self._users
        qcol, tcol = (self.userCol, self.itemCol) if users else (self.itemCol, self.userCol)
        record = namedtuple("Rating", [tcol, "rating"], rename=True)
        tvals = target_ids.to_numpy()[np.clip(ids, 0, None)]
        recs = [
            [record(t, float(s)) for t, s in zip(trow, srow)]
            for trow, srow in zip(tvals.tolist(), scores.tolist())
        ]
        qidx = np.arange(len(query_ids)) if queries is None else queries
        return pd.DataFrame({qcol: query_ids.take(qidx).to_numpy(), "recommendations": recs})

    def _subset(self, dataset, col, index):
        df = _frame(dataset)
        pos = index.get_indexer(df[col].drop_duplicates())
        return np.ascontiguousarray(pos[pos >= 0], dtype=np.int64)

    def recommendForAllUsers(self, numItems: int):  # noqa: N802, N803
        """Top ``numItems`` items for every user: columns ``userCol`` and
        ``recommendations`` (a list of ``(item, rating)`` records, best first)."""
        return self._recommend(True, numItems)

    def recommendForAllItems(self, numUsers: int):  # noqa: N802, N803
        """Top ``numUsers`` users for every item: columns ``itemCol`` and ``recommendations``."""
        return self._recommend(False, numUsers)

    def recommendForUserSubset(self, dataset, numItems: int):  # noqa: N802, N803
        """``recommendForAllUsers`` for the distinct known users of ``dataset[userCol]``."""
        return self._recommend(True, numItems, self._subset(dataset, self.userCol, self._users))

    def recommendForItemSubset(self, dataset, numUsers: int):  # noqa: N802, N803
        """``recommendForAllItems`` for the distinct known items of ``dataset[itemCol]``."""
        return self._recommend(False, numUsers, self._subset(dataset, self.itemCol, self._items))

    def _factors(self, ids, f):
        pd = _pandas()
        return pd.DataFrame({"id": ids.to_numpy(), "features": list(f)})

    @property
    def userFactors(self):  # noqa: N802
        """A DataFrame of ``id`` and ``features`` (a float32 array per user)."""
        return self._factors(self._users, self._native.user_factors())

    @property
    def itemFactors(self):  # noqa: N802
        """A DataFrame of ``id`` and ``features`` (a float32 array per item)."""
        return self._factors(self._items, self._native.item_factors())

    def save(self, path: str, overwrite: bool = False, format: str = "alternator") -> None:  # noqa: A002
        """Writes the model to the directory ``path`` (it must not exist unless
        ``overwrite``). ``format="alternator"`` (the default): ``model.alt`` (Alternator's model
        file, which ``alternator recommend --model`` and ``alternator serve`` read too) and
        ``metadata.json``. ``format="spark"``: a Spark ``ALSModel`` directory that
        ``pyspark.ml.recommendation.ALSModel.load`` reads (ids must be 32-bit integers), as
        :meth:`write_spark`."""
        if format not in ("alternator", "spark"):
            raise ValueError(f"format must be 'alternator' or 'spark', got {format!r}")
        path = os.fspath(path)
        if os.path.exists(path):
            if not overwrite:
                raise FileExistsError(f"{path} already exists: use write().overwrite().save()")
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        if format == "spark":
            self._native.save_spark(path)
            self._spark_params(path)
            return
        os.makedirs(path)
        self._native.save(os.path.join(path, "model.alt"))
        meta = {
            "class": "alternator.ALSModel",
            "params": {k: self.__dict__.get(k) for k in _PARAMS},
            "user_ids": _id_kind(self._users),
            "item_ids": _id_kind(self._items),
        }
        with open(os.path.join(path, "metadata.json"), "w") as f:
            json.dump(meta, f, indent=1)

    def write_spark(self, path: str, overwrite: bool = False) -> None:
        """Writes a Spark ``ALSModel`` directory: ``save(path, format="spark")``."""
        self.save(path, overwrite=overwrite, format="spark")

    def _spark_params(self, path):
        # The library writes Spark's default column names; this model's own go in paramMap.
        md = os.path.join(path, "metadata", "part-00000")
        with open(md) as f:
            meta = json.loads(f.readline())
        for k in ("userCol", "itemCol", "predictionCol", "coldStartStrategy"):
            if self.__dict__.get(k) is not None:
                meta.setdefault("paramMap", {})[k] = self.__dict__[k]
        with open(md, "w") as f:
            f.write(json.dumps(meta, separators=(",", ":")) + "\n")

    def write(self):
        """Spark's writer: ``model.write().overwrite().save(path)``."""
        return _Writer(self)

    @classmethod
    def load(cls, path: str, numThreads: int = 0) -> "ALSModel":  # noqa: N803
        """Reads a model written by :meth:`save`, or a Spark ``ALSModel`` directory (written
        by Spark's ``model.save`` or by ``save(path, format="spark")``)."""
        pd = _pandas()
        path = os.fspath(path)
        spark_md = os.path.join(path, "metadata", "part-00000")
        if not os.path.exists(os.path.join(path, "metadata.json")) and os.path.isfile(spark_md):
            with open(spark_md) as f:
                meta = json.loads(f.readline())
            params = dict(meta.get("defaultParamMap", {}))
            params.update(meta.get("paramMap", {}))
            native = _alternator.IdModel.load(path, int(numThreads))
            users = _ids_back(pd, native.user_ids(), "int")
            items = _ids_back(pd, native.item_ids(), "int")
            defaults = {k: getattr(ALS(), k) for k in _PARAMS}
            defaults.update({k: v for k, v in params.items() if k in _PARAMS})
            defaults["rank"] = native.rank
            return cls(native, users, items, defaults)
        with open(os.path.join(path, "metadata.json")) as f:
            meta = json.load(f)
        native = _alternator.IdModel.load(os.path.join(path, "model.alt"), int(numThreads))
        users = _ids_back(pd, native.user_ids(), meta.get("user_ids"))
        items = _ids_back(pd, native.item_ids(), meta.get("item_ids"))
        return cls(native, users, items, meta.get("params", {}))


class _Writer:
    def __init__(self, model):
        self._model = model
        self._overwrite = False

    def overwrite(self):
        self._overwrite = True
        return self

    def save(self, path):
        self._model.save(path, overwrite=self._overwrite)


def _id_kind(index) -> str:
    kind = index.dtype.kind
    if kind in "iu":
        return "int"
    if kind == "b":
        return "bool"
    return "str"


def _ids_back(pd, ids, kind):
    if kind == "int":
        return pd.Index(np.array([int(x) for x in ids], dtype=np.int64))
    return pd.Index(ids, dtype=object)
