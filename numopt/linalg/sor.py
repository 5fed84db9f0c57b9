"""Successive over-relaxation (forward, backward, symmetric) and SSOR-preconditioned CG.

One SOR iteration with relaxation ``omega`` in (0, 2) is

    x <- x + (D / omega + L)^{-1} (b - A x)

(``D`` the diagonal, ``L`` the strictly lower triangle of ``A``); the backward
sweep uses ``U`` instead of ``L`` and the symmetric sweep (SSOR) does one of
each. It converges for every symmetric positive definite ``A`` and ``omega`` in
(0, 2). :func:`sor` stops when ``||b - A x|| <= max(rtol ||b||, atol)``, checked
after every sweep, with scipy.sparse.linalg's defaults ``rtol = 1e-5``,
``atol = 0`` (:data:`numopt.linalg.system.DEFAULT_RTOL`, shared by every linear
solver) and at most 10,000 sweeps. Khodak et al. (*Learning to relax*, ICLR
2024) use ``rtol = 1e-8``, which :func:`numopt.tuning.solve_sequence` keeps as
its default.

Rows can be visited in natural order or by colors (``ordering='red-black'`` for
5- and 7-point stencils, ``'multicolor'`` for any sparsity): rows of one color
do not touch each other, so they are relaxed in parallel (Numba ``prange`` on
CPUs, one CUDA thread per row with CuPy). A colored sweep is the natural sweep
of the symmetrically permuted matrix, so it converges to the same solution.

:func:`optimal_omega` gives Young's asymptotically optimal
``omega* = 1 + (beta / (1 + sqrt(1 - beta^2)))^2`` from the spectral radius
``beta`` of the Jacobi iteration (exact for consistently ordered matrices such
as the 5-point Laplacian in natural or red-black order).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._core.backend import resolve_backend, to_host
from .._core.driver import IterativeSolver, SolverState, run
from .._core.result import LinearSolveResult, Status
from .._core.validate import check_choice, check_in_range, check_positive
from . import _sor_kernels as _k
from .eigen import extreme_eigenvalues
from .krylov import cg
from .system import DEFAULT_RTOL, check_symmetric_system, check_tolerances, finish, prepare_system

__all__ = [
    "SweepMatrix",
    "color_rows",
    "jacobi_spectral_radius",
    "optimal_omega",
    "sor",
    "sor_iterations",
    "ssor_pcg",
    "ssor_pcg_iterations",
    "ssor_preconditioner",
]

#: colored orderings of at least this many rows sweep each color in parallel by default
PARALLEL_MIN_ROWS = 20_000

SWEEPS = {"forward": _k.FORWARD, "backward": _k.BACKWARD, "symmetric": _k.SYMMETRIC}
ORDERINGS = ("natural", "red-black", "multicolor")


def _as_csr(A) -> sp.csr_matrix:
    if isinstance(A, LinearOperator):
        raise TypeError("SOR needs the entries of A (a dense array or sparse matrix), not a LinearOperator; "
                        "use cg or pcg for an operator known only through products.")
    dtype = getattr(A, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind == "c":
        raise TypeError(f"A must be real; got complex dtype {np.dtype(dtype)}.")
    if getattr(A, "shape", (1,))[0] == 0:
        raise ValueError(f"A must have at least one row; got shape {A.shape}.")
    A = sp.csr_matrix(A, dtype=np.float64)
    if not A.has_canonical_format:
        A = A.copy()
        A.sum_duplicates()
    return A


def color_rows(A, method: str = "red-black") -> np.ndarray:
    """Color the rows of ``A`` so that rows of one color are not coupled (``a_ij = 0``).

    ``method='red-black'`` two-colors a bipartite matrix graph (5-point and
    7-point stencils: the color is the parity of ``i + j (+ k)``) and raises if
    the graph has an odd cycle; ``'greedy'`` gives each row, in natural order,
    the smallest color unused by its earlier neighbours.

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> color_rows(poisson((3, 3))).reshape(3, 3)
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]])
    """
    check_choice("method", method, ("red-black", "greedy"))
    A = _as_csr(A)
    if method == "greedy":
        return _k.greedy_colors(A.indices, A.indptr)
    colors = _k.two_colors(A.indices, A.indptr)
    if A.shape[0] and colors[0] < 0:
        raise ValueError("The matrix graph has an odd cycle, so no red-black ordering exists "
                         "(for example a 9-point stencil); use ordering='multicolor'.")
    return colors


class SweepMatrix:
    """A CSR matrix prepared for SOR sweeps: validated diagonal and a row ordering.

    Parameters
    ----------
    A : array_like or sparse matrix
        Square matrix with a positive diagonal.
    ordering : {'natural', 'red-black', 'multicolor'} or array of int
        Row order of a sweep; an integer array gives each row's color.
    parallel : bool, optional
        Relax the rows of one color in parallel (Numba ``prange``); default:
        for colored orderings with at least :data:`PARALLEL_MIN_ROWS` rows,
        below which thread start-up costs more than the sweep. Serial and
        parallel colored sweeps give the same result.

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> S = SweepMatrix(poisson((4, 4)), ordering="red-black")
    >>> S.ncolors, S.n
    (2, 16)
    """

    def __init__(self, A, ordering="natural", *, parallel: bool | None = None):
        A = _as_csr(A)
        diag = A.diagonal()
        bad = np.flatnonzero(~(diag > 0))
        if bad.size:
            raise ValueError(
                f"A has {bad.size} zero or negative diagonal entries (first: A[{bad[0]}, {bad[0]}] = "
                f"{diag[bad[0]]!r}); SOR divides by the diagonal and needs it positive."
            )
        self.A = A
        self.n = A.shape[0]
        self.diag = np.ascontiguousarray(diag)
        if isinstance(ordering, str):
            check_choice("ordering", ordering, ORDERINGS)
            colors = None if ordering == "natural" else color_rows(
                A, "red-black" if ordering == "red-black" else "greedy")
        else:
            colors = np.asarray(ordering)
            if colors.shape != (self.n,) or colors.dtype.kind not in "iu" or colors.min(initial=0) < 0:
                raise ValueError(f"ordering must be a name in {ORDERINGS} or {self.n} non-negative integer "
                                 f"colors; got an array of shape {colors.shape} and dtype {colors.dtype}.")
            rows = np.repeat(np.arange(self.n), np.diff(A.indptr))
            clash = (colors[rows] == colors[A.indices]) & (rows != A.indices) & (A.data != 0)
            if clash.any():
                raise ValueError("ordering: two coupled rows (a_ij != 0, i != j) share a color.")
        self.ordering = ordering if isinstance(ordering, str) else "colors"
        if colors is None:
            self.order = np.arange(self.n, dtype=np.int64)
            self.color_ptr = np.empty(0, dtype=np.int64)
        else:
            self.order = np.argsort(colors, kind="stable").astype(np.int64)
            counts = np.bincount(colors)
            self.color_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._symmetric = False
        self.parallel = bool(len(self.color_ptr)) and (self.n >= PARALLEL_MIN_ROWS if parallel is None
                                                       else bool(parallel))

    def check_symmetric(self) -> None:
        """Raise a ValueError unless ``A`` is symmetric (checked once, then remembered)."""
        if not self._symmetric:
            check_symmetric_system(self.A, "A")
            self._symmetric = True

    @property
    def ncolors(self) -> int:
        """Number of colors (1 for the natural ordering, which is sequential)."""
        return max(len(self.color_ptr) - 1, 1)

    @property
    def arrays(self):
        """``(data, indices, indptr, diag)`` for the kernels."""
        return self.A.data, self.A.indices, self.A.indptr, self.diag

    def sweep(self, b, x, omega, kind="forward"):
        """One sweep in place on ``x`` (host arrays)."""
        code = SWEEPS[check_choice("sweep", kind, SWEEPS)]
        if self.parallel:
            _k.colored_sweep(*self.arrays, b, x, omega, code, self.order, self.color_ptr)
        else:
            _k.sweep(*self.arrays, b, x, omega, code, self.order)
        return x


def _check_omega(omega):
    return float(check_in_range("omega", omega, 0.0, 2.0))


def _residual_norm(S, b, x) -> float:
    return float(_k.residual_norm(S.A.data, S.A.indices, S.A.indptr, b, x))


class SOR(IterativeSolver):
    """SOR sweeps as an :class:`~numopt.IterativeSolver` (used by :func:`sor` for callbacks and history).

    The problem is ``(S, b)`` with ``S`` a :class:`SweepMatrix`.

    Examples
    --------
    >>> from numopt import run
    >>> from numopt.problems.pde import poisson
    >>> S = SweepMatrix(poisson((4, 4)))
    >>> res = run(SOR(omega=1.5, rtol=1e-8), (S, np.ones(16)), np.zeros(16))
    >>> res.success, res.nit
    (True, 29)
    """

    name = "sor"
    default_options = {"omega": 1.0, "rtol": DEFAULT_RTOL, "atol": 0.0, "sweep": "forward"}

    def validate_options(self, options):
        _check_omega(options["omega"])
        check_choice("sweep", options["sweep"], SWEEPS)
        check_tolerances(options["rtol"], options["atol"])

    def init(self, problem, x0):
        S, b = problem
        tol = max(self.options["rtol"] * float(np.linalg.norm(b)), self.options["atol"])
        return SolverState(x=x0.copy(), rnorm=_residual_norm(S, b, x0), S=S, b=b, tol=tol)

    def step(self, state):
        state.S.sweep(state.b, state.x, self.options["omega"], self.options["sweep"])
        state.rnorm = _residual_norm(state.S, state.b, state.x)
        return state

    def terminate(self, state):
        if not np.isfinite(state.rnorm):
            return Status.NONFINITE
        return Status.SUCCESS if state.rnorm <= state.tol else None

    def history_record(self, state):
        return {"residual": state.rnorm}

    def postprocess(self, state, status):
        return LinearSolveResult(x=state.x)


def loop_result(A, b, x, nit, rnorm, tol, seconds) -> LinearSolveResult:
    """Result of a sweep loop run outside the driver (Numba or GPU) on ``A x = b``, with the driver's fields."""
    if rnorm <= tol:
        status = Status.SUCCESS
    elif not np.isfinite(rnorm):
        status = Status.NONFINITE
    else:
        status = Status.MAXITER
    return finish(dict(x=x, success=status.success, status=status.code, message=status.value, nit=int(nit),
                       time=seconds), A, b)


