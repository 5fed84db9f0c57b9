"""Numba kernels for alternating minimization: per-row least squares over CSR data.

Every kernel works on one side of the observation pattern in CSR form
(``indptr``, ``indices``, ``data``): row ``i`` of the unknown factor ``X``
solves the small regression

    min_x  sum_{t in row i} (F[indices[t]] . x - data[t])^2 + lam * |x|^2,

whose design ``A_i = F[indices[indptr[i]:indptr[i+1]]]`` is never formed
globally. Rows are independent and run in parallel (``prange``). Each kernel
has a readable NumPy reference (``*_ref``) used by the tests and by the
``'numpy'`` backend; the references draw the same sketch, so the two agree to
rounding.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from numba import njit, prange

__all__ = [
    "exact_solve",
    "exact_solve_ref",
    "observed_sq_residual",
    "observed_sq_residual_ref",
    "predict_entries",
    "predict_entries_ref",
    "robust_solve",
    "robust_solve_ref",
    "REFERENCE",
    "row_hash",
    "sketch_bucket",
]

_P = 2147483647  # 2^31 - 1: products of two residues stay below 2^62 in int64


@njit(cache=True)
def _mix(h):
    """Integer mixing of a residue modulo 2^31 - 1 (multiply-add and xor-shift rounds)."""
    h = (h * 1103515245 + 12345) % _P
    h ^= h >> 13
    h = (h * 48271 + 1) % _P
    h ^= h >> 11
    return (h * 69621 + 7) % _P


@njit(cache=True)
def row_hash(seed, row):
    """Hash of row ``row``'s sketch; :func:`sketch_bucket` derives each sketch nonzero from it."""
    return _mix(_mix(seed % _P) ^ (row % _P))


