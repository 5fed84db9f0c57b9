"""Nonlinear programs: min f(x), and min f(x) subject to equality, inequality and bound constraints."""

from __future__ import annotations

import numpy as np

from .._core.validate import as_float_array
from .base import Problem
from .functions import ScalarFunction, VectorFunction

__all__ = ["ConstrainedProblem", "UnconstrainedProblem"]


class UnconstrainedProblem(Problem):
    """min f(x) over R^n.

    Examples
    --------
    >>> import numpy as np
    >>> p = UnconstrainedProblem(ScalarFunction(lambda x: x @ x), n=2)
    >>> sorted(p.capabilities)
    ['fun', 'grad']
    """

    def __init__(self, objective: ScalarFunction, n: int, x0=None, name: str = "unconstrained"):
        self.objective = objective
        self.n = int(n)
        self.x0 = None if x0 is None else as_float_array(x0, "x0", shape=(self.n,))
        self.name = name

    @property
    def capabilities(self):
        return self.objective.capabilities

    def fun(self, x) -> float:
        """Objective value at ``x``."""
        return self.objective.fun(x)

    def grad(self, x) -> np.ndarray:
        """Gradient at ``x``."""
        return self.objective.grad(x)

    def hess(self, x):
        """Hessian at ``x``."""
        return self.objective.hess(x)

    def hessp(self, x, p) -> np.ndarray:
        """Hessian-vector product at ``x`` with ``p``."""
        return self.objective.hessp(x, p)

    def counts(self):
        return self.objective.counts()

    def reset_counts(self):
        self.objective.reset_counts()


class ConstrainedProblem(Problem):
    """min f(x) s.t. c_E(x) = 0, c_I(x) >= 0, lb <= x <= ub.

    Equality-constrained solvers check :attr:`equality_only`. The Lagrangian
    uses the sign convention L(x, l) = f(x) + l^T c_E(x).

    Parameters
    ----------
    objective : ScalarFunction
    eq : VectorFunction or None
        Equality constraints c_E(x) = 0.
    ineq : VectorFunction or None
        Inequality constraints c_I(x) >= 0.
    bounds : (lb, ub) arrays or None
    n : int
    x0, y0 : arrays, optional
        Start point and initial equality multipliers.

    Examples
    --------
    >>> import numpy as np
    >>> f = ScalarFunction(lambda x: x @ x, grad=lambda x: 2 * x, hess=lambda x: 2 * np.eye(2))
    >>> c = VectorFunction(lambda x: np.array([x.sum() - 1]), jac=lambda x: np.ones((1, 2)),
    ...                    hess=lambda x, v: np.zeros((2, 2)), m=1)
    >>> p = ConstrainedProblem(f, eq=c, n=2)
    >>> p.m_eq, p.equality_only
    (1, True)
    >>> p.grad_lagrangian(np.array([0.5, 0.5]), np.array([-1.0]))
    array([0., 0.])
    """

    def __init__(self, objective: ScalarFunction, eq: VectorFunction | None = None,
                 ineq: VectorFunction | None = None, bounds=None, n: int | None = None, x0=None,
                 y0=None, name: str = "constrained"):
        self.objective = objective
        self.eq, self.ineq = eq, ineq
        if n is None:
            if x0 is None:
                raise ValueError("give n or x0 so that the number of variables is known.")
            n = np.size(x0)
        self.n = int(n)
        self.x0 = None if x0 is None else as_float_array(x0, "x0", shape=(self.n,))
        self.name = name
        self.bounds = None
        if bounds is not None:
            lb, ub = bounds
            lb = np.broadcast_to(np.asarray(lb, float), (self.n,)).copy()
            ub = np.broadcast_to(np.asarray(ub, float), (self.n,)).copy()
            if np.any(lb > ub):
                raise ValueError("bounds: some lower bounds exceed the upper bounds.")
            if np.any(np.isfinite(lb)) or np.any(np.isfinite(ub)):
                self.bounds = (lb, ub)
        for vf in (eq, ineq):
            if vf is not None and vf.m is None:
                if self.x0 is None:
                    raise ValueError("the number of constraints is unknown: give m= to the VectorFunction "
                                     "or x0 to the problem.")
                vf.fun(self.x0)
        self.y0 = None if y0 is None else as_float_array(y0, "y0", shape=(self.m_eq,))

    @property
    def m_eq(self) -> int:
        return 0 if self.eq is None else int(self.eq.m if self.eq.m is not None else -1)

    @property
    def m_ineq(self) -> int:
        return 0 if self.ineq is None else int(self.ineq.m if self.ineq.m is not None else -1)

    @property
    def equality_only(self) -> bool:
        """True when there are no inequality constraints and no finite bounds."""
        return self.ineq is None and self.bounds is None

    @property
    def capabilities(self):
        caps = set(self.objective.capabilities)
        if self.eq is not None:
            caps |= {"cons", "jac"}
            if "hess" in caps and self.eq.has_hess:
                caps |= {"hess_lagrangian", "hessp_lagrangian"}
            elif "hessp" in caps and self.eq.has_hess:
                caps.add("hessp_lagrangian")
        elif "hess" in caps:
            caps |= {"hess_lagrangian", "hessp_lagrangian"}
        return frozenset(caps)

    def fun(self, x):
        return self.objective.fun(x)

    def grad(self, x):
        return self.objective.grad(x)

    def cons(self, x):
        return self.eq.fun(x) if self.eq is not None else np.zeros(0)

    def jac(self, x):
        return self.eq.jac(x) if self.eq is not None else np.zeros((0, self.n))

    def grad_lagrangian(self, x, y):
        """grad f(x) + J(x)^T y."""
        g = self.objective.grad(x)
        if self.eq is None or self.m_eq == 0:
            return g
        return g + np.asarray(self.eq.jac(x).T @ y).reshape(-1)

    def hess_lagrangian(self, x, y):
        """Hessian of the Lagrangian in x: H_f(x) + sum_i y_i H_{c_i}(x)."""
        H = self.objective.hess(x)
        if self.eq is not None and self.m_eq:
            H = H + self.eq.hess(x, y)
        return H

    def hessp_lagrangian(self, x, y, p):
        """Product of the Hessian of the Lagrangian with ``p``."""
        hp = self.objective.hessp(x, p)
        if self.eq is not None and self.m_eq:
            hp = hp + np.asarray(self.eq.hess(x, y) @ p).reshape(-1)
        return hp

    def counts(self):
        out = dict(self.objective.counts())
        for vf in (self.eq, self.ineq):
            if vf is not None:
                for k, v in vf.counts().items():
                    out[k] = out.get(k, 0) + v
        return out

    def reset_counts(self):
        self.objective.reset_counts()
        for vf in (self.eq, self.ineq):
            if vf is not None:
                vf.reset_counts()
