"""CuPy path of the alternating-minimization kernels: all per-row regressions solved as one batch.

Same contracts as :mod:`numopt.completion._kernels` (CSR arrays, output written
into ``out``), on device arrays. Sums over the observed entries of each row are
sparse products with the observation pattern (cuSPARSE, no atomics). The exact
update forms every row's Gram matrix as ``pattern @ [F_j F_j^T]_j`` and calls one
batched solve. The robust update solves the rows no longer than the sketch
exactly, as the CPU kernel does; for the others it builds every row's sketch with
the same integer hash as the CPU kernels, takes batched Householder R factors
(the CPU kernel's reflections, vectorized over rows), and runs preconditioned
CGLS on all of them at once (rows that meet their tolerance stop moving).

Examples
--------
>>> import cupy as cp
>>> from numopt.completion import _gpu, _kernels
>>> indptr, indices = np.array([0, 3, 5]), np.array([0, 1, 2, 0, 2])
>>> data, F = np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.eye(3)[:, :2] + 0.5
>>> out, ref = cp.zeros((2, 2)), np.zeros((2, 2))
>>> _gpu.exact_solve(*map(cp.asarray, (indptr, indices, data, F)), 0.1, out)
>>> _kernels.exact_solve(indptr, indices, data, F, 0.1, ref)
>>> bool(np.allclose(out.get(), ref))
True
"""

from __future__ import annotations

import math

import cupy as cp
import cupyx
import cupyx.scipy.sparse as csp

from .._core.backend import to_host

__all__ = ["exact_solve", "observed_sq_residual", "predict_entries", "robust_solve"]

_P = 2147483647  # 2^31 - 1, the modulus of the CPU kernels' sketch hash


class _Pattern:
    """The observed entries of one side (CSR): per-row weighted sums as sparse products.

    One sparse matrix is built per call of a kernel; each product writes its
    weights into that matrix's values (the pattern is canonical: sorted, no
    duplicates, so the values stay aligned with the entries).

    Parameters
    ----------
    indptr, indices : device arrays
        CSR row pointers and column indices.
    ncols : int
        Number of columns (rows of the factor the entries index).
    """

    def __init__(self, indptr, indices, ncols):
        self.matrix = csp.csr_matrix((cp.ones(indices.size), indices.astype(cp.int32), indptr.astype(cp.int32)),
                                     shape=(indptr.size - 1, int(ncols)))
        self.ones = cp.ones(int(ncols))

    def weighted_rows(self, weights, F):
        """``out[i] = sum_t weights[t] * F[indices[t]]`` over the entries ``t`` of row ``i``."""
        self.matrix.data[...] = weights
        return self.matrix @ F

    def row_sums(self, weights):
        """``out[i] = sum_t weights[t]`` over the entries ``t`` of row ``i``."""
        return self.weighted_rows(weights, self.ones)


def _row_ids(indptr):
    """Row of every entry of a CSR matrix."""
    nnz = int(indptr[-1])
    return cp.searchsorted(indptr, cp.arange(nnz), side="right") - 1


def _take_rows(indptr, indices, data, rows):
    """CSR arrays of the rows ``rows`` (sorted) of a CSR matrix."""
    ptr = cp.zeros(rows.size + 1, dtype=indptr.dtype)
    ptr[1:] = cp.cumsum(cp.diff(indptr)[rows])
    keep = cp.zeros(indptr.size - 1, dtype=bool)
    keep[rows] = True
    entries = keep[_row_ids(indptr)]
    return ptr, indices[entries], data[entries]


def _mix(h):
    """The CPU kernels' integer mixing of residues modulo 2^31 - 1, elementwise."""
    h = (h * 1103515245 + 12345) % _P
    h ^= h >> 13
    h = (h * 48271 + 1) % _P
    h ^= h >> 11
    return (h * 69621 + 7) % _P


def _dots(A, B):
    return (A * B).sum(axis=1)


