"""Solve a sequence of linear systems while a learner sets a solver parameter for each one.

:func:`solve_sequence` is the online loop: for every system the learner picks
a value (``omega`` for SOR and SSOR-PCG) from the context, the system is solved
(warm-started when that makes sense), and the iteration count is fed back.
:func:`cost_table` solves every system at every grid value, which the
hindsight oracles of :mod:`numopt.tuning.oracles` need.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np

from .._core.result import OptimizeResult
from .._core.validate import check_choice
from ..linalg.sor import SweepMatrix, sor, sor_iterations, ssor_pcg, ssor_pcg_iterations
from ..problems.linear_sequences import LinearSystem
from .learners import Fixed, Learner, _check_grid
from .models import convergence_factor, ritz_condition_number

__all__ = ["cost_table", "solve_sequence"]

SOLVERS: dict[str, Callable] = {"sor": sor, "ssor-pcg": ssor_pcg}


def _as_system(item, t: int) -> LinearSystem:
    if isinstance(item, LinearSystem):
        return item
    if isinstance(item, tuple) and len(item) in (2, 3):
        return LinearSystem(*item)
    raise TypeError(f"Item {t} of the sequence must be a LinearSystem, (A, b) or (A, b, context); "
                    f"got {type(item).__name__}.")


def _resolve_solver(solver):
    if callable(solver):
        return solver, False
    check_choice("solver", solver, SOLVERS)
    return SOLVERS[solver], True


def _operator(system: LinearSystem, builtin: bool, options: dict):
    """The matrix to hand the solver (a validated SweepMatrix for SOR/SSOR-PCG) and its keywords."""
    if not builtin:
        return system.A, options
    opts = {k: v for k, v in options.items() if k != "ordering"}
    return SweepMatrix(system.A, options.get("ordering", "natural")), opts


def _context(context, system: LinearSystem, t: int):
    if context is None:
        return system.context
    if callable(context):
        return context(system)
    if t >= len(context):
        raise ValueError(f"context has {len(context)} entries but the sequence has more systems (system {t} "
                         "has none); give one context per system.")
    return context[t]


def _check_nonempty(count: int) -> None:
    if count == 0:
        raise ValueError("systems is empty; expected at least one linear system to solve.")


def _start(system: LinearSystem, previous, warm_start: bool):
    if system.x0 is not None:
        return system.x0
    if warm_start and previous is not None and previous.shape == system.b.shape:
        return previous
    return None


def _iterate(systems, progress: bool):
    if progress:
        from tqdm.auto import tqdm

        total = len(systems) if hasattr(systems, "__len__") else None
        return tqdm(systems, total=total, desc="systems", leave=False)
    return systems


def solve_sequence(systems: Iterable, solver="sor", learner: Learner | float = 1.0, *, context=None,
                   parameter: str = "omega", warm_start: bool = True, rtol: float = 1e-8, atol: float = 0.0,
                   maxiter: int | None = None, cost="nit", progress: bool = False,
                   **solver_options) -> OptimizeResult:
    """Solve ``systems`` one after another, letting ``learner`` set ``parameter`` for each.

    Parameters
    ----------
    systems : iterable
        :class:`~numopt.problems.linear_sequences.LinearSystem` records,
        ``(A, b)`` or ``(A, b, context)`` tuples, or a sequence object such as
        :class:`~numopt.problems.linear_sequences.HeatEquation` (a generator works).
    solver : {'sor', 'ssor-pcg'} or callable
        A callable is called as ``solver(A, b, x0, **{parameter: value}, rtol=,
        atol=, maxiter=, **solver_options)`` and returns a LinearSolveResult.
    learner : Learner or float
        Online learner (:class:`~numopt.tuning.TsallisINF`, :class:`~numopt.tuning.ChebCB`, ...)
        or a fixed value.
    context : None, callable or array_like
        Context of each system: by default ``system.context``; a callable maps
        the system to it; an array gives it by position.
    parameter : str
        Keyword of the solver that the learner sets.
    warm_start : bool
        Start from the previous solution when the system brings no ``x0`` of
        its own and sizes match (off: start from zero).
    rtol, atol, maxiter
        Passed to the solver (SOR defaults to 10,000 sweeps).
    cost : 'nit', 'time' or callable
        Feedback to the learner: iterations, seconds, or ``cost(result)``.
    progress : bool
        Show a progress bar.
    **solver_options
        Further solver keywords (for example ``ordering='red-black'``).

    Returns
    -------
    OptimizeResult
        Per instance: ``costs``, ``nit``, ``params`` (value used), ``contexts``,
        ``times`` (seconds), ``info``; totals ``total_cost``, ``total_nit``,
        ``total_time``; ``success`` (every solve converged) and ``x`` (last solution).

    Examples
    --------
    >>> from numopt.problems.linear_sequences import shifted_laplacians
    >>> from numopt.tuning import TsallisINF
    >>> seq = shifted_laplacians(20, seed=0)
    >>> res = solve_sequence(seq, "sor", TsallisINF(np.linspace(1, 1.95, 20), seed=0), warm_start=False)
    >>> res.nit.shape, res.success
    ((20,), True)
    """
    solve, builtin = _resolve_solver(solver)
    learner = learner if isinstance(learner, Learner) else Fixed(learner)
    if not (cost in ("nit", "time") or callable(cost)):
        raise ValueError(f"cost must be 'nit', 'time' or a callable of the result; got {cost!r}.")
    options = dict(solver_options, rtol=rtol, atol=atol)
    if maxiter is not None:
        options["maxiter"] = maxiter
    if builtin and getattr(learner, "needs_history", False):
        options["record_history"] = True  # model-based learners read the residual history
    rec = {k: [] for k in ("nit", "costs", "params", "contexts", "times", "info")}
    x = None
    for t, item in enumerate(_iterate(systems, progress)):
        system = _as_system(item, t)
        ctx = _context(context, system, t)
        value = learner.select(ctx)
        try:
            x0 = _start(system, x, warm_start)
            t0 = time.perf_counter()
            A, opts = _operator(system, builtin, options)
            res = solve(A, system.b, x0, **{parameter: value}, **opts)
            seconds = time.perf_counter() - t0
            c = res.nit if cost == "nit" else seconds if cost == "time" else cost(res)
        except BaseException:
            learner.cancel()  # the learner stays usable: this round never happened
            raise
        learner.update(c, res)
        x = res.x
        if system.on_solution is not None:
            system.on_solution(x)
        for key, val in zip(rec, (res.nit, c, value, np.nan if ctx is None else ctx, seconds, res.info)):
            rec[key].append(val)
    _check_nonempty(len(rec["nit"]))
    out = OptimizeResult({k: np.asarray(v) for k, v in rec.items()})
    out.update(total_cost=float(out.costs.sum()), total_nit=int(out.nit.sum()), total_time=float(out.times.sum()),
               success=bool(np.all(out.info == 0)), x=x, learner=learner)
    return out


def _measured(solver, result):
    """What a model-based learner reads from a solve: SOR's convergence factor, SSOR-PCG's condition number,
    or the ``feedback`` record a callable solver attaches to its result (:class:`~numopt.tuning.SolverArms`)."""
    if not isinstance(solver, str) and result.get("feedback") is not None:
        return np.asarray(result["feedback"], dtype=float)
    history = result.get("history") or {}
    if solver == "sor" and "residual" in history:
        return convergence_factor(history["residual"])
    if solver == "ssor-pcg" and "alpha" in history:
        return ritz_condition_number(history["alpha"], history["beta"])
    return np.nan


def _counts_in_kernel(solver, parameter, opts) -> bool:
    """Cold-start SOR and SSOR-PCG counts for a whole grid can be taken in one kernel call."""
    allowed = {"sor": {"rtol", "atol", "maxiter", "sweep"}, "ssor-pcg": {"rtol", "atol", "maxiter"}}
    return parameter == "omega" and solver in allowed and set(opts) <= allowed[solver]


def _grid_in_kernel(solver, A, b, grid, opts):
    """``(counts, info, feedback)`` of every grid value from ``x0 = 0`` in one kernel call."""
    if solver == "sor":
        nits, histories = sor_iterations(A, b, grid, **opts, return_histories=True)
        info = np.where(nits < opts.get("maxiter", 10000), 0, nits)
        return nits, info, [convergence_factor(h) for h in histories]
    counts, alphas, betas = ssor_pcg_iterations(A, b, grid, **opts, return_coefficients=True)
    cap = opts.get("maxiter") or 10 * A.n
    nits = np.where(counts < 0, cap, counts)  # a breakdown (never on SPD systems) is charged the cap
    info = np.where(counts < 0, -1, np.where(counts < cap, 0, counts))
    return nits, info, [ritz_condition_number(alphas[k, :n], betas[k, :n]) for k, n in enumerate(nits)]


def cost_table(systems: Iterable, grid, solver="sor", *, context=None, parameter: str = "omega",
               warm_start: bool = True, rtol: float = 1e-8, atol: float = 0.0, maxiter: int | None = None,
               progress: bool = False, **solver_options) -> OptimizeResult:
    """Iteration count of every system at every grid value (the hindsight information of the oracles).

    Every grid value starts from the same point (the system's ``x0``, else the
    previous solution with ``warm_start``, else zero); the sequence then moves
    on with the solution of the cheapest value, so time-stepping sequences stay
    on the same trajectory as an online run.

    Returns
    -------
    OptimizeResult
        ``costs`` (``T x K`` iterations), ``contexts`` (``T``), ``grid``, ``info`` (``T x K``) and
        ``feedback`` (``T x K``): what a model-based learner reads from each solve (the convergence
        factor of the residual history for SOR, the condition number from the CG coefficients for
        SSOR-PCG, NaN otherwise; ``T x K x F`` for a callable solver whose results carry a ``feedback``
        record of ``F`` numbers, such as :class:`~numopt.tuning.SolverArms`), for
        :func:`~numopt.tuning.replay`. One pass over the sequence serves the whole grid (cold-start SOR
        and SSOR-PCG counts of all values in one kernel call).

    Examples
    --------
    >>> from numopt.problems.linear_sequences import shifted_laplacians
    >>> table = cost_table(shifted_laplacians(3, seed=0), [1.0, 1.5], warm_start=False)
    >>> table.costs.shape, bool(np.all(table.costs[:, 1] < table.costs[:, 0]))
    ((3, 2), True)
    """
    solve, builtin = _resolve_solver(solver)
    grid = _check_grid(grid)
    options = dict(solver_options, rtol=rtol, atol=atol)
    if maxiter is not None:
        options["maxiter"] = maxiter
    costs, infos, contexts, feedback = [], [], [], []
    x = None
    for t, item in enumerate(_iterate(systems, progress)):
        system = _as_system(item, t)
        ctx = _context(context, system, t)
        A, opts = _operator(system, builtin, options)
        x0 = _start(system, x, warm_start)
        contexts.append(np.nan if ctx is None else ctx)
        if x0 is None and system.on_solution is None and not warm_start and _counts_in_kernel(solver, parameter,
                                                                                             opts):
            nits, info, measured = _grid_in_kernel(solver, A, system.b, grid, opts)
            costs.append(nits)
            infos.append(info)
            feedback.append(measured)
            continue
        if builtin:
            opts = dict(opts, record_history=True)
        results = [solve(A, system.b, None if x0 is None else x0.copy(), **{parameter: v}, **opts) for v in grid]
        nits = [r.nit for r in results]
        costs.append(nits)
        infos.append([r.info for r in results])
        feedback.append([_measured(solver, r) for r in results])
        x = results[int(np.argmin(nits))].x
        if system.on_solution is not None:
            system.on_solution(x)
    _check_nonempty(len(costs))
    return OptimizeResult(costs=np.asarray(costs), info=np.asarray(infos), contexts=np.asarray(contexts),
                          grid=grid, feedback=np.asarray(feedback, dtype=float))
