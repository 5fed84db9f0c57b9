"""``minimize_bilevel``: one call for every bilevel method."""

from __future__ import annotations

from .._core.driver import run
from .._core.registry import REGISTRY, get_method
from .problem import BilevelFunction, BilevelProblem

__all__ = ["BILEVEL_METHODS", "minimize_bilevel"]

#: The bilevel methods (name -> "module:Class"), the ``'bilevel'`` kind of the one registry.
BILEVEL_METHODS = REGISTRY["bilevel"]


def minimize_bilevel(f, g=None, x0=None, y0=None, method: str = "penalty", *, grad_f=None, grad_g=None,
                     hvp_g=None, n_samples_f=None, n_samples_g=None, proj_x=None, proj_y=None,
                     callback=None, options=None, **kwargs):
    """Solve min_{x in X} f(x, y*(x)), y*(x) in argmin_{y in Y} g(x, y).

    Parameters
    ----------
    f, g : callable, BilevelFunction, or f a BilevelProblem
        Upper ``f(x, y)`` and lower ``g(x, y)`` objectives (with a third
        argument ``idx`` when ``n_samples_*`` is given). Callables without
        gradients are differentiated with JAX when it is installed (write them
        with ``jax.numpy``), else by central differences. A
        :class:`BilevelProblem` as ``f`` carries everything (``g``, ``x0``,
        ``y0`` then stay None).
    x0, y0 : array_like
        Starting points (their sizes fix those of x and y).
    method : str
        'penalty' (deterministic, inner loops), 'penalty-stochastic'
        (minibatches, inner loops), 'penalty-single-loop' (O(1) samples per
        iteration, momentum), 'implicit' (exact hypergradient, unconstrained
        strongly convex lower level), 'f2sa'.
    grad_f, grad_g : callable, optional
        ``grad(x, y[, idx]) -> (grad_x, grad_y)``.
    hvp_g : callable, optional
        ``hvp_g(x, y, v[, idx]) -> (H_xy v, H_yy v)`` for 'implicit'.
    n_samples_f, n_samples_g : int, optional
        Finite-sum sizes of the levels (enables minibatches).
    proj_x, proj_y : None, ConvexSet, (lower, upper) or callable
        Sets X and Y (see :mod:`numopt.bilevel.sets`); None is the whole space.
    callback : callable, optional
        ``callback(intermediate_result)`` with ``x``, ``y``, ``sigma``, ``nit``.
    options : dict, optional
        Solver options (see each solver class); keyword arguments are merged in.

    Returns
    -------
    OptimizeResult
        ``x``, ``y``, ``z``, ``fun`` (= ``upper_value`` f(x, y)), ``lower_value``,
        ``lower_gap`` (g(x, y) - min_y g(x, .)), ``stationarity`` (the
        projected-gradient-mapping norm of the penalty function, the paper's
        epsilon-stationarity measure), ``hypergrad_norm``, ``sigma``,
        ``lower_diverged``, ``success``, ``status``, ``message``, ``nit``,
        ``time``, oracle counts (``nfev_f``, ``ngev_f``, ``nhvp_g``, ``nsamp_f``, ...,
        ``ngrad`` gradient calls, ``noracle`` gradient and Hessian-vector calls,
        ``nsamples`` per-sample evaluations) and ``trace`` when ``record_every`` > 0.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x, y: 0.5 * np.sum((y - 1.0) ** 2) + 0.5 * np.sum(x ** 2)
    >>> g = lambda x, y: 0.5 * np.sum((y - x) ** 2)
    >>> res = minimize_bilevel(f, g, np.zeros(2), np.zeros(2), method="implicit",
    ...                        grad_f=lambda x, y: (x, y - 1.0), grad_g=lambda x, y: (x - y, y - x))
    >>> np.round(res.x, 6), res.success
    (array([0.5, 0.5]), True)
    """
    cls, fixed = get_method(method, kind="bilevel")
    if isinstance(f, BilevelProblem):
        if g is not None or x0 is not None or y0 is not None:
            raise ValueError("pass either a BilevelProblem as f, or f, g, x0 and y0; not both.")
        problem = f
    else:
        if g is None or x0 is None or y0 is None:
            raise ValueError("minimize_bilevel needs f, g, x0 and y0 (or a BilevelProblem as f).")
        ff = f if isinstance(f, BilevelFunction) else BilevelFunction(f, grad_f, n_samples=n_samples_f,
                                                                         name="f")
        gg = g if isinstance(g, BilevelFunction) else BilevelFunction(g, grad_g, hvp_g, n_samples=n_samples_g,
                                                                         name="g")
        problem = BilevelProblem(ff, gg, x0, y0, proj_x=proj_x, proj_y=proj_y)
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict of solver options or None; got {type(options).__name__}.")
    opts = {**dict(options or {}), **kwargs}
    solver = cls(**opts, **fixed)
    return run(solver, problem, problem.x0, callback=callback)
