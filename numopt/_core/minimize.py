"""``numopt.minimize``: the scipy-style entry point that dispatches to numopt's solvers."""

from __future__ import annotations

from ..oracles import Problem, from_scipy
from .driver import run
from .registry import METHODS, get_solver, register_method
from .result import OptimizeResult

__all__ = ["METHODS", "get_solver", "minimize", "register_method"]


def minimize(fun, x0=None, args=(), method: str | None = None, jac=None, hess=None, hessp=None,
             bounds=None, constraints=None, tol: float | None = None, callback=None,
             options: dict | None = None) -> OptimizeResult:
    """Minimize a function with one of numopt's solvers, with scipy's calling convention.

    Parameters
    ----------
    fun : callable or Problem
        Objective ``fun(x, *args) -> float``, or a numopt problem object (then
        ``jac``, ``hess``, ``hessp`` and ``constraints`` must be omitted).
    x0 : array_like, optional
        Starting point; defaults to the problem's own ``x0``.
    method : str
        One of ``numopt.METHODS`` (for example ``'adasketch-newton'``, ``'bcd'``).
    jac, hess, hessp, bounds, constraints, args
        As in ``scipy.optimize.minimize``; ``jac`` may be ``True``,
        ``'2-point'`` or ``'3-point'``.
    tol : float, optional
        Sets the solver's ``tol`` option.
    callback : callable, optional
        ``callback(intermediate_result)`` or ``callback(xk)``; raise
        ``StopIteration`` to stop.
    options : dict, optional
        Solver options; unknown names raise an error listing the valid ones.

    Returns
    -------
    OptimizeResult
    """
    if method is None:
        raise ValueError(f"method is required; choose one of {', '.join(sorted(METHODS))}.")
    solver_cls = get_solver(method)
    options = dict(options or {})
    if tol is not None:
        options.setdefault("tol", tol)
    solver = solver_cls(**options)
    if isinstance(fun, Problem):
        given = [n for n, v in (("jac", jac), ("hess", hess), ("hessp", hessp), ("constraints", constraints),
                                ("bounds", bounds)) if v is not None]
        if given:
            raise ValueError(f"fun is a Problem object, so {', '.join(given)} must not be passed separately.")
        problem = fun
        if x0 is None:
            x0 = problem.x0
    else:
        if x0 is None:
            raise ValueError("x0 is required when fun is a callable.")
        problem = from_scipy(fun, x0, args=args, jac=jac, hess=hess, hessp=hessp, constraints=constraints,
                             bounds=bounds)
    if x0 is None:
        raise ValueError(f"x0 is required: problem '{problem.name}' has no default start.")
    return run(solver, problem, x0, callback=callback)
