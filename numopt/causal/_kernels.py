"""Numba kernels for TOPO: incremental Cholesky updates of the per-node regressions, lasso on a Gram matrix.

Least squares on a topological order. With ``C = X^T X / n`` (plus a ridge
shift) permuted to the order ``pi``, the Cholesky factor ``L`` of
``C[pi][:, pi]`` holds every per-node regression at once: ``L[k, k]**2`` is
the residual variance of node ``pi[k]`` regressed on ``pi[:k]``. Moving nodes
inside the positions ``p..q`` permutes the rows ``p..q`` of ``L``; rotating the
columns ``p..q`` with Givens rotations makes it lower triangular again. The
nodes before ``p`` and after ``q`` keep their residual variances, so one move
costs ``O((q - p)^2)`` instead of a refit. Moves (``mode``):

0. swap the nodes at positions ``p`` and ``q``;
1. move the node at ``q`` to position ``p`` (the others shift right);
2. move the node at ``p`` to position ``q`` (the others shift left).

Every kernel has a NumPy reference (``*_reference``) used in the tests.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "apply_move",
    "apply_move_reference",
    "block_rows",
    "lasso_gram",
    "lasso_gram_reference",
    "move_deltas",
    "move_deltas_reference",
    "unit_lower_inverse",
    "unit_lower_inverse_reference",
]


@njit(cache=True)
def block_rows(m, mode):
    """Row order of the ``m``-row block after the move ``mode`` (new row ``r`` is old row ``rows[r]``)."""
    rows = np.empty(m, dtype=np.int64)
    for r in range(m):
        rows[r] = r
    if mode == 0:
        rows[0] = m - 1
        rows[m - 1] = 0
    elif mode == 1:
        rows[0] = m - 1
        for r in range(1, m):
            rows[r] = r - 1
    else:
        for r in range(m - 1):
            rows[r] = r + 1
        rows[m - 1] = 0
    return rows


@njit(cache=True)
def _retriangularize(B, R):
    """Make ``B`` (rows of a lower-triangular matrix, permuted) lower triangular by column rotations.

    The same rotations are applied to the extra rows ``R``.
    """
    m = B.shape[0]
    for r in range(m):
        for c in range(m - 1, r, -1):
            b = B[r, c]
            if b == 0.0:
                continue
            a = B[r, c - 1]
            h = np.hypot(a, b)
            cs = a / h
            sn = b / h
            for k in range(r, m):
                x = B[k, c - 1]
                y = B[k, c]
                B[k, c - 1] = cs * x + sn * y
                B[k, c] = cs * y - sn * x
            B[r, c] = 0.0
            for k in range(R.shape[0]):
                x = R[k, c - 1]
                y = R[k, c]
                R[k, c - 1] = cs * x + sn * y
                R[k, c] = cs * y - sn * x


@njit(cache=True)
def move_deltas(L, P, Q, modes):
    """Change of ``0.5 * sum_k L[k, k]**2`` for each move ``(P[t], Q[t], modes[t])``, ``P < Q``."""
    out = np.empty(P.shape[0])
    for t in range(P.shape[0]):
        p = P[t]
        m = Q[t] - p + 1
        rows = block_rows(m, modes[t])
        B = np.empty((m, m))
        for a in range(m):
            for b in range(m):
                B[a, b] = L[p + rows[a], p + b]
        _retriangularize(B, np.empty((0, m)))
        s = 0.0
        for k in range(m):
            s += B[k, k] * B[k, k] - L[p + k, p + k] * L[p + k, p + k]
        out[t] = 0.5 * s
    return out


@njit(cache=True)
def apply_move(L, p, q, mode):
    """Update ``L`` in place for the move ``(p, q, mode)``; the caller permutes the order the same way."""
    m = q - p + 1
    rows = block_rows(m, mode)
    old = L[p:q + 1, :q + 1].copy()
    for a in range(m):
        for b in range(q + 1):
            L[p + a, b] = old[rows[a], b]
    B = L[p:q + 1, p:q + 1].copy()
    R = L[q + 1:, p:q + 1].copy()
    _retriangularize(B, R)
    L[p:q + 1, p:q + 1] = B
    L[q + 1:, p:q + 1] = R


@njit(cache=True)
def lasso_gram(C, j, idx, w, lam1, lam2, maxiter, tol):
    """Coordinate descent for node ``j`` on the predecessors ``idx`` from the Gram matrix ``C``.

    Minimizes ``0.5 (C_jj - 2 w^T C[idx, j] + w^T C[idx, idx] w) + lam1 |w|_1 + lam2 |w|^2``
    starting from ``w`` (updated in place); returns the objective.
    """
    k = idx.shape[0]
    for _ in range(maxiter):
        change = 0.0
        for a in range(k):
            ia = idx[a]
            g = C[ia, j]
            for b in range(k):
                if b != a:
                    g -= C[ia, idx[b]] * w[b]
            denom = C[ia, ia] + 2.0 * lam2
            new = 0.0
            if g > lam1:
                new = (g - lam1) / denom
            elif g < -lam1:
                new = (g + lam1) / denom
            change = max(change, abs(new - w[a]) * np.sqrt(C[ia, ia]))
            w[a] = new
        if change < tol:
            break
    f = C[j, j]
    for a in range(k):
        f -= 2.0 * w[a] * C[idx[a], j]
        for b in range(k):
            f += w[a] * C[idx[a], idx[b]] * w[b]
    pen = 0.0
    for a in range(k):
        pen += lam1 * abs(w[a]) + lam2 * w[a] * w[a]
    return 0.5 * f + pen


@njit(cache=True)
def unit_lower_inverse(T):
    """Inverse of the unit lower-triangular matrix with strict lower part ``T`` (diagonal ignored)."""
    d = T.shape[0]
    Y = np.zeros((d, d))
    for c in range(d):
        Y[c, c] = 1.0
        for r in range(c + 1, d):
            s = 0.0
            for k in range(c, r):
                s -= T[r, k] * Y[k, c]
            Y[r, c] = s
    return Y


# NumPy references ------------------------------------------------------------------------


def _rows_reference(m, mode):
    r = np.arange(m)
    if mode == 0:
        r[[0, m - 1]] = r[[m - 1, 0]]
        return r
    return np.roll(r, 1) if mode == 1 else np.roll(r, -1)


def move_deltas_reference(L, P, Q, modes):
    """Refactor the Schur complement of each moved block with ``numpy.linalg.cholesky``."""
    out = []
    for p, q, mode in zip(P, Q, modes, strict=True):
        Lb = L[p:q + 1, p:q + 1]
        rows = _rows_reference(q - p + 1, mode)
        S = (Lb @ Lb.T)[np.ix_(rows, rows)]
        new = np.diag(np.linalg.cholesky(S)) ** 2
        out.append(0.5 * (new.sum() - np.sum(np.diag(Lb) ** 2)))
    return np.array(out)


def apply_move_reference(L, p, q, mode):
    """The factor after the move, recomputed from scratch: ``cholesky(P L L^T P^T)``."""
    d = L.shape[0]
    perm = np.arange(d)
    perm[p:q + 1] = p + _rows_reference(q - p + 1, mode)
    C = L @ L.T
    return np.linalg.cholesky(C[np.ix_(perm, perm)])


def lasso_gram_reference(C, j, idx, lam1, lam2, maxiter=20000, tol=1e-12):
    """Proximal gradient (ISTA) for the problem of :func:`lasso_gram`; returns ``(w, objective)``."""
    A = C[np.ix_(idx, idx)] + 2.0 * lam2 * np.eye(len(idx))
    c = C[idx, j]
    step = 1.0 / max(np.linalg.eigvalsh(A).max(), 1e-300) if len(idx) else 1.0
    w = np.zeros(len(idx))
    for _ in range(maxiter):
        z = w - step * (A @ w - c)
        new = np.sign(z) * np.maximum(np.abs(z) - step * lam1, 0.0)
        if np.max(np.abs(new - w), initial=0.0) < tol:
            w = new
            break
        w = new
    f = 0.5 * (C[j, j] - 2 * w @ c + w @ C[np.ix_(idx, idx)] @ w) + lam1 * np.abs(w).sum() + lam2 * w @ w
    return w, f


def unit_lower_inverse_reference(T):
    """``solve_triangular`` with a unit diagonal."""
    import scipy.linalg as sla

    return sla.solve_triangular(np.tril(T, -1) + np.eye(T.shape[0]), np.eye(T.shape[0]), lower=True)
