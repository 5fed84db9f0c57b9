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

from .._core.validate import check_positive, check_rng
from ..losses import GLM
from ..oracles import ConstrainedProblem, ScalarFunction, VectorFunction

__all__ = ["PAPER_DATASETS", "constrained_logistic", "load"]

PAPER_DATASETS = ("ionosphere_scale", "mushrooms", "phishing", "sonar_scale", "splice_scale", "a9a", "w8a")


def constrained_logistic(X, y, *, n_linear: int = 10, seed=0, name: str = "constrained logistic"):
    """The constrained logistic regression problem on data ``(X, y)``, labels in {-1, +1}.

    Parameters
    ----------
    X : array or sparse matrix, shape (N, d)
    y : array, shape (N,)
        Labels in {-1, +1}.
    n_linear : int
        Rows of the random linear constraint ``A w = b``.
    seed : None, int or Generator
        Draws ``A`` and ``b``.

    Returns
    -------
    ConstrainedProblem
        Objective from :class:`numopt.losses.GLM`: exact gradient, dense Hessian
        ``X^T D X / N`` and Hessian-vector products; constraints ``[A w - b; ||w||^2 - 1]``
        with their Jacobian and Hessian. ``x0`` is all ones.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 5)); y = np.sign(rng.standard_normal(40))
    >>> p = constrained_logistic(X, y, n_linear=2)
    >>> p.n, p.m_eq, p.cons(p.x0).shape
    (5, 3, (3,))
    """
    glm = GLM(X, y, "logistic")
    d = glm.n_features
    check_positive("n_linear", n_linear, strict=False, integer=True)
    rng = check_rng(seed)
    A = rng.standard_normal((n_linear, d))
    b = rng.standard_normal(n_linear)

    def hess(w):
        H = glm.hess(w)
        return H.toarray() if sp.issparse(H) else H

    def cons(w):
        return np.concatenate([A @ w - b, [w @ w - 1.0]])

    def jac(w):
        return np.vstack([A, 2.0 * w[None, :]])

    def cons_hess(w, v):
        return 2.0 * v[-1] * np.eye(d)

    objective = ScalarFunction(glm.value, grad=glm.grad, hess=hess, hessp=glm.hessp)
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
