"""The constrained logistic regression problem built on numopt.losses.GLM."""

import numpy as np
import pytest
import scipy.sparse as sp

from numopt.oracles import finite_difference_jacobian
from numopt.problems.constrained_logistic import constrained_logistic


@pytest.mark.parametrize("sparse", [False, True])
def test_objective_derivatives_and_dense_hessian(sparse):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((25, 4)) * (rng.random((25, 4)) < 0.7)
    y = np.where(rng.random(25) < 0.5, -1.0, 1.0)
    p = constrained_logistic(sp.csr_matrix(X) if sparse else X, y, n_linear=2)
    f = p.objective
    w = rng.standard_normal(4)
    assert f.fun(w) == pytest.approx(np.mean(np.logaddexp(0.0, -y * (X @ w))), rel=1e-13)
    g_fd, _ = finite_difference_jacobian(f.fun, w, scheme="3-point")
    np.testing.assert_allclose(f.grad(w), g_fd, rtol=1e-7, atol=1e-8)
    H = f.hess(w)
    assert isinstance(H, np.ndarray)
    H_fd, _ = finite_difference_jacobian(f.grad, w, scheme="3-point")
    np.testing.assert_allclose(H, H_fd, rtol=1e-6, atol=1e-7)
    v = np.arange(4.0)
    np.testing.assert_allclose(f.hessp(w, v), H @ v, atol=1e-12)
    np.testing.assert_allclose(p.cons(np.zeros(4))[-1], -1.0)


def test_labels_must_be_plus_minus_one():
    with pytest.raises(ValueError, match=r"y must hold labels in \{-1, \+1\}"):
        constrained_logistic(np.ones((3, 2)), np.array([0.0, 1.0, 1.0]))