def sor(A, b, x0=None, *, omega: float = 1.0, rtol: float = DEFAULT_RTOL, atol: float = 0.0, maxiter: int = 10000,
        callback=None, sweep: str = "forward", ordering="natural", backend: str | None = None,
        record_history: bool = False) -> LinearSolveResult:
    """Solve ``A x = b`` by successive over-relaxation.

    Parameters
    ----------
    A : array_like, sparse matrix or SweepMatrix
        Square matrix with a positive diagonal (SOR converges for symmetric
        positive definite ``A``). A :class:`SweepMatrix` skips re-validation
        when one matrix is solved many times.
    b : array_like
        Right-hand side.
    x0 : array_like, optional
        Starting guess (zeros by default); a warm start shortens the run.
    omega : float
        Relaxation parameter in (0, 2); 1 is Gauss-Seidel.
    rtol, atol : float
        Stop when ``||b - A x|| <= max(rtol ||b||, atol)`` (checked after every sweep).
    maxiter : int
        Sweep limit (one symmetric sweep counts as one iteration).
    callback : callable, optional
        ``callback(xk)`` after each sweep; ``StopIteration`` stops the run.
    sweep : {'forward', 'backward', 'symmetric'}
        Direction of each sweep.
    ordering : {'natural', 'red-black', 'multicolor'} or array of int
        Row ordering (see :class:`SweepMatrix`); colored orderings of large
        matrices run each color in parallel. Ignored when ``A`` is a
        :class:`SweepMatrix`.
    backend : {'numba', 'cupy'}, optional
        Default: ``'cupy'`` for CuPy input, else ``'numba'``. The GPU needs a
        colored ordering.
    record_history : bool
        Record the residual norm of every sweep in ``result.history``.

    Returns
    -------
    LinearSolveResult
        Unpacks as ``(x, info)``: ``info = 0`` converged, ``info = nit`` when
        ``maxiter`` was reached, ``-1`` on a non-finite residual (divergence).
        Also ``nit``, ``residual``, ``success``, ``message``, ``time``.

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> A = poisson((10, 10))
    >>> x, info = sor(A, np.ones(100), omega=1.5)
    >>> info, bool(np.linalg.norm(A @ x - 1) <= 1e-5 * 10)
    (0, True)
    >>> sor(A, np.ones(100), omega=1.0, maxiter=5).info
    5
    """
    S = A if isinstance(A, SweepMatrix) else None
    if S is None:
        A, b, x0 = prepare_system(A, b, x0)
        S = SweepMatrix(A, ordering)
    else:
        _, b, x0 = prepare_system(S.A, b, x0)
    omega = _check_omega(omega)
    code = SWEEPS[check_choice("sweep", sweep, SWEEPS)]
    check_positive("maxiter", maxiter, integer=True)
    backend = resolve_backend(b, backend=backend)
    if backend == "cupy":
        if not len(S.color_ptr):
            raise ValueError("The GPU sweep updates whole colors at once: use ordering='red-black' or "
                             "'multicolor' with backend='cupy'.")
        from . import _sor_gpu

        return _sor_gpu.sor(S, b, x0, omega=omega, kind=code, rtol=rtol, atol=atol, maxiter=maxiter)
    if backend == "numpy":
        raise ValueError("SOR sweeps run in Numba kernels (backend='numba') or on a GPU (backend='cupy').")
    b, x0 = to_host(b), to_host(x0)
    if callback is not None or S.parallel:  # a parallel sweep is one kernel call
        solver = SOR(omega=omega, rtol=rtol, atol=atol, sweep=sweep, maxiter=maxiter,
                     record_history=record_history)
        return finish(run(solver, (S, b), x0, callback=callback), S.A, b)
    check_tolerances(rtol, atol)
    tol = max(rtol * float(np.linalg.norm(b)), atol)
    t0 = time.perf_counter()
    if record_history:
        history = np.full(maxiter + 1, np.nan)
        nit, rnorm = _k.solve_recording(*S.arrays, b, x0, omega, code, S.order, tol, maxiter, history)
        out = loop_result(S.A, b, x0, nit, rnorm, tol, time.perf_counter() - t0)
        out["history"] = {"residual": history[:nit + 1].copy()}
        return out
    nit, rnorm = _k.solve(*S.arrays, b, x0, omega, code, S.order, tol, maxiter)
    return loop_result(S.A, b, x0, nit, rnorm, tol, time.perf_counter() - t0)


