"""pytest-benchmark: TOPO vs NOTEARS (gcastle's and numopt's own) and DAGMA on a small linear SEM.

Quality goes in extra_info. Every solver runs with BLAS limited to one thread, after a warm-up that
imports the peers and compiles numopt's kernels (neither is timed).
"""

import numpy as np
import pytest

from numopt.bench.suite_causal import one_thread, warm_up
from numopt.causal import (
    LinearScore,
    count_accuracy,
    is_dag,
    notears_linear,
    simulate_dag,
    simulate_linear_sem,
    simulate_parameter,
    topo,
)
from numopt.causal.peers import available_peers, dagma_linear


@pytest.fixture(scope="module", autouse=True)
def _one_thread_after_warm_up():
    with one_thread():
        warm_up()
        yield


@pytest.fixture(scope="module")
def sem():
    B = simulate_dag(15, 30, "ER", seed=0)
    X = simulate_linear_sem(simulate_parameter(B, seed=0), 1000, "gauss", seed=0)
    return B, X, LinearScore(X)


def _record(benchmark, B, S, W):
    acc = count_accuracy(B, W)
    benchmark.extra_info.update(shd=acc["shd"], nnz=acc["nnz"], tpr=acc["tpr"],
                                score=S.value(S.refit_support(W != 0)),
                                true_score=S.value(S.refit_support(B)))


def test_topo(benchmark, sem):
    B, X, S = sem
    res = benchmark.pedantic(topo, args=(X,), rounds=3, iterations=1)
    _record(benchmark, B, S, res.x)
    assert res.success


def test_notears_numopt(benchmark, sem):
    B, X, S = sem
    res = benchmark.pedantic(notears_linear, args=(X,), rounds=1, iterations=1)
    _record(benchmark, B, S, res.x)


@pytest.mark.skipif(not available_peers()["dagma"], reason="dagma not installed")
def test_dagma(benchmark, sem):
    B, X, S = sem
    res = benchmark.pedantic(dagma_linear, args=(X,), rounds=1, iterations=1)
    _record(benchmark, B, S, res.x)


def test_swap_evaluation(benchmark):
    from numopt.causal import _kernels

    rng = np.random.default_rng(0)
    A = rng.normal(size=(300, 100))
    L = np.linalg.cholesky(A.T @ A / 300)
    P = rng.integers(0, 50, size=500)
    Q = P + rng.integers(1, 50, size=500)
    M = rng.integers(0, 3, size=500)
    _kernels.move_deltas(L, P[:2], Q[:2], M[:2])
    benchmark(_kernels.move_deltas, L, P, Q, M)
    benchmark.extra_info["moves_per_call"] = 500


@pytest.mark.skipif(not available_peers()["gcastle"], reason="gcastle not installed")
def test_gcastle_notears_agrees_with_ours(benchmark, sem):
    from numopt.causal.peers import gcastle_notears

    B, X, S = sem
    res = benchmark.pedantic(gcastle_notears, args=(X,), rounds=1, iterations=1)
    ours = notears_linear(X)
    _record(benchmark, B, S, res.x)
    # same objective and algorithm, nonconvex: the two may stop at nearby but different points
    benchmark.extra_info["shd_to_numopt_notears"] = count_accuracy(ours.x, res.x)["shd"]
    benchmark.extra_info["max_weight_difference_to_numopt"] = float(np.abs(res.x - ours.x).max())
    assert is_dag(res.x) and is_dag(ours.x)


@pytest.mark.skipif(not available_peers()["gcastle"], reason="gcastle not installed")
def test_gcastle_golem(benchmark, sem):
    from numopt.causal.peers import gcastle_golem

    B, X, S = sem
    res = benchmark.pedantic(gcastle_golem, args=(X,), kwargs={"num_iter": 5000}, rounds=1, iterations=1)
    _record(benchmark, B, S, res.x)