@njit(cache=True)
def sketch_bucket(h, t, z, zeta, s):
    """Bucket in ``[0, s)`` and sign of the ``z``-th nonzero of column ``t`` of the sketch with hash ``h``.

    A deterministic integer hash (products of residues below 2^31 stay inside
    int64), so the sketch is the same with and without JIT and for any thread
    schedule.
    """
    g = _mix(h ^ ((t * zeta + z) % _P))
    bucket = g % s
    sign = 1.0 if (g // s) % 2 == 0 else -1.0
    return bucket, sign


@njit(cache=True)
def _gather(F, indices, lo, hi):
    k = F.shape[1]
    A = np.empty((hi - lo, k))
    for t in range(hi - lo):
        A[t, :] = F[indices[lo + t], :]
    return A


@njit(cache=True)
def _gram(A, lam):
    """``A^T A + lam I`` accumulated row by row (plain loops: no BLAS threads inside prange)."""
    cnt, k = A.shape
    G = np.zeros((k, k))
    for t in range(cnt):
        for a in range(k):
            v = A[t, a]
            for c in range(a, k):
                G[a, c] += v * A[t, c]
    for a in range(k):
        G[a, a] += lam
        for c in range(a + 1, k):
            G[c, a] = G[a, c]
    return G


@njit(cache=True)
def _matvec(A, x):
    cnt, k = A.shape
    y = np.empty(cnt)
    for t in range(cnt):
        acc = 0.0
        for a in range(k):
            acc += A[t, a] * x[a]
        y[t] = acc
    return y


@njit(cache=True)
def _rmatvec(A, y):
    cnt, k = A.shape
    x = np.zeros(k)
    for t in range(cnt):
        v = y[t]
        for a in range(k):
            x[a] += A[t, a] * v
    return x


@njit(cache=True)
def _cholesky_solve(G, b):
    """Solve ``G x = b`` for symmetric ``G`` by Cholesky; ``ok`` is False if ``G`` is not numerically PD."""
    k = b.size
    L = np.zeros((k, k))
    x = np.zeros(k)
    for j in range(k):
        d = G[j, j]
        for p in range(j):
            d -= L[j, p] * L[j, p]
        if not d > 1e-13 * abs(G[j, j]) or d <= 0.0:
            return x, False
        L[j, j] = np.sqrt(d)
        for i in range(j + 1, k):
            acc = G[i, j]
            for p in range(j):
                acc -= L[i, p] * L[j, p]
            L[i, j] = acc / L[j, j]
    y = np.empty(k)
    for i in range(k):
        acc = b[i]
        for p in range(i):
            acc -= L[i, p] * y[p]
        y[i] = acc / L[i, i]
    for i in range(k - 1, -1, -1):
        acc = y[i]
        for p in range(i + 1, k):
            acc -= L[p, i] * x[p]
        x[i] = acc / L[i, i]
    return x, True


@njit(cache=True)
def _small_solve(A, b, lam):
    """Exact ridge solution for one row: Cholesky of the Gram matrix, min-norm lstsq when singular."""
    cnt, k = A.shape
    if cnt >= k or lam > 0.0:
        x, ok = _cholesky_solve(_gram(A, lam), _rmatvec(A, b))
        if ok:
            return x
    if lam > 0.0:
        Aa = np.zeros((cnt + k, k))
        Aa[:cnt, :] = A
        ba = np.zeros(cnt + k)
        ba[:cnt] = b
        for a in range(k):
            Aa[cnt + a, a] = np.sqrt(lam)
        return np.linalg.lstsq(Aa, ba)[0]
    return np.linalg.lstsq(A, b)[0]


@njit(cache=True, parallel=True)
def exact_solve(indptr, indices, data, F, lam, out):
    """Exact per-row ridge regressions (Gram matrix + Cholesky): O(|row| k^2 + k^3) per row.

    Rows with no observations get ``out[i] = 0`` (the ridge / minimum-norm solution);
    singular rows (fewer than ``k`` observations, ``lam = 0``) the minimum-norm solution.
    """
    nrow = indptr.size - 1
    for i in prange(nrow):
        lo, hi = indptr[i], indptr[i + 1]
        if hi == lo:
            out[i, :] = 0.0
            continue
        A = _gather(F, indices, lo, hi)
        out[i, :] = _small_solve(A, data[lo:hi].copy(), lam)


@njit(cache=True)
def _solve_upper(R, y):
    k = y.size
    x = np.empty(k)
    for a in range(k - 1, -1, -1):
        acc = y[a]
        for c in range(a + 1, k):
            acc -= R[a, c] * x[c]
        x[a] = acc / R[a, a]
    return x


@njit(cache=True)
def _solve_upper_t(R, y):
    k = y.size
    x = np.empty(k)
    for a in range(k):
        acc = y[a]
        for c in range(a):
            acc -= R[c, a] * x[c]
        x[a] = acc / R[a, a]
    return x


@njit(cache=True)
def _householder_r(BT):
    """R factor (k x k, upper) of ``B = BT.T`` by Householder reflections on the rows of ``BT``."""
    k, nb = BT.shape
    for j in range(k):
        nrm = 0.0
        for i in range(j, nb):
            nrm += BT[j, i] * BT[j, i]
        nrm = np.sqrt(nrm)
        if nrm == 0.0:
            continue
        alpha = -nrm if BT[j, j] >= 0.0 else nrm
        v = BT[j, j:].copy()
        v[0] -= alpha
        vv = 0.0
        for i in range(v.size):
            vv += v[i] * v[i]
        BT[j, j] = alpha
        for i in range(j + 1, nb):
            BT[j, i] = 0.0
        if vv == 0.0:
            continue
        for c in range(j + 1, k):
            dot = 0.0
            for i in range(v.size):
                dot += v[i] * BT[c, j + i]
            f = 2.0 * dot / vv
            for i in range(v.size):
                BT[c, j + i] -= f * v[i]
    R = np.zeros((k, k))
    for a in range(k):
        for c in range(a, k):
            R[a, c] = BT[c, a]
    return R


@njit(cache=True)
def _preconditioner(A, lam, seed, row, s, zeta):
    """R factor of the sketched (ridge-augmented) design: sparse sign sketch with ``zeta`` nonzeros."""
    cnt, k = A.shape
    ns = cnt if cnt <= s else s
    extra = k if lam > 0.0 else 0
    BT = np.zeros((k, ns + extra))  # transposed sketch: columns of B are contiguous rows here
    if cnt <= s:
        for t in range(cnt):
            for a in range(k):
                BT[a, t] = A[t, a]
    else:
        w = 1.0 / np.sqrt(zeta)
        h = row_hash(seed, row)
        for t in range(cnt):
            for z in range(zeta):
                bucket, sign = sketch_bucket(h, t, z, zeta, s)
                for a in range(k):
                    BT[a, bucket] += sign * w * A[t, a]
    for a in range(extra):
        BT[a, ns + a] = np.sqrt(lam)
    R = _householder_r(BT)
    # guard against an exactly rank-deficient design: floor tiny pivots
    big = 0.0
    for a in range(k):
        big = max(big, abs(R[a, a]))
    floor = max(big, 1e-300) * 1e-12
    for a in range(k):
        if abs(R[a, a]) < floor:
            R[a, a] = floor
    return R


@njit(cache=True)
def _pcgls(A, b, lam, R, x, rtol, maxiter):
    """Preconditioned CGLS on min |Ax - b|^2 + lam |x|^2 from ``x`` (modified in place).

    Right preconditioning by ``R``: CG on the normal equations of ``A R^{-1}``.
    Stops when the preconditioned gradient has dropped by ``rtol`` relative to the
    warm start, or reaches rounding level. Returns the number of iterations.
    """
    r = b - _matvec(A, x)
    sv = _solve_upper_t(R, _rmatvec(A, r) - lam * x)
    gamma = sv @ sv
    bnorm = np.sqrt(b @ b)
    thr = max(rtol * rtol * gamma, (1e-14 * bnorm) ** 2)
    p = sv.copy()
    it = 0
    while it < maxiter and gamma > thr:
        t = _solve_upper(R, p)
        q = _matvec(A, t)
        delta = q @ q + lam * (t @ t)
        if delta <= 0.0:
            break
        alpha = gamma / delta
        x += alpha * t
        r -= alpha * q
        sv = _solve_upper_t(R, _rmatvec(A, r) - lam * x)
        gamma_new = sv @ sv
        p = sv + (gamma_new / gamma) * p
        gamma = gamma_new
        it += 1
    return it


@njit(cache=True, parallel=True)
def robust_solve(indptr, indices, data, F, lam, X0, sketch_rows, zeta, rtol, maxiter, seed, out, iters):
    """Approximate per-row ridge regressions by sketch-and-precondition (the robust update).

    For each row: sketch the design ``A_i`` with a sparse sign embedding of
    ``sketch_rows`` rows and ``zeta`` nonzeros per column (cost ``zeta |row| k``),
    take ``R`` from the QR of
    the sketch (``O(sketch_rows k^2)``), and run preconditioned CGLS from the warm
    start ``X0[i]`` until the preconditioned gradient falls by ``rtol`` or
    ``maxiter`` iterations (``O(|row| k)`` each). ``iters[i]`` gets the iteration count.
    Rows with at most ``sketch_rows`` observations gain nothing from sketching and
    are solved exactly (as in :func:`exact_solve`, ``iters[i] = 0``).
    """
    nrow = indptr.size - 1
    for i in prange(nrow):
        lo, hi = indptr[i], indptr[i + 1]
        if hi == lo:
            out[i, :] = 0.0
            iters[i] = 0
            continue
        A = _gather(F, indices, lo, hi)
        b = data[lo:hi].copy()
        if hi - lo <= sketch_rows:
            # no compression to gain: the exact solve costs no more than the preconditioner
            out[i, :] = _small_solve(A, b, lam)
            iters[i] = 0
            continue
        R = _preconditioner(A, lam, seed, i, sketch_rows, zeta)
        x = X0[i, :].copy()
        iters[i] = _pcgls(A, b, lam, R, x, rtol, maxiter)
        out[i, :] = x


@njit(cache=True, parallel=True)
def observed_sq_residual(indptr, indices, data, U, V):
    """Sum over observed entries of ``(data - U[i] . V[j])^2``."""
    nrow = indptr.size - 1
    k = U.shape[1]
    total = 0.0
    for i in prange(nrow):
        acc = 0.0
        for t in range(indptr[i], indptr[i + 1]):
            j = indices[t]
            d = data[t]
            for a in range(k):
                d -= U[i, a] * V[j, a]
            acc += d * d
        total += acc
    return total


@njit(cache=True, parallel=True)
def predict_entries(rows, cols, U, V, out):
    """``out[t] = U[rows[t]] . V[cols[t]]``."""
    k = U.shape[1]
    for t in prange(rows.size):
        acc = 0.0
        for a in range(k):
            acc += U[rows[t], a] * V[cols[t], a]
        out[t] = acc


# ---------------------------------------------------------------------------------------------
# NumPy references (readable, used by the tests and by backend='numpy')


def exact_solve_ref(indptr, indices, data, F, lam, out):
    """NumPy reference of :func:`exact_solve`."""
    k = F.shape[1]
    for i in range(indptr.size - 1):
        sl = slice(indptr[i], indptr[i + 1])
        A, b = F[indices[sl]], data[sl]
        if A.shape[0] == 0:
            out[i] = 0.0
        elif A.shape[0] < k and lam == 0.0:
            out[i] = np.linalg.lstsq(A, b, rcond=None)[0]
        else:
            out[i] = np.linalg.solve(A.T @ A + lam * np.eye(k), A.T @ b)


def _sketch_ref(A, seed, row, s, zeta):
    cnt, k = A.shape
    if cnt <= s:
        return A.copy()
    S = np.zeros((s, cnt))
    h = row_hash(seed, row)
    for t in range(cnt):
        for z in range(zeta):
            bucket, sign = sketch_bucket(h, t, z, zeta, s)
            S[bucket, t] += sign / np.sqrt(zeta)
    return S @ A


def _pcgls_ref(A, b, lam, R, x, rtol, maxiter):
    from scipy.linalg import solve_triangular

    def prec_grad(x, r):
        return solve_triangular(R, A.T @ r - lam * x, trans="T")

    r = b - A @ x
    sv = prec_grad(x, r)
    gamma = sv @ sv
    thr = max(rtol**2 * gamma, (1e-14 * np.linalg.norm(b)) ** 2)
    p = sv.copy()
    it = 0
    while it < maxiter and gamma > thr:
        t = solve_triangular(R, p)
        q = A @ t
        delta = q @ q + lam * (t @ t)
        if delta <= 0:
            break
        alpha = gamma / delta
        x += alpha * t
        r -= alpha * q
        sv = prec_grad(x, r)
        gamma, gamma_old = sv @ sv, gamma
        p = sv + (gamma / gamma_old) * p
        it += 1
    return it


def robust_solve_ref(indptr, indices, data, F, lam, X0, sketch_rows, zeta, rtol, maxiter, seed, out, iters):
    """NumPy reference of :func:`robust_solve` (same sketch, same iteration)."""
    k = F.shape[1]
    for i in range(indptr.size - 1):
        sl = slice(indptr[i], indptr[i + 1])
        A, b = F[indices[sl]], data[sl]
        iters[i] = 0
        if A.shape[0] == 0:
            out[i] = 0.0
            continue
        if A.shape[0] <= sketch_rows:
            exact_solve_ref(indptr[i:i + 2] - indptr[i], indices[sl], data[sl], F, lam, out[i:i + 1])
            continue
        SA = _sketch_ref(A, seed, i, sketch_rows, zeta)
        if lam > 0:
            SA = np.vstack([SA, np.sqrt(lam) * np.eye(k)])
        R = np.linalg.qr(SA, mode="r")
        d = np.abs(np.diag(R))
        floor = max(d.max(), 1e-300) * 1e-12
        R[np.diag_indices(k)] = np.where(d < floor, floor, np.diag(R))
        x = X0[i].copy()
        iters[i] = _pcgls_ref(A, b, lam, R, x, rtol, maxiter)
        out[i] = x


def observed_sq_residual_ref(indptr, indices, data, U, V):
    """NumPy reference of :func:`observed_sq_residual`."""
    rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    return float(np.sum((data - np.einsum("ij,ij->i", U[rows], V[indices])) ** 2))


def predict_entries_ref(rows, cols, U, V, out):
    """NumPy reference of :func:`predict_entries`."""
    out[:] = np.einsum("ij,ij->i", U[rows], V[cols])


#: The NumPy references under the kernel names (``backend='numpy'``).
REFERENCE = SimpleNamespace(exact_solve=exact_solve_ref, robust_solve=robust_solve_ref,
                            observed_sq_residual=observed_sq_residual_ref, predict_entries=predict_entries_ref)
