"""The implicit-compatible API: the behaviours implicit's own tests check, in our words."""

import io
import pickle
import random
import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp

import alternator
from alternator.als import AlternatingLeastSquares
from alternator.cpu.als import AlternatingLeastSquares as CpuAls
from alternator.cpu.als import calculate_loss
from alternator.evaluation import (
    AUC_at_k,
    leave_k_out_split,
    mean_average_precision_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics_at_k,
    train_test_split,
)
from alternator.utils import ParameterWarning
from conftest import checker_board, random_plays

FLT_MAX = np.finfo(np.float32).max


def model(**kw):
    args = dict(factors=32, regularization=0.0, random_state=23)
    args.update(kw)
    return AlternatingLeastSquares(**args)


def fitted(m=None, data=None, **kw):
    m = m or model(**kw)
    m.fit(checker_board(50) if data is None else data, show_progress=False)
    return m


def test_layout_and_defaults():
    m = AlternatingLeastSquares()
    assert isinstance(m, alternator.cpu.als.AlternatingLeastSquares)
    assert (m.factors, m.regularization, m.alpha, m.iterations) == (100, 0.01, 1.0, 15)
    assert (m.use_native, m.use_cg, m.calculate_training_loss, m.num_threads) == (True, True, False, 0)
    assert m.dtype == np.float32 and m.random_state is None and m.cg_steps == 3
    assert alternator.gpu.HAS_CUDA is False
    with pytest.raises(ValueError):
        AlternatingLeastSquares(use_gpu=True)
    assert "α·r" in (alternator.cpu.als.AlternatingLeastSquares.__doc__ or "").splitlines()[0]


def test_recommend_finds_the_held_out_item(board50):
    m = fitted()
    for u in range(50):
        ids, scores = m.recommend(u, board50[u], N=1)
        assert ids.dtype == np.int32 and scores.dtype == np.float32
        assert ids.shape == (1,) and ids[0] == u
    # N is clipped to the items; the user's liked items fill the tail with -FLT_MAX.
    ids, scores = m.recommend(0, board50[0], N=10_000)
    assert len(ids) == 50 and len(set(ids.tolist())) == 50
    liked = set(board50[0].indices.tolist())
    assert set(ids[-len(liked):].tolist()) == liked
    assert np.all(scores[-len(liked):] == -FLT_MAX)
    assert np.all(np.diff(scores) <= 0)
    ids, _ = m.recommend(0, board50[0], N=1, filter_items=[0])
    assert 0 not in ids


def test_recommend_batch_equals_single(board50):
    m = fitted()
    users = np.arange(50)
    for filt in (True, False):
        ids, scores = m.recommend(users, board50[users], N=5, filter_already_liked_items=filt)
        assert ids.shape == scores.shape == (50, 5)
        for u in users:
            one_ids, one_scores = m.recommend(u, board50[u], N=5, filter_already_liked_items=filt)
            assert np.array_equal(one_ids, ids[u])
            assert np.allclose(one_scores, scores[u])
    ids, _ = m.recommend(np.array([2, 3, 4]), board50[[2, 3, 4]], N=1, filter_items=[0])
    assert ids[:, 0].tolist() == [2, 3, 4]


def test_recommend_subset_and_errors(board50):
    m = fitted()
    ids, scores = m.recommend(0, board50[0], items=[1, 2, 3, 4, 5, 6], N=20)
    assert sorted(ids.tolist()) == [1, 2, 3, 4, 5, 6]
    assert set(ids[3:].tolist()) == {2, 4, 6}  # user 0's liked items, left out, at the tail
    for u in range(50):
        chosen = random.Random(u).sample(range(50), 10)
        ids, _ = m.recommend(u, board50[u], items=chosen, filter_already_liked_items=False)
        assert set(ids.tolist()) == set(chosen)
        for bad in ([-1, -3], [51, 300]):
            with pytest.raises(IndexError):
                m.recommend(u, board50[u], items=chosen + bad)
    ids, _ = m.recommend(np.arange(50), board50, items=np.arange(10) * 3)
    assert all(set(r.tolist()) == set(range(0, 30, 3)) for r in ids)
    with pytest.raises(ValueError):
        m.recommend(0, board50.tocsc())
    with pytest.raises(ValueError):
        m.recommend(0, board50.tocoo())
    with pytest.raises(ValueError):
        m.recommend(0, board50[0], items=[1, 2], filter_items=[3])
    with pytest.raises(ValueError):
        m.recommend([0, 1], board50[0])  # one row for two users
    with pytest.raises(IndexError):
        m.recommend(50, board50[0])


