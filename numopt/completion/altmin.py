"""Exact and robust (approximate-update) alternating minimization for low-rank matrix completion.

Find ``U (m x k)`` and ``V (n x k)`` minimizing

    f(U, V) = 1/2 sum_{(i,j) in Omega} (U_i . V_j - M_ij)^2 + reg/2 (|U|_F^2 + |V|_F^2)

by alternating over the two factors. With one factor fixed the problem splits
into independent small ridge regressions, one per row of the other factor.

* ``method='exact'`` (Jain, Netrapalli, Sanghavi 2013): solve each regression
  exactly through its ``k x k`` Gram matrix, ``O(|Omega| k^2 + (m+n) k^3)`` per sweep.
* ``method='robust'`` (Gu, Song, Yin, Zhang, ICLR 2024): solve each regression only
  approximately with a sketch-and-precondition solver, ``O(|Omega| k)`` per sweep
  when rows hold ``>~ k^2`` observations; their analysis shows that alternating
  minimization still converges linearly when each update carries a bounded
  relative error. The accuracy rules are:

  1. *Preconditioner.* The row's design ``A_i`` is sketched by a sparse sign
     embedding with ``sketch_factor * k`` rows and ``sketch_nnz`` nonzeros per
     column (cost ``sketch_nnz |Omega_i| k``); ``R`` is the R factor of the
     sketch. Then ``A_i R^{-1}`` has condition number O(1) whatever the
     conditioning of the current factor, so CG on its normal equations contracts
     the error by a constant factor per iteration (``O(|Omega_i| k)`` each).
  2. *Warm start.* Each regression starts from the current model (the previous
     factor expressed in the basis of the new one), so the distance to the exact
     update is proportional to the progress still to be made.
  3. *Short rows.* A row with at most ``sketch_factor * k`` observations gains
     nothing from sketching (the sketch would be as large as the design), so it
     is solved exactly; its cost ``O(|Omega_i| k^2)`` is at most that of forming
     the preconditioner.
  4. *Relative forcing.* CG stops once the preconditioned gradient has dropped
     by ``inner_rtol`` (or after ``inner_maxiter`` iterations). The update error
     is then a fixed fraction of the step, which is the kind of error the robust
     analysis tolerates (it adds to the contraction factor instead of creating a
     floor), and the iteration count per solve is a constant independent of the
     target accuracy, so the total cost stays ``O~(|Omega| k)`` per sweep.

  The paper fixes a per-solve accuracy ``epsilon`` and runs ``O(log 1/epsilon)``
  iterations; the relative rule above gives the same bound per sweep and adapts
  to the current error, so no ``epsilon`` has to be picked in advance.

Both start from the spectral initialization of :func:`~numopt.completion.spectral.spectral_init`
and, when ``reg == 0``, re-orthonormalize the factor just computed (QR,
moving ``R`` into the other factor, so the product is unchanged) as in JNS13;
with ``reg > 0`` this rescaling would change the objective, so it is off. The
proofs use fresh samples in every step (sample splitting); in practice, and
here, every step uses all of ``Omega``.

Rows or columns with no observation get a zero factor row (the ridge /
minimum-norm solution of an empty regression), so their predictions are zero;
rows with fewer than ``k`` observations and ``reg == 0`` get the minimum-norm
solution.
"""

from __future__ import annotations

import time

import numpy as np

from .._core.backend import array_namespace, resolve_backend, to_device, to_host
from .._core.driver import IterativeSolver, SolverState, run
from .._core.result import OptimizeResult, Status
from .._core.validate import (
    as_float_array,
    check_choice,
    check_in_range,
    check_positive,
    check_rng,
)
from .observations import Observations, observations
from .spectral import spectral_init

__all__ = ["AltMin", "complete"]

METHODS = ("robust", "exact")


