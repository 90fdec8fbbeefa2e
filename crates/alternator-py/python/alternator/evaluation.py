"""Evaluation: ``implicit.evaluation``'s splits and ranking metrics, and Spark's
``RegressionEvaluator``.

Ranking metrics at K follow ``implicit.evaluation.ranking_metrics_at_k`` (0.7.3): for each
user with test items ``T_u`` and top-K list ``R_u`` (training items filtered), walking
positions ``j = 1..K``: precision ``= Σ hits / Σ min(K, |T_u|)``; MAP ``= mean (Σ_{hit at j}
hits_so_far / j) / min(K, |T_u|)``; NDCG ``= mean Σ_{hit at j} 1/log2(j+1) / IDCG``; AUC is
implicit's AUC limited to the top K.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np
import scipy.sparse

from . import _alternator
from .utils import check_random_state, csr_arrays

__all__ = [
    "train_test_split",
    "leave_k_out_split",
    "precision_at_k",
    "mean_average_precision_at_k",
    "ndcg_at_k",
    "AUC_at_k",
    "ranking_metrics_at_k",
    "RegressionEvaluator",
]


def train_test_split(
    ratings, train_percentage: float = 0.8, random_state: Any = None
) -> Tuple[scipy.sparse.csr_matrix, scipy.sparse.csr_matrix]:
    """Splits the entries of ``ratings`` at random: each goes to train with probability
    ``train_percentage`` (one uniform draw per stored entry, as ``implicit`` draws them, so
    a seed gives ``implicit``'s split). Negative test values are dropped from the test set."""
    ratings = ratings.tocoo()
    rng = check_random_state(random_state)
    draw = rng.random(len(ratings.data))
    train_index = draw < train_percentage
    test_index = ~train_index

    def part(mask):
        return scipy.sparse.csr_matrix(
            (ratings.data[mask], (ratings.row[mask], ratings.col[mask])),
            shape=ratings.shape,
            dtype=ratings.dtype,
        )

    train, test = part(train_index), part(test_index)
    test.data[test.data < 0] = 0
    test.eliminate_zeros()
    return train, test


def leave_k_out_split(
    ratings, K: int = 1, train_only_size: float = 0.0, random_state: Any = None
) -> Tuple[scipy.sparse.csr_matrix, scipy.sparse.csr_matrix]:
    """Leave-K-out: every user with more than ``K + 1`` entries has ``K`` of them, chosen at
    random, moved to the test set; a fraction ``train_only_size`` of the users is kept in
    train only."""
    if K < 1:
        raise ValueError("The 'K' must be >= 1.")
    if not 0.0 <= train_only_size < 1.0:
        raise ValueError("The 'train_only_size' must be in the range (0.0 <= x < 1.0).")
    ratings = ratings.tocoo()
    rng = check_random_state(random_state)
    users, items, data = ratings.row, ratings.col, ratings.data
    unique_users, counts = np.unique(users, return_counts=True)
    candidate = counts > K + 1
    if train_only_size > 0.0:
        size = max(1, int(len(unique_users) * train_only_size))
        chosen = rng.choice(len(unique_users), size=size, replace=False)
        keep = np.ones(len(unique_users), dtype=bool)
        keep[chosen] = False
        candidate &= keep
    in_test_users = np.isin(users, unique_users[candidate])
    # A random order within each candidate user; the first K of each go to test.
    idx = np.flatnonzero(in_test_users)
    order = np.lexsort((rng.random(len(idx)), users[idx]))
    idx = idx[order]
    starts = np.r_[0, np.flatnonzero(np.diff(users[idx])) + 1]
    rank = np.arange(len(idx)) - np.repeat(starts, np.diff(np.r_[starts, len(idx)]))
    test_mask = np.zeros(len(users), dtype=bool)
    test_mask[idx[rank < K]] = True

    def part(mask):
        return scipy.sparse.csr_matrix(
            (data[mask], (users[mask], items[mask])), shape=ratings.shape, dtype=ratings.dtype
        )

    return part(~test_mask), part(test_mask)


def ranking_metrics_at_k(
    model, train_user_items, test_user_items, K: int = 10, show_progress: bool = True,
    num_threads: int = 1,
) -> Dict[str, float]:
    """``precision``, ``map``, ``ndcg`` and ``auc`` at K of ``model`` (see the module docs):
    each user with a test item is ranked with their ``train_user_items`` filtered. An
    Alternator model is scored natively; any other model with ``implicit``'s ``recommend``
    works too."""
    train = scipy.sparse.csr_matrix(train_user_items)
    test = scipy.sparse.csr_matrix(test_user_items)
    native = getattr(model, "_model", None)
    if callable(native) and test.shape[0] <= model.user_factors.shape[0]:
        items = max(train.shape[1], test.shape[1])
        train = _widen(train, items)
        test = _widen(test, items)
        tp, ti, _ = csr_arrays(train)
        sp, si, _ = csr_arrays(test)
        return dict(_alternator.ranking_metrics(native(), tp, ti, sp, si, items, int(K)))
    return _generic_ranking_metrics(model, train, test, int(K))


def _widen(m, cols):
    if m.shape[1] == cols:
        return m
    return scipy.sparse.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], cols))