def test_recalculate_user_matches_training(board50):
    m = fitted()
    users = np.arange(50)
    batch_ids, batch_scores = m.recommend(users, board50, N=1, recalculate_user=True)
    for u in users:
        ids, scores = m.recommend(u, board50[u], N=1)
        again_ids, again_scores = m.recommend(0, board50[u], N=1, recalculate_user=True)
        assert ids[0] == again_ids[0] == batch_ids[u][0]
        assert abs(scores[0] - again_scores[0]) < 1e-3
        assert abs(batch_scores[u][0] - again_scores[0]) < 1e-3


def test_similar_items_and_users(board256):
    m = model()
    m.fit(board256, show_progress=False)
    ids, scores = m.similar_items(np.arange(50), N=10)
    assert ids.shape == (50, 10)
    for i in range(50):
        assert ids[i][0] == i and abs(scores[i][0] - 1.0) < 1e-4
        assert all(r % 2 == i % 2 for r in ids[i])
        one_ids, one_scores = m.similar_items(i, N=10)
        assert np.array_equal(one_ids, ids[i]) and np.allclose(one_scores, scores[i])
    again, _ = m.similar_items(np.arange(50), N=10, recalculate_item=True,
                               item_users=board256.T.tocsr()[np.arange(50)])
    assert all(again[i][0] == i for i in range(50))
    ids, _ = m.similar_items(np.arange(50), N=10, filter_items=np.arange(52) * 5)
    assert not np.any(ids % 5 == 0)
    ids, _ = m.similar_items(np.arange(50), N=10, items=np.arange(10))
    assert all(set(r.tolist()) == set(range(10)) for r in ids)
    ids, scores = m.similar_users(np.arange(50), N=10)
    for u in range(50):
        assert ids[u][0] == u and abs(scores[u][0] - 1.0) < 1e-4
        assert all(r % 2 == u % 2 for r in ids[u])
    ids, _ = m.similar_users(np.arange(50), N=10, filter_users=np.arange(52) * 5)
    assert not np.any(ids % 5 == 0)
    ids, _ = m.similar_users(np.arange(50), N=10, users=np.arange(10))
    assert all(set(r.tolist()) == set(range(10)) for r in ids)


def test_an_empty_item_is_similar_to_nothing():
    d = checker_board(50).toarray()
    d[42] = d[:, 42] = d[49] = d[:, 49] = 0
    m = fitted(data=sp.csr_matrix(d))
    for i in range(40):
        assert 42 not in m.similar_items(i, 10)[0]


def test_fit_inputs(board50):
    with pytest.warns(ParameterWarning):
        fitted(data=board50.tocoo())
    with pytest.warns(ParameterWarning):
        fitted(data=board50.tolil())
    fitted(data=board50.astype(np.float64))
    m = fitted(dtype=np.float64)
    assert m.user_factors.dtype == np.float64
    for empty in (sp.csr_matrix((0, 0)), sp.csr_matrix((5, 5))):
        with pytest.raises(ValueError):
            model().fit(empty, show_progress=False)  # implicit segfaults on a 0-row matrix
    with pytest.raises(ValueError, match="factors"):
        model(factors=0).fit(board50, show_progress=False)
    likes = random_plays(100, 200, 1000, seed=10)
    m = fitted(data=likes)
    for u in range(100):
        assert np.all(np.diff(m.recommend(u, likes[u])[1]) <= 0)


