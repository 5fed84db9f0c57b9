"""CuPy paths for TOPO's linear score: batched per-node regressions and batched move scores.

``fit_order`` regresses every node on its predecessors at once (one Cholesky of
the permuted covariance and one triangular inverse on the GPU).
``move_deltas`` scores a batch of moves on the device: each moved block's
Schur complement is gathered and permuted there, padded with an identity to the
longest block of its batch (moves are batched by block length), and one batched
Cholesky gives every new diagonal (the padding contributes ones, subtracted).
"""

from __future__ import annotations

import cupy as cp
import numpy as np

__all__ = ["fit_order", "move_deltas"]

# device bytes per entry of a padded block: the gathered block, its Gram matrix and the Cholesky factor
_BYTES_PER_ENTRY = 48


def fit_order(C, order, shift: float = 0.0):
    """``(W, node_losses)`` of least squares on ``order`` from the covariance ``C`` (host arrays out).

    Parameters
    ----------
    C : (d, d) array
        Covariance of the centered data.
    order : array of int
        Topological order: every node is regressed on the nodes before it.
    shift : float
        Ridge shift added to the diagonal of ``C``.

    Returns
    -------
    W : (d, d) ndarray
        Regression weights, ``W[i, j]`` the weight of node ``i`` on node ``j``.
    node_losses : (d,) ndarray
        Half the residual variance of every node, in the order ``order``.

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


def move_deltas(L, P, Q, modes, *, max_bytes: int = 2**30):
    """Score changes of the moves ``(P[t], Q[t], modes[t])`` for the factor ``L`` (same as the Numba kernel).

    Parameters
    ----------
    L : (d, d) array
        Cholesky factor of the permuted covariance (host array).
    P, Q, modes : arrays of int
        Moves: block ``P[t]..Q[t]`` (``P < Q``) and the move ``modes[t]``.
    max_bytes : int
        Device memory for one batch of moves; moves are batched by block length.

    Returns
    -------
    ndarray
        Change of the score for every move (host array).

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
    out = np.empty(P.size)
    if P.size == 0:
        return out
    Ld = cp.asarray(L, dtype=cp.float64)
    lengths = Q - P + 1
    by_length = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[by_length]
    start = 0
    while start < P.size:
        # moves sorted by block length: a batch is padded to its longest block
        batch_bytes = np.arange(1, P.size - start + 1) * sorted_lengths[start:] ** 2 * _BYTES_PER_ENTRY
        too_big = np.flatnonzero(batch_bytes > max_bytes)
        stop = P.size if not too_big.size else start + max(int(too_big[0]), 1)
        take = by_length[start:stop]
        out[take] = cp.asnumpy(_batch_deltas(Ld, cp.asarray(P[take]), cp.asarray(lengths[take]),
                                             cp.asarray(modes[take])))
        start = stop
    return out


def _batch_deltas(L, p, m, mode):
    """Score changes of moves whose blocks start at ``p`` with lengths ``m``, padded to a common size.

    Each moved block ``B`` (the rows of ``L[p:p+m, p:p+m]`` in their new order) is
    padded with zeros; ``B B^T`` plus an identity on the padding is factored by
    one batched Cholesky, whose squared diagonal sums to the new score plus the
    padding.
    """
    d, size = L.shape[0], int(m.max())
    r = cp.arange(size)[None, :]
    last = (m - 1)[:, None]
    swap = cp.where(r == 0, last, cp.where(r == last, 0, r))
    to_front = cp.where(r == 0, last, r - 1)
    to_back = cp.where(r == last, 0, r + 1)
    rows = cp.where(mode[:, None] == 0, swap, cp.where(mode[:, None] == 1, to_front, to_back))
    inside = r < m[:, None]
    row_idx = cp.minimum(p[:, None] + rows, d - 1)
    col_idx = cp.minimum(p[:, None] + r, d - 1)
    B = cp.where(inside[:, :, None] & inside[:, None, :], L[row_idx[:, :, None], col_idx[:, None, :]], 0.0)
    S = B @ B.transpose(0, 2, 1) + (~inside)[:, :, None] * cp.eye(size)
    new = (cp.diagonal(cp.linalg.cholesky(S), axis1=1, axis2=2) ** 2).sum(axis=1)
    old = (cp.where(inside, L[col_idx, col_idx], 0.0) ** 2).sum(axis=1) + (size - m)
    return 0.5 * (new - old)
