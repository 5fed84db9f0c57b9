import numpy as np
import pytest

from numopt.causal import _kernels

pytestmark = pytest.mark.gpu


def test_gpu_paths_match_cpu():
    from numopt.causal import LinearScore, _gpu, simulate_dag, simulate_linear_sem, simulate_parameter

    B = simulate_dag(12, 24, "ER", seed=0)
    X = simulate_linear_sem(simulate_parameter(B, seed=0), 500, seed=0)
    S = LinearScore(X, backend="numpy")
    order = np.random.default_rng(0).permutation(12)
    fit = S.start(order)
    W, losses = _gpu.fit_order(S.C, order)
    np.testing.assert_allclose(W, S.weights(fit), atol=1e-8)
    assert losses.sum() == pytest.approx(fit.total)
    P, Q, M = np.array([0, 3, 2]), np.array([11, 5, 9]), np.array([0, 1, 2])
    np.testing.assert_allclose(_gpu.move_deltas(fit.L, P, Q, M), _kernels.move_deltas_reference(fit.L, P, Q, M),
                               atol=1e-9)
    G = LinearScore(X, backend="cupy")
    np.testing.assert_allclose(G.deltas(G.start(order), P, Q, M), S.deltas(fit, P, Q, M), atol=1e-9)