def test_factorizes_exactly_with_enough_factors():
    counts = sp.csr_matrix(np.array([
        [1, 1, 0, 1, 0, 0], [0, 1, 1, 1, 0, 0], [1, 0, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0],
        [0, 0, 1, 1, 0, 1], [0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 1, 1]], dtype=np.float64))
    for use_cg in (True, False):
        m = fitted(data=counts, factors=6, alpha=2.0, use_cg=use_cg, random_state=42)
        assert np.allclose(m.user_factors @ m.item_factors.T, counts.toarray(), atol=1e-3)


def test_callback_progress_and_loss(board50):
    calls = []
    m = model(calculate_training_loss=True, iterations=4)
    m.fit(board50, show_progress=False, callback=lambda *a: calls.append(a))
    assert [c[0] for c in calls] == [0, 1, 2, 3]
    assert all(c[1] >= 0 and c[2] is not None for c in calls)
    # Zero iterations with the loss on is no error.
    model(iterations=0, calculate_training_loss=True).fit(board50, show_progress=False)


def test_warm_start_continues(board50):
    once = model(iterations=2, use_cg=False, regularization=0.1, random_state=5)
    once.fit(board50, show_progress=False)
    once.fit(board50, show_progress=False)  # two more from where it was
    twice = model(iterations=4, use_cg=False, regularization=0.1, random_state=5)
    twice.fit(board50, show_progress=False)
    assert np.allclose(once.user_factors, twice.user_factors, atol=1e-5)


def test_calculate_loss():
    r = sp.csr_matrix(([1.0], ([0], [0])), shape=(1, 2))
    y = np.array([[0.0], [1.0]], dtype=np.float32)
    x = np.array([[1.0]], dtype=np.float32)
    assert calculate_loss(r, x, y, regularization=0) == pytest.approx(1.0)
    assert calculate_loss(r, x, y, regularization=1.0) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        calculate_loss(r, x, np.zeros((3, 1), dtype=np.float32), 0.0)


def test_partial_fit_grows(board50):
    m = fitted(factors=2, random_state=23)
    assert m.recommend(0, board50[0])[0][0] == 0
    m.partial_fit_users([0], board50[1])
    assert m.recommend(0, board50[1])[0][0] == 1
    m.partial_fit_users([100], board50[1])
    assert m.user_factors.shape[0] == 101
    assert m.recommend(100, board50[1])[0][0] == 1
    m.partial_fit_items([100], board50[1])
    assert set(m.recommend(1, board50[1], N=2)[0].tolist()) == {1, 100}


def test_explain_adds_up():
    counts = sp.csr_matrix(np.array([
        [1, 1, 0, 1, 0, 0], [0, 1, 1, 1, 0, 0], [1, 4, 1, 0, 7, 0], [1, 1, 0, 0, 0, 0],
        [9, 0, 4, 1, 0, 1], [0, 1, 0, 0, 0, 1], [0, 0, 2, 0, 1, 1]], dtype=np.float32))
    user_items = counts.T.tocsr()
    m = fitted(data=user_items, factors=4, regularization=20, alpha=2.0, use_cg=False,
               iterations=100)
    ids, scores = m.recommend(0, user_items[0], N=3, recalculate_user=True)
    score, contributions, w = m.explain(0, user_items, itemid=ids[0])
    assert score == pytest.approx(scores[0], abs=1e-4)
    assert sum(s for _, s in contributions) == pytest.approx(score, abs=1e-4)
    assert sorted(i for i, _ in contributions) == [0, 2, 3, 4]
    top_score, top, _ = m.explain(0, user_items, itemid=ids[0], user_weights=w, N=2)
    assert top_score == pytest.approx(score) and top == contributions[:2]


