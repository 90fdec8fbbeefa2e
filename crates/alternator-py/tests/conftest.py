"""Shared fixtures of the Python package's tests."""

import os
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# ../shared beside the checkout (MovieLens 100K, the peers' set-up script), as the Rust tests
# look for it; ALTERNATOR_SHARED overrides it (e.g. for a worktree elsewhere).
SHARED = os.environ.get("ALTERNATOR_SHARED") or os.path.join(os.path.dirname(ROOT), "shared")
ML100K = os.path.join(SHARED, "data", "ml-100k")


def checker_board(n):
    """Even users like even items, odd users odd items; the diagonal is held out."""
    m = np.zeros((n, n))
    for i in range(n):
        m[i, i % 2::2] = 1.0
    return sp.csr_matrix(m - np.eye(n))


@pytest.fixture
def board50():
    return checker_board(50)


@pytest.fixture
def board256():
    return checker_board(256)


def random_plays(users, items, nnz, seed=0):
    rng = np.random.default_rng(seed)
    u = rng.integers(0, users, nnz)
    i = (rng.zipf(1.3, nnz) - 1) % items
    v = rng.integers(1, 5, nnz).astype(np.float32)
    m = sp.csr_matrix((v, (u, i)), shape=(users, items))
    m.sum_duplicates()
    return m


@pytest.fixture
def ml100k():
    if not os.path.exists(os.path.join(ML100K, "ua.base")):
        pytest.skip(f"MovieLens 100K not found in {ML100K}")
    return ML100K


_PEERS = {}


def peers_python():
    """The python of the peers' virtualenv (implicit 0.7.3), installed by
    ../shared/bench/peers/setup.sh; None (with a printed notice) when it cannot be had."""
    if "python" in _PEERS:
        return _PEERS["python"]
    setup = os.path.join(SHARED, "bench", "peers", "setup.sh")
    python = None
    if not os.path.exists(setup):
        print(f"notice: {setup} not found: interoperability tests skipped")
    else:
        try:
            out = subprocess.run(["bash", setup], check=True, capture_output=True, text=True,
                                 timeout=900).stdout
            python = out.strip().splitlines()[-1]
        except (subprocess.SubprocessError, IndexError) as e:
            print(f"notice: the peers could not be installed ({e}): interoperability tests skipped")
    _PEERS["python"] = python
    return python
