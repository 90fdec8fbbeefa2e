"""``implicit.als``'s entry point: :func:`AlternatingLeastSquares` builds the CPU model."""

from __future__ import annotations

from typing import Any

import numpy as np

from .cpu.als import AlternatingLeastSquares as _CpuAls
from .gpu import HAS_CUDA

__all__ = ["AlternatingLeastSquares"]


def AlternatingLeastSquares(  # noqa: N802 (implicit's name)
    factors: int = 100,
    regularization: float = 0.01,
    alpha: float = 1.0,
    dtype: Any = np.float32,
    use_native: bool = True,
    use_cg: bool = True,
    use_gpu: bool = HAS_CUDA,
    iterations: int = 15,
    calculate_training_loss: bool = False,
    num_threads: int = 0,
    random_state: Any = None,
) -> _CpuAls:
    """Implicit-feedback ALS with ``implicit``'s parameters and defaults; see
    :class:`alternator.cpu.als.AlternatingLeastSquares`. ``use_gpu=True`` raises
    ``ValueError``: there is no GPU build."""
    if use_gpu:
        raise ValueError("No CUDA extension has been built, can't train on GPU.")
    return _CpuAls(
        factors,
        regularization,
        alpha,
        dtype,
        use_native,
        use_cg,
        iterations,
        calculate_training_loss,
        num_threads,
        random_state,
    )
