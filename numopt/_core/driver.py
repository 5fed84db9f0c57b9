"""The one iteration loop every iterative numopt solver runs in.

A solver is a small object with four methods (optimistix style):

``init(problem, x0) -> state``
    Build the state. The state is any object with at least an attribute ``x``
    (the current iterate) and optionally ``fun`` (current objective value).
``step(state) -> state``
    Do one iteration.
``terminate(state) -> Status | None``
    Return a :class:`~numopt.Status` to stop, ``None`` to go on.
``postprocess(state, status) -> OptimizeResult``
    Build the result; :func:`run` fills in the common fields afterwards.

:func:`run` owns everything else: iteration and time limits, callbacks
(scipy's ``callback(intermediate_result)`` and the legacy ``callback(xk)``),
``StopIteration`` raised by a callback, non-finite iterates, history recording
and a tqdm progress bar.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from types import MappingProxyType, SimpleNamespace
from typing import Any

import numpy as np

from .backend import array_namespace
from .result import OptimizeResult, Status
from .validate import check_options, check_positive

__all__ = ["IterativeSolver", "SolverState", "run"]

#: Options understood by the driver; every solver accepts them.
DRIVER_OPTIONS: dict[str, Any] = {
    "maxiter": 1000,
    "maxtime": np.inf,
    "record_history": False,
    "progress": False,
}


class SolverState(SimpleNamespace):
    """Mutable bag of solver variables; the driver reads ``x``, ``fun`` and sets ``nit``."""


class IterativeSolver:
    """Base class for solvers driven by :func:`run`.

    Subclasses set ``name``, ``requires`` (capabilities the problem must
    provide, checked by :meth:`check_problem`) and ``default_options``
    (solver-specific options and their defaults). Options are validated when
    the solver is constructed: unknown names raise an error listing the
    valid ones, and :meth:`validate_options` checks the values.

    A solver is a configuration: ``options`` is a read-only mapping, so a
    run can never rewrite what the user asked for. Everything a run creates
    (random generators, work arrays, counters, operators) belongs in the
    state that ``init`` returns, so one solver object run twice with the same
    seed gives identical results.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt._core.driver import IterativeSolver, SolverState, run
    >>> from numopt import Status
    >>> class Halve(IterativeSolver):
    ...     name = "halve"
    ...     default_options = {"tol": 1e-3}
    ...     def init(self, problem, x0):
    ...         return SolverState(x=np.asarray(x0, float))
    ...     def step(self, state):
    ...         state.x = state.x / 2
    ...         return state
    ...     def terminate(self, state):
    ...         return Status.SUCCESS if np.abs(state.x).max() < self.options["tol"] else None
    >>> res = run(Halve(), None, [1.0])
    >>> res.nit, res.success
    (10, True)
    """

    name: str = "solver"
    requires: tuple[str, ...] = ()
    default_options: dict[str, Any] = {}

    def __init__(self, **options):
        defaults = {**DRIVER_OPTIONS, **self.default_options}
        merged = check_options(options, defaults, self.name)
        check_positive("maxiter", merged["maxiter"], strict=False, integer=True)
        maxtime = merged["maxtime"]
        if not (isinstance(maxtime, (int, float)) and maxtime > 0):
            raise ValueError(f"maxtime must be a positive number of seconds; got {maxtime!r}.")
        self.validate_options(merged)
        self.options = MappingProxyType(merged)

    def validate_options(self, options: dict) -> None:
        """Check option values; override to add solver-specific checks."""

    def check_problem(self, problem) -> None:
        """Raise a clear error if ``problem`` lacks a capability in ``requires``."""
        if self.requires and problem is not None:
            problem.require(*self.requires, solver=self.name)

    def __repr__(self) -> str:
        width = max((len(k) for k in self.options), default=0)
        rows = "\n".join(f"  {k.ljust(width)} = {v!r}" for k, v in sorted(self.options.items()))
        return f"{type(self).__name__} ({self.name})\n{rows}"

    def _repr_html_(self) -> str:
        from .display import html_table

        options = {key: repr(value) for key, value in sorted(self.options.items())}
        return html_table(f"{type(self).__name__} ({self.name})", options)

    # The four methods of the protocol -------------------------------------------------
    def init(self, problem, x0) -> SolverState:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self, state):  # pragma: no cover - abstract
        raise NotImplementedError

    def terminate(self, state) -> Status | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def postprocess(self, state, status: Status) -> OptimizeResult:
        """Default result: ``x`` and ``fun`` from the state.

        A ``message_detail`` entry (a sentence on the cause of a failure) is
        appended to the status message of an unsuccessful run.
        """
        return OptimizeResult(x=state.x, fun=getattr(state, "fun", None))

    def history_record(self, state) -> dict:
        """Scalars to record each iteration when ``record_history`` is on."""
        rec = {}
        if getattr(state, "fun", None) is not None:
            rec["fun"] = float(state.fun)
        return rec

    def intermediate_result(self, state) -> OptimizeResult:
        """What callbacks receive as ``intermediate_result``."""
        return OptimizeResult(x=np.copy(state.x), fun=getattr(state, "fun", None),
                              nit=getattr(state, "nit", 0))


def _wants_intermediate_result(callback: Callable) -> bool:
    try:
        params = inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False
    return set(params) == {"intermediate_result"}


def _is_finite(state) -> bool:
    xp = array_namespace(state.x)
    finite = bool(xp.all(xp.isfinite(state.x)))
    fun = getattr(state, "fun", None)
    if fun is not None and np.ndim(fun) == 0:
        finite = finite and bool(np.isfinite(float(fun)))
    return finite


def run(solver: IterativeSolver, problem, x0, *, callback: Callable | None = None) -> OptimizeResult:
    """Drive ``solver`` on ``problem`` from ``x0`` and return an OptimizeResult.

    The result always carries ``x``, ``success``, ``status`` (int code),
    ``message``, ``nit`` and ``time`` (seconds); with ``record_history`` it also
    carries ``history``, a dict of equal-length lists (``nit``, ``time`` and
    whatever the solver's :meth:`~IterativeSolver.history_record` returns), and
    evaluation counts when the problem keeps them. A problem's counters are reset
    when a run starts, so the counts are those of this run.

    Parameters
    ----------
    solver : IterativeSolver
        Configured solver (its ``options`` hold ``maxiter``, ``maxtime``,
        ``record_history`` and ``progress``).
    problem : object
        Whatever the solver's ``init`` takes.
    x0 : array_like
        Starting point.
    callback : callable, optional
        ``callback(intermediate_result)`` (preferred) or ``callback(xk)``.
        Raising ``StopIteration`` ends the run with ``Status.CALLBACK``.
    """
    solver.check_problem(problem)
    opts = solver.options
    t0 = time.perf_counter()
    if callable(getattr(problem, "reset_counts", None)):
        problem.reset_counts()  # the result's counts are this run's evaluations
    state = solver.init(problem, x0)
    state.nit = 0
    history: dict[str, list] | None = {} if opts["record_history"] else None
    wants_result = callback is not None and _wants_intermediate_result(callback)

    def record():
        if history is None:
            return
        rec = {"nit": state.nit, "time": time.perf_counter() - t0, **solver.history_record(state)}
        for key, value in rec.items():
            history.setdefault(key, []).append(value)

    bar = None
    if opts["progress"]:
        from tqdm.auto import tqdm

        total = opts["maxiter"] if np.isfinite(opts["maxiter"]) else None
        bar = tqdm(total=total, desc=solver.name, leave=False)

    record()
    status = None if _is_finite(state) else Status.NONFINITE
    if status is None:
        status = solver.terminate(state)
    try:
        while status is None:
            if state.nit >= opts["maxiter"]:
                status = Status.MAXITER
                break
            if time.perf_counter() - t0 >= opts["maxtime"]:
                status = Status.MAXTIME
                break
            state = solver.step(state)
            state.nit += 1
            record()
            if bar is not None:
                bar.update(1)
                fun = getattr(state, "fun", None)
                if fun is not None and np.ndim(fun) == 0:
                    bar.set_postfix(fun=f"{float(fun):.3e}", refresh=False)
            if not _is_finite(state):
                status = Status.NONFINITE
                break
            status = solver.terminate(state)
            if callback is not None:
                try:
                    if wants_result:
                        callback(intermediate_result=solver.intermediate_result(state))
                    else:
                        callback(np.copy(state.x))
                except StopIteration:
                    status = status or Status.CALLBACK
    finally:
        if bar is not None:
            bar.close()

    result = solver.postprocess(state, status)
    result.setdefault("x", state.x)
    result["success"] = status.success
    result["status"] = status.code
    detail = result.pop("message_detail", None)
    result["message"] = status.value if not detail or status.success else f"{status.value} {detail}"
    result["nit"] = state.nit
    result["time"] = time.perf_counter() - t0
    counts = getattr(problem, "counts", None)
    if callable(counts):
        for key, value in counts().items():
            result.setdefault(key, value)
    if history is not None:
        result["history"] = history
    return result
