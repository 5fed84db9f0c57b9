"""PDE-constrained control on an N x N grid (Hong, Na, Mahoney, Kolar, ICML 2023, section 5).

``min_{w, z} 1/2 ||w - w*||^2 + 0.05 ||z||^2  s.t.  Delta_h w + z = 0``

with ``Delta_h`` the 5-point Laplacian (zero Dirichlet boundary, spacing
``h = 2 / (N + 1)``) and the target
``w*_ij = sin(4 + 0.1/sqrt(15) (i - (N+1)/2)) + cos(3 + 0.1/sqrt(15) (j - (N+1)/2))``,
``i, j = 1..N``. Variables ``x = (w, z)``: ``n = 2 N^2``, ``m = N^2``. Every
derivative is a sparse matrix (N = 256 has 131072 variables).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._core.validate import check_positive
from ..oracles import ConstrainedProblem, ScalarFunction, VectorFunction
from .pde import poisson

__all__ = ["pde_control", "target_state"]

CONTROL_WEIGHT = 0.05


def target_state(N: int) -> np.ndarray:
    """The target ``w*`` as an ``(N, N)`` array.

    Examples
    --------
    >>> target_state(3).shape
    (3, 3)
    """
    i = np.arange(1, N + 1)
    shift = 0.1 / np.sqrt(15.0)
    return np.sin(4 + shift * (i[:, None] - (N + 1) / 2)) + np.cos(3 + shift * (i[None, :] - (N + 1) / 2))


def pde_control(N: int) -> ConstrainedProblem:
    """The control problem on an ``N x N`` grid with sparse derivatives; ``x0 = 0``.

    Examples
    --------
    >>> p = pde_control(4)
    >>> p.n, p.m_eq, type(p.jac(p.x0)).__name__
    (32, 16, 'csr_matrix')
    """
    check_positive("N", N, integer=True)
    N = int(N)
    k = N * N
    h = 2.0 / (N + 1)
    lap = -poisson((N, N), h=h)
    J = sp.hstack([lap, sp.identity(k, format="csr")], format="csr")
    wstar = target_state(N).ravel()
    H = sp.diags(np.concatenate([np.ones(k), np.full(k, 2 * CONTROL_WEIGHT)]), format="csr")
    zero = sp.csr_matrix((2 * k, 2 * k))

    def fun(x):
        w, z = x[:k], x[k:]
        return 0.5 * float((w - wstar) @ (w - wstar)) + CONTROL_WEIGHT * float(z @ z)

    def grad(x):
        return np.concatenate([x[:k] - wstar, 2 * CONTROL_WEIGHT * x[k:]])

    objective = ScalarFunction(fun, grad=grad, hess=lambda x: H, hessp=lambda x, p: H @ p)
    eq = VectorFunction(lambda x: J @ x, jac=lambda x: J, hess=lambda x, v: zero, m=k)
    return ConstrainedProblem(objective, eq=eq, n=2 * k, x0=np.zeros(2 * k), name=f"pde control N={N}")
