import numpy as np
import pytest

from numopt import Status
from numopt.causal import (
    TOPO,
    LinearScore,
    LogisticScore,
    TopoDAG,
    greedy_order,
    is_dag,
    order_from_graph,
    shd,
    simulate_dag,
    simulate_linear_sem,
    simulate_parameter,
    topo,
)
from numopt.causal.scores import moved_order


def _sem(d, s0, graph="ER", noise="gauss", n=1000, seed=0):
    B = simulate_dag(d, s0, graph, seed=seed)
    W = simulate_parameter(B, seed=seed)
    return B, W, simulate_linear_sem(W, n, noise, seed=seed)


def test_cholesky_fit_equals_per_node_least_squares():
    B, W, X = _sem(7, 10, seed=4)
    S = LinearScore(X, backend="numpy")
    order = np.random.default_rng(0).permutation(7)
    fit = S.start(order)
    Xc = X - X.mean(axis=0)
    W_ls, total = np.zeros((7, 7)), 0.0
    for k, j in enumerate(order):
        pa = order[:k]
        if k:
            coef = np.linalg.lstsq(Xc[:, pa], Xc[:, j], rcond=None)[0]
            W_ls[pa, j] = coef
            total += 0.5 * np.mean((Xc[:, j] - Xc[:, pa] @ coef) ** 2)
        else:
            total += 0.5 * np.mean(Xc[:, j] ** 2)
    np.testing.assert_allclose(S.weights(fit), W_ls, atol=1e-9)
    assert fit.total == pytest.approx(total, rel=1e-10)
    assert S.value(W_ls) == pytest.approx(total, rel=1e-10)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("lambda1,lambda2", [(0.0, 0.0), (0.0, 0.05), (0.02, 0.0)])
def test_swap_update_equals_refit(backend, lambda1, lambda2):
    _, _, X = _sem(8, 12, seed=5)
    S = LinearScore(X, lambda1=lambda1, lambda2=lambda2, backend=backend)
    order = np.random.default_rng(1).permutation(8)
    fit = S.start(order)
    P, Q, M = np.array([0, 2, 1, 3]), np.array([7, 5, 2, 6]), np.array([0, 1, 2, 0])
    deltas = S.deltas(fit, P, Q, M)
    for t in range(4):
        refit = S.start(moved_order(order, P[t], Q[t], M[t]))
        assert deltas[t] == pytest.approx(refit.total - fit.total, abs=1e-7)
    S.apply(fit, 1, 6, 0)
    refit = S.start(moved_order(order, 1, 6, 0))
    assert fit.total == pytest.approx(refit.total, abs=1e-7)
    np.testing.assert_allclose(S.weights(fit), S.weights(refit), atol=1e-5)


@pytest.mark.parametrize("graph,noise", [("ER", "gauss"), ("SF", "exp"), ("ER", "gumbel")])
def test_exact_recovery_small_sems(graph, noise):
    B, W, X = _sem(10, 20, graph, noise, n=2000, seed=7)
    res = topo(X)
    assert res.success and res.status == Status.NO_IMPROVEMENT.code
    assert is_dag(res.x)
    assert shd(B, res.x) == 0
    np.testing.assert_allclose(res.x, W, atol=0.15)


def test_random_start_and_postprocessing_reach_low_scores():
    B, W, X = _sem(12, 24, "ER", seed=3)
    S = LinearScore(X)
    true = S.value(S.refit_support(B))
    for init in ("random", np.zeros((12, 12)), B.T):
        res = topo(X, init=init, seed=1)
        assert is_dag(res.x)
        assert res.score <= true + 0.05
    # from the reversed graph's order TOPO must move many nodes
    assert topo(X, init=B.T).n_moves > 0


def test_every_returned_graph_is_acyclic_across_options():
    _, _, X = _sem(9, 18, "SF", seed=2)
    for opts in ({"moves": ("swap",)}, {"size_small": 3, "size_large": 10}, {"h": "expm"},
                 {"maxiter": 1}, {"threshold": 0.0}, {"refit": False}):
        res = topo(X, init="random", seed=0, **opts)
        assert is_dag(res.x), opts
        assert res.success or res.message == Status.MAXITER.value