class AltMin(IterativeSolver):
    """Alternating minimization solver (one iteration = one sweep over both factors).

    Driven by :func:`numopt.run` with an :class:`~numopt.completion.observations.Observations`
    problem and ``x0 = None`` (spectral start) or ``(U0, V0)``. Prefer :func:`complete`.

    The solver is an immutable configuration: the random generator, the kernels,
    the sketch seeds and the factors live in the state each run creates, so one
    ``AltMin`` object run twice with the same integer ``seed`` gives
    bitwise-identical factors.

    Parameters
    ----------
    method : {'robust', 'exact'}
    rank : int
    reg : float
        Ridge weight (>= 0).
    biases : bool
        Fit a row bias ``b_i`` and a column bias ``c_j`` jointly with the factors, i.e.
        model ``M_ij ~ U_i . V_j + b_i + c_j`` (the ridge also applies to the biases).
        Each half-step then solves for ``[U_i, b_i]`` on the design ``[V_j, 1]`` (and
        the other way round), so the biases cost one extra column per regression.
    tol : float
        Stop when the relative observed residual ``|P(UV^T - M)| / |P(M)|`` is below ``tol``.
    ftol : float
        Stop when a sweep lowers the objective by less than ``ftol`` relatively.
    clip : float or None
        Clipping factor of the spectral start.
    svd_oversample, svd_power_iters : int
        Randomized SVD parameters of the spectral start.
    sketch_factor : float
        Sketch rows per unknown (``ceil(sketch_factor * k)`` rows); robust only.
    sketch_nnz : int
        Nonzeros per column of the sparse sign sketch; robust only.
    inner_rtol : float
        Relative decrease of the preconditioned gradient per regression; robust only.
    inner_maxiter : int
        Cap on CG iterations per regression; robust only.
    orthonormalize : bool or None
        Re-orthonormalize factors between half-steps (``None``: when ``reg == 0`` and
        there are no biases).
    seed : int, Generator or None
        Seeds the spectral start and the sketches (default 0, so default runs are
        reproducible; ``None`` draws fresh entropy each run).
    backend : {'numba', 'numpy', 'cupy'} or None

    Examples
    --------
    >>> from numopt.problems.completion_data import synthetic_completion
    >>> from numopt.completion.observations import observations
    >>> d = synthetic_completion(100, 80, 3, nnz=3000, seed=0)
    >>> obs = observations(d.rows, d.cols, d.values, d.shape)
    >>> res = run(AltMin(rank=3, method="exact", seed=0), obs, None)
    >>> res.success, res.residual < 1e-10, res.nsolves == res.nit * (100 + 80)
    (True, True, True)
    """

    name = "altmin"
    requires = ("squared_residual", "row_regressions")
    default_options = {
        "maxiter": 100,
        "method": "robust",
        "rank": None,
        "reg": 0.0,
        "biases": False,
        "tol": 1e-10,
        "ftol": 1e-9,
        "clip": 4.0,
        "svd_oversample": 10,
        "svd_power_iters": 4,
        "sketch_factor": 2.0,
        "sketch_nnz": 2,
        "inner_rtol": 0.1,
        "inner_maxiter": 10,
        "orthonormalize": None,
        "seed": 0,
        "backend": None,
    }

    def validate_options(self, o) -> None:
        check_choice("method", o["method"], METHODS)
        check_positive("rank", o["rank"], integer=True)
        check_positive("reg", o["reg"], strict=False)
        if not isinstance(o["biases"], (bool, np.bool_)):
            raise TypeError(f"biases must be True or False; got {o['biases']!r}.")
        check_positive("tol", o["tol"], strict=False)
        check_positive("ftol", o["ftol"], strict=False)
        if o["clip"] is not None:
            check_positive("clip", o["clip"])
        check_positive("svd_oversample", o["svd_oversample"], strict=False, integer=True)
        check_positive("svd_power_iters", o["svd_power_iters"], strict=False, integer=True)
        check_in_range("sketch_factor", o["sketch_factor"], 1.0, np.inf, closed="left")
        check_positive("sketch_nnz", o["sketch_nnz"], integer=True)
        check_in_range("inner_rtol", o["inner_rtol"], 0.0, 1.0, closed="right")
        check_positive("inner_maxiter", o["inner_maxiter"], integer=True)
        if o["orthonormalize"] not in (None, True, False):
            raise ValueError(f"orthonormalize must be None, True or False; got {o['orthonormalize']!r}.")
        check_rng(o["seed"])
        resolve_backend(backend=o["backend"])

    # ------------------------------------------------------------------------------------------
    def check_problem(self, problem) -> None:
        if not isinstance(problem, Observations):
            raise TypeError("AltMin needs an Observations problem (see numopt.completion.observations); "
                            f"got {type(problem).__name__}.")
        super().check_problem(problem)
        k = self.options["rank"]
        if k > min(problem.shape):
            raise ValueError(f"rank must be <= min(m, n) = {min(problem.shape)}; got rank={k}.")

    def init(self, obs: Observations, x0) -> SolverState:
        o = self.options
        k = o["rank"]
        m, n = obs.shape
        t0 = time.perf_counter()
        rng = check_rng(o["seed"])
        backend = resolve_backend(backend=o["backend"])
        ortho = (o["reg"] == 0.0 and not o["biases"]) if o["orthonormalize"] is None else bool(o["orthonormalize"])
        width = k + 1 if o["biases"] else k
        nclipped = 0
        if x0 is None:
            U, V, nclipped = spectral_init(obs.csr(), k, clip=o["clip"], oversample=o["svd_oversample"],
                                           power_iters=o["svd_power_iters"], seed=rng)
        else:
            if not (isinstance(x0, (tuple, list)) and len(x0) == 2):
                raise ValueError("x0 must be None (spectral start) or a pair (U0, V0); "
                                 f"got {type(x0).__name__}.")
            U = as_float_array(x0[0], "x0[0] (U0)", shape=(m, k), copy=True)
            V = as_float_array(x0[1], "x0[1] (V0)", shape=(n, k), copy=True)
        rows_side, cols_side = obs.entries("rows"), obs.entries("cols")
        if backend == "cupy":
            rows_side = tuple(to_device(a, "cupy") for a in rows_side)
            cols_side = tuple(to_device(a, "cupy") for a in cols_side)
            U, V = to_device(U, "cupy"), to_device(V, "cupy")
        xp = array_namespace(U)
        state = SolverState(
            x=U, U=U, V=V, row_bias=xp.zeros(m) if o["biases"] else None,
            col_bias=xp.zeros(n) if o["biases"] else None, problem=obs, backend=backend,
            kernels=_kernels_for(backend), ortho=ortho, sketch_rows=int(np.ceil(o["sketch_factor"] * width)),
            seed_base=int(rng.integers(0, 2**31 - 1)), rows_side=rows_side, cols_side=cols_side,
            data_norm=float(np.linalg.norm(obs.row_val)), nclipped=nclipped,
            init_time=time.perf_counter() - t0, inner=0, nsolves=0, last_inner=0.0, sweep_time=0.0,
            prev_fun=np.inf,
        )
        self._evaluate(state)
        return state

    def _evaluate(self, state) -> None:
        U, V = state.U, state.V
        if state.row_bias is not None:
            U, V = _append(U, state.row_bias, 1.0), _append(V, 1.0, state.col_bias)
        sq = state.problem.squared_residual(U, V, kernels=state.kernels, entries=state.rows_side)
        reg = self.options["reg"]
        penalty = 0.0
        if reg > 0:
            penalty = 0.5 * reg * float((U * U).sum() + (V * V).sum())
            if state.row_bias is not None:  # the appended columns of ones are not penalized
                penalty -= 0.5 * reg * (U.shape[0] + V.shape[0])
        state.fun = 0.5 * sq + penalty
        state.residual = float(np.sqrt(sq) / max(state.data_norm, 1e-300))

    def _solve(self, state, axis: str, F, X0, other_bias, half: int):
        """New factor (and bias) for the rows of ``axis`` with the other factor ``F`` fixed."""
        o = self.options
        ptr, idx, val = state.rows_side if axis == "rows" else state.cols_side
        if other_bias is not None:  # regress what the other side's bias leaves on [F, 1]
            val = val - other_bias[idx]
            F = _append(F, 1.0)
        robust = None
        if o["method"] == "robust":
            robust = {"X0": X0, "sketch_rows": state.sketch_rows, "sketch_nnz": int(o["sketch_nnz"]),
                      "inner_rtol": float(o["inner_rtol"]), "inner_maxiter": int(o["inner_maxiter"]),
                      "seed": (state.seed_base + 7919 * half) % (2**31 - 1)}
        out, inner = state.problem.row_regressions(axis, F, o["reg"], kernels=state.kernels,
                                                   entries=(ptr, idx, val), robust=robust)
        if other_bias is None:
            return out, None, inner
        return out[:, :-1], out[:, -1], inner

    @staticmethod
    def _rebase(state, Q, other):
        """Orthonormalize ``Q`` and move its R factor into ``other`` (product unchanged)."""
        if not state.ortho:
            return Q, other
        Q, R = array_namespace(Q).linalg.qr(Q)
        return Q, other @ R.T

    def step(self, state):
        t0 = time.perf_counter()
        half = 2 * state.nit
        state.prev_fun = state.fun
        biased = state.row_bias is not None
        X0 = _append(state.V, state.col_bias) if biased else state.V
        V, col_bias, inner_v = self._solve(state, "cols", state.U, X0, state.row_bias, half)
        V, U_warm = self._rebase(state, V, state.U)
        X0 = _append(U_warm, state.row_bias) if biased else U_warm
        U, row_bias, inner_u = self._solve(state, "rows", V, X0, col_bias, half + 1)
        U, V = self._rebase(state, U, V)
        state.U, state.V, state.x = U, V, U
        state.row_bias, state.col_bias = row_bias, col_bias
        m, n = state.rows_side[0].size - 1, state.cols_side[0].size - 1
        state.inner += inner_v + inner_u
        state.nsolves += m + n
        state.last_inner = (inner_v + inner_u) / (m + n)
        self._evaluate(state)
        state.sweep_time = time.perf_counter() - t0
        return state

    def terminate(self, state):
        if state.residual <= self.options["tol"]:
            return Status.SUCCESS
        if np.isfinite(state.prev_fun) and state.prev_fun - state.fun <= self.options["ftol"] * state.prev_fun:
            return Status.SUCCESS
        return None

    def history_record(self, state) -> dict:
        return {"fun": float(state.fun), "residual": float(state.residual),
                "inner_iterations": float(state.last_inner), "sweep_time": float(state.sweep_time)}

    def intermediate_result(self, state) -> OptimizeResult:
        return OptimizeResult(U=to_host(state.U).copy(), V=to_host(state.V).copy(), fun=state.fun,
                              residual=state.residual, nit=state.nit)

    def postprocess(self, state, status) -> OptimizeResult:
        U, V = to_host(state.U), to_host(state.V)
        extra = {}
        if state.row_bias is not None:
            extra = {"row_bias": to_host(state.row_bias), "col_bias": to_host(state.col_bias)}
        return OptimizeResult(
            U=U, V=V, x=U, fun=state.fun, residual=state.residual, method=self.options["method"],
            rank=self.options["rank"], backend=state.backend, init_time=state.init_time,
            clipped_rows=state.nclipped, inner_iterations=state.inner,
            mean_inner_iterations=state.inner / max(state.nsolves, 1), **extra,
        )


