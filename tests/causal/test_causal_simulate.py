import numpy as np
import pytest
from sklearn.model_selection import cross_val_predict
from sklearn.neighbors import KNeighborsRegressor

from numopt.causal import is_dag, simulate_dag, simulate_linear_sem, simulate_nonlinear_sem, simulate_parameter


@pytest.mark.parametrize("graph", ["ER", "SF", "BP"])
def test_graphs_are_dags_with_about_s0_edges(graph):
    B = simulate_dag(40, 80, graph, seed=3)
    assert is_dag(B)
    assert 40 <= B.sum() <= 120
    assert np.array_equal(B, simulate_dag(40, 80, graph, seed=3))


def test_weights_in_range():
    B = simulate_dag(20, 40, "ER", seed=0)
    W = simulate_parameter(B, seed=0)
    w = np.abs(W[B == 1])
    assert np.all((w >= 0.5) & (w <= 2.0))
    assert np.all(W[B == 0] == 0)


@pytest.mark.parametrize("noise", ["gauss", "exp", "gumbel", "uniform", "logistic", "poisson"])
def test_linear_sem_regression_recovers_weights(noise):
    W = np.array([[0, 0.8], [0, 0.0]])
    X = simulate_linear_sem(W, 4000, noise, seed=1)
    assert X.shape == (4000, 2) and np.all(np.isfinite(X))
    if noise == "logistic":
        assert set(np.unique(X)) <= {0.0, 1.0}
    elif noise != "poisson":
        x0 = X[:, 0] - X[:, 0].mean()
        slope = x0 @ (X[:, 1] - X[:, 1].mean()) / (x0 @ x0)
        assert slope == pytest.approx(0.8, abs=0.08)


@pytest.mark.parametrize("kind", ["mlp", "mim", "gp"])
def test_nonlinear_sem_data_follow_the_dag(kind):
    """Roots are pure noise; each other node is a function of its parents plus noise of the given scale."""
    B = simulate_dag(5, 6, "ER", seed=1)          # roots 0 and 4; nodes 1, 2, 3 have 2-3 parents
    noise = 0.3
    X = simulate_nonlinear_sem(B, 800, kind, noise_scale=noise, seed=2)
    assert np.array_equal(X, simulate_nonlinear_sem(B, 800, kind, noise_scale=noise, seed=2))
    explained = []
    for j in range(5):
        parents = np.flatnonzero(B[:, j])
        if parents.size == 0:
            assert X[:, j].var() == pytest.approx(noise**2, rel=0.2)
            continue
        fitted = cross_val_predict(KNeighborsRegressor(15), X[:, parents], X[:, j], cv=5)
        residual = np.var(X[:, j] - fitted)
        assert 0.8 * noise**2 <= residual <= 2.5 * noise**2, (j, residual)   # parents explain the rest
        explained.append(X[:, j].var() / residual)
    assert max(explained) > 3                     # and the parents do matter
    roots = np.flatnonzero(B.sum(axis=0) == 0)
    assert abs(np.corrcoef(X[:, roots[0]], X[:, roots[1]])[0, 1]) < 0.1   # independent roots


def test_cyclic_weights_rejected():
    with pytest.raises(ValueError, match="cycle"):
        simulate_linear_sem(np.array([[0, 1.0], [1.0, 0]]), 10)