def sor_iterations(A, b, omegas, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0, maxiter: int = 10000,
                   sweep: str = "forward", return_histories: bool = False):
    """Sweep counts of :func:`sor` from ``x0 = 0`` for each of ``omegas``, in one serial kernel call.

    A count equal to ``maxiter`` means that value did not converge. With
    ``return_histories=True`` also the residual norms of every run
    (``len(omegas) x (maxiter + 1)``, NaN after each run's last sweep).

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> sor_iterations(poisson((10, 10)), np.ones(100), [1.0, 1.5604], rtol=1e-8).tolist()
    [223, 41]
    """
    S = A if isinstance(A, SweepMatrix) else SweepMatrix(A)
    b = prepare_system(S.A, b)[1]
    omegas = np.array([_check_omega(w) for w in np.atleast_1d(omegas)], dtype=float)
    check_tolerances(rtol, atol)
    check_positive("maxiter", maxiter, integer=True)
    tol = max(rtol * float(np.linalg.norm(b)), atol)
    out = np.empty(len(omegas), dtype=np.int64)
    code = SWEEPS[check_choice("sweep", sweep, SWEEPS)]
    if return_histories:
        histories = np.full((len(omegas), maxiter + 1), np.nan)
        _k.solve_many_recording(*S.arrays, b, omegas, code, S.order, tol, maxiter, out, histories)
        return out, histories[:, :int(out.max()) + 1]
    _k.solve_many(*S.arrays, b, omegas, code, S.order, tol, maxiter, out)
    return out


