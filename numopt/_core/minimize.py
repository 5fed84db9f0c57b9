"""``numopt.minimize``: the scipy-style entry point that dispatches to numopt's solvers."""

from __future__ import annotations

from scipy.optimize import HessianUpdateStrategy

from ..oracles import Problem, from_scipy
from .driver import run
from .registry import METHODS, get_solver, register_method
from .result import OptimizeResult
from .validate import as_float_array

__all__ = ["DEFAULT_METHOD", "METHODS", "get_solver", "minimize", "register_method"]

#: Method used when ``method`` is omitted and the problem has no bounds and no inequality constraints.
DEFAULT_METHOD = "adasketch-newton"


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
        Starting point (1-D, at least one entry); defaults to the problem's own ``x0``.
    method : str, optional
        One of ``numopt.METHODS`` (for example ``'adasketch-newton'``, ``'bcd'``).
        Default: :data:`DEFAULT_METHOD` (``'adasketch-newton'``, a Newton
        method for unconstrained and equality-constrained problems).
    jac, hess, hessp, bounds, constraints, args
        As in ``scipy.optimize.minimize``; ``jac`` may be ``True``,
        ``'2-point'`` or ``'3-point'``; ``hess`` may be a
        ``scipy.optimize.HessianUpdateStrategy`` (``BFGS()``, ``SR1()``), which
        then approximates the Hessian (of the Lagrangian) from gradient changes.
    tol : float, optional
        Sets the solver's ``tol`` option.
    callback : callable, optional
        ``callback(intermediate_result)`` or ``callback(xk)``; raise
        ``StopIteration`` to stop.
    options : dict, optional
        Solver options; unknown names raise an error listing the valid ones.
        Randomized solvers take ``seed``: the default is a fixed seed (0 for
        ``'adasketch-newton'``), so identical calls give identical results;
        ``seed=None`` draws fresh entropy.

    Returns
    -------
    OptimizeResult

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen, rosen_der, rosen_hess
    >>> import numopt
    >>> res = numopt.minimize(rosen, np.array([-1.2, 1.0]), jac=rosen_der, hess=rosen_hess)
    >>> res.success, np.round(res.x, 8)
    (True, array([1., 1.]))
    """
    options = dict(options or {})
    if tol is not None:
        options.setdefault("tol", tol)
    if isinstance(hess, HessianUpdateStrategy):
        options["hessian_update"] = hess
        hess = None
    if isinstance(fun, Problem):
        given = [n for n, v in (("jac", jac), ("hess", hess), ("hessp", hessp), ("constraints", constraints),
                                ("bounds", bounds)) if v is not None]
        if given:
            raise ValueError(f"fun is a Problem object, so {', '.join(given)} must not be passed separately.")
        problem = fun
        if x0 is None:
            x0 = problem.x0
        if x0 is None:
            raise ValueError(f"x0 is required: problem '{problem.name}' has no default start.")
    else:
        if x0 is None:
            raise ValueError("x0 is required when fun is a callable.")
        x0 = as_float_array(x0, "x0", ndim=1)
        if x0.size == 0:
            raise ValueError("x0 must have at least one entry; got shape (0,).")
        problem = from_scipy(fun, x0, args=args, jac=jac, hess=hess, hessp=hessp, constraints=constraints,
                             bounds=bounds)
    if method is None:
        method = _default_method(problem)
    solver_cls = get_solver(method)
    if "hessian_update" in options and "hessian_update" not in solver_cls.default_options:
        raise ValueError(f"hess={options['hessian_update']!r} (a HessianUpdateStrategy) is not supported by "
                         f"method {method!r}; give hess as a callable.")
    solver = solver_cls(**options)
    return run(solver, problem, x0, callback=callback)


def _default_method(problem) -> str:
    """:data:`DEFAULT_METHOD` for unconstrained and equality-constrained problems, else an error."""
    if getattr(problem, "equality_only", True):
        return DEFAULT_METHOD
    raise ValueError("method is required for problems with bounds or inequality constraints; choose one of "
                     f"{', '.join(sorted(METHODS))} (no registered method handles them by default).")
