"""Counting, caching oracles of a function and its derivatives (scipy's ``ScalarFunction`` idea).

:class:`ScalarFunction` wraps an objective f: R^n -> R, :class:`VectorFunction`
constraints c: R^n -> R^m. Repeated calls at the same point cost nothing and
``counts()`` reports ``nfev``, ``njev``, ``nhev`` (objective) and ``ncev``,
``ncjev``, ``nchev`` (constraints). Missing derivatives come from
:mod:`numopt.oracles.differences`. :func:`minibatch_indices` draws the sample
indices that finite-sum oracles take.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core.validate import check_choice, check_positive, check_rng
from .differences import FD_SCHEMES, finite_difference_gradient, finite_difference_jacobian

__all__ = ["ScalarFunction", "VectorFunction", "minibatch_indices"]


def minibatch_indices(n_samples: int, batch_size: int, rng, *, replace: bool = False) -> np.ndarray:
    """``batch_size`` sample indices out of ``n_samples``, drawn from ``rng``, sorted.

    A batch as large as the data set (or larger) is every index, in order.

    Examples
    --------
    >>> from numopt.oracles import minibatch_indices
    >>> minibatch_indices(10, 4, 0)
    array([2, 4, 5, 7])
    >>> minibatch_indices(3, 8, 0)
    array([0, 1, 2])
    """
    check_positive("n_samples", n_samples, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    if batch_size >= n_samples and not replace:
        return np.arange(n_samples)
    rng = check_rng(rng)
    return np.sort(rng.choice(n_samples, size=batch_size, replace=replace))


def _scalar(value, name: str) -> float:
    """``value`` as a float; a clear error naming ``name`` when it is not a single number."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"{name} must return a scalar; got an array of shape {arr.shape}.")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must return a real number; got dtype {arr.dtype}.")
    return float(arr.reshape(()))


def _vector(value, n: int, name: str) -> np.ndarray:
    """``value`` as a float vector of length ``n``; a clear error naming ``name`` otherwise."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must return real numbers; got dtype {arr.dtype}.")
    if arr.size != n or arr.ndim > 2 or (arr.ndim == 2 and 1 not in arr.shape):
        raise ValueError(f"{name} returned shape {arr.shape}; expected ({n},), one entry per variable.")
    return arr.astype(float).reshape(-1)


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
        out = self._fun(x, *self._args)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise ValueError("with jac=True, fun must return a pair (f, grad); "
                             f"got {type(out).__name__}.")
        f, g = out
        self.nfev += 1
        self.njev += 1
        f = _scalar(f, "fun")
        self._fcache.put(x, f)
        self._gcache.put(x, _vector(g, np.size(x), "jac"))
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
        return self._fcache.put(x, _scalar(value, "fun"))

    def grad(self, x) -> np.ndarray:
        """Gradient at ``x``."""
        cached = self._gcache.get(x)
        if cached is not None:
            return cached
        if self._combined:
            self._eval_combined(x)
            return self._gcache.value
        if callable(self._grad):
            g = _vector(self._grad(x, *self._args), np.size(x), "jac")
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
            if H.shape != (np.size(x),) * 2:
                raise ValueError(f"hess returned shape {tuple(H.shape)}; expected (n, n) = "
                                 f"({np.size(x)}, {np.size(x)}).")
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
            return _vector(self._hessp(x, p, *self._args), np.size(x), "hessp")
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
