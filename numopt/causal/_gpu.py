"""CuPy paths for TOPO's linear score: batched per-node regressions and batched move scores.

``fit_order`` regresses every node on its predecessors at once (one Cholesky of
the permuted covariance and one triangular inverse on the GPU).
``move_deltas`` scores a batch of moves: each moved block's Schur complement is
permuted and padded with an identity to a common size, and one batched
Cholesky gives every new diagonal (the padding contributes ones, subtracted).
"""

from __future__ import annotations

import cupy as cp
import numpy as np

from ._kernels import _rows_reference

__all__ = ["fit_order", "move_deltas"]


def fit_order(C, order, shift: float = 0.0):
    """``(W, node_losses)`` of least squares on ``order`` from the covariance ``C`` (host arrays out).

    Examples
    --------
    >>> from numopt.causal._gpu import fit_order
    >>> W, losses = fit_order(np.array([[1.0, 2.0], [2.0, 5.0]]), [0, 1])
    >>> round(float(W[0, 1]), 6), np.round(losses, 6).tolist()
    (2.0, [0.5, 0.5])
    """
    order = np.asarray(order)
    d = order.size
    Cp = cp.asarray(np.asarray(C)[np.ix_(order, order)]) + shift * cp.eye(d)
    L = cp.linalg.cholesky(Cp)
    diag = cp.diag(L)
    Binv = cp.linalg.inv(L / diag)
    Wp = -cp.tril(Binv, -1).T
    W = np.zeros((d, d))
    W[np.ix_(order, order)] = cp.asnumpy(Wp)
    return W, cp.asnumpy(0.5 * (diag**2 - shift))


def move_deltas(L, P, Q, modes):
    """Score changes of the moves ``(P[t], Q[t], modes[t])`` for the factor ``L`` (same as the Numba kernel).

    Examples
    --------
    >>> from numopt.causal._gpu import move_deltas
    >>> from numopt.causal._kernels import move_deltas_reference
    >>> L = np.linalg.cholesky(np.array([[2.0, 1, 0], [1, 2, 1], [0, 1, 2]]))
    >>> P, Q, M = np.array([0, 1]), np.array([2, 2]), np.array([0, 1])
    >>> bool(np.allclose(move_deltas(L, P, Q, M), move_deltas_reference(L, P, Q, M)))
    True
    """
    P, Q, modes = (np.asarray(a, dtype=np.int64) for a in (P, Q, modes))
    if P.size == 0:
        return np.empty(0)
    size = int((Q - P).max()) + 1
    S = np.zeros((P.size, size, size))
    old = np.zeros(P.size)
    for t, (p, q, mode) in enumerate(zip(P, Q, modes, strict=True)):
        m = q - p + 1
        Lb = L[p:q + 1, p:q + 1]
        rows = _rows_reference(m, mode)
        S[t, :m, :m] = (Lb @ Lb.T)[np.ix_(rows, rows)]
        S[t, np.arange(m, size), np.arange(m, size)] = 1.0
        old[t] = np.sum(np.diag(Lb) ** 2) + (size - m)
    Lnew = cp.linalg.cholesky(cp.asarray(S))
    new = cp.asnumpy(cp.sum(cp.diagonal(Lnew, axis1=1, axis2=2) ** 2, axis=1))
    return 0.5 * (new - old)
