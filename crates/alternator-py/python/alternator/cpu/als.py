"""``implicit.cpu.als``: :class:`AlternatingLeastSquares` and :func:`calculate_loss`.

Implicit-feedback ALS (Hu, Koren & Volinsky), ``implicit`` 0.7.3's parameters, defaults,
methods and file format, trained by Alternator's native engine with the GIL released.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np
import scipy.sparse

from .. import _alternator
from .._progress import progress_bar
from ..utils import check_csr, check_random_state, csr_arrays, is_csr

__all__ = ["AlternatingLeastSquares", "calculate_loss"]

log = logging.getLogger("alternator")

IdLike = Union[int, np.integer, "np.ndarray", List[int]]


class AlternatingLeastSquares:
    """Implicit ALS: minimise ``Σ c_ui (p_ui − x_uᵀy_i)² + λ(‖X‖² + ‖Y‖²)``, ``c = α·r``, ``p = [r > 0]``.

    A drop-in for ``implicit.cpu.als.AlternatingLeastSquares`` (``implicit`` 0.7.3): the same
    constructor and defaults, the same methods and attributes, ``implicit``'s npz files.
    Each iteration solves every user from the item factors, then every item from the user
    factors; a user ``u`` solves ``(YᵀY + Yᵀ(C_u − I)Y + λI) x_u = YᵀC_u p_u`` by
    ``cg_steps`` (3) steps of conjugate gradient warm-started from the current factors
    (``use_cg=True``) or exactly (Cholesky). Unobserved pairs have confidence 1 and
    preference 0; a negative value is a dislike with confidence ``α·|r|``.

    Parameters
    ----------
    factors : int
        The number of latent factors (rank).
    regularization : float
        λ, not scaled by the number of interactions.
    alpha : float
        Confidence scale: an entry ``r`` has confidence ``α·r``.
    dtype : numpy dtype
        The dtype of ``user_factors`` / ``item_factors`` (training runs in float32).
    use_native : bool
        Accepted for compatibility (always native).
    use_cg : bool
        Conjugate gradient (True) or exact Cholesky solves (False).
    iterations : int
        The number of ALS iterations.
    calculate_training_loss : bool
        Compute (and log) the training loss after every iteration.
    num_threads : int
        Worker threads for fitting and batch calls; 0 uses every core.
    random_state : int, numpy RandomState or Generator, or None
        Seeds the initial factors, drawn as ``implicit`` draws them (uniform in [0, 0.01)).

    Attributes
    ----------
    user_factors, item_factors : numpy.ndarray
        ``(users, factors)`` and ``(items, factors)``; ``None`` before ``fit``.
    """

    def __init__(
        self,
        factors: int = 100,
        regularization: float = 0.01,
        alpha: float = 1.0,
        dtype: Any = np.float32,
        use_native: bool = True,
        use_cg: bool = True,
        iterations: int = 15,
        calculate_training_loss: bool = False,
        num_threads: int = 0,
        random_state: Any = None,
    ):
        self.item_factors: Optional[np.ndarray] = None
        self.user_factors: Optional[np.ndarray] = None
        self._user_norms = None
        self._item_norms = None
        self.num_threads = num_threads
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.dtype = np.dtype(dtype)
        self.use_native = use_native
        self.use_cg = use_cg
        self.iterations = iterations
        self.calculate_training_loss = calculate_training_loss
        self.fit_callback: Optional[Callable] = None
        self.cg_steps = 3
        self.random_state = random_state
        self._YtY = None
        self._XtX = None
        # The native model of the current factors and parameters (rebuilt when they change).
        self._native = None
        self._native_key: Optional[tuple] = None

    # ----------------------------------------------------------------------------- training

    def fit(self, user_items, show_progress: bool = True, callback: Optional[Callable] = None):
        """Factorizes ``user_items`` (users × items, CSR; other formats are converted with a
        ``ParameterWarning``). Continues from the current factors when the model has them.
        ``callback(iteration, elapsed, loss)`` runs after every iteration (0-based);
        ``show_progress`` draws a tqdm bar when tqdm is installed. Ctrl-C stops the fit at
        the end of the iteration in progress (``KeyboardInterrupt``; the factors are then
        those from before the call)."""
        cui = check_csr(user_items)
        users, items = cui.shape
        if users == 0 or items == 0 or cui.nnz == 0:
            raise ValueError(
                f"user_items is a {users} × {items} matrix with {cui.nnz} entries: "
                "there is nothing to train on"
            )
        rng = check_random_state(self.random_state)
        uf, itf = self.user_factors, self.item_factors
        if uf is None:
            uf = rng.random((users, self.factors), dtype=self._draw_dtype()) * 0.01
        if itf is None:
            itf = rng.random((items, self.factors), dtype=self._draw_dtype()) * 0.01
        indptr, indices, data = csr_arrays(cui)
        cb = callback or self.fit_callback
        bar = progress_bar(self.iterations, show_progress)

        def on_iteration(iteration: int, elapsed: float, loss: Optional[float]) -> None:
            if bar is not None:
                bar.update(1)
                if loss is not None:
                    bar.set_postfix({"loss": loss})
            if loss is not None and not show_progress:
                log.info("loss %.4f", loss)
            if cb is not None:
                cb(iteration - 1, elapsed, loss)

        try:
            new_uf, new_itf, history = _alternator.fit_matrix(
                indptr,
                indices,
                data,
                (users, items),
                int(self.factors),
                float(self.regularization),
                float(self.alpha),
                int(self.iterations),
                bool(self.use_cg),
                int(self.cg_steps),
                bool(self.calculate_training_loss),
                int(self.num_threads),
                np.ascontiguousarray(uf, dtype=np.float32),
                np.ascontiguousarray(itf, dtype=np.float32),
                on_iteration,
            )
        finally:
            if bar is not None:
                bar.close()
        self.user_factors = new_uf.astype(self.dtype, copy=False)
        self.item_factors = new_itf.astype(self.dtype, copy=False)
        self._invalidate()
        if self.calculate_training_loss and history:
            log.info("Final training loss %.4f", history[-1])

    def _draw_dtype(self):
        # numpy draws float32 and float64 only; other dtypes draw float32 and convert.
        return self.dtype if self.dtype in (np.float32, np.float64) else np.float32

    def _invalidate(self) -> None:
        self._user_norms = self._item_norms = None
        self._YtY = self._XtX = None
        self._native = None
        self._native_key = None

    def _model(self):
        """The native model of the current factors (built once per change of factors or
        parameters; changes made to the arrays in place are not seen: call
        ``partial_fit_*`` or assign new arrays)."""
        if self.user_factors is None or self.item_factors is None:
            raise ValueError("the model is not fitted: call fit first")
        key = (
            self.user_factors,
            self.item_factors,
            float(self.regularization),
            float(self.alpha),
            int(self.num_threads),
        )
        old = self._native_key
        if (
            self._native is None
            or old is None
            or old[0] is not key[0]
            or old[1] is not key[1]
            or old[2:] != key[2:]
        ):
            self._native = _alternator.IndexModel(
                np.ascontiguousarray(self.user_factors, dtype=np.float32),
                np.ascontiguousarray(self.item_factors, dtype=np.float32),
                key[2],
                key[3],
                key[4],
            )
            self._native_key = key
        return self._native

    # ------------------------------------------------------------------------ recommending

    def recommend(
        self,
        userid: IdLike,
        user_items,
        N: int = 10,
        filter_already_liked_items: bool = True,
        filter_items=None,
        recalculate_user: bool = False,
        items=None,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Top-N items by ``x_uᵀy_i``: ``(ids int32, scores float32)``, 1-D for one user, 2-D
        for an array of users. ``user_items`` holds one row per user (CSR); its items are
        left out when ``filter_already_liked_items``, and are the user's interactions when
        ``recalculate_user``. ``filter_items`` are never recommended; ``items`` ranks only
        those. ``N`` is clipped to the items ranked; left-out items fill a short list at the
        tail with score ``-FLT_MAX``."""
        scalar = np.isscalar(userid)
        count = 1 if scalar else len(userid)
        if filter_already_liked_items or recalculate_user:
            if not is_csr(user_items):
                raise ValueError("user_items needs to be a CSR sparse matrix")
            if user_items.shape[0] != count:
                raise ValueError("user_items must contain 1 row for every user in userids")
        if items is not None and filter_items is not None:
            raise ValueError("Can't set both items and filter_items in recommend call")
        if recalculate_user:
            user = self.recalculate_user(userid, user_items)
        else:
            user = self._rows(self.user_factors, userid, "userid")
        liked = None
        if filter_already_liked_items:
            indptr, indices, _ = csr_arrays(user_items)
            liked = (indptr, indices, int(user_items.shape[1]))
        ids, scores = self._model().recommend(
            _queries(user),
            _count(N),
            liked,
            _ids(filter_items),
            _ids(items),
        )
        if scalar:
            return ids[0], scores[0]
        return ids, scores

    def recommend_all(self, user_items, N=10, recalculate_user=False,
                      filter_already_liked_items=True, filter_items=None, users_items_offset=0):
        """Deprecated in ``implicit``: top-N item ids for every row of ``user_items``."""
        userids = np.arange(user_items.shape[0]) + users_items_offset
        if users_items_offset:
            rows = scipy.sparse.csr_matrix((users_items_offset, user_items.shape[1]))
            user_items = scipy.sparse.vstack([rows, user_items]).tocsr()[userids]
        ids, _ = self.recommend(userids, user_items, N=N, recalculate_user=recalculate_user,
                                filter_already_liked_items=filter_already_liked_items,
                                filter_items=filter_items)
        return ids

    def similar_items(
        self,
        itemid: IdLike,
        N: int = 10,
        recalculate_item: bool = False,
        item_users=None,
        filter_items=None,
        items=None,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """The N items most similar by cosine ``y_iᵀy_j / (‖y_i‖‖y_j‖)``, the item itself first
        (≈ 1); 1-D for one item, 2-D for an array. ``recalculate_item`` solves the item's
        factors from ``item_users`` first; ``filter_items`` / ``items`` as in ``recommend``."""
        if items is not None and filter_items is not None:
            raise ValueError("Can't set both items and filter_items in similar_items call")
        if recalculate_item:
            factor = self.recalculate_item(itemid, item_users)
        else:
            factor = self._rows(self.item_factors, itemid, "itemid")
        ids, scores = self._model().similar(
            "item", _queries(factor), _count(N), _ids(filter_items), _ids(items)
        )
        return (ids[0], scores[0]) if np.isscalar(itemid) else (ids, scores)

    def similar_users(
        self, userid: IdLike, N: int = 10, filter_users=None, users=None
    ) -> Tuple[np.ndarray, np.ndarray]:
        """The N users most similar by cosine of their factors, the user itself first (≈ 1);
        1-D for one user, 2-D for an array."""
        if users is not None and filter_users is not None:
            raise ValueError("Can't set both users and filter_users in similar_users call")
        factor = self._rows(self.user_factors, userid, "userid")
        ids, scores = self._model().similar(
            "user", _queries(factor), _count(N), _ids(filter_users), _ids(users)
        )
        return (ids[0], scores[0]) if np.isscalar(userid) else (ids, scores)

    @staticmethod
    def _rows(factors, ids, what):
        if factors is None:
            raise ValueError("the model is not fitted: call fit first")
        try:
            return factors[ids]
        except IndexError as e:
            raise IndexError(f"{what} {ids!r} is not in the model: {e}") from None

    # ------------------------------------------------------------------- fold-in, updates

    def recalculate_user(self, userid: IdLike, user_items) -> np.ndarray:
        """Factors for users from ``user_items`` (one CSR row per user): the exact solve
        ``(YᵀY + Yᵀ(C_u − I)Y + λI)⁻¹ YᵀC_u p_u`` against the item factors; not stored."""
        return self._recalculate("user", userid, user_items)

    def recalculate_item(self, itemid: IdLike, item_users) -> np.ndarray:
        """Factors for items from ``item_users`` (one CSR row per item, over users), solved
        against the user factors; not stored."""
        return self._recalculate("item", itemid, item_users)

    def _recalculate(self, kind, ids, rows):
        rows = check_csr(rows)
        count = 1 if np.isscalar(ids) else len(ids)
        if rows.shape[0] != count:
            raise ValueError(f"{kind}_items should have one row for every {kind} in {kind}id")
        indptr, indices, data = csr_arrays(rows)
        f = self._model().fold_in(kind, indptr, indices, data, int(rows.shape[1]))
        f = f.astype(self.dtype, copy=False)
        return f[0] if np.isscalar(ids) else f

    def partial_fit_users(self, userids, user_items) -> None:
        """Recomputes (and stores) the factors of ``userids`` from ``user_items``; new ids grow
        ``user_factors`` (rows between get zeros)."""
        self._partial_fit("user", userids, user_items)

    def partial_fit_items(self, itemids, item_users) -> None:
        """Recomputes (and stores) the factors of ``itemids`` from ``item_users``; new ids grow
        ``item_factors``."""
        self._partial_fit("item", itemids, item_users)

    def _partial_fit(self, kind, ids, rows):
        ids = np.asarray(ids)
        if len(ids) != rows.shape[0]:
            raise ValueError(f"{kind}_items must contain 1 row for every {kind} in {kind}ids")
        new = self._recalculate(kind, ids, rows)
        attr = "user_factors" if kind == "user" else "item_factors"
        current = getattr(self, attr)
        n, k = current.shape
        top = int(ids.max()) if len(ids) else -1
        if top >= n:
            grown = np.zeros((top + 1, k), dtype=self.dtype)
            grown[:n] = current
            current = grown
        current[ids] = new
        setattr(self, attr, current)
        self._invalidate()

    def explain(self, userid: int, user_items, itemid: int, user_weights=None, N: int = 10):
        """Why ``itemid`` scores as it does for ``userid``: ``(score, top N (itemid,
        contribution) pairs, user_weights)``, with ``score = Σ_j c_j y_iᵀ W_u y_j`` over the
        user's items in ``user_items[userid]`` and ``W_u = (YᵀC_uY + λI)⁻¹``; ``user_weights``
        (a ``scipy.linalg.cho_factor`` pair) can be passed back to skip the factorisation."""
        user_items = check_csr(user_items)
        row = user_items[userid]
        items = [int(i) for i in row.indices]
        values = [float(v) for v in np.asarray(row.data, dtype=np.float32)]
        model = self._model()
        if user_weights is None:
            user_weights = (model.user_weights(items, values), True)
        c, lower = user_weights
        c = np.asarray(c, dtype=np.float64)
        factor = np.tril(c) if lower else np.triu(c).T
        score, contributions = model.explain(
            items, values, int(itemid), np.ascontiguousarray(factor), int(N)
        )
        return score, [(int(i), float(s)) for i, s in contributions], user_weights

    # ------------------------------------------------------------------ cached quantities

    @property
    def user_norms(self) -> np.ndarray:
        if self._user_norms is None:
            self._user_norms = _norms(self.user_factors)
        return self._user_norms

    @property
    def item_norms(self) -> np.ndarray:
        if self._item_norms is None:
            self._item_norms = _norms(self.item_factors)
        return self._item_norms

    @property
    def YtY(self) -> np.ndarray:  # noqa: N802 (implicit's name)
        if self._YtY is None:
            self._YtY = self.item_factors.T.dot(self.item_factors)
        return self._YtY

    @property
    def XtX(self) -> np.ndarray:  # noqa: N802 (implicit's name)
        if self._XtX is None:
            self._XtX = self.user_factors.T.dot(self.user_factors)
        return self._XtX

    # ------------------------------------------------------------------------ persistence

    def save(self, fileobj_or_path) -> None:
        """Writes an npz file with ``implicit``'s keys (``implicit`` loads it too)."""
        args = {
            "user_factors": self.user_factors,
            "item_factors": self.item_factors,
            "regularization": self.regularization,
            "factors": self.factors,
            "num_threads": self.num_threads,
            "iterations": self.iterations,
            "use_native": self.use_native,
            "use_cg": self.use_cg,
            "cg_steps": self.cg_steps,
            "calculate_training_loss": self.calculate_training_loss,
            "dtype": self.dtype.name,
            "random_state": self.random_state,
            "alpha": self.alpha,
        }
        args = {k: v for k, v in args.items() if v is not None}
        np.savez(fileobj_or_path, **args)

    @classmethod
    def load(cls, fileobj_or_path) -> "AlternatingLeastSquares":
        """Reads an npz file written by :meth:`save` or by ``implicit``'s ``save``."""
        if isinstance(fileobj_or_path, str) and not fileobj_or_path.endswith(".npz"):
            fileobj_or_path = fileobj_or_path + ".npz"
        with np.load(fileobj_or_path, allow_pickle=False) as data:
            ret = cls()
            for k, v in data.items():
                if k == "dtype":
                    v = np.dtype(str(v))
                elif v.shape == ():
                    v = v.item()
                setattr(ret, k, v)
            return ret

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_native"] = None
        state["_native_key"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_native", None)
        self.__dict__.setdefault("_native_key", None)


def _norms(f: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(f, axis=-1)
    n[n == 0] = 1e-10
    return n


def _queries(vectors) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v.reshape(1, -1)
    return np.ascontiguousarray(v)


def _count(n) -> int:
    n = int(n)
    if n < 0:
        raise ValueError(f"N must be at least 0, got {n}")
    return n


def _ids(ids) -> Optional[np.ndarray]:
    if ids is None:
        return None
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).ravel())


def calculate_loss(Cui, X, Y, regularization, num_threads=0) -> float:  # noqa: N803
    """``implicit``'s training loss of factors ``X`` (users) and ``Y`` (items) on the
    confidence matrix ``Cui``: ``[Σ c (p − xᵀy)² + λ(‖X‖² + ‖Y‖²)] / (Σ c + |U||I| − nnz)``."""
    cui = check_csr(Cui)
    indptr, indices, data = csr_arrays(cui)
    return _alternator.calculate_loss(
        indptr,
        indices,
        data,
        int(cui.shape[1]),
        np.ascontiguousarray(X, dtype=np.float32),
        np.ascontiguousarray(Y, dtype=np.float32),
        float(regularization),
        int(num_threads),
    )