def ssor_pcg_iterations(A, b, omegas, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0,
                        maxiter: int | None = None, return_coefficients: bool = False):
    """Iteration counts of :func:`ssor_pcg` from ``x0 = 0`` for each of ``omegas``, in one kernel call.

    The same iteration as :func:`ssor_pcg` (CG's steps, one symmetric sweep
    from zero as the preconditioner, the recursive residual tested after every
    iteration), without the per-iteration Python overhead: for many small
    systems, such as a cost table over a grid of ``omega``, several times
    faster. A count equal to ``maxiter`` (default ``10 n``) means that value
    did not converge; a breakdown or a non-finite residual gives -1. With
    ``return_coefficients=True`` also the step lengths and direction ratios
    of every run (``len(omegas) x maxiter`` each, NaN after each run's last
    iteration), which give the Ritz values (see
    :func:`numopt.tuning.models.ritz_extremes`).

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> A, b = poisson((16, 16)), np.ones(256)
    >>> counts = ssor_pcg_iterations(A, b, [1.0, 1.7], rtol=1e-8)
    >>> counts.tolist() == [ssor_pcg(A, b, omega=w, rtol=1e-8).nit for w in (1.0, 1.7)]
    True
    """
    S = A if isinstance(A, SweepMatrix) else SweepMatrix(prepare_system(A, b)[0])
    b = prepare_system(S.A, b)[1]
    S.check_symmetric()
    omegas = np.array([_check_omega(w) for w in np.atleast_1d(omegas)], dtype=float)
    check_tolerances(rtol, atol)
    maxiter = 10 * S.n if maxiter is None else check_positive("maxiter", maxiter, integer=True)
    tol = max(rtol * float(np.linalg.norm(b)), atol)
    out = np.empty(len(omegas), dtype=np.int64)
    status = np.empty(len(omegas), dtype=np.int64)
    room = maxiter if return_coefficients else 0
    alphas = np.full((len(omegas), room), np.nan)
    betas = np.full((len(omegas), room), np.nan)
    _k.ssor_pcg_many(*S.arrays, b, omegas, S.order, tol, maxiter, out, status, alphas, betas)
    counts = np.where(status == 0, out, -1)
    if return_coefficients:
        last = int(out.max()) if len(out) else 0
        return counts, alphas[:, :last], betas[:, :last]
    return counts