def _append(F, *columns):
    """``F`` with the given columns appended (each a vector or a scalar broadcast down the rows)."""
    xp = array_namespace(F)
    cols = [xp.full((F.shape[0], 1), c, dtype=F.dtype) if np.isscalar(c) else c.reshape(-1, 1) for c in columns]
    return xp.concatenate([F, *cols], axis=1)


def _kernels_for(backend: str):
    """The kernel module of ``backend``: Numba, the NumPy references or CuPy."""
    if backend == "cupy":
        from . import _gpu

        return _gpu
    from . import _kernels

    return _kernels if backend == "numba" else _kernels.REFERENCE


def complete(rows, cols, values, shape, rank: int, method: str = "robust", *, reg: float = 0.0, x0=None,
             duplicates: str = "error", seed=0, backend: str | None = None, callback=None, **options):
    """Complete a partially observed matrix with a rank-``rank`` factorization ``U V^T``.

    Parameters
    ----------
    rows, cols : array_like of int
        Indices of the observed entries (``0 <= rows < m``, ``0 <= cols < n``).
    values : array_like of float
        Observed values (finite).
    shape : (int, int)
        ``(m, n)``.
    rank : int
        Target rank ``k <= min(m, n)``.
    method : {'robust', 'exact'}
        Approximate sketch-preconditioned updates (``O(|Omega| k)`` per sweep) or
        exact per-row solves (``O(|Omega| k^2)``). See :mod:`numopt.completion.altmin`.
    reg : float
        Ridge weight on ``|U|_F^2 + |V|_F^2``.
    x0 : (U0, V0), optional
        Starting factors; default the clipped spectral start.
    duplicates : {'error', 'average'}
        Rule for ``(row, col)`` pairs listed more than once.
    seed : int, Generator or None
        Seeds the spectral start and the sketches; the default 0 makes default calls
        reproducible, ``None`` draws fresh entropy.
    backend : {'numba', 'numpy', 'cupy'}, optional
        Default Numba when available.
    callback : callable, optional
        ``callback(intermediate_result)`` after each sweep (with ``U``, ``V``,
        ``fun``, ``residual``, ``nit``); raise ``StopIteration`` to stop.
    **options
        ``maxiter`` (100), ``maxtime``, ``tol`` (1e-10), ``ftol`` (1e-9), ``clip`` (4.0),
        ``svd_oversample``, ``svd_power_iters``, ``sketch_factor`` (2.0), ``sketch_nnz`` (2),
        ``inner_rtol`` (0.1), ``inner_maxiter`` (10), ``orthonormalize``, ``biases`` (False;
        ``row_bias`` and ``col_bias`` are then returned too), ``record_history``,
        ``progress``; see :class:`AltMin`.

    Returns
    -------
    OptimizeResult
        ``U``, ``V`` (``x`` is ``U``), ``fun``, ``residual`` (relative residual on the
        observed entries), ``success``, ``status``, ``message``, ``nit`` (sweeps),
        ``time``, ``init_time``, ``inner_iterations``, ``mean_inner_iterations``,
        ``clipped_rows``, ``empty_rows``, ``empty_cols``, ``duplicates`` (pairs merged),
        ``nfev`` (objective evaluations), ``nsolves`` (per-row least-squares solves),
        and ``history`` with ``record_history=True``.

    Examples
    --------
    >>> from numopt.completion import complete, relative_error
    >>> from numopt.problems.completion_data import synthetic_completion
    >>> d = synthetic_completion(200, 150, 4, nnz=8000, seed=0)
    >>> res = complete(d.rows, d.cols, d.values, d.shape, rank=4, seed=0)
    >>> res.success, relative_error(res.U, res.V, d.U_true, d.V_true) < 1e-8
    (True, True)
    """
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None; got {type(callback).__name__}.")
    obs = observations(rows, cols, values, shape, duplicates=duplicates)
    check_positive("rank", rank, integer=True)
    if rank > min(obs.shape):
        raise ValueError(f"rank must be <= min(m, n) = {min(obs.shape)}; got rank={rank}.")
    solver = AltMin(rank=rank, method=method, reg=reg, seed=seed, backend=backend, **options)
    res = run(solver, obs, x0, callback=callback)
    res["empty_rows"] = obs.empty_rows
    res["empty_cols"] = obs.empty_cols
    res["duplicates"] = obs.nduplicates
    return res
