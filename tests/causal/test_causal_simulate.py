import numpy as np
import pytest

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
def test_nonlinear_sem_shapes(kind):
    B = simulate_dag(4, 4, "ER", seed=0)
    X = simulate_nonlinear_sem(B, 60, kind, seed=0)
    assert X.shape == (60, 4) and np.all(np.isfinite(X))


def test_cyclic_weights_rejected():
    with pytest.raises(ValueError, match="cycle"):
        simulate_linear_sem(np.array([[0, 1.0], [1.0, 0]]), 10)
