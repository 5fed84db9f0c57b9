"""Conjugate gradients, plain and preconditioned, with scipy.sparse.linalg's conventions.

``cg(A, b, x0=None, *, rtol, atol, maxiter, M, callback)`` stops when
``||b - A x|| <= max(rtol * ||b||, atol)`` (the recurrence residual, as scipy
does) and returns a :class:`numopt.LinearSolveResult` that unpacks as
``(x, info)``: ``info = 0`` on convergence, the iteration count when
``maxiter`` (or a callback's ``StopIteration``) ended the run, and ``-1`` on a
breakdown (``p^T A p <= 0`` or ``r^T M r <= 0``: ``A`` or ``M`` is not
positive definite, or a non-finite value appeared). The iteration runs in
:func:`numopt.run`, so ``record_history=True`` records the residual norm of
every iteration (and the step length ``alpha`` and direction ratio ``beta``,
from which :func:`numopt.tuning.models.ritz_extremes` reads the extreme
eigenvalues of the preconditioned operator) and ``callback(xk)`` is called
after each one.

``residual`` in the result is the true ``||b - A x||`` and ``rel_residual``
its ratio to ``||b||`` (see :func:`numopt.linalg.system.finish`).
"""

from __future__ import annotations

import numpy as np

from .._core.backend import array_namespace
from .._core.driver import IterativeSolver, SolverState, run
from .._core.result import LinearSolveResult, Status
from .._core.validate import check_positive
from .system import DEFAULT_RTOL, as_operator, check_symmetric_system, check_tolerances, finish, prepare_system

__all__ = ["ConjugateGradient", "cg", "pcg"]


def _checked_preconditioner(apply, shape):
    """``apply`` with a check that it returns a vector of the residual's shape (every call: a tuple compare)."""

    def checked(r):
        z = apply(r)
        if getattr(z, "shape", None) != shape:
            z = z.ravel() if getattr(z, "size", None) == shape[0] else z
            if getattr(z, "shape", None) != shape:
                raise ValueError(f"The preconditioner M must return a vector of shape {shape} (z = M r); "
                                 f"got shape {getattr(z, 'shape', type(z).__name__)}.")
        return z

    return checked


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
    default_options = {"rtol": DEFAULT_RTOL, "atol": 0.0, "M": None}

    def validate_options(self, options):
        check_tolerances(options["rtol"], options["atol"])

    def init(self, problem, x0):
        A, b = problem
        matvec = as_operator(A, "A")
        M = self.options["M"]
        precond = None if M is None else _checked_preconditioner(as_operator(M, "M"), b.shape)
        xp = array_namespace(b)
        tol = max(self.options["rtol"] * float(xp.linalg.norm(b)), self.options["atol"])
        x = x0.copy()
        r = b - matvec(x) if bool(xp.any(x)) else b.copy()
        z = r if precond is None else precond(r)
        rz = float(xp.dot(r, z))
        return SolverState(x=x, r=r, p=z.copy(), rz=rz, rnorm=float(xp.linalg.norm(r)), breakdown=None,
                           matvec=matvec, precond=precond, xp=xp, tol=tol, alpha=float("nan"), beta=float("nan"))

    def step(self, s):
        xp = s.xp
        if s.rz <= 0 and s.rnorm > 0:
            s.breakdown = "r^T M r <= 0: the preconditioner M is not positive definite."
            return s
        Ap = s.matvec(s.p)
        pAp = float(xp.dot(s.p, Ap))
        if not pAp > 0:
            s.breakdown = "p^T A p <= 0: A is not positive definite."
            return s
        alpha = s.rz / pAp
        s.x = s.x + alpha * s.p
        s.r = s.r - alpha * Ap
        z = s.r if s.precond is None else s.precond(s.r)
        rz_new = float(xp.dot(s.r, z))
        s.alpha, s.beta = alpha, rz_new / s.rz
        s.p = z + s.beta * s.p
        s.rz = rz_new
        s.rnorm = float(xp.linalg.norm(s.r))
        return s

    def terminate(self, s):
        if s.breakdown is not None or not np.isfinite(s.rnorm):
            return Status.NONFINITE if s.breakdown is None else Status.BREAKDOWN
        return Status.SUCCESS if s.rnorm <= s.tol else None

    def history_record(self, s):
        return {"residual": s.rnorm, "alpha": s.alpha, "beta": s.beta}

    def postprocess(self, s, status):
        return LinearSolveResult(x=s.x, breakdown=s.breakdown)


def cg(A, b, x0=None, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0, maxiter: int | None = None, M=None,
       callback=None, record_history: bool = False, assume_symmetric: bool = False) -> LinearSolveResult:
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
    assume_symmetric : bool
        Skip the symmetry check of a matrix ``A`` (a comparison with its
        transpose); CG's answer is meaningless for a non-symmetric ``A``. A
        LinearOperator is never checked (that would cost products).

    Returns
    -------
    LinearSolveResult
        ``x``, ``info`` (0 converged, ``nit`` if stopped early, -1 breakdown),
        ``nit``, ``residual`` (``||b - A x||``), ``rel_residual`` (``residual / ||b||``), ``success``,
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
    if not assume_symmetric:
        check_symmetric_system(A, "A")
    maxiter = 10 * A.shape[0] if maxiter is None else check_positive("maxiter", maxiter, integer=True)
    solver = ConjugateGradient(rtol=rtol, atol=atol, M=M, maxiter=maxiter, record_history=record_history)
    return finish(run(solver, (A, b), x0, callback=callback), A, b)


def pcg(A, b, x0=None, *, M, rtol: float = DEFAULT_RTOL, atol: float = 0.0, maxiter: int | None = None,
        callback=None, record_history: bool = False, assume_symmetric: bool = False) -> LinearSolveResult:
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
              record_history=record_history, assume_symmetric=assume_symmetric)