def exact_solve(indptr, indices, data, F, lam, out):
    """Batched exact ridge regressions: Gram matrices by one sparse product, one batched solve.

    Parameters
    ----------
    indptr, indices, data : device arrays
        CSR arrays of the observed entries (one regression per row).
    F : device array, shape (ncols, k)
        The fixed factor.
    lam : float
        Ridge weight.
    out : device array, shape (nrow, k)
        Receives the solutions: zero for empty rows, the minimum-norm solution for
        rows with fewer than ``k`` entries when ``lam == 0``.
    """
    nrow, k = indptr.size - 1, F.shape[1]
    pattern = _Pattern(indptr, indices, F.shape[0])
    outer = (F[:, :, None] * F[:, None, :]).reshape(F.shape[0], k * k)
    G = pattern.weighted_rows(cp.ones(indices.size), outer).reshape(nrow, k, k)
    rhs = pattern.weighted_rows(data, F)
    counts = cp.diff(indptr)
    under = (counts < k) & (lam == 0.0)
    # empty and underdetermined rows get an identity here and are overwritten below
    shift = cp.where((counts == 0) | under, 1.0, lam)
    G += shift[:, None, None] * cp.eye(k)
    out[...] = cp.linalg.solve(G, rhs[:, :, None])[:, :, 0]
    out[counts == 0] = 0.0
    _min_norm_rows(indptr, indices, data, F, under & (counts > 0), out)


def _min_norm_rows(indptr, indices, data, F, mask, out):
    """Minimum-norm solutions of the (rare) rows with fewer than ``k`` observations and no ridge."""
    ptr = to_host(indptr)
    for i in to_host(cp.flatnonzero(mask)).tolist():
        lo, hi = int(ptr[i]), int(ptr[i + 1])
        out[i] = cp.linalg.lstsq(F[indices[lo:hi]], data[lo:hi], rcond=None)[0]


def robust_solve(indptr, indices, data, F, lam, X0, sketch_rows, zeta, rtol, maxiter, seed, out, iters):
    """Batched sketch-and-precondition CGLS (same sketch, reflections and stopping rule as the CPU kernel).

    Parameters
    ----------
    indptr, indices, data : device arrays
        CSR arrays of the observed entries (one regression per row).
    F : device array, shape (ncols, k)
        The fixed factor.
    lam : float
        Ridge weight.
    X0 : device array, shape (nrow, k)
        Warm starts.
    sketch_rows, zeta : int
        Rows of the sparse sign sketch and its nonzeros per column.
    rtol : float
        Relative decrease of the preconditioned gradient that stops a row.
    maxiter : int
        Cap on CG iterations.
    seed : int
        Seed of the sketch hash.
    out : device array, shape (nrow, k)
        Receives the solutions.
    iters : device array of int64, shape (nrow,)
        Receives the CG iterations of every row (0 for rows solved exactly).
    """
    s, k = int(sketch_rows), F.shape[1]
    counts = cp.diff(indptr)
    iters[...] = 0
    short_rows = cp.flatnonzero(counts <= s)
    if short_rows.size:
        # no compression to gain: the exact solve costs no more than the preconditioner
        x_short = cp.zeros((short_rows.size, k))
        exact_solve(*_take_rows(indptr, indices, data, short_rows), F, lam, x_short)
        out[short_rows] = x_short
    long_rows = cp.flatnonzero(counts > s)
    if long_rows.size:
        ptr, idx, val = _take_rows(indptr, indices, data, long_rows)
        x, it = _sketched_cgls(ptr, idx, val, F, float(lam), X0[long_rows], s, int(zeta), float(rtol),
                               int(maxiter), int(seed), long_rows)
        out[long_rows] = x
        iters[long_rows] = it


