"""Conjugate gradients, plain and preconditioned, with scipy.sparse.linalg's conventions.

``cg(A, b, x0=None, *, rtol, atol, maxiter, M, callback)`` stops when
``||b - A x|| <= max(rtol * ||b||, atol)`` (the recurrence residual, as scipy
does) and returns a :class:`numopt.LinearSolveResult` that unpacks as
``(x, info)``: ``info = 0`` on convergence, the iteration count when
``maxiter`` (or a callback's ``StopIteration``) ended the run, and ``-1`` on a
breakdown (``p^T A p <= 0`` or ``r^T M r <= 0``: ``A`` or ``M`` is not
positive definite, or a non-finite value appeared). The iteration runs in
:func:`numopt.run`, so ``record_history=True`` records the residual norm of
every iteration and ``callback(xk)`` is called after each one.

:func:`prepare_system` validates ``(A, b, x0)`` for every linear solver of
:mod:`numopt.linalg`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._core.backend import array_namespace
from .._core.driver import IterativeSolver, SolverState, run
from .._core.result import LinearSolveResult, Status
from .._core.validate import as_float_array, check_finite, check_positive, check_square

__all__ = ["cg", "pcg", "prepare_system"]


def prepare_system(A, b, x0=None):
    """Validate a square system ``A x = b`` and starting point; return ``(A, b, x0)``.

    ``A`` may be a dense array, a scipy sparse matrix (or array) or a
    ``LinearOperator``; ``b`` and ``x0`` become float vectors of length ``n``
    (``x0`` defaults to zeros). CuPy arrays stay on the GPU.

    Examples
    --------
    >>> A, b, x0 = prepare_system(np.eye(2), [1, 2])
    >>> b, x0
    (array([1., 2.]), array([0., 0.]))
    >>> prepare_system(np.eye(2), [1, 2, 3])
    Traceback (most recent call last):
    ...
    ValueError: b must have shape (2,); got (3,).
    """
    check_square(A, "A")
    n = A.shape[0]
    if not isinstance(A, LinearOperator):
        if sp.issparse(A) or type(A).__module__.split(".")[0] in ("cupyx", "cupy"):
            check_finite(A, "A")
        else:
            A = as_float_array(A, "A")
    xp = array_namespace(b)
    b = as_float_array(b, "b", shape=(n,), xp=xp)
    x0 = xp.zeros(n, dtype=b.dtype) if x0 is None else as_float_array(x0, "x0", shape=(n,), copy=True, xp=xp)
    return A, b, x0


def check_tolerances(rtol, atol) -> None:
    """Raise unless ``rtol, atol >= 0`` and not both zero."""
    check_positive("rtol", rtol, strict=False)
    check_positive("atol", atol, strict=False)
    if rtol == 0 and atol == 0:
        raise ValueError("rtol and atol cannot both be 0: the iteration could never stop.")


def _operator(A, name: str):
    """``v -> A v`` for a matrix, a LinearOperator or a callable (the preconditioner case)."""
    if isinstance(A, LinearOperator):
        return A.matvec
    if hasattr(A, "shape") and hasattr(A, "__matmul__"):
        return A.__matmul__
    if callable(A):
        return A
    raise TypeError(f"{name} must be a matrix, a LinearOperator or a callable; got {type(A).__name__}.")


class ConjugateGradient(IterativeSolver):
    """Preconditioned conjugate gradients as an :class:`~numopt.IterativeSolver`.

    The problem passed to :func:`numopt.run` is the pair ``(A, b)``; options
    ``rtol``, ``atol`` and ``M`` (preconditioner approximating ``A^{-1}``, or
    None) plus the driver's. Use :func:`cg` rather than this class directly.

    Examples
    --------
    >>> from numopt import run
    >>> res = run(ConjugateGradient(rtol=1e-10), (np.diag([1.0, 2.0]), np.ones(2)), np.zeros(2))
    >>> res.nit, np.round(res.x, 6)
    (2, array([1. , 0.5]))
    """

    name = "cg"
    default_options = {"rtol": 1e-5, "atol": 0.0, "M": None}

    def validate_options(self, options):
        check_tolerances(options["rtol"], options["atol"])

    def init(self, problem, x0):
        A, b = problem
        self.matvec = _operator(A, "A")
        M = self.options["M"]
        self.precond = None if M is None else _operator(M, "M")
        xp = array_namespace(b)
        self.xp = xp
        self.tol = max(self.options["rtol"] * float(xp.linalg.norm(b)), self.options["atol"])
        x = x0
        r = b - self.matvec(x) if bool(xp.any(x)) else b.copy()
        z = r if self.precond is None else self.precond(r)
        rz = float(xp.dot(r, z))
        return SolverState(x=x, r=r, p=z.copy(), rz=rz, rnorm=float(xp.linalg.norm(r)), breakdown=None)

    def step(self, s):
        xp = self.xp
        if s.rz <= 0 and s.rnorm > 0:
            s.breakdown = "r^T M r <= 0: the preconditioner M is not positive definite."
            return s
        Ap = self.matvec(s.p)
        pAp = float(xp.dot(s.p, Ap))
        if not pAp > 0:
            s.breakdown = "p^T A p <= 0: A is not positive definite."
            return s
        alpha = s.rz / pAp
        s.x = s.x + alpha * s.p
        s.r = s.r - alpha * Ap
        z = s.r if self.precond is None else self.precond(s.r)
        rz_new = float(xp.dot(s.r, z))
        s.p = z + (rz_new / s.rz) * s.p
        s.rz = rz_new
        s.rnorm = float(xp.linalg.norm(s.r))
        return s

    def terminate(self, s):
        if s.breakdown is not None or not np.isfinite(s.rnorm):
            return Status.NONFINITE if s.breakdown is None else Status.SINGULAR
        return Status.SUCCESS if s.rnorm <= self.tol else None

    def history_record(self, s):
        return {"residual": s.rnorm}

    def postprocess(self, s, status):
        return LinearSolveResult(x=s.x, residual=s.rnorm, breakdown=s.breakdown)


def _info(result) -> int:
    status = Status.from_code(result["status"])
    if status.success:
        return 0
    if status in (Status.MAXITER, Status.MAXTIME, Status.CALLBACK):
        return int(result["nit"])
    return -1


def finish(result) -> LinearSolveResult:
    """Turn a driver result of a linear solver into a LinearSolveResult with ``info`` set."""
    out = LinearSolveResult(result)
    out["info"] = _info(out)
    return out


def cg(A, b, x0=None, *, rtol: float = 1e-5, atol: float = 0.0, maxiter: int | None = None, M=None,
       callback=None, record_history: bool = False) -> LinearSolveResult:
    """Solve ``A x = b`` for symmetric positive definite ``A`` by (preconditioned) conjugate gradients.

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator
        Symmetric positive definite ``n x n`` operator.
    b : array_like
        Right-hand side of length ``n``.
    x0 : array_like, optional
        Starting guess (zeros by default).
    rtol, atol : float
        Stop when ``||r|| <= max(rtol * ||b||, atol)``.
    maxiter : int, optional
        Iteration limit (default ``10 n``).
    M : matrix, LinearOperator or callable, optional
        Symmetric positive definite preconditioner approximating ``A^{-1}``;
        a callable maps a residual ``r`` to ``z = M r``.
    callback : callable, optional
        ``callback(xk)`` after each iteration; ``StopIteration`` stops the run.
    record_history : bool
        Keep the residual norm of each iteration in ``result.history``.

    Returns
    -------
    LinearSolveResult
        ``x``, ``info`` (0 converged, ``nit`` if stopped early, -1 breakdown),
        ``nit``, ``residual`` (final recurrence residual norm), ``success``,
        ``message`` and ``history`` when asked for.

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> A = poisson((8, 8))
    >>> x, info = cg(A, np.ones(64), rtol=1e-10)
    >>> info, float(np.linalg.norm(A @ x - 1)) < 1e-8
    (0, True)
    """
    A, b, x0 = prepare_system(A, b, x0)
    maxiter = 10 * A.shape[0] if maxiter is None else check_positive("maxiter", maxiter, integer=True)
    solver = ConjugateGradient(rtol=rtol, atol=atol, M=M, maxiter=maxiter, record_history=record_history)
    return finish(run(solver, (A, b), x0, callback=callback))


def pcg(A, b, x0=None, *, M, rtol: float = 1e-5, atol: float = 0.0, maxiter: int | None = None,
        callback=None, record_history: bool = False) -> LinearSolveResult:
    """Preconditioned conjugate gradients: :func:`cg` with a required preconditioner ``M``.

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> A = poisson((8, 8))
    >>> jacobi = lambda r: r / A.diagonal()
    >>> res = pcg(A, np.ones(64), M=jacobi, rtol=1e-10)
    >>> res.info, res.success
    (0, True)
    """
    if M is None:
        raise ValueError("pcg needs a preconditioner M (matrix, LinearOperator or callable r -> z); "
                         "use cg for the unpreconditioned method.")
    return cg(A, b, x0, rtol=rtol, atol=atol, maxiter=maxiter, M=M, callback=callback,
              record_history=record_history)
