"""Block sketch-and-project on the GPU (CuPy arrays, dense or ``cupyx.scipy.sparse`` CSR).

Same iteration as :func:`numopt.linalg.sketch_solve` for the block sketches:
``W = S^T A``, ``z <- z - W^+ S^T r``, ``r <- r + A dz``, everything on the device.
``W`` stays sparse when ``A`` is, and the minimum-norm step ``W^+ u`` is taken
through the small ``q x q`` Gram matrix ``W W^T`` (symmetric eigensolver,
directions below the rounding level of the Gram matrix dropped), so no dense
``q x n`` factorization is ever formed.
"""

from __future__ import annotations

import math

import cupy as cp
import cupyx.scipy.sparse as csp
import numpy as np

from .._core.result import LinearSolveResult

__all__ = ["block_sketch_solve"]

_SPARSE_SIGN_NNZ = 8


def _sketch_matrix(sketch, q, N, rng, order):
    """The next ``S^T`` (``q x N``, sparse except for the Gaussian sketch)."""
    if sketch == "gaussian":
        return rng.standard_normal((q, N))
    if sketch == "block-kaczmarz":
        if not order:
            # a fresh random partition of the rows every sweep
            order.extend(cp.array_split(cp.argsort(rng.random(N)), math.ceil(N / q)))
        idx = order.pop()
        return csp.coo_matrix((cp.ones(idx.size), (cp.arange(idx.size), idx)), shape=(idx.size, N)).tocsr()
    per = 1 if sketch == "countsketch" else min(q, _SPARSE_SIGN_NNZ)
    if per == 1:
        buckets = rng.integers(0, q, size=(N, 1))
    else:
        buckets = cp.argsort(rng.random((N, q)), axis=1)[:, :per]
    signs = (2.0 * (rng.random((N, per)) < 0.5) - 1.0) / math.sqrt(per)
    cols = cp.repeat(cp.arange(N), per)
    return csp.coo_matrix((signs.ravel(), (buckets.ravel(), cols)), shape=(q, N)).tocsr()


def _min_norm_step(W, u):
    """``W^+ u`` through the eigendecomposition of ``W W^T`` (``W`` dense or sparse, ``q x n``)."""
    G = W @ W.T
    G = G.toarray() if csp.issparse(G) else G
    lam, V = cp.linalg.eigh(G)
    kept = lam > lam[-1] * (np.finfo(np.float64).eps * G.shape[0])
    y = V @ (cp.where(kept, (V.T @ u) / cp.where(kept, lam, 1.0), 0.0))
    return W.T @ y


def block_sketch_solve(A, b, x0=None, *, sketch, rtol=1e-5, atol=0.0, maxiter=None, stop=None,
                       block_size=None, check_every=None, seed=None, callback=None):
    """GPU twin of :func:`numopt.linalg.sketch_solve` for the block sketches.

    Parameters
    ----------
    A : cupy.ndarray or cupyx.scipy.sparse matrix, shape (N, n)
        A consistent system's matrix.
    b : cupy.ndarray, shape (N,)
    x0 : cupy.ndarray, shape (n,), optional
        Start (default zeros).
    sketch : {'block-kaczmarz', 'gaussian', 'countsketch', 'sparse-sign'}
    rtol, atol, maxiter, stop, block_size, check_every, callback
        As :func:`numopt.linalg.sketch_solve`.
    seed : None, int or numpy.random.Generator
        Seeds the device generator (a Generator draws the seed).

    Returns
    -------
    LinearSolveResult
        ``x`` (on the device), ``info``, ``nit``, ``residual``, ``success``.

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
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**31))
    rng = cp.random.default_rng(seed)
    AT = A.T.tocsr() if csp.issparse(A) else None
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
            # a dense sketch of a sparse A: W^T = A^T S, a sparse-dense product
            W = (AT @ St.T).T if AT is not None and not csp.issparse(St) else St @ A
            dz = -_min_norm_step(W, St @ r)
            z += dz
            r += A @ dz
            k += 1
        if not bool(cp.isfinite(z).all() & cp.isfinite(r).all()):
            break
        done = bool(stop(z, r, k))
        if callback is not None:
            callback(z)
    r = A @ z - b
    return LinearSolveResult(x=z, info=0 if done else max(k, 1), nit=k, residual=float(cp.linalg.norm(r)),
                             success=done)