def ssor_preconditioner(A, omega: float = 1.0, *, ordering="natural") -> LinearOperator:
    """The SSOR preconditioner ``M^{-1} r`` (one symmetric sweep on ``A z = r`` from 0) as a LinearOperator.

    ``M = omega / (2 - omega) (D / omega + L) D^{-1} (D / omega + U)`` up to a
    constant factor, symmetric positive definite for SPD ``A`` and ``omega`` in (0, 2).

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> A = poisson((6, 6))
    >>> M = ssor_preconditioner(A, 1.2)
    >>> v, w = np.arange(36.0), np.ones(36)
    >>> bool(np.isclose(v @ (M @ w), w @ (M @ v)))  # symmetric
    True
    """
    S = A if isinstance(A, SweepMatrix) else SweepMatrix(A, ordering)
    omega = _check_omega(omega)

    def apply(r):
        r = np.ascontiguousarray(np.ravel(r), dtype=np.float64)
        return S.sweep(r, np.zeros_like(r), omega, "symmetric")

    return LinearOperator(S.A.shape, matvec=apply, rmatvec=apply, dtype=np.float64)


def ssor_pcg(A, b, x0=None, *, omega: float = 1.0, rtol: float = DEFAULT_RTOL, atol: float = 0.0,
             maxiter: int | None = None, callback=None, ordering="natural",
             record_history: bool = False, assume_symmetric: bool = False) -> LinearSolveResult:
    """Conjugate gradients preconditioned by SSOR with relaxation ``omega``.

    Same conventions as :func:`numopt.linalg.cg` (``maxiter`` defaults to
    ``10 n``); ``A`` must be symmetric positive definite with a positive
    diagonal, or a :class:`SweepMatrix` of one. Symmetry is checked (once per
    :class:`SweepMatrix`) unless ``assume_symmetric=True``.

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> A = poisson((16, 16))
    >>> b = np.ones(256)
    >>> res = ssor_pcg(A, b, omega=1.5)
    >>> res.info, res.nit < cg(A, b, rtol=1e-8).nit
    (0, True)
    """
    S = A if isinstance(A, SweepMatrix) else SweepMatrix(prepare_system(A, b, x0)[0], ordering)
    if not assume_symmetric:
        S.check_symmetric()
    M = ssor_preconditioner(S, omega)
    return cg(S.A, b, x0, rtol=rtol, atol=atol, maxiter=maxiter, M=M, callback=callback,
              record_history=record_history, assume_symmetric=True)