def test_logistic_score_on_binary_data():
    B = np.zeros((4, 4), int)
    B[0, 1] = B[1, 2] = B[0, 3] = 1
    W = 3.0 * B
    X = simulate_linear_sem(W, 2000, "logistic", seed=0)
    res = topo(X, score_type="logistic", lambda1=0.01, threshold=0.5)
    assert is_dag(res.x)
    assert shd(B, res.x) <= 2
    S = LogisticScore(X, lambda1=0.01)
    fit = S.start(res.order)
    assert S.deltas(fit, [0], [3], [0])[0] == pytest.approx(
        S.start(moved_order(res.order, 0, 3, 0)).total - fit.total, abs=1e-5)


@pytest.mark.parametrize("data_seed", [0, 1])
def test_logistic_topo_recovers_an_identifiable_binary_dag(data_seed):
    """0 -> 2 <- 1 -> ... a v-structure at 2 and 2 -> 3: the equivalence class is this one graph."""
    B = np.zeros((4, 4), int)
    B[0, 2] = B[1, 2] = B[2, 3] = 1
    W = 3.0 * B
    W[1, 2] = -3.0
    X = simulate_linear_sem(W, 2000, "logistic", seed=data_seed)
    res = topo(X, score_type="logistic", lambda1=0.01, threshold=0.5, init="random", seed=data_seed)
    assert is_dag(res.x)
    assert shd(B, res.x) <= 1                  # runs give 0
    assert np.all(np.abs(res.x[B == 1]) > 1.5)


def test_estimator_and_callback():
    B, _, X = _sem(6, 6, seed=2)
    seen = []
    est = TopoDAG(maxiter=50).fit(X)
    assert est.adjacency_.shape == (6, 6) and sorted(est.order_) == list(range(6))
    topo(X, init="random", seed=0, callback=lambda intermediate_result: seen.append(intermediate_result.fun))
    assert all(b <= a + 1e-12 for a, b in zip(seen[:-1], seen[1:], strict=True))


def test_order_helpers():
    C = np.array([[4.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert greedy_order(C).tolist() == [1, 2, 0]
    W = np.zeros((3, 3))
    W[2, 0] = W[0, 1] = 1.0
    W[1, 2] = 0.1  # weakest edge of the cycle 2 -> 0 -> 1 -> 2
    assert order_from_graph(W).tolist() == [2, 0, 1]


def test_bad_input():
    _, _, X = _sem(5, 5, seed=0)
    with pytest.raises(ValueError, match="NaN or inf"):
        topo(np.where(np.eye(1000, 5, dtype=bool), np.nan, X))
    Xc = X.copy()
    Xc[:, 2] = 3.0
    with pytest.raises(ValueError, match=r"constant columns \[2\]"):
        topo(Xc)
    with pytest.raises(ValueError, match="more samples than variables"):
        topo(X[:5])
    assert topo(X[:5], lambda2=0.1).x.shape == (5, 5)
    with pytest.raises(ValueError, match="at least 2 columns"):
        topo(X[:, :1])
    with pytest.raises(ValueError, match="permutation"):
        topo(X, init=[0, 1, 2, 3, 3])
    with pytest.raises(ValueError, match="permutation"):
        topo(X, init=[0, 1, 2])
    with pytest.raises(ValueError, match="shape"):
        topo(X, init=np.zeros((4, 4)))
    with pytest.raises(ValueError, match="binary"):
        topo(X, score_type="logistic")
    with pytest.raises(ValueError, match="Unknown option"):
        TOPO(size_smal=10)
    with pytest.raises(ValueError, match="moves"):
        topo(X, moves=("swop",))
    with pytest.raises(ValueError, match="score"):
        topo(X, score_type="quadratic")
