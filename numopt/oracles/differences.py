"""Finite differences: the one implementation every problem type and solver uses.

Step sizes follow scipy: ``sqrt(eps) * max(1, |x_i|)`` for forward
differences and ``eps**(1/3) * max(1, |x_i|)`` for central differences; a
directional difference along ``v`` scales the step by ``max(1, ||x||) / ||v||``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core.validate import check_choice

__all__ = [
    "FD_SCHEMES",
    "finite_difference_gradient",
    "finite_difference_hessp",
    "finite_difference_jacobian",
]

FD_SCHEMES = ("2-point", "3-point")


def _relative_step(scheme: str) -> float:
    eps = np.finfo(float).eps
    return np.sqrt(eps) if scheme == "2-point" else eps ** (1 / 3)


def finite_difference_jacobian(fun: Callable, x: np.ndarray, f0=None, scheme: str = "2-point"):
    """Jacobian of ``fun`` at ``x`` by forward ('2-point') or central ('3-point') differences.

    Returns an array of shape ``(m, n)`` (``(n,)`` when ``fun`` is scalar) and
    the number of extra ``fun`` evaluations used.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.oracles import finite_difference_jacobian
    >>> J, nev = finite_difference_jacobian(lambda x: np.array([x[0] * x[1]]), np.array([2.0, 3.0]))
    >>> np.allclose(J, [[3.0, 2.0]]), nev
    (True, 2)
    """
    check_choice("scheme", scheme, FD_SCHEMES)
    x = np.asarray(x, dtype=float)
    h = _relative_step(scheme) * np.maximum(1.0, np.abs(x))
    if f0 is None and scheme == "2-point":
        f0 = np.asarray(fun(x), dtype=float)
    cols = []
    nev = 0
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h[i]
        if scheme == "2-point":
            cols.append((np.asarray(fun(x + e), dtype=float) - f0) / h[i])
            nev += 1
        else:
            fp = np.asarray(fun(x + e), dtype=float)
            fm = np.asarray(fun(x - e), dtype=float)
            cols.append((fp - fm) / (2 * h[i]))
            nev += 2
    J = np.stack(cols, axis=-1)
    return J, nev


def finite_difference_gradient(fun: Callable, x, f0=None, scheme: str = "2-point"):
    """Gradient of a scalar ``fun`` by finite differences (see :func:`finite_difference_jacobian`).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.oracles import finite_difference_gradient
    >>> g, nev = finite_difference_gradient(lambda x: x @ x, np.array([1.0, -2.0]), scheme="3-point")
    >>> np.allclose(g, [2.0, -4.0]), nev
    (True, 4)
    """
    J, nev = finite_difference_jacobian(fun, x, f0, scheme)
    return np.asarray(J).reshape(-1), nev


def finite_difference_hessp(grad: Callable, x, v, g0=None, scheme: str = "2-point"):
    """Directional derivative of ``grad`` along ``v``: a Hessian-vector product ``H(x) v``.

    Returns the product and the number of ``grad`` evaluations used (1 for
    '2-point' when ``g0 = grad(x)`` is given, 2 otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.oracles import finite_difference_hessp
    >>> grad = lambda x: np.array([2 * x[0] + x[1], x[0] + 4 * x[1]])
    >>> hv, nev = finite_difference_hessp(grad, np.zeros(2), np.array([1.0, 1.0]), scheme="3-point")
    >>> np.allclose(hv, [3.0, 5.0]), nev
    (True, 2)
    """
    check_choice("scheme", scheme, FD_SCHEMES)
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    vnorm = float(np.linalg.norm(v))
    if vnorm == 0.0:
        return np.zeros_like(x), 0
    h = _relative_step(scheme) * max(1.0, float(np.linalg.norm(x))) / vnorm
    if scheme == "2-point":
        nev = 1
        if g0 is None:
            g0 = grad(x)
            nev += 1
        return (np.asarray(grad(x + h * v), dtype=float) - g0) / h, nev
    gp = np.asarray(grad(x + h * v), dtype=float)
    gm = np.asarray(grad(x - h * v), dtype=float)
    return (gp - gm) / (2 * h), 2
