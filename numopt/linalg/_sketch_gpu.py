"""Block sketch-and-project on the GPU (CuPy arrays, dense or ``cupyx.scipy.sparse`` CSR).

Same iteration as :func:`numopt.linalg.sketch_solve` for the block sketches:
``W = S^T A``, ``z <- z - W^+ S^T r``, ``r <- r + A dz``, everything on the device.
"""

from __future__ import annotations

import math

import cupy as cp
import cupyx.scipy.sparse as csp

from .._core.result import LinearSolveResult

__all__ = ["block_sketch_solve"]


def _sketch_matrix(sketch, q, N, rng, order):
    if sketch == "gaussian":
        return rng.standard_normal((q, N))
    if sketch == "block-kaczmarz":
        if not order:
            order.extend(cp.array_split(rng.permutation(N), math.ceil(N / q)))
        idx = order.pop()
        rows = cp.arange(idx.size)
        return csp.csr_matrix((cp.ones(idx.size), (rows, idx)), shape=(idx.size, N))
    per = 1 if sketch == "countsketch" else min(q, 8)
    buckets = cp.argsort(rng.random((N, q)), axis=1)[:, :per]
    signs = (2.0 * (rng.random((N, per)) < 0.5) - 1.0) / math.sqrt(per)
    cols = cp.repeat(cp.arange(N), per)
    return csp.csr_matrix((signs.ravel(), (buckets.ravel(), cols)), shape=(q, N))


def block_sketch_solve(A, b, x0=None, *, sketch, rtol=1e-6, atol=0.0, maxiter=None, stop=None,
                       block_size=None, check_every=None, seed=None, callback=None):
    """GPU twin of :func:`numopt.linalg.sketch_solve` for the block sketches.

    Examples
    --------
    >>> import cupy as cp
    >>> A = cp.asarray([[4.0, 1.0], [1.0, -3.0]])
    >>> z, info = block_sketch_solve(A, A @ cp.asarray([1.0, 2.0]), sketch="gaussian", rtol=1e-10, seed=0)
    >>> info, bool(cp.allclose(z, cp.asarray([1.0, 2.0])))
    (0, True)
    """
    N, n = A.shape
    if csp.issparse(A):
        A = A.tocsr()
    b = cp.asarray(b, dtype=cp.float64)
    z = cp.zeros(n) if x0 is None else cp.array(x0, dtype=cp.float64)
    q = block_size or (1 if sketch == "gaussian" else max(1, min(N, math.ceil(math.sqrt(N)))))
    maxiter = maxiter if maxiter is not None else max(100, math.ceil(20 * N / q))
    check_every = check_every or 1
    seed = seed if isinstance(seed, int) or seed is None else int(seed.integers(2**31))
    rng = cp.random.default_rng(seed)
    target = max(rtol * float(cp.linalg.norm(b)), atol)
    if stop is None:
        def stop(z, r, k):
            return float(cp.linalg.norm(r)) <= target

    order: list = []
    r = A @ z - b
    k = 0
    done = bool(stop(z, r, k))
    while not done and k < maxiter:
        for _ in range(int(min(check_every, maxiter - k))):
            St = _sketch_matrix(sketch, q, N, rng, order)
            W = St @ A
            W = W.toarray() if csp.issparse(W) else W
            u = St @ r
            dz = -cp.linalg.lstsq(W, u, rcond=None)[0]
            z += dz
            r += A @ dz
            k += 1
        done = bool(stop(z, r, k))
        if callback is not None:
            callback(z)
    r = A @ z - b
    return LinearSolveResult(x=z, info=0 if done else max(k, 1), nit=k, residual=float(cp.linalg.norm(r)),
                             success=done)
