"""npz files move between implicit 0.7.3 and alternator both ways with the same
recommendations (implicit runs in the peers' virtualenv; skipped with a notice without it)."""

import os
import subprocess
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

from alternator.als import AlternatingLeastSquares
from alternator.cpu.als import AlternatingLeastSquares as CpuAls
from conftest import peers_python, random_plays

IMPLICIT_SIDE = textwrap.dedent("""
    import sys
    import numpy as np, scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    mode, npz, data, out = sys.argv[1:5]
    plays = sp.load_npz(data).tocsr()
    if mode == "fit":
        m = AlternatingLeastSquares(factors=16, regularization=0.05, alpha=2.0, iterations=5,
                                    random_state=3)
        m.fit(plays, show_progress=False)
        m.save(npz)
    else:
        m = AlternatingLeastSquares.load(npz)
    users = np.arange(plays.shape[0])
    ids, scores = m.recommend(users, plays, N=10)
    sims, _ = m.similar_items(np.arange(20), N=5)
    np.savez(out, ids=ids, scores=scores, sims=sims)
""")


@pytest.fixture(scope="module")
def peer():
    python = peers_python()
    if python is None:
        pytest.skip("implicit 0.7.3 is not available (see the printed notice)")
    return python


def run_implicit(python, tmp_path, mode, npz, plays):
    data = str(tmp_path / "plays.npz")
    sp.save_npz(data, plays)
    script = tmp_path / "implicit_side.py"
    script.write_text(IMPLICIT_SIDE)
    out = str(tmp_path / "out.npz")
    subprocess.run([python, str(script), mode, npz, data, out], check=True, timeout=300,
                   env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    return np.load(out)


def same_lists(ids_a, scores_a, ids_b, scores_b):
    assert np.allclose(scores_a, scores_b, rtol=1e-4, atol=1e-5)
    # Ids agree except where two scores tie to within rounding.
    differ = ids_a != ids_b
    assert np.all(np.isclose(scores_a[differ], scores_b[differ], rtol=1e-4, atol=1e-5))
    assert differ.mean() < 0.01


def test_implicit_npz_loads_in_alternator(peer, tmp_path):
    plays = random_plays(300, 150, 5000, seed=8)
    npz = str(tmp_path / "implicit.npz")
    theirs = run_implicit(peer, tmp_path, "fit", npz, plays)
    ours = CpuAls.load(npz)
    assert (ours.factors, ours.alpha, ours.regularization) == (16, 2.0, 0.05)
    ids, scores = ours.recommend(np.arange(plays.shape[0]), plays, N=10)
    same_lists(ids, scores, theirs["ids"], theirs["scores"])
    sims, _ = ours.similar_items(np.arange(20), N=5)
    assert (sims == theirs["sims"]).mean() > 0.95


def test_alternator_npz_loads_in_implicit(peer, tmp_path):
    plays = random_plays(300, 150, 5000, seed=9)
    ours = AlternatingLeastSquares(factors=16, regularization=0.05, iterations=5, random_state=4)
    ours.fit(plays, show_progress=False)
    npz = str(tmp_path / "alternator.npz")
    ours.save(npz)
    theirs = run_implicit(peer, tmp_path, "load", npz, plays)
    ids, scores = ours.recommend(np.arange(plays.shape[0]), plays, N=10)
    same_lists(ids, scores, theirs["ids"], theirs["scores"])


def test_same_seed_trains_like_implicit(peer, tmp_path):
    """Factors are drawn as implicit draws them and the CG steps are implicit's: with the same
    random_state both libraries end near the same model."""
    plays = random_plays(300, 150, 5000, seed=10)
    theirs = run_implicit(peer, tmp_path, "fit", str(tmp_path / "t.npz"), plays)
    ours = AlternatingLeastSquares(factors=16, regularization=0.05, alpha=2.0, iterations=5,
                                   random_state=3)
    ours.fit(plays, show_progress=False)
    _, scores = ours.recommend(np.arange(plays.shape[0]), plays, N=10)
    assert np.allclose(scores, theirs["scores"], rtol=1e-2, atol=1e-3)