def jacobi_spectral_radius(A) -> float:
    """Spectral radius of the Jacobi iteration matrix ``I - D^{-1} A`` for symmetric ``A`` with positive diagonal.

    Uses the extreme eigenvalues of ``D^{-1/2} A D^{-1/2}`` (dense for small
    matrices, Lanczos with a shift-invert for the smallest one otherwise).

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> bool(abs(jacobi_spectral_radius(poisson((10, 10))) - np.cos(np.pi / 11)) < 1e-12)
    True
    """
    S = A if isinstance(A, SweepMatrix) else SweepMatrix(A)
    d = 1.0 / np.sqrt(S.diag)
    B = sp.diags(d) @ S.A @ sp.diags(d)
    low, high = extreme_eigenvalues(B, sigma=0.0, dense_limit=1000)
    return float(max(abs(1.0 - low[0]), abs(high[-1] - 1.0)))


def optimal_omega(A=None, *, rho: float | None = None) -> float:
    """Young's asymptotically optimal SOR relaxation ``1 + (rho / (1 + sqrt(1 - rho^2)))^2``.

    Give either the matrix ``A`` (its Jacobi spectral radius is computed) or ``rho``.

    Examples
    --------
    >>> round(optimal_omega(rho=np.cos(np.pi / 11)), 4)
    1.5604
    """
    if (A is None) == (rho is None):
        raise ValueError("Give exactly one of A and rho.")
    beta = jacobi_spectral_radius(A) if rho is None else float(check_in_range("rho", rho, 0.0, 1.0,
                                                                                  closed="left"))
    if not beta < 1.0:
        raise ValueError(f"The Jacobi spectral radius is {beta:.6g} >= 1: Young's formula needs rho < 1 "
                         "(A must be positive definite and diagonally dominant enough).")
    return float(1.0 + (beta / (1.0 + np.sqrt(1.0 - beta**2))) ** 2)
