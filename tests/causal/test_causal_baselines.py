import numpy as np
import pytest

from numopt import Status
from numopt.causal import (
    LinearScore,
    MLPScore,
    is_dag,
    notears_linear,
    shd,
    simulate_dag,
    simulate_linear_sem,
    simulate_nonlinear_sem,
    simulate_parameter,
    topo,
)
from numopt.causal.peers import available_peers, dagma_linear


@pytest.fixture(scope="module")
def sem():
    B = simulate_dag(6, 6, "ER", seed=11)
    W = simulate_parameter(B, seed=11)
    return B, W, simulate_linear_sem(W, 800, seed=11)


def test_notears_reaches_a_dag_and_topo_post_processing_improves_it(sem):
    B, W, X = sem
    res = notears_linear(X, lambda1=0.05)
    assert res.success and res.status == Status.SUCCESS.code
    assert res.h <= 1e-8 and is_dag(res.x)
    assert shd(B, res.x) <= 2
    post = topo(X, init=res.x)
    S = LinearScore(X)
    assert S.value(S.refit_support(post.x)) <= S.value(S.refit_support(res.x)) + 1e-9
    assert is_dag(post.x)


@pytest.mark.skipif(not available_peers()["dagma"], reason="dagma not installed")
def test_dagma_adapter_returns_a_dag_close_to_topo(sem):
    B, W, X = sem
    res = dagma_linear(X, T=2, warm_iter=3000, max_iter=6000)
    assert is_dag(res.x)
    assert shd(topo(X).x, res.x) <= 3


def test_mlp_score_on_a_nonlinear_chain():
    B = np.zeros((3, 3), int)
    B[0, 1] = B[1, 2] = 1
    X = simulate_nonlinear_sem(B, 300, "mim", seed=0)
    S = MLPScore(X, hidden=8, steps=100)
    res = topo(X, score_type=S, init=[2, 1, 0], threshold=0.3, moves=("swap",))
    assert is_dag(res.x) and res.success
    assert res.fun <= S.start([2, 1, 0]).total + 1e-9
