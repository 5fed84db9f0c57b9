"""Distributed ridge and logistic problems: constants, minimizers, data splits."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from numopt.decentralized import LocalDataProblem, from_dataset, libsvm_problem, logistic_problem, ridge_problem


def test_ridge_minimizer_matches_scikit_learn():
    p = ridge_problem(5, m_per_node=12, dim=4, reg=0.2, seed=0)
    # sum_i (1/m) sum_rows (a x - b)^2 / 2 + n reg/2 |x|^2  <=>  Ridge(alpha = N reg) on all rows
    A, b = p.A.toarray(), p.b
    ref = Ridge(alpha=A.shape[0] * 0.2, fit_intercept=False, tol=1e-12).fit(A, b).coef_
    np.testing.assert_allclose(p.x_star(), ref, rtol=1e-8)


def test_logistic_minimizer_matches_scikit_learn():
    p = logistic_problem(4, m_per_node=25, dim=5, reg=0.05, seed=1)
    A, b = p.A.toarray(), p.b
    clf = LogisticRegression(C=1.0 / (A.shape[0] * 0.05), fit_intercept=False, tol=1e-12, max_iter=10000)
    np.testing.assert_allclose(p.x_star(), clf.fit(A, b).coef_.ravel(), rtol=1e-5)


def test_constants_bound_the_local_curvature():
    p = ridge_problem(3, m_per_node=8, dim=3, seed=2)
    for i in range(3):
        Ai, _ = p.block(i)
        ev = np.linalg.eigvalsh(Ai.T @ Ai / 8 + p.reg * np.eye(3))
        assert p.mu - 1e-12 <= ev[0] and ev[-1] <= p.L + 1e-12
    # grad f_i(grad f_i^*(y)) = y
    Y = np.random.default_rng(0).normal(size=(3, 3))
    X = p.conj_grad_all(Y)
    np.testing.assert_allclose([p.local_grad(i, X[i]) for i in range(3)], Y, atol=1e-12)


def test_split_errors():
    with pytest.raises(ValueError, match="cannot split 3 rows over n_nodes=4"):
        from_dataset(np.ones((3, 2)), np.ones(3), 4)
    with pytest.raises(ValueError, match=r"b must hold labels in \{-1, \+1\}"):
        from_dataset(np.eye(4), np.arange(4.0), 2, loss="logistic")


def test_libsvm_rows_split_over_nodes():
    pytest.importorskip("numopt.problems.libsvm")
    p = libsvm_problem("heart_scale", n_nodes=9, reg=0.1, seed=0)
    assert p.n_nodes == 9 and p.A.shape[0] == 270 and p.L <= 0.25 + 0.1 + 1e-12
    g = sum(p.local_grad(i, p.x_star()) for i in range(9))
    assert np.linalg.norm(g) < 1e-9


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_local_gradients_match_the_written_out_formula(loss):
    rng = np.random.default_rng(5)
    A = rng.standard_normal((9, 3))
    b = np.sign(rng.standard_normal(9)) if loss == "logistic" else rng.standard_normal(9)
    p = LocalDataProblem(A, b, node_ptr=[0, 4, 9], loss=loss, reg=0.3)
    x = rng.standard_normal(3)
    for i, rows in enumerate((slice(0, 4), slice(4, 9))):
        Ai, bi, s = A[rows], b[rows], A[rows] @ x
        slope = s - bi if loss == "squared" else -bi / (1.0 + np.exp(bi * s))
        np.testing.assert_allclose(p.local_grad(i, x), Ai.T @ slope / len(bi) + 0.3 * x, rtol=1e-12)
    # and the sum of the local objectives at x* has a zero gradient
    assert np.linalg.norm(sum(p.local_grad(i, p.x_star()) for i in range(2))) < 1e-10
