"""CuPy path of the alternating-minimization kernels: all per-row regressions solved as one batch.

Same contracts as :mod:`numopt.completion._kernels` (CSR arrays, output written
into ``out``), on device arrays. The exact update forms every row's Gram matrix
with a scatter-add and calls a batched solve; the robust update builds every
row's sketch with the same integer hash as the CPU kernels, takes batched R
factors, and runs preconditioned CGLS on all rows at once (rows that meet their
tolerance stop moving); rows no longer than the sketch take the exact solution.
"""

from __future__ import annotations

import cupy as cp
import cupyx

__all__ = ["exact_solve", "observed_sq_residual", "predict_entries", "robust_solve"]

_P = 2147483647


def _row_ids(indptr):
    nnz = int(indptr[-1])
    return cp.searchsorted(indptr, cp.arange(nnz), side="right") - 1


def _mix(h):
    h = (h * 1103515245 + 12345) % _P
    h ^= h >> 13
    h = (h * 48271 + 1) % _P
    h ^= h >> 11
    return (h * 69621 + 7) % _P


def _dots(A, B):
    return (A * B).sum(axis=1)


def exact_solve(indptr, indices, data, F, lam, out):
    """Batched exact ridge regressions (Gram matrices by scatter-add, batched solve)."""
    nrow, k = indptr.size - 1, F.shape[1]
    rid = _row_ids(indptr)
    A = F[indices]
    G = cp.zeros((nrow, k, k))
    cupyx.scatter_add(G, rid, A[:, :, None] * A[:, None, :])
    rhs = cp.zeros((nrow, k))
    cupyx.scatter_add(rhs, rid, A * data[:, None])
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
    ptr = indptr.get() if hasattr(indptr, "get") else indptr
    for i in cp.flatnonzero(mask).tolist():
        lo, hi = int(ptr[i]), int(ptr[i + 1])
        out[i] = cp.linalg.lstsq(F[indices[lo:hi]], data[lo:hi], rcond=None)[0]


def robust_solve(indptr, indices, data, F, lam, X0, sketch_rows, zeta, rtol, maxiter, seed, out, iters):
    """Batched sketch-and-precondition CGLS (same sketch and stopping rule as the CPU kernel)."""
    nrow, k = indptr.size - 1, F.shape[1]
    s = int(sketch_rows)
    rid = _row_ids(indptr)
    counts = cp.diff(indptr)
    pos = cp.arange(rid.size) - indptr[rid]
    A = F[indices]
    # sketch of every row's design: rows with <= s observations keep their design unsketched
    nb = s + (k if lam > 0 else 0)
    SA = cp.zeros((nrow, nb, k))
    small = counts[rid] <= s
    hrow = _mix(_mix(cp.full(nrow, seed % _P, dtype=cp.int64)) ^ (cp.arange(nrow) % _P))
    for z in range(int(zeta)):
        g = _mix(hrow[rid] ^ ((pos * zeta + z) % _P))
        bucket = cp.where(small, pos, g % s)
        sign = cp.where(small, 1.0, cp.where((g // s) % 2 == 0, 1.0, -1.0) * float(zeta) ** -0.5)
        if z > 0:
            sign = cp.where(small, 0.0, sign)
        cupyx.scatter_add(SA, (rid, bucket), A * sign[:, None])
    if lam > 0:
        SA[:, s:, :] = cp.sqrt(lam) * cp.eye(k)
    R = cp.linalg.qr(SA, mode="r")
    d = cp.abs(cp.diagonal(R, axis1=1, axis2=2))
    floor = cp.maximum(d.max(axis=1), 1e-300) * 1e-12
    idx = cp.arange(k)
    R[:, idx, idx] = cp.where(d < floor[:, None], floor[:, None], R[:, idx, idx])
    Rinv = cp.linalg.inv(R)

    def prec_grad(x, r):
        g = cp.zeros((nrow, k))
        cupyx.scatter_add(g, rid, A * r[:, None])
        return cp.einsum("nab,na->nb", Rinv, g - lam * x)  # R^{-T} (A^T r - lam x)

    x = X0.copy()
    r = data - _dots(A, x[rid])
    sv = prec_grad(x, r)
    gamma = (sv * sv).sum(axis=1)
    bnorm2 = cp.zeros(nrow)
    cupyx.scatter_add(bnorm2, rid, data * data)
    thr = cp.maximum(rtol * rtol * gamma, 1e-28 * bnorm2)
    p = sv.copy()
    it = cp.zeros(nrow, dtype=cp.int64)
    for _ in range(int(maxiter)):
        active = gamma > thr
        if not bool(active.any()):
            break
        t = cp.einsum("nab,nb->na", Rinv, p)  # R^{-1} p
        q = _dots(A, t[rid])
        qq = cp.zeros(nrow)
        cupyx.scatter_add(qq, rid, q * q)
        delta = qq + lam * (t * t).sum(axis=1)
        ok = active & (delta > 0)
        alpha = cp.where(ok, gamma / cp.where(ok, delta, 1.0), 0.0)
        x += alpha[:, None] * t
        r -= alpha[rid] * q
        sv = prec_grad(x, r)
        gamma_new = (sv * sv).sum(axis=1)
        beta = cp.where(ok, gamma_new / cp.where(ok, gamma, 1.0), 0.0)
        p = cp.where(ok[:, None], sv + beta[:, None] * p, p)
        gamma = cp.where(ok, gamma_new, gamma)
        it += ok
    # empty rows and underdetermined rows without ridge: exact minimum-norm answers
    # rows no longer than the sketch are solved exactly, as on the CPU
    xe = cp.zeros_like(x)
    exact_solve(indptr, indices, data, F, lam, xe)
    short = counts <= s
    x[short] = xe[short]
    it[short] = 0
    out[...] = x
    iters[...] = it


def observed_sq_residual(indptr, indices, data, U, V):
    """Sum over observed entries of ``(data - U[i] . V[j])^2`` (a device scalar)."""
    rid = _row_ids(indptr)
    res = data - _dots(U[rid], V[indices])
    return float((res * res).sum())


def predict_entries(rows, cols, U, V, out):
    """``out[t] = U[rows[t]] . V[cols[t]]``."""
    out[...] = _dots(U[rows], V[cols])
