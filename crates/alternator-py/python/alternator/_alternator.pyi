"""Type stubs of the native module (see the Rust crate crates/alternator-py)."""

from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

Progress = Callable[[int, float, Optional[float]], None]
Ranked = Tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]

def fit_matrix(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    data: npt.NDArray[np.float32],
    shape: Tuple[int, int],
    factors: int,
    regularization: float,
    alpha: float,
    iterations: int,
    use_cg: bool,
    cg_steps: int,
    calculate_training_loss: bool,
    num_threads: int,
    user_factors: npt.NDArray[np.float32],
    item_factors: npt.NDArray[np.float32],
    progress: Optional[Progress] = None,
) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], List[float]]: ...
def fit_ids(
    user_ids: List[str],
    item_ids: List[str],
    user_codes: npt.NDArray[np.int64],
    item_codes: npt.NDArray[np.int64],
    ratings: npt.NDArray[np.float32],
    rank: int,
    max_iter: int,
    reg_param: float,
    implicit_prefs: bool,
    alpha: float,
    nonnegative: bool,
    seed: int,
    num_threads: int,
    progress: Optional[Progress] = None,
) -> IdModel: ...
def calculate_loss(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    data: npt.NDArray[np.float32],
    ncols: int,
    user_factors: npt.NDArray[np.float32],
    item_factors: npt.NDArray[np.float32],
    regularization: float,
    num_threads: int = 0,
) -> float: ...
def regression_metrics(
    predictions: npt.NDArray[np.float64], labels: npt.NDArray[np.float64]
) -> Dict[str, float]: ...
def ranking_metrics(
    model: IndexModel,
    train_indptr: npt.NDArray[np.int64],
    train_indices: npt.NDArray[np.int32],
    test_indptr: npt.NDArray[np.int64],
    test_indices: npt.NDArray[np.int32],
    ncols: int,
    k: int,
) -> Dict[str, float]: ...

class IndexModel:
    def __init__(
        self,
        user_factors: npt.NDArray[np.float32],
        item_factors: npt.NDArray[np.float32],
        regularization: float,
        alpha: float,
        num_threads: int,
    ) -> None: ...
    def recommend(
        self,
        queries: npt.NDArray[np.float32],
        n: int,
        liked: Optional[Tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], int]] = None,
        filter: Optional[npt.NDArray[np.int64]] = None,
        items: Optional[npt.NDArray[np.int64]] = None,
    ) -> Ranked: ...
    def similar(
        self,
        kind: str,
        queries: npt.NDArray[np.float32],
        n: int,
        filter: Optional[npt.NDArray[np.int64]] = None,
        rows: Optional[npt.NDArray[np.int64]] = None,
    ) -> Ranked: ...
    def fold_in(
        self,
        kind: str,
        indptr: npt.NDArray[np.int64],
        indices: npt.NDArray[np.int32],
        data: npt.NDArray[np.float32],
        ncols: int,
    ) -> npt.NDArray[np.float32]: ...
    def user_weights(self, items: List[int], values: List[float]) -> npt.NDArray[np.float64]: ...
    def explain(
        self,
        items: List[int],
        values: List[float],
        item: int,
        weights: Optional[npt.NDArray[np.float64]] = None,
        n: int = 10,
    ) -> Tuple[float, List[Tuple[int, float]]]: ...

class IdModel:
    @staticmethod
    def load(path: str, num_threads: int = 0) -> IdModel: ...
    def save(self, path: str) -> None: ...
    def save_spark(self, path: str) -> None: ...
    @property
    def rank(self) -> int: ...
    @property
    def implicit_prefs(self) -> bool: ...
    def user_ids(self) -> List[str]: ...
    def item_ids(self) -> List[str]: ...
    def user_factors(self) -> npt.NDArray[np.float32]: ...
    def item_factors(self) -> npt.NDArray[np.float32]: ...
    def predict(
        self, users: npt.NDArray[np.int64], items: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]: ...
    def recommend(
        self, users: bool, n: int, queries: Optional[npt.NDArray[np.int64]] = None
    ) -> Ranked: ...