def _sketch_r(indptr, rid, A, lam, s, zeta, seed, row_numbers):
    """Preconditioners: R factors of every row's sparse sign sketch (ridge rows appended when ``lam > 0``)."""
    nrow, k = indptr.size - 1, A.shape[1]
    pos = cp.arange(rid.size) - indptr[rid]
    row_hash = _mix(_mix(cp.full(nrow, seed % _P, dtype=cp.int64)) ^ (row_numbers % _P))
    weight = 1.0 / math.sqrt(zeta)
    SA = cp.zeros((nrow, s + (k if lam > 0 else 0), k))
    for z in range(zeta):
        g = _mix(row_hash[rid] ^ ((pos * zeta + z) % _P))
        sign = cp.where((g // s) % 2 == 0, weight, -weight)
        cupyx.scatter_add(SA, (rid, g % s), A * sign[:, None])
    if lam > 0:
        SA[:, s:, :] = math.sqrt(lam) * cp.eye(k)
    R = _householder_r(SA)
    # guard against an exactly rank-deficient design: floor tiny pivots
    d = cp.abs(cp.diagonal(R, axis1=1, axis2=2))
    floor = cp.maximum(d.max(axis=1), 1e-300) * 1e-12
    diag = cp.arange(k)
    R[:, diag, diag] = cp.where(d < floor[:, None], floor[:, None], R[:, diag, diag])
    return R


def _householder_r(B):
    """Upper ``k x k`` R factors of the stacked ``(n, nb, k)`` matrices ``B`` by Householder reflections.

    The reflections of the CPU kernel, applied to all matrices at once.
    """
    BT = B.transpose(0, 2, 1).copy()  # BT[:, j] is column j of every matrix
    k = BT.shape[1]
    for j in range(k):
        x = BT[:, j, j:]
        nrm = cp.sqrt((x * x).sum(axis=1))
        alpha = cp.where(x[:, 0] >= 0.0, -nrm, nrm)
        v = x.copy()
        v[:, 0] -= alpha
        vv = (v * v).sum(axis=1)
        BT[:, j, j] = alpha
        BT[:, j, j + 1:] = 0.0
        if j + 1 < k:
            rest = BT[:, j + 1:, j:]
            f = 2.0 * (rest @ v[:, :, None])[:, :, 0] / cp.where(vv > 0.0, vv, 1.0)[:, None]
            rest -= f[:, :, None] * v[:, None, :]
    upper = cp.triu(cp.ones((k, k), dtype=bool))
    return cp.where(upper, BT[:, :, :k].transpose(0, 2, 1), 0.0)


def _sketched_cgls(indptr, indices, data, F, lam, X0, s, zeta, rtol, maxiter, seed, row_numbers):
    """Right-preconditioned CGLS on every row at once; returns ``(x, iterations)``."""
    nrow = indptr.size - 1
    pattern = _Pattern(indptr, indices, F.shape[0])
    rid = _row_ids(indptr)
    A = F[indices]
    Rinv = cp.linalg.inv(_sketch_r(indptr, rid, A, lam, s, zeta, seed, row_numbers))

    def prec_grad(x, r):
        """``R^{-T} (A^T r - lam x)`` for every row."""
        g = pattern.weighted_rows(r, F) - lam * x
        return (g[:, None, :] @ Rinv)[:, 0, :]

    x = X0.copy()
    r = data - _dots(A, x[rid])
    sv = prec_grad(x, r)
    gamma = _dots(sv, sv)
    thr = cp.maximum(rtol * rtol * gamma, 1e-28 * pattern.row_sums(data * data))
    p = sv.copy()
    it = cp.zeros(nrow, dtype=cp.int64)
    for _ in range(maxiter):
        active = gamma > thr
        if not bool(active.any()):
            break
        t = (Rinv @ p[:, :, None])[:, :, 0]  # R^{-1} p
        q = _dots(A, t[rid])
        delta = pattern.row_sums(q * q) + lam * _dots(t, t)
        moving = active & (delta > 0)
        alpha = cp.where(moving, gamma / cp.where(moving, delta, 1.0), 0.0)
        x += alpha[:, None] * t
        r -= alpha[rid] * q
        sv = prec_grad(x, r)
        gamma_new = _dots(sv, sv)
        beta = cp.where(moving, gamma_new / cp.where(moving, gamma, 1.0), 0.0)
        p = cp.where(moving[:, None], sv + beta[:, None] * p, p)
        gamma = cp.where(moving, gamma_new, gamma)
        it += moving
    return x, it


def observed_sq_residual(indptr, indices, data, U, V):
    """Sum over observed entries of ``(data - U[i] . V[j])^2``, as a float."""
    rid = _row_ids(indptr)
    res = data - _dots(U[rid], V[indices])
    return float(res @ res)


def predict_entries(rows, cols, U, V, out):
    """``out[t] = U[rows[t]] . V[cols[t]]``."""
    out[...] = _dots(U[rows], V[cols])