def _generic_ranking_metrics(model, train, test, K):
    users, items = test.shape
    cg = 1.0 / np.log2(np.arange(2, K + 2))
    cg_sum = np.cumsum(cg)
    relevant = pr_div = total = mean_ap = ndcg = mean_auc = 0.0
    to_generate = np.flatnonzero(np.diff(test.indptr) > 0).astype(np.int32)
    for start in range(0, len(to_generate), 1000):
        batch = to_generate[start:start + 1000]
        ids, _ = model.recommend(batch, train[batch], N=K)
        for row, u in enumerate(batch):
            likes = set(test.indices[test.indptr[u]:test.indptr[u + 1]].tolist())
            n_pos = len(likes)
            pr_div += min(K, n_pos)
            ap = hit = miss = auc = 0.0
            idcg = cg_sum[min(K, n_pos) - 1]
            for i in range(K):
                if i < ids.shape[1] and int(ids[row, i]) in likes:
                    relevant += 1
                    hit += 1
                    ap += hit / (i + 1)
                    ndcg += cg[i] / idcg
                else:
                    miss += 1
                    auc += hit
            n_neg = items - n_pos
            auc += ((hit + n_pos) / 2.0) * (n_neg - miss)
            mean_ap += ap / min(K, n_pos)
            mean_auc += auc / (n_pos * n_neg)
            total += 1
    return {
        "precision": relevant / pr_div,
        "map": mean_ap / total,
        "ndcg": ndcg / total,
        "auc": mean_auc / total,
    }


def precision_at_k(model, train_user_items, test_user_items, K=10, show_progress=True,
                   num_threads=1) -> float:
    """P@K: ``Σ_u hits_u / Σ_u min(K, |T_u|)``."""
    return ranking_metrics_at_k(model, train_user_items, test_user_items, K)["precision"]


def mean_average_precision_at_k(model, train_user_items, test_user_items, K=10,
                                show_progress=True, num_threads=1) -> float:
    """MAP@K: ``mean_u (Σ_{hit at j} hits_so_far / j) / min(K, |T_u|)``."""
    return ranking_metrics_at_k(model, train_user_items, test_user_items, K)["map"]


def ndcg_at_k(model, train_user_items, test_user_items, K=10, show_progress=True,
              num_threads=1) -> float:
    """NDCG@K with binary gains: ``mean_u Σ_{hit at j} (1/log2(j+1)) / IDCG_u``."""
    return ranking_metrics_at_k(model, train_user_items, test_user_items, K)["ndcg"]


def AUC_at_k(model, train_user_items, test_user_items, K=10, show_progress=True,  # noqa: N802
             num_threads=1) -> float:
    """``implicit``'s AUC limited to the top K."""
    return ranking_metrics_at_k(model, train_user_items, test_user_items, K)["auc"]


class RegressionEvaluator:
    """Spark's ``RegressionEvaluator`` on a pandas DataFrame: ``rmse = √mean(p − r)²``,
    ``mse``, ``mae = mean|p − r|``, ``r2 = 1 − Σ(p − r)²/Σ(r − r̄)²``; NaN when a prediction
    is NaN (use ``coldStartStrategy="drop"``).

    ``labelCol`` defaults to Spark's ``"label"``, or ``"rating"`` (ALS's ``ratingCol``) for a
    frame that has no ``label`` column."""

    _metrics = ("rmse", "mse", "mae", "r2")

    def __init__(self, *, predictionCol: str = "prediction", labelCol: str = None,  # noqa: N803
                 metricName: str = "rmse"):
        self.predictionCol = predictionCol
        self.labelCol = labelCol
        self.setMetricName(metricName)

    def setMetricName(self, value: str) -> "RegressionEvaluator":  # noqa: N802
        if value not in self._metrics:
            raise ValueError(f"metricName must be one of {', '.join(self._metrics)}, got {value!r}")
        self.metricName = value
        return self

    def setLabelCol(self, value: str) -> "RegressionEvaluator":  # noqa: N802
        self.labelCol = value
        return self

    def setPredictionCol(self, value: str) -> "RegressionEvaluator":  # noqa: N802
        self.predictionCol = value
        return self

    def getMetricName(self) -> str:  # noqa: N802
        return self.metricName

    def isLargerBetter(self) -> bool:  # noqa: N802
        return self.metricName == "r2"

    def evaluate(self, dataset, params: Dict[str, Any] = None) -> float:
        """The metric over the rows of ``dataset`` (a pandas DataFrame or pyarrow Table)."""
        ev = self
        if params:
            ev = RegressionEvaluator(predictionCol=self.predictionCol, labelCol=self.labelCol,
                                     metricName=self.metricName)
            for k, v in params.items():
                setattr(ev, k, v)
        from .spark import _frame
        df = _frame(dataset)
        label = ev.labelCol
        if label is None:
            label = "label" if "label" in df.columns or "rating" not in df.columns else "rating"
        for col in (ev.predictionCol, label):
            if col not in df.columns:
                raise ValueError(f"column {col!r} is not in the data frame")
        p = np.ascontiguousarray(df[ev.predictionCol].to_numpy(dtype=np.float64))
        r = np.ascontiguousarray(df[label].to_numpy(dtype=np.float64))
        return float(_alternator.regression_metrics(p, r)[ev.metricName])
