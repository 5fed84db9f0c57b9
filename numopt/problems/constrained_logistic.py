"""Constrained logistic regression (Hong, Na, Mahoney, Kolar, ICML 2023, section 5).

``min_w (1/N) sum_i log(1 + exp(-y_i a_i^T w))  s.t.  A w = b,  ||w||^2 = 1``
with ``A`` (10 x d) and ``b`` drawn from N(0, 1), ``m = 11`` constraints, and the
start ``w0 = (1, ..., 1)``. :func:`load` builds it on a LIBSVM data set
(``ionosphere_scale``, ``mushrooms``, ``phishing``, ``sonar_scale``,
``splice_scale``, ``a9a``, ``w8a`` in the paper).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ..oracles import ConstrainedProblem, ScalarFunction, VectorFunction
from .._core.validate import as_float_array, check_positive, check_rng

__all__ = ["PAPER_DATASETS", "constrained_logistic", "load"]

PAPER_DATASETS = ("ionosphere_scale", "mushrooms", "phishing", "sonar_scale", "splice_scale", "a9a", "w8a")


def constrained_logistic(X, y, *, n_linear: int = 10, seed=0, name: str = "constrained logistic"):
    """The constrained logistic regression problem on data ``(X, y)``, labels in {-1, +1}.

    Parameters
    ----------
    X : array or sparse matrix, shape (N, d)
    y : array, shape (N,)
    n_linear : int
        Rows of the random linear constraint ``A w = b``.
    seed : None, int or Generator
        Draws ``A`` and ``b``.

    Returns
    -------
    ConstrainedProblem
        Exact gradient, dense Hessian ``X^T D X / N`` and Hessian-vector
        products; constraints ``[A w - b; ||w||^2 - 1]`` with their Jacobian and
        Hessian. ``x0`` is all ones.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 5)); y = np.sign(rng.standard_normal(40))
    >>> p = constrained_logistic(X, y, n_linear=2)
    >>> p.n, p.m_eq, p.cons(p.x0).shape
    (5, 3, (3,))
    """
    X = sp.csr_matrix(X, dtype=float) if sp.issparse(X) else as_float_array(X, "X", ndim=2)
    N, d = X.shape
    y = as_float_array(y, "y", shape=(N,))
    if not np.all(np.abs(y) == 1):
        raise ValueError("y must hold labels -1 and +1.")
    check_positive("n_linear", n_linear, strict=False, integer=True)
    rng = check_rng(seed)
    A = rng.standard_normal((n_linear, d))
    b = rng.standard_normal(n_linear)

    def margins(w):
        return y * np.asarray(X @ w).ravel()

    def fun(w):
        return float(np.mean(np.logaddexp(0.0, -margins(w))))

    def grad(w):
        s = expit(-margins(w))
        return -np.asarray(X.T @ (y * s)).ravel() / N

    def weights(w):
        p = expit(margins(w))
        return p * (1.0 - p) / N

    def hess(w):
        D = weights(w)
        if sp.issparse(X):
            return np.asarray((X.T @ X.multiply(D[:, None])).todense())
        return X.T @ (X * D[:, None])

    def hessp(w, v):
        return np.asarray(X.T @ (weights(w) * np.asarray(X @ v).ravel())).ravel()

    def cons(w):
        return np.concatenate([A @ w - b, [w @ w - 1.0]])

    def jac(w):
        return np.vstack([A, 2.0 * w[None, :]])

    def cons_hess(w, v):
        return 2.0 * v[-1] * np.eye(d)

    objective = ScalarFunction(fun, grad=grad, hess=hess, hessp=hessp)
    eq = VectorFunction(cons, jac=jac, hess=cons_hess, m=n_linear + 1)
    return ConstrainedProblem(objective, eq=eq, n=d, x0=np.ones(d), name=name)


def load(name: str, *, n_linear: int = 10, seed=0, data_home=None):
    """:func:`constrained_logistic` on the LIBSVM data set ``name`` (``$NUMOPT_DATA``).

    Examples
    --------
    >>> p = load("sonar_scale")
    >>> p.n, p.m_eq
    (60, 11)
    """
    from .libsvm import load as load_libsvm

    X, y = load_libsvm(name, data_home=data_home)
    return constrained_logistic(X, y, n_linear=n_linear, seed=seed, name=f"constrained logistic ({name})")