def test_pickle_and_npz(board50, tmp_path):
    unfitted = model()
    assert pickle.loads(pickle.dumps(unfitted)).__dict__.keys() == unfitted.__dict__.keys()
    path = str(tmp_path / "empty.npz")
    unfitted.save(path)
    assert CpuAls.load(path).__dict__ == unfitted.__dict__
    m = fitted()
    back = pickle.loads(pickle.dumps(m))
    assert np.array_equal(m.recommend(0, board50[0])[0], back.recommend(0, board50[0])[0])
    m.save(str(tmp_path / "m"))  # .npz added, as implicit does
    for loaded in (CpuAls.load(str(tmp_path / "m")), m.load(str(tmp_path / "m.npz"))):
        assert np.array_equal(loaded.similar_items(1)[0], m.similar_items(1)[0])
        assert np.array_equal(loaded.similar_items(1)[1], m.similar_items(1)[1])
    buf = io.BytesIO()
    m.save(buf)
    buf.seek(0)
    assert np.array_equal(CpuAls.load(buf).item_factors, m.item_factors)


def test_ranking_metrics(board50):
    m = fitted()
    assert precision_at_k(m, board50, sp.csr_matrix(np.eye(50)), K=1, show_progress=False) == 1
    plays = random_plays(300, 120, 6000, seed=3)
    train, test = train_test_split(plays, 0.8, random_state=1)
    m = fitted(data=train, factors=8, regularization=0.1)
    native = ranking_metrics_at_k(m, train, test, K=10)
    assert set(native) == {"precision", "map", "ndcg", "auc"}
    from alternator.evaluation import _generic_ranking_metrics
    generic = _generic_ranking_metrics(m, train, test, 10)
    for k in native:
        assert native[k] == pytest.approx(generic[k], rel=1e-6), k
    assert ndcg_at_k(m, train, test) == native["ndcg"]
    assert mean_average_precision_at_k(m, train, test) == native["map"]
    assert AUC_at_k(m, train, test) == native["auc"]


def test_splits():
    plays = random_plays(200, 80, 3000, seed=4)
    a, b = train_test_split(plays, 0.75, random_state=7)
    a2, b2 = train_test_split(plays, 0.75, random_state=7)
    assert (a != a2).nnz == 0 and (b != b2).nnz == 0
    assert a.nnz + b.nnz == plays.nnz and 0.7 < a.nnz / plays.nnz < 0.8
    train, test = leave_k_out_split(plays, K=2, random_state=3)
    counts = np.diff(plays.indptr)
    assert np.array_equal(np.diff(test.indptr), np.where(counts > 3, 2, 0))
    assert (train + test != plays).nnz == 0
    with pytest.raises(ValueError):
        leave_k_out_split(plays, K=0)


def test_threads_gil_and_ctrl_c():
    plays = random_plays(4000, 1500, 120_000, seed=5)
    m = AlternatingLeastSquares(factors=64, iterations=3, num_threads=1, random_state=1)
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    start = time.time()
    m.fit(plays, show_progress=False)
    fit_time = time.time() - start
    stop.set()
    t.join()
    # Another Python thread ran while the model trained (the GIL was released).
    assert len(ticks) > 0.2 * fit_time / 0.002
    # Ctrl-C stops a long fit within an iteration.
    import signal, os  # noqa: E401
    long = AlternatingLeastSquares(factors=64, iterations=1000, random_state=1)
    seen = []
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.time()
    with pytest.raises(KeyboardInterrupt):
        long.fit(plays, show_progress=False, callback=lambda i, e, l: seen.append(e))
    elapsed = time.time() - start
    per_iteration = max(seen) if seen else fit_time
    assert len(seen) < 1000
    assert elapsed < 0.5 + 2 * per_iteration + 1.0
    assert long.user_factors is None  # the interrupted fit left the model as it was


def test_callback_errors_stop_the_fit(board50):
    def boom(i, e, l):
        if i == 1:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        model(iterations=10).fit(board50, show_progress=False, callback=boom)
