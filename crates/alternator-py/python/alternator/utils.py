"""Helpers shared by the ``implicit``-compatible API (``implicit.utils``'s names)."""

from __future__ import annotations

import time
import warnings
from typing import Any, Iterator, Tuple

import numpy as np
import scipy.sparse

__all__ = ["ParameterWarning", "check_csr", "check_random_state", "nonzeros"]


class ParameterWarning(Warning):
    """An argument was accepted but converted or ignored (``implicit.utils.ParameterWarning``)."""


def nonzeros(m: scipy.sparse.csr_matrix, row: int) -> Iterator[Tuple[int, Any]]:
    """The ``(column, value)`` pairs stored in one row of a CSR matrix."""
    for index in range(m.indptr[row], m.indptr[row + 1]):
        yield m.indices[index], m.data[index]


def is_csr(m: Any) -> bool:
    """True for a scipy CSR matrix or array."""
    return scipy.sparse.issparse(m) and m.format == "csr"


def check_csr(user_items: Any) -> scipy.sparse.csr_matrix:
    """``user_items`` as a CSR matrix: converted, with a :class:`ParameterWarning`, when it
    is another sparse format (COO, LIL, CSC ...) or a dense array."""
    if is_csr(user_items):
        return user_items
    start = time.time()
    name = user_items.__class__.__name__
    converted = scipy.sparse.csr_matrix(user_items)
    warnings.warn(
        f"Method expects CSR input, and was passed {name} instead. "
        f"Converting to CSR took {time.time() - start} seconds",
        ParameterWarning,
        stacklevel=3,
    )
    return converted


def check_random_state(random_state: Any) -> np.random.Generator:
    """A numpy ``Generator`` from ``None``, a seed, a ``RandomState`` or a ``Generator``
    (as ``implicit.utils.check_random_state``)."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31))
    return np.random.default_rng(random_state)


def csr_arrays(m: scipy.sparse.spmatrix):
    """``indptr`` (int64), ``indices`` (int32) and ``data`` (float32) of a CSR matrix, copied
    only when their dtype or layout needs it."""
    indptr = np.ascontiguousarray(m.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(m.indices, dtype=np.int32)
    data = np.ascontiguousarray(m.data, dtype=np.float32)
    return indptr, indices, data
