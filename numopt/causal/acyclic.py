"""Acyclicity functions h(W) >= 0, zero exactly on DAGs, with their gradients.

``h_logdet(W, s) = -log det(sI - W o W) + d log s`` (DAGMA / TOPO) and
``h_expm(W) = tr exp(W o W) - d`` (NOTEARS), where ``o`` is the elementwise product.
Both are functions of ``A = W o W``; their gradient with respect to ``A``,
:func:`path_weights`, is a weighted count of directed paths: entry ``(i, j)``
sums the weights of paths from ``j`` to ``i``, so it is zero exactly when
adding the edge ``i -> j`` keeps the graph acyclic. TOPO uses it to rank
candidate swaps.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from .._core.validate import as_float_array, check_choice, check_positive, check_square

__all__ = ["acyclicity", "h_expm", "h_logdet", "path_weights"]

KINDS = ("logdet", "expm")


def _square(W, name="W"):
    W = as_float_array(W, name, ndim=2)
    check_square(W, name)
    return W


def h_logdet(W, s: float = 1.0):
    """Log-determinant acyclicity ``h(W) = -log det(sI - W o W) + d log s`` and its gradient.

    Defined where ``s`` exceeds the spectral radius of ``W o W`` (always true for
    a DAG, whose ``W o W`` is nilpotent).

    Parameters
    ----------
    W : (d, d) array_like
        Weighted adjacency matrix (``W[i, j]`` is the edge ``i -> j``).
    s : float, default 1
        Scale, ``s > 0``.

    Returns
    -------
    h : float
    grad : (d, d) ndarray
        ``2 W o (sI - W o W)^{-T}``.

    Raises
    ------
    ValueError
        If ``sI - W o W`` is not an M-matrix (``s`` at or below the spectral radius).

    Examples
    --------
    >>> from numopt.causal import h_logdet
    >>> h, g = h_logdet(np.array([[0.0, 1.0], [0.0, 0.0]]))
    >>> float(h)
    0.0
    >>> h, g = h_logdet(np.array([[0.0, 0.5], [0.5, 0.0]]))
    >>> round(float(h), 6)
    0.064539
    """
    W = _square(W)
    check_positive("s", s)
    d = W.shape[0]
    M = s * np.eye(d) - W * W
    sign, logdet = np.linalg.slogdet(M)
    rho = np.max(np.abs(np.linalg.eigvals(W * W))) if d else 0.0
    if sign <= 0 or rho >= s:
        raise ValueError(
            f"h_logdet needs s > spectral radius of W o W; got s={s} and radius {rho:.4g}. "
            "Use a larger s or h_expm."
        )
    h = -logdet + d * np.log(s)
    grad = 2.0 * W * np.linalg.inv(M).T
    return float(h), grad


def h_expm(W):
    """Trace-exponential acyclicity ``h(W) = tr exp(W o W) - d`` and its gradient.

    Returns
    -------
    h : float
    grad : (d, d) ndarray
        ``2 W o exp(W o W)^T``.

    Examples
    --------
    >>> from numopt.causal import h_expm
    >>> h, g = h_expm(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> round(h, 6)
    1.086161
    """
    W = _square(W)
    E = sla.expm(W * W)
    return float(np.trace(E) - W.shape[0]), 2.0 * W * E.T


def acyclicity(W, kind: str = "logdet", s: float = 1.0):
    """``(h, grad)`` for ``kind`` in ``'logdet'``, ``'expm'``.

    Examples
    --------
    >>> from numopt.causal import acyclicity
    >>> acyclicity(np.zeros((3, 3)), "expm")[0]
    0.0
    """
    check_choice("kind", kind, KINDS)
    return h_logdet(W, s) if kind == "logdet" else h_expm(W)


def path_weights(W, kind: str = "logdet", s: float = 1.0, order=None) -> np.ndarray:
    """Gradient of ``h`` with respect to ``A = W o W``: weighted path counts.

    Entry ``(i, j)`` is ``sum_k [A^k]_{ji} / s^{k+1}`` for ``'logdet'`` and
    ``sum_k [A^k]_{ji} / k!`` for ``'expm'`` (``k >= 0``); for ``i != j`` it is zero
    exactly when no directed path leads from ``j`` to ``i``. When ``order`` (a
    topological order of ``W``) is given, ``'logdet'`` uses a triangular solve.

    Examples
    --------
    >>> from numopt.causal import path_weights
    >>> W = np.array([[0, 2.0, 0], [0, 0, 1.0], [0, 0, 0]])   # 0 -> 1 -> 2
    >>> float(path_weights(W)[2, 0])     # adding 2 -> 0 closes the cycle 0 -> 1 -> 2 -> 0
    4.0
    >>> float(path_weights(W)[0, 2])     # adding 0 -> 2 is safe
    0.0
    """
    W = _square(W)
    check_choice("kind", kind, KINDS)
    A = W * W
    if kind == "expm":
        return sla.expm(A).T
    check_positive("s", s)
    d = W.shape[0]
    if order is not None:
        order = np.asarray(order)
        from ._kernels import unit_lower_inverse

        inv = np.empty((d, d))
        inv[np.ix_(order, order)] = unit_lower_inverse(-A[np.ix_(order, order)].T / s).T / s
        return inv.T
    return np.linalg.inv(s * np.eye(d) - A).T
