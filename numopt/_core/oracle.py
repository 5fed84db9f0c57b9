"""Problems and oracles: what a problem can evaluate, counted and cached.

A *problem* says what it can evaluate through :attr:`Problem.capabilities`;
a solver states what it needs and :meth:`Problem.require` raises a clear
error naming what is missing. Evaluations go through counting, caching
wrappers (:class:`ScalarFunction`, :class:`VectorFunction`), like scipy's
``ScalarFunction``: repeated calls at the same point cost nothing and
``counts()`` reports ``nfev``, ``njev``, ``nhev`` (objective) and ``ncev``,
``ncjev``, ``nchev`` (constraints).

New problem types (block-structured, separable over nodes, bilevel, ...)
subclass :class:`Problem` and list their capabilities.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .validate import as_float_array, check_choice

__all__ = [
    "ConstrainedProblem",
    "MissingCapabilityError",
    "Problem",
    "ScalarFunction",
    "UnconstrainedProblem",
    "VectorFunction",
    "finite_difference_gradient",
    "finite_difference_jacobian",
]

FD_SCHEMES = ("2-point", "3-point")


class MissingCapabilityError(TypeError):
    """A solver needs an evaluation the problem cannot provide."""


class Problem:
    """Base of every problem type.

    Subclasses define ``n`` (number of variables), ``x0`` (default start or
    ``None``) and ``capabilities`` (the names of the evaluations they offer).
    """

    n: int
    x0: np.ndarray | None = None
    name: str = "problem"

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset()

    def require(self, *needed: str, solver: str = "this solver") -> None:
        """Raise :class:`MissingCapabilityError` if any of ``needed`` is unavailable.

        An entry ``'a|b'`` is satisfied by either ``a`` or ``b``.
        """
        missing = [need for need in needed if not set(need.split("|")) & self.capabilities]
        if missing:
            have = ", ".join(sorted(self.capabilities)) or "nothing"
            wanted = ", ".join(m.replace("|", " or ") for m in missing)
            raise MissingCapabilityError(
                f"{solver} needs {wanted} from the problem, but {type(self).__name__} "
                f"'{self.name}' provides only: {have}."
            )

    def counts(self) -> dict[str, int]:
        """Evaluation counts so far."""
        return {}

    def reset_counts(self) -> None:
        """Set every evaluation counter back to zero."""


def _fd_step(x, scheme):
    eps = np.finfo(float).eps
    rel = np.sqrt(eps) if scheme == "2-point" else eps ** (1 / 3)
    return rel * np.maximum(1.0, np.abs(x))


def finite_difference_jacobian(fun: Callable, x: np.ndarray, f0=None, scheme: str = "2-point"):
    """Jacobian of ``fun`` at ``x`` by forward ('2-point') or central ('3-point') differences.

    Returns an array of shape ``(m, n)`` (``(n,)`` when ``fun`` is scalar) and
    the number of extra ``fun`` evaluations used.

    Examples
    --------
    >>> import numpy as np
    >>> J, nev = finite_difference_jacobian(lambda x: np.array([x[0] * x[1]]), np.array([2.0, 3.0]))
    >>> np.allclose(J, [[3.0, 2.0]]), nev
    (True, 2)
    """
    check_choice("scheme", scheme, FD_SCHEMES)
    x = np.asarray(x, dtype=float)
    h = _fd_step(x, scheme)
    if f0 is None and scheme == "2-point":
        f0 = np.asarray(fun(x), dtype=float)
    cols = []
    nev = 0
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h[i]
        if scheme == "2-point":
            cols.append((np.asarray(fun(x + e), dtype=float) - f0) / h[i])
            nev += 1
        else:
            fp = np.asarray(fun(x + e), dtype=float)
            fm = np.asarray(fun(x - e), dtype=float)
            cols.append((fp - fm) / (2 * h[i]))
            nev += 2
    J = np.stack(cols, axis=-1)
    return J, nev


def finite_difference_gradient(fun: Callable, x, f0=None, scheme: str = "2-point"):
    """Gradient of a scalar ``fun`` by finite differences (see :func:`finite_difference_jacobian`)."""
    J, nev = finite_difference_jacobian(fun, x, f0, scheme)
    return np.asarray(J).reshape(-1), nev


class _Cache:
    __slots__ = ("x", "value")

    def __init__(self):
        self.x = None
        self.value = None

    def get(self, x):
        if self.x is not None and self.x.shape == x.shape and np.array_equal(self.x, x):
            return self.value
        return None

    def put(self, x, value):
        self.x = np.array(x, copy=True)
        self.value = value
        return value


class ScalarFunction:
    """Counting, caching wrapper of an objective f: R^n -> R and its derivatives.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``; with ``grad=True`` it returns ``(f, g)``.
    grad : callable, True, '2-point', '3-point' or None
        Gradient; ``None`` means '2-point' finite differences.
    hess : callable, '2-point', '3-point' or None
        Hessian ``hess(x, *args) -> (n, n)`` array or sparse matrix. A finite
        difference scheme differentiates the gradient.
    hessp : callable or None
        Hessian-vector product ``hessp(x, p, *args) -> (n,)``.
    args : tuple
        Extra arguments passed to every callable.

    Examples
    --------
    >>> import numpy as np
    >>> f = ScalarFunction(lambda x: x @ x, grad=lambda x: 2 * x)
    >>> x = np.array([1.0, 2.0])
    >>> f.fun(x), f.fun(x), f.nfev
    (5.0, 5.0, 1)
    >>> f.grad(x)
    array([2., 4.])
    """

    def __init__(self, fun: Callable, grad=None, hess=None, hessp=None, args: tuple = ()):
        if not callable(fun):
            raise TypeError(f"fun must be callable; got {type(fun).__name__}.")
        self._fun = fun
        self._args = tuple(args)
        self._combined = grad is True
        if grad is None or grad is False:
            grad = "2-point"
        if isinstance(grad, str):
            check_choice("jac", grad, FD_SCHEMES)
        elif not (grad is True or callable(grad)):
            raise TypeError(f"jac must be callable, True, '2-point' or '3-point'; got {grad!r}.")
        if isinstance(hess, str):
            check_choice("hess", hess, FD_SCHEMES)
            if isinstance(grad, str):
                # Differencing a differenced gradient loses every digit (errors of order one), as in scipy.
                raise ValueError("hess cannot be estimated by finite differences when the gradient is too "
                                 "(jac is None or a scheme): give jac as a callable or jac=True.")
        elif hess is not None and not callable(hess):
            raise TypeError(f"hess must be callable, '2-point', '3-point' or None; got {hess!r}.")
        if hessp is not None and not callable(hessp):
            raise TypeError(f"hessp must be callable or None; got {hessp!r}.")
        self._grad = grad
        self._hess = hess
        self._hessp = hessp
        self._fcache, self._gcache, self._hcache = _Cache(), _Cache(), _Cache()
        self.nfev = self.njev = self.nhev = 0

    @property
    def capabilities(self) -> frozenset[str]:
        caps = {"fun", "grad"}
        if self._hess is not None:
            caps |= {"hess", "hessp"}
        if self._hessp is not None:
            caps.add("hessp")
        return frozenset(caps)

    @property
    def exact_grad(self) -> bool:
        """True when the gradient is analytic (not finite differences)."""
        return not isinstance(self._grad, str)

    def _eval_combined(self, x):
        f, g = self._fun(x, *self._args)
        self.nfev += 1
        self.njev += 1
        f = float(f)
        self._fcache.put(x, f)
        self._gcache.put(x, np.asarray(g, dtype=float).reshape(-1))
        return f

    def fun(self, x) -> float:
        """Objective value at ``x``."""
        cached = self._fcache.get(x)
        if cached is not None:
            return cached
        if self._combined:
            return self._eval_combined(x)
        value = self._fun(x, *self._args)
        self.nfev += 1
        value = float(np.asarray(value).reshape(()))
        return self._fcache.put(x, value)

    def grad(self, x) -> np.ndarray:
        """Gradient at ``x``."""
        cached = self._gcache.get(x)
        if cached is not None:
            return cached
        if self._combined:
            self._eval_combined(x)
            return self._gcache.value
        if callable(self._grad):
            g = np.asarray(self._grad(x, *self._args), dtype=float).reshape(-1)
            self.njev += 1
        else:
            f0 = self.fun(x) if self._grad == "2-point" else None
            g, nev = finite_difference_gradient(lambda z: self._fun(z, *self._args), x, f0, self._grad)
            self.nfev += nev
        return self._gcache.put(x, g)

    def hess(self, x):
        """Hessian at ``x`` (dense array or sparse matrix)."""
        if self._hess is None:
            raise AttributeError("no Hessian was given (hess=None)")
        cached = self._hcache.get(x)
        if cached is not None:
            return cached
        if callable(self._hess):
            H = self._hess(x, *self._args)
            H = H if hasattr(H, "tocsr") else np.atleast_2d(np.asarray(H, dtype=float))
            self.nhev += 1
        else:
            H, nev = finite_difference_jacobian(self.grad, x, self.grad(x), self._hess)
            H = 0.5 * (H + H.T)
            self.njev += nev
        return self._hcache.put(x, H)

    def hessp(self, x, p) -> np.ndarray:
        """Hessian-vector product at ``x`` with ``p``."""
        if self._hessp is not None:
            self.nhev += 1
            return np.asarray(self._hessp(x, p, *self._args), dtype=float).reshape(-1)
        return np.asarray(self.hess(x) @ p, dtype=float).reshape(-1)

    def counts(self) -> dict[str, int]:
        return {"nfev": self.nfev, "njev": self.njev, "nhev": self.nhev}

    def reset_counts(self) -> None:
        self.nfev = self.njev = self.nhev = 0


class VectorFunction:
    """Counting, caching wrapper of constraints c: R^n -> R^m and their derivatives.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> (m,)``.
    jac : callable, '2-point', '3-point' or None
        Jacobian ``(m, n)`` (dense or sparse); ``None`` means '2-point'.
    hess : callable or None
        ``hess(x, v, *args)``: Hessian of ``v @ c(x)`` (scipy's
        ``NonlinearConstraint`` convention), dense or sparse.
    m : int, optional
        Number of constraints; found by one evaluation when omitted.

    Examples
    --------
    >>> import numpy as np
    >>> c = VectorFunction(lambda x: np.array([x @ x - 1.0]), jac=lambda x: 2 * x[None, :])
    >>> c.fun(np.array([1.0, 1.0]))
    array([1.])
    >>> c.jac(np.array([1.0, 1.0]))
    array([[2., 2.]])
    """

    def __init__(self, fun: Callable, jac=None, hess=None, args: tuple = (), m: int | None = None):
        if not callable(fun):
            raise TypeError(f"constraint fun must be callable; got {type(fun).__name__}.")
        if jac is None:
            jac = "2-point"
        if isinstance(jac, str):
            check_choice("constraint jac", jac, FD_SCHEMES)
        elif not callable(jac):
            raise TypeError(f"constraint jac must be callable or a finite-difference scheme; got {jac!r}.")
        if hess is not None and not callable(hess):
            raise TypeError(f"constraint hess must be callable(x, v) or None; got {hess!r}.")
        self._fun, self._jac, self._hess, self._args = fun, jac, hess, tuple(args)
        self._ccache, self._jcache = _Cache(), _Cache()
        self.ncev = self.ncjev = self.nchev = 0
        self.m = m

    @property
    def has_hess(self) -> bool:
        return self._hess is not None

    def fun(self, x) -> np.ndarray:
        cached = self._ccache.get(x)
        if cached is not None:
            return cached
        c = np.atleast_1d(np.asarray(self._fun(x, *self._args), dtype=float)).reshape(-1)
        self.ncev += 1
        if self.m is None:
            self.m = c.size
        elif c.size != self.m:
            raise ValueError(f"constraint function returned {c.size} values; expected m = {self.m}.")
        return self._ccache.put(x, c)

    def jac(self, x):
        cached = self._jcache.get(x)
        if cached is not None:
            return cached
        if callable(self._jac):
            J = self._jac(x, *self._args)
            if not hasattr(J, "tocsr"):
                J = np.asarray(J, dtype=float).reshape(-1, np.size(x))
            self.ncjev += 1
        else:
            c0 = self.fun(x) if self._jac == "2-point" else None
            J, nev = finite_difference_jacobian(lambda z: np.atleast_1d(self._fun(z, *self._args)), x, c0,
                                                self._jac)
            J = J.reshape(-1, np.size(x))
            self.ncev += nev
        m = self.m if self.m is not None else self.fun(x).size
        if J.shape != (m, np.size(x)):
            raise ValueError(f"constraint Jacobian has shape {J.shape}; expected (m, n) = ({m}, {np.size(x)}).")
        return self._jcache.put(x, J)

    def hess(self, x, v):
        """Hessian of ``v @ c`` at ``x``."""
        if self._hess is None:
            raise AttributeError("no constraint Hessian was given")
        self.nchev += 1
        H = self._hess(x, v, *self._args)
        return H if hasattr(H, "tocsr") else np.atleast_2d(np.asarray(H, dtype=float))

    def counts(self) -> dict[str, int]:
        return {"ncev": self.ncev, "ncjev": self.ncjev, "nchev": self.nchev}

    def reset_counts(self) -> None:
        self.ncev = self.ncjev = self.nchev = 0


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
