import numpy as np
import pytest

from numopt.causal import _kernels as K


@pytest.fixture
def factor():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 9)) @ rng.normal(size=(9, 9))
    return np.linalg.cholesky(X.T @ X / 60)


def test_move_deltas_match_refactorization(factor):
    P = np.array([0, 0, 2, 3, 5, 7])
    Q = np.array([8, 1, 6, 4, 8, 8])
    for mode in range(3):
        M = np.full(len(P), mode)
        np.testing.assert_allclose(K.move_deltas(factor, P, Q, M), K.move_deltas_reference(factor, P, Q, M),
                                   atol=1e-12)


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_apply_move_gives_the_factor_of_the_permuted_matrix(factor, mode):
    L = factor.copy()
    K.apply_move(L, 1, 7, mode)
    R = K.apply_move_reference(factor, 1, 7, mode)
    assert np.abs(np.triu(L, 1)).max() == 0.0
    np.testing.assert_allclose(L @ L.T, R @ R.T, atol=1e-12)
    np.testing.assert_allclose(np.abs(np.diag(L)), np.diag(R), atol=1e-12)


def test_unit_lower_inverse(factor):
    np.testing.assert_allclose(K.unit_lower_inverse(factor), K.unit_lower_inverse_reference(factor), atol=1e-12)


@pytest.mark.parametrize("lam1,lam2", [(0.05, 0.0), (0.02, 0.1), (0.0, 0.0)])
def test_lasso_gram_matches_ista(factor, lam1, lam2):
    C = factor @ factor.T
    idx = np.array([0, 2, 3, 6])
    w = np.zeros(4)
    f = K.lasso_gram(C, 8, idx, w, lam1, lam2, 5000, 1e-13)
    w_ref, f_ref = K.lasso_gram_reference(C, 8, idx, lam1, lam2)
    np.testing.assert_allclose(w, w_ref, atol=1e-6)
    assert f == pytest.approx(f_ref, abs=1e-9)
