import numpy as np
import pytest

from numopt.causal import acyclicity, h_expm, h_logdet, path_weights, simulate_dag, simulate_parameter
from numopt.causal.topo import order_from_graph


def _fd_grad(f, W, eps=1e-6):
    G = np.zeros_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            E = np.zeros_like(W)
            E[i, j] = eps
            G[i, j] = (f(W + E) - f(W - E)) / (2 * eps)
    return G


@pytest.mark.parametrize("h", [lambda W: h_logdet(W, s=1.5), h_expm])
def test_gradient_matches_finite_differences(h):
    rng = np.random.default_rng(0)
    W = rng.normal(scale=0.3, size=(5, 5))
    value, grad = h(W)
    assert value > 0  # a dense W has cycles
    np.testing.assert_allclose(grad, _fd_grad(lambda V: h(V)[0], W), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("h", [h_logdet, h_expm])
def test_zero_exactly_on_dags(h):
    B = simulate_dag(8, 12, "ER", seed=1)
    W = simulate_parameter(B, seed=1) * 0.4
    assert abs(h(W)[0]) < 1e-10
    W[np.nonzero(B.T)] = 0.2  # reversing edges closes cycles
    assert h(W)[0] > 1e-6


def test_path_weights_count_paths_and_triangular_solve_matches():
    W = np.zeros((4, 4))
    W[0, 1], W[1, 2], W[0, 2] = 2.0, 0.5, 1.0
    G = path_weights(W)
    # paths 0 -> 2: direct (1.0^2) and via 1 (2^2 * 0.5^2) -> 2.0
    assert G[2, 0] == pytest.approx(2.0)
    assert G[0, 2] == 0.0 and G[3, 0] == 0.0
    B = simulate_dag(9, 14, "SF", seed=2)
    W = simulate_parameter(B, seed=2) * 0.3
    order = order_from_graph(W)
    for s in (1.0, 2.0):
        np.testing.assert_allclose(path_weights(W, s=s, order=order), path_weights(W, s=s), atol=1e-12)
    np.testing.assert_allclose(np.diag(path_weights(W, "expm")), 1.0)


def test_logdet_outside_domain_is_an_error():
    with pytest.raises(ValueError, match="spectral radius"):
        h_logdet(np.array([[0.0, 2.0], [2.0, 0.0]]))
    with pytest.raises(ValueError, match="square"):
        h_expm(np.zeros((2, 3)))


def test_dispatch_and_choice_errors():
    W = np.array([[0.0, 0.3], [0.2, 0.0]])
    assert acyclicity(W, "expm")[0] == h_expm(W)[0]
    assert acyclicity(W)[0] == h_logdet(W)[0]
    with pytest.raises(ValueError, match="kind"):
        acyclicity(W, "trace")
