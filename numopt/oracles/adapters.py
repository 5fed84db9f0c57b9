"""Build numopt problems from scipy-style arguments and from JAX functions.

CUTEst/S2MPJ problems come through :func:`numopt.problems.cutest.load`, which
builds the same :class:`~numopt.oracles.ConstrainedProblem`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, NonlinearConstraint

from .._core.validate import as_float_array, check_choice
from .base import Problem
from .functions import ScalarFunction, VectorFunction
from .nlp import ConstrainedProblem, UnconstrainedProblem

__all__ = ["from_jax", "from_scipy", "jax_x64", "split_constraints"]


def _linear_vector_function(A, offset):
    A = A if sp.issparse(A) else np.atleast_2d(np.asarray(A, dtype=float))
    m, n = A.shape
    offset = np.broadcast_to(np.asarray(offset, dtype=float), (m,)).copy()

    def hess(x, v):
        return sp.csr_matrix((n, n))

    return VectorFunction(lambda x: A @ x - offset, jac=lambda x: A, hess=hess, m=m)


def _stack(functions: list[VectorFunction]) -> VectorFunction | None:
    """One VectorFunction made of several, stacked row-wise."""
    if not functions:
        return None
    if len(functions) == 1:
        return functions[0]
    sizes = [f.m for f in functions]

    def fun(x):
        return np.concatenate([f.fun(x) for f in functions])

    def jac(x):
        blocks = [f.jac(x) for f in functions]
        if any(sp.issparse(b) for b in blocks):
            return sp.vstack([sp.csr_matrix(b) for b in blocks], format="csr")
        return np.vstack(blocks)

    have_hess = all(f.has_hess for f in functions)

    def hess(x, v):
        parts = np.split(np.asarray(v, dtype=float), np.cumsum(sizes)[:-1])
        total = None
        for f, vi in zip(functions, parts):
            H = f.hess(x, vi)
            total = H if total is None else total + H
        return total

    return VectorFunction(fun, jac=jac, hess=hess if have_hess else None,
                          m=sum(sizes) if None not in sizes else None)


def split_constraints(constraints, x0: np.ndarray):
    """Turn scipy-style constraints into ``(eq, ineq)`` VectorFunctions (c_E = 0, c_I >= 0).

    Accepts a dict ``{'type': 'eq' | 'ineq', 'fun', 'jac', 'hess', 'args'}``
    (``hess`` optional, as ``hess(x, v)``), ``NonlinearConstraint``,
    ``LinearConstraint`` or a list of them. Two-sided constraints
    ``lb <= g(x) <= ub`` become equalities where ``lb == ub`` and inequalities
    otherwise.
    """
    if constraints is None:
        return None, None
    if isinstance(constraints, (Mapping, NonlinearConstraint, LinearConstraint)):
        constraints = [constraints]
    if not isinstance(constraints, Sequence):
        raise TypeError("constraints must be a dict, NonlinearConstraint, LinearConstraint or a list of them; "
                        f"got {type(constraints).__name__}.")
    eqs, ineqs = [], []
    for k, con in enumerate(constraints):
        if isinstance(con, Mapping):
            kind = check_choice(f"constraints[{k}]['type']", con.get("type"), ("eq", "ineq"))
            if "fun" not in con:
                raise ValueError(f"constraints[{k}] has no 'fun'.")
            vf = VectorFunction(con["fun"], jac=con.get("jac"), hess=con.get("hess"), args=con.get("args", ()))
            vf.fun(x0)
            (eqs if kind == "eq" else ineqs).append(vf)
            continue
        if isinstance(con, LinearConstraint):
            A = con.A if sp.issparse(con.A) else np.atleast_2d(np.asarray(con.A, dtype=float))
            base = _linear_vector_function(A, 0.0)
            g, jac, hess = base.fun, base.jac, base.hess
        elif isinstance(con, NonlinearConstraint):
            inner = VectorFunction(con.fun, jac=con.jac if not isinstance(con.jac, str) else con.jac,
                                   hess=con.hess if callable(con.hess) else None)
            g, jac, hess = inner.fun, inner.jac, (inner.hess if inner.has_hess else None)
        else:
            raise TypeError(f"constraints[{k}] has unsupported type {type(con).__name__}.")
        m = np.atleast_1d(g(x0)).size
        lb = np.broadcast_to(np.asarray(con.lb, dtype=float), (m,))
        ub = np.broadcast_to(np.asarray(con.ub, dtype=float), (m,))
        eq_rows = np.flatnonzero(lb == ub)
        lo_rows = np.flatnonzero((lb != ub) & np.isfinite(lb))
        hi_rows = np.flatnonzero((lb != ub) & np.isfinite(ub))
        for rows, sign, target in ((eq_rows, 1.0, lb), (lo_rows, 1.0, lb), (hi_rows, -1.0, ub)):
            if rows.size == 0:
                continue
            vf = _select_rows(g, jac, hess, rows, sign, target[rows])
            (eqs if rows is eq_rows else ineqs).append(vf)
    return _stack(eqs), _stack(ineqs)


def _select_rows(g, jac, hess, rows, sign, target):
    """Rows ``rows`` of ``sign * (g(x) - target)``."""
    def fun(x):
        return sign * (np.atleast_1d(g(x))[rows] - target)

    def jacobian(x):
        J = jac(x)
        return sign * (J[rows] if not sp.issparse(J) else sp.csr_matrix(J)[rows])

    def hessian(x, v):
        full_v = np.zeros(np.atleast_1d(g(x)).size)
        full_v[rows] = sign * np.asarray(v, dtype=float)
        return hess(x, full_v)

    return VectorFunction(fun, jac=jacobian, hess=hessian if hess is not None else None, m=rows.size)


def from_scipy(fun, x0, args=(), jac=None, hess=None, hessp=None, constraints=None, bounds=None,
               name: str = "user problem") -> Problem:
    """Build a problem from ``scipy.optimize.minimize``-style arguments.

    Returns an :class:`UnconstrainedProblem` when there are no constraints and
    no bounds, else a :class:`ConstrainedProblem`.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.oracles import from_scipy
    >>> p = from_scipy(lambda x: (x[0] - 1) ** 2 + x[1] ** 2, np.zeros(2),
    ...                constraints={"type": "eq", "fun": lambda x: x[0] + x[1] - 1})
    >>> p.m_eq, p.equality_only
    (1, True)
    """
    x0 = as_float_array(x0, "x0", ndim=1)
    objective = ScalarFunction(fun, grad=jac, hess=hess, hessp=hessp, args=args)
    eq, ineq = split_constraints(constraints, x0)
    lbub = None
    if bounds is not None:
        if isinstance(bounds, Bounds):
            lbub = (bounds.lb, bounds.ub)
        else:
            pairs = np.array([(-np.inf if lo is None else lo, np.inf if hi is None else hi)
                              for lo, hi in bounds], dtype=float)
            if pairs.shape != (x0.size, 2):
                raise ValueError(f"bounds must give one (lb, ub) pair per variable ({x0.size}); "
                                 f"got {len(bounds)}.")
            lbub = (pairs[:, 0], pairs[:, 1])
    if eq is None and ineq is None and lbub is None:
        return UnconstrainedProblem(objective, n=x0.size, x0=x0, name=name)
    return ConstrainedProblem(objective, eq=eq, ineq=ineq, bounds=lbub, n=x0.size, x0=x0, name=name)


@contextlib.contextmanager
def jax_x64():
    """Context in which JAX computes in 64-bit floats; the global ``jax_enable_x64`` flag is left alone.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from numopt.oracles import jax_x64
    >>> before = jax.config.jax_enable_x64
    >>> with jax_x64():
    ...     print(jnp.ones(1).dtype)
    float64
    >>> jax.config.jax_enable_x64 == before
    True
    """
    import jax

    context = getattr(jax, "enable_x64", None)
    if context is None or not callable(context):  # older JAX: the experimental context
        from jax.experimental import enable_x64 as context
    with context(True):
        yield


def _in_x64(function):
    """``function`` run (traced, compiled and evaluated) inside :func:`jax_x64`, returning NumPy arrays."""
    def wrapped(*args):
        with jax_x64():
            return np.asarray(function(*args))

    return wrapped


def from_jax(fun, x0, constraints=None, name: str = "jax problem") -> Problem:
    """Build a problem whose derivatives come from JAX automatic differentiation.

    ``fun(x)`` and each ``constraints`` entry (a callable ``c(x) -> (m,)`` or a
    ``{'type': 'eq' | 'ineq', 'fun': c}`` dict) must be written with
    ``jax.numpy``. Gradients, Jacobians, Hessians and Hessian-vector products
    are compiled with ``jax.jit`` and evaluated in 64-bit floats inside a local
    context (:func:`jax_x64`): the global ``jax_enable_x64`` flag is not changed.

    Examples
    --------
    >>> import numpy as np
    >>> import jax.numpy as jnp
    >>> from numopt.oracles import from_jax
    >>> p = from_jax(lambda x: jnp.sum((x - 1.0) ** 2), np.zeros(3))
    >>> p.objective.grad(np.zeros(3))
    array([-2., -2., -2.])
    """
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as exc:
        raise ImportError("from_jax needs JAX: pip install 'numopt[learn]'.") from exc
    x0 = as_float_array(x0, "x0", ndim=1)

    f = _in_x64(jax.jit(lambda x: jnp.asarray(fun(x), dtype=jnp.float64).reshape(())))
    g = _in_x64(jax.jit(jax.grad(lambda x: fun(x))))
    H = _in_x64(jax.jit(jax.hessian(lambda x: fun(x))))
    hvp = _in_x64(jax.jit(lambda x, p: jax.jvp(jax.grad(lambda z: fun(z)), (x,), (p,))[1]))
    objective = ScalarFunction(lambda x: float(f(x)), grad=g, hess=H, hessp=hvp)
    if constraints is None:
        return UnconstrainedProblem(objective, n=x0.size, x0=x0, name=name)
    if callable(constraints) or isinstance(constraints, Mapping):
        constraints = [constraints]
    eqs, ineqs = [], []
    for con in constraints:
        kind, c = ("eq", con) if callable(con) else (con.get("type", "eq"), con["fun"])
        check_choice("constraint type", kind, ("eq", "ineq"))
        cf = _in_x64(jax.jit(lambda x, c=c: jnp.atleast_1d(c(x))))
        cj = _in_x64(jax.jit(jax.jacfwd(lambda x, c=c: jnp.atleast_1d(c(x)))))
        ch = _in_x64(jax.jit(jax.hessian(lambda x, v, c=c: jnp.dot(v, jnp.atleast_1d(c(x))))))
        vf = VectorFunction(cf, jac=cj, hess=lambda x, v, ch=ch: ch(x, np.asarray(v, dtype=float)))
        vf.fun(x0)
        (eqs if kind == "eq" else ineqs).append(vf)
    return ConstrainedProblem(objective, eq=_stack(eqs), ineq=_stack(ineqs), n=x0.size, x0=x0, name=name)
