"""``numopt.decentralized.minimize``: run DADAO or a baseline on a separable problem over a graph."""

from __future__ import annotations

from .._core.driver import run
from .._core.registry import REGISTRY, get_method
from .._core.result import OptimizeResult

__all__ = ["METHODS", "minimize"]

#: The decentralized methods (name -> "module:Class"), the ``'decentralized'`` kind of the one registry.
METHODS = REGISTRY["decentralized"]


def minimize(problem, graph, method: str = "dadao", *, t_max: float = 100.0, tol: float = 1e-6,
             rates="uniform", seed=None, x0=None, record_every: float | None = None, callback=None,
             options: dict | None = None) -> OptimizeResult:
    """Minimize sum_i f_i over a communication graph with a decentralized method.

    Parameters
    ----------
    problem : SeparableProblem
        Local objectives (one per node), with L, mu and the minimizer x*.
    graph : networkx.Graph or TimeVaryingGraph
        Connected graph on nodes 0..n-1 with n = ``problem.n_nodes``.
    method : {'dadao', 'adom+', 'adom+mc', 'msda', 'continuized', 'gradient-tracking'}
        'adom+mc' is ADOM+ with multi-consensus; 'msda' and 'continuized' need the conjugate
        gradients (ridge problems).
    t_max : float
        Simulated time horizon; every node computes about one local gradient per unit of time.
    tol : float
        Stop once (1/n) sum_i ||x_i - x*||^2 <= tol ||x*||^2 (success); reaching ``t_max``
        first ends with the iteration-limit status.
    rates : 'uniform', 'sdp' or array
        DADAO's per-edge gossip rates (see :mod:`numopt.decentralized.rates`).
    seed : int or Generator
        Seed of the Poisson clocks.
    x0 : array, optional
        Start, shape (dim,) or (n_nodes, dim); zeros by default.
    record_every : float, optional
        Time between two history records (default t_max / 500).
    callback : callable, optional
        ``callback(intermediate_result)`` after each record; raise StopIteration to stop.
    options : dict, optional
        Further solver options (e.g. ``backend``, ``step`` of gradient tracking).

    Returns
    -------
    OptimizeResult
        ``x`` (n_nodes, dim) local iterates, ``x_mean``, ``error`` = (1/n) sum ||x_i - x*||^2,
        ``rel_error``, ``consensus``, ``ngrad``, ``ncomm``, ``t`` and ``history`` (dict of lists:
        t, error, rel_error, consensus, ngrad, ncomm, time).

    Examples
    --------
    >>> from numopt.decentralized import make_graph, minimize, ridge_problem
    >>> p = ridge_problem(n_nodes=6, seed=0)
    >>> res = minimize(p, make_graph("cycle", 6), method="dadao", t_max=500.0, seed=0)
    >>> res.success, res.rel_error <= 1e-6, res.ngrad > 0, res.ncomm > 0
    (True, True, True, True)
    """
    cls, fixed = get_method(method, kind="decentralized")
    key = method.lower()
    opts = {"graph": graph, "t_max": t_max, "tol": tol, "seed": seed, "record_every": record_every,
            "record_history": True, **fixed, **dict(options or {})}
    if key == "dadao":
        opts["rates"] = rates
    elif not (isinstance(rates, str) and rates == "uniform"):
        raise ValueError(f"rates={rates!r} applies to method='dadao' only; {key} uses its own gossip scheme.")
    solver = cls(**opts)
    res = run(solver, problem, x0, callback=callback)
    res["method"] = key
    return res
