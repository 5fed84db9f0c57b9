"""Randomized iterative sketching solvers for consistent linear systems ``A z = b``.

Every method is an instance of *sketch-and-project*: draw a sketch ``S``
(``N x q``), then project the iterate onto the solution set of the sketched
system ``S^T A z = S^T b``::

    z <- z - W^+ (S^T r),   W = S^T A,   r = A z - b.

``A`` may be square or rectangular, symmetric or not, definite or indefinite
(the Newton-KKT matrices of :mod:`numopt.constrained` are symmetric
indefinite); the system must be consistent. Sketches (``sketch=``):

``'rk'``
    Randomized Kaczmarz: ``S = e_i`` with ``i`` drawn uniformly
    (``sampling='uniform'``) or with probability ``||A_i||^2 / ||A||_F^2``
    (``sampling='row-norm'``, Strohmer-Vershynin). The loop runs as a Numba
    kernel; on CSR input it keeps the residual up to date incrementally.
``'block-kaczmarz'``
    ``S`` selects a block of ``q`` rows; blocks form a random partition of the
    rows, redrawn every sweep.
``'gaussian'``
    ``S`` has i.i.d. N(0, 1) entries; ``q = 1`` is the Gaussian-vector sketch
    ``z <- z - (s^T r / ||A^T s||^2) A^T s``.
``'countsketch'``
    Every row of ``A`` goes to one of ``q`` buckets with a random sign.
``'sparse-sign'``
    Every row of ``A`` goes to ``min(q, 8)`` distinct buckets with random signs.
``'precond-lsqr'``
    Sketch-and-precondition (:func:`sketch_precondition_solve`): a sparse
    sign embedding ``S`` with ``2 n`` rows, ``S A = Q R``, and LSQR on
    ``A R^{-1}``, whose condition number is a small constant whatever the
    conditioning of ``A``.

The caller decides when to stop: ``stop(z, r, k) -> bool`` is checked every
``check_every`` iterations with the current residual ``r = A z - b``; the
default is ``||r|| <= max(rtol ||b||, atol)``. CuPy input runs the block
sketches on the GPU (:mod:`numopt.linalg._sketch_gpu`).
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._core.backend import is_gpu_array, resolve_backend
from .._core.result import LinearSolveResult, Status
from .._core.validate import as_float_array, check_choice, check_finite, check_positive, check_rng
from .system import DEFAULT_RTOL, finish

__all__ = ["SKETCHES", "sketch_precondition_solve", "sketch_solve"]

SKETCHES = ("rk", "block-kaczmarz", "gaussian", "countsketch", "sparse-sign", "precond-lsqr")
SAMPLINGS = ("row-norm", "uniform")
_SPARSE_SIGN_NNZ = 8


class _Rows:
    """Row access, products and sketches of a dense, CSR or operator ``A``."""

    def __init__(self, A):
        self.shape = A.shape
        if isinstance(A, LinearOperator):
            self.kind, self.A = "operator", A
        elif sp.issparse(A):
            self.kind, self.A = "csr", sp.csr_matrix(A, dtype=float)
            self.A.sum_duplicates()
        else:
            self.kind, self.A = "dense", np.ascontiguousarray(A, dtype=float)
        self._norms = None
        self._AT = None

    @property
    def rownorm2(self) -> np.ndarray:
        if self._norms is None:
            if self.kind == "dense":
                self._norms = np.einsum("ij,ij->i", self.A, self.A)
            elif self.kind == "csr":
                self._norms = np.asarray(self.A.multiply(self.A).sum(axis=1)).ravel()
            else:
                self._norms = np.array([v @ v for v in (self.row(i) for i in range(self.shape[0]))])
        return self._norms

    @property
    def AT(self) -> sp.csr_matrix:
        if self._AT is None:
            self._AT = sp.csr_matrix(self.A.T)
        return self._AT

    def row(self, i: int) -> np.ndarray:
        if self.kind == "dense":
            return self.A[i]
        if self.kind == "csr":
            return self.A[[i]].toarray().ravel()
        e = np.zeros(self.shape[0])
        e[i] = 1.0
        return np.asarray(self.A.rmatvec(e), dtype=float).ravel()

    def take(self, idx) -> np.ndarray:
        """Dense rows ``A[idx]``."""
        if self.kind == "dense":
            return self.A[idx]
        if self.kind == "csr":
            return self.A[idx].toarray()
        return np.stack([self.row(int(i)) for i in idx])

    def matvec(self, z) -> np.ndarray:
        return np.asarray(self.A @ z, dtype=float).ravel()

    def sketch(self, St) -> np.ndarray:
        """Dense ``W = S^T A`` for a (sparse or dense) ``St`` of shape ``(q, N)``."""
        if self.kind == "operator":
            St = St.toarray() if sp.issparse(St) else St
            return np.stack([np.asarray(self.A.rmatvec(s), dtype=float).ravel() for s in St])
        W = St @ self.A
        return W.toarray() if sp.issparse(W) else np.asarray(W)


def _check_system(A, b, x0):
    shape = getattr(A, "shape", None)
    if shape is None or len(shape) != 2:
        raise ValueError(f"A must be a 2-D matrix or LinearOperator; got shape {shape}.")
    N, n = shape
    if not isinstance(A, LinearOperator):
        if sp.issparse(A) or is_gpu_array(A):
            check_finite(A, "A")
        else:
            A = as_float_array(A, "A", ndim=2)
    return A, N, n


def sketch_solve(A, b, x0=None, *, sketch: str = "rk", rtol: float = DEFAULT_RTOL, atol: float = 0.0,
                 maxiter: int | None = None, stop=None, sampling: str = "row-norm",
                 block_size: int | None = None, check_every: int | None = None, seed=None,
                 backend: str | None = None, callback=None) -> LinearSolveResult:
    """Solve a consistent system ``A z = b`` with a randomized iterative sketching method.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (N, n)
        Square or rectangular; a LinearOperator needs ``rmatvec`` (rows of
        ``A`` are ``A^T e_i``). CuPy arrays run the block sketches on the GPU.
    b : array_like, shape (N,)
    x0 : array_like, shape (n,), optional
        Start (default zeros).
    sketch : {'rk', 'block-kaczmarz', 'gaussian', 'countsketch', 'sparse-sign'}
    rtol, atol : float
        Default stopping test ``||A z - b|| <= max(rtol ||b||, atol)``.
    maxiter : int, optional
        Iteration limit (one iteration = one sketch-and-project step). Default
        ``max(1000, 200 N)`` for ``'rk'`` and ``max(100, 20 N / q)`` otherwise.
    stop : callable, optional
        ``stop(z, r, k) -> bool`` replaces the default test; ``r = A z - b``.
    sampling : {'row-norm', 'uniform'}
        Row distribution of ``'rk'``.
    block_size : int, optional
        Sketch size ``q``: default ``ceil(sqrt(N))`` for the block
        sketches and 1 for ``'gaussian'`` (the Gaussian-vector sketch).
    check_every : int, optional
        Iterations between stopping tests (default ``max(N, 100)`` for ``'rk'``, 1 otherwise).
    seed : None, int or Generator
        Source of every random choice.
    backend : {'numba', 'numpy', 'cupy'}, optional
        ``'numba'`` (default on NumPy input) runs the Kaczmarz kernels,
        ``'numpy'`` the readable reference loop.
    callback : callable, optional
        ``callback(z)`` after every stopping test.

    Returns
    -------
    LinearSolveResult
        ``x``, ``info`` (0 when the test passed, else the iteration count),
        ``nit``, ``residual`` (``||A z - b||``), ``success``.

    Examples
    --------
    >>> A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, -2.0]])
    >>> b = A @ np.array([1.0, -1.0, 2.0])
    >>> z, info = sketch_solve(A, b, sketch="rk", rtol=1e-10, seed=0)
    >>> info, np.allclose(z, [1.0, -1.0, 2.0])
    (0, True)
    >>> res = sketch_solve(A, b, sketch="gaussian", block_size=2, rtol=1e-10, seed=0)
    >>> res.success, bool(res.residual <= 1e-10 * np.linalg.norm(b))
    (True, True)
    """
    check_choice("sketch", sketch, SKETCHES)
    check_choice("sampling", sampling, SAMPLINGS)
    A, N, n = _check_system(A, b, x0)
    if sketch == "precond-lsqr":
        return sketch_precondition_solve(A, b, x0, rtol=rtol, atol=atol, maxiter=maxiter, stop=stop,
                                         seed=seed, callback=callback)
    backend = resolve_backend(A, b, backend=backend)
    if backend == "cupy":
        if sketch == "rk":
            raise ValueError("sketch='rk' has no GPU path; use a block sketch ('block-kaczmarz', "
                             "'gaussian', 'countsketch', 'sparse-sign') with CuPy input.")
        from ._sketch_gpu import block_sketch_solve

        return block_sketch_solve(A, b, x0, sketch=sketch, rtol=rtol, atol=atol, maxiter=maxiter, stop=stop,
                                  block_size=block_size, check_every=check_every, seed=seed,
                                  callback=callback)
    b = as_float_array(b, "b", shape=(N,))
    z = np.zeros(n) if x0 is None else as_float_array(x0, "x0", shape=(n,), copy=True)
    q = _block_size(sketch, block_size, N)
    if maxiter is None:
        maxiter = max(1000, 200 * N) if sketch == "rk" else max(100, math.ceil(20 * N / q))
    check_positive("maxiter", maxiter, strict=False, integer=True)
    if check_every is None:
        check_every = max(N, 100) if sketch == "rk" else 1
    check_positive("check_every", check_every, integer=True)
    check_positive("rtol", rtol, strict=False)
    check_positive("atol", atol, strict=False)
    rng = check_rng(seed)
    rows = _Rows(A)
    bnorm = float(np.linalg.norm(b))
    if stop is None:
        target = max(rtol * bnorm, atol)

        def stop(z, r, k):
            return float(np.linalg.norm(r)) <= target

    t0 = time.perf_counter()
    r = rows.matvec(z) - b
    k = 0
    status = None
    done = bool(stop(z, r, k))
    step = _rk_stepper(rows, b, sampling, backend, rng) if sketch == "rk" else \
        _block_stepper(rows, sketch, q, rng)
    while not done and k < maxiter:
        chunk = int(min(check_every, maxiter - k))
        z, r = step(z, r, chunk)
        k += chunk
        status, done = _after_step(z, r, k, stop, callback)
        if status is not None:
            break
    return _sketch_result(z, k, status, done, t0, rows, b)


def sketch_precondition_solve(A, b, x0=None, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0,
                               maxiter: int | None = None, stop=None, embedding: str = "auto",
                               oversampling: float = 2.0, seed=None, callback=None) -> LinearSolveResult:
    """Solve ``A z = b`` by sketch-and-precondition: LSQR on ``A R^{-1}`` with ``R`` from a sketch of ``A``.

    A random embedding ``S`` (``s x N``, ``s = ceil(oversampling n)``) maps
    the columns of ``A`` to ``s`` rows; the QR factorization ``S A = Q R``
    gives a right preconditioner: the singular values of ``A R^{-1}`` lie in
    ``[1 / (1 + eps), 1 / (1 - eps)]`` with ``eps`` the distortion of the
    embedding (about ``sqrt(n / s)``), so LSQR needs a few tens of
    iterations whatever the conditioning of ``A``. Works for square
    (symmetric indefinite KKT) and tall consistent systems.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (N, n)
        A LinearOperator needs ``rmatvec``.
    b : array_like, shape (N,)
    x0 : array_like, shape (n,), optional
        Start (default zeros); LSQR corrects it.
    rtol, atol : float
        Default stopping test ``||A z - b|| <= max(rtol ||b||, atol)``.
    maxiter : int, optional
        LSQR iterations (default ``max(100, 2 n)``).
    stop : callable, optional
        ``stop(z, r, k) -> bool`` replaces the default test (checked every iteration, ``r = A z - b``).
    embedding : {'auto', 'sparse-sign', 'gaussian'}
        The sketch: 8 random signs per row of ``A`` or i.i.d. N(0, 1) entries;
        ``'auto'`` (default) takes the Gaussian one while ``S`` has at most
        ``4e6`` entries (small sparse sign sketches can be rank deficient by
        chance) and the sparse one beyond.
    oversampling : float
        ``s / n``, at least 1 (default 2).
    seed : None, int or Generator
    callback : callable, optional
        ``callback(z)`` after every iteration.

    Returns
    -------
    LinearSolveResult

    Examples
    --------
    >>> A = np.array([[1.0, 0.0, 1e3], [0.0, 1e-3, 1.0], [1e3, 1.0, 0.0]])
    >>> b = A @ np.array([1.0, -1.0, 2.0])
    >>> res = sketch_precondition_solve(A, b, rtol=1e-12, seed=0)
    >>> res.success, bool(np.allclose(res.x, [1.0, -1.0, 2.0])), res.nit <= 10
    (True, True, True)
    """
    check_choice("embedding", embedding, ("auto", "sparse-sign", "gaussian"))
    A, N, n = _check_system(A, b, x0)
    b = as_float_array(b, "b", shape=(N,))
    z0 = np.zeros(n) if x0 is None else as_float_array(x0, "x0", shape=(n,), copy=True)
    if oversampling < 1.0:
        raise ValueError(f"oversampling must be at least 1 (the sketch needs n rows); got {oversampling}.")
    maxiter = max(100, 2 * n) if maxiter is None else maxiter
    check_positive("maxiter", maxiter, strict=False, integer=True)
    check_positive("rtol", rtol, strict=False)
    check_positive("atol", atol, strict=False)
    rng = check_rng(seed)
    rows = _Rows(A)
    if stop is None:
        target = max(rtol * float(np.linalg.norm(b)), atol)

        def stop(z, r, k):
            return float(np.linalg.norm(r)) <= target

    t0 = time.perf_counter()
    s = max(n, math.ceil(oversampling * n))
    if embedding == "auto":
        embedding = "gaussian" if s * N <= 4e6 else "sparse-sign"
    if embedding == "gaussian":
        St = rng.standard_normal((s, N)) / math.sqrt(s)
    else:
        per = min(s, _SPARSE_SIGN_NNZ)
        buckets = np.argsort(rng.random((N, s)), axis=1)[:, :per] if per < s else np.tile(np.arange(s), (N, 1))
        signs = rng.choice([-1.0, 1.0], size=(N, per)) / math.sqrt(per)
        St = sp.csr_matrix((signs.ravel(), (buckets.ravel(), np.repeat(np.arange(N), per))), shape=(s, N))
    R = np.linalg.qr(rows.sketch(St), mode="r")
    # a (numerically) singular A gives a singular R: floor its diagonal so the preconditioner stays defined
    diag = np.abs(np.diag(R))
    floor = 1e-12 * max(float(diag.max(initial=0.0)), 1e-300)
    R[np.diag_indices(n)] = np.where(diag < floor, np.where(np.diag(R) < 0, -floor, floor), np.diag(R))

    def precond(v):
        return sla.solve_triangular(R, v, check_finite=False)

    def precond_t(v):
        return sla.solve_triangular(R, v, trans="T", check_finite=False)

    def rmatvec(u):
        if rows.kind == "operator":
            return np.asarray(rows.A.rmatvec(u), dtype=float).ravel()
        return np.asarray(rows.A.T @ u, dtype=float).ravel()

    z = z0
    r = rows.matvec(z) - b
    k = 0
    status = None
    done = bool(stop(z, r, k))
    # Golub-Kahan bidiagonalization of M = A R^{-1} started from the residual -r (LSQR, Paige-Saunders)
    y = np.zeros(n)
    u = -r
    beta = float(np.linalg.norm(u))
    u = u / beta if beta > 0 else u
    v = precond_t(rmatvec(u))
    alpha = float(np.linalg.norm(v))
    v = v / alpha if alpha > 0 else v
    w = v.copy()
    phibar, rhobar = beta, alpha
    while not done and k < maxiter and alpha > 0 and beta > 0:
        u = rows.matvec(precond(v)) - alpha * u
        beta = float(np.linalg.norm(u))
        if beta > 0:
            u /= beta
            v = precond_t(rmatvec(u)) - beta * v
            alpha = float(np.linalg.norm(v))
            if alpha > 0:
                v /= alpha
        rho = math.hypot(rhobar, beta)
        cos, sin = rhobar / rho, beta / rho
        theta, rhobar = sin * alpha, -cos * alpha
        phi, phibar = cos * phibar, sin * phibar
        y = y + (phi / rho) * w
        w = v - (theta / rho) * w
        k += 1
        z = z0 + precond(y)
        r = rows.matvec(z) - b
        status, done = _after_step(z, r, k, stop, callback)
        if status is not None:
            break
    return _sketch_result(z, k, status, done, t0, rows, b)


def _after_step(z, r, k, stop, callback):
    """(status that ends the run or None, whether the stopping test holds) after an inner step."""
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(r))):
        return Status.NONFINITE, False
    done = bool(stop(z, r, k))
    if callback is not None:
        try:
            callback(z)
        except StopIteration:
            return (Status.SUCCESS if done else Status.CALLBACK), done
    return None, done


def _sketch_result(z, k, status, done, t0, rows, b):
    if status is None:
        status = Status.SUCCESS if done else Status.MAXITER
    return finish(dict(x=z, status=status.code, nit=k, time=time.perf_counter() - t0), rows.A, b)


def _block_size(sketch, block_size, N):
    if block_size is None:
        return 1 if sketch in ("rk", "gaussian") else max(1, min(N, math.ceil(math.sqrt(N))))
    check_positive("block_size", block_size, integer=True)
    if block_size > N:
        raise ValueError(f"block_size must be at most the number of rows N = {N}; got {block_size}.")
    return int(block_size)


def _rk_stepper(rows: _Rows, b, sampling, backend, rng):
    """Closure running ``chunk`` Kaczmarz steps from ``(z, r)``."""
    N = rows.shape[0]
    norms = rows.rownorm2 if (sampling == "row-norm" or rows.kind != "operator") else None
    if sampling == "row-norm":
        total = norms.sum()
        if total == 0.0:
            raise ValueError("A is zero: no row to project on.")
        cdf = np.cumsum(norms / total)

        def draw(size):
            return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), N - 1)
    else:
        def draw(size):
            return rng.integers(0, N, size=size)

    if backend == "numba" and rows.kind != "operator":
        from ._sketch_kernels import rk_csr_chunk, rk_dense_chunk

        if rows.kind == "csr":
            A, AT = rows.A, rows.AT

            def step(z, r, chunk):
                rk_csr_chunk(A.data, A.indices, A.indptr, AT.data, AT.indices, AT.indptr, norms,
                             draw(chunk).astype(np.int64), z, r)
                return z, r
        else:
            def step(z, r, chunk):
                rk_dense_chunk(rows.A, b, norms, draw(chunk).astype(np.int64), z)
                return z, rows.matvec(z) - b
        return step

    if rows.kind == "csr":
        A = rows.A

        def step(z, r, chunk):
            for i in draw(chunk):
                lo, hi = A.indptr[i], A.indptr[i + 1]
                cols, vals = A.indices[lo:hi], A.data[lo:hi]
                if norms[i] > 0.0:
                    z[cols] -= ((vals @ z[cols] - b[i]) / norms[i]) * vals
            return z, rows.matvec(z) - b
        return step

    def step(z, r, chunk):
        for i in draw(chunk):
            row = rows.row(int(i))
            nrm = row @ row
            if nrm > 0.0:
                z = z - ((row @ z - b[i]) / nrm) * row
        return z, rows.matvec(z) - b
    return step


def _block_stepper(rows: _Rows, sketch, q, rng):
    """Closure running ``chunk`` sketch-and-project steps with a block sketch of size ``q``."""
    N = rows.shape[0]
    order: list = []

    def sketch_matrix():
        if sketch == "gaussian":
            return rng.standard_normal((q, N))
        per = 1 if sketch == "countsketch" else min(q, _SPARSE_SIGN_NNZ)
        if per == 1:
            buckets = rng.integers(0, q, size=(N, 1))
        else:
            buckets = np.argsort(rng.random((N, q)), axis=1)[:, :per]
        signs = rng.choice([-1.0, 1.0], size=(N, per)) / math.sqrt(per)
        cols = np.repeat(np.arange(N), per)
        return sp.csr_matrix((signs.ravel(), (buckets.ravel(), cols)), shape=(q, N))

    def step(z, r, chunk):
        for _ in range(chunk):
            if sketch == "block-kaczmarz":
                if not order:
                    order.extend(np.array_split(rng.permutation(N), math.ceil(N / q)))
                idx = order.pop()
                W, u = rows.take(idx), r[idx]
            else:
                St = sketch_matrix()
                W, u = rows.sketch(St), np.asarray(St @ r).ravel()
            if W.shape[0] == 1:
                nrm = float(W[0] @ W[0])
                dz = -(u[0] / nrm) * W[0] if nrm > 0 else np.zeros_like(z)
            else:
                dz = -np.linalg.lstsq(W, u, rcond=None)[0]
            z = z + dz
            r = r + rows.matvec(dz)
        return z, r
    return step
