"""Bilevel problems: upper f(x, y), lower g(x, y), convex sets for x and y, counted oracles.

A bilevel problem is

    min_{x in X} F(x) = f(x, y*(x)),   y*(x) in argmin_{y in Y} g(x, y),

with ``X`` and ``Y`` closed convex sets given by projections (see
:mod:`numopt.bilevel.sets`). Each level is a :class:`BilevelFunction`: a value
``fun(x, y)``, a gradient ``grad(x, y) -> (grad_x, grad_y)`` and, for the
implicit-differentiation baseline, second-order products
``hvp(x, y, v) -> (d/dx <grad_y, v>, d/dy <grad_y, v>)``. Missing gradients
come from JAX (``jax.grad`` in float64) when ``fun`` is written with
``jax.numpy`` and JAX is installed, otherwise from central finite differences.

A level that is a finite sum (a mean over ``n_samples`` samples) takes the
minibatch as a third argument: ``fun(x, y, idx)`` and ``grad(x, y, idx)``
receive an integer array of sample indices (the mean over those samples is
expected) or ``None`` for all samples. :meth:`BilevelProblem.batch` draws the
indices from a seeded generator. Every call is counted: values, gradient
calls, Hessian-vector products and per-sample first- or second-order
evaluations (``nsamp``; a Hessian-vector product costs about a gradient).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable

import numpy as np

from .._core.validate import as_float_array, check_positive
from ..oracles import Problem, finite_difference_gradient, finite_difference_hessp, jax_x64
from .sets import as_set

__all__ = ["BilevelFunction", "BilevelProblem"]


def _jax():
    try:
        import jax
    except ImportError:  # pragma: no cover - jax is in the test environment
        return None
    return jax


class BilevelFunction(Problem):
    """Counting oracle of one level, f(x, y) or g(x, y).

    Parameters
    ----------
    fun : callable
        ``fun(x, y) -> float``, or ``fun(x, y, idx)`` when ``n_samples`` is given.
    grad : callable, 'jax', 'finite-difference' or None
        ``grad(x, y[, idx]) -> (grad_x, grad_y)``. ``None`` picks 'jax' when
        JAX is installed and ``fun`` traces, else 'finite-difference'
        (central differences of :func:`numopt.oracles.finite_difference_gradient`).
    hvp : callable or None
        ``hvp(x, y, v[, idx]) -> (H_xy v, H_yy v)``, the derivatives of
        ``<grad_y(x, y), v>`` in x and y. ``None``: JAX forward mode over the
        gradient, or central differences of ``grad`` along ``v``
        (:func:`numopt.oracles.finite_difference_hessp`, two gradient calls).
    n_samples : int, optional
        Number of samples of a finite sum; enables minibatch calls.
    name : str
        Used in messages ('f' or 'g').

    Notes
    -----
    The counters (``count_names``) are ``nfev`` (values, finite-difference
    values included), ``ngev`` (gradient calls), ``nhvp`` (Hessian-vector
    products) and ``nsamp`` (per-sample first- or second-order evaluations).
    JAX derivatives are compiled with ``jax.jit`` and evaluated in 64-bit
    floats inside :func:`numopt.oracles.jax_x64`; the global
    ``jax_enable_x64`` flag is left alone.

    Examples
    --------
    >>> import numpy as np
    >>> g = BilevelFunction(lambda x, y: 0.5 * y @ y - x @ y, grad=lambda x, y: (-y, y - x), name="g")
    >>> gx, gy = g.grad(np.ones(2), np.zeros(2))
    >>> gy, g.counts()["ngev"]
    (array([-1., -1.]), 1)
    """

    count_names = ("nfev", "ngev", "nhvp", "nsamp")

    def __init__(self, fun: Callable, grad=None, hvp=None, *, n_samples: int | None = None, name: str = "f"):
        if not callable(fun):
            raise TypeError(f"{name} must be callable; got {type(fun).__name__}.")
        if n_samples is not None:
            check_positive(f"{name} n_samples", n_samples, integer=True)
        self.name = name
        self.n_samples = n_samples
        self._fun = fun
        if grad is None:
            grad = "jax" if _jax() is not None else "finite-difference"
        if isinstance(grad, str):
            if grad not in ("jax", "finite-difference"):
                raise ValueError(f"{name} grad={grad!r}: expected a callable, 'jax' or 'finite-difference'.")
            self.grad_mode = grad
            self._grad = None
        elif callable(grad):
            self.grad_mode = "user"
            self._grad = grad
        else:
            raise TypeError(f"{name} grad must be callable, 'jax' or 'finite-difference' or None; got {grad!r}.")
        if hvp is not None and not callable(hvp):
            raise TypeError(f"{name} hvp must be callable(x, y, v) or None; got {hvp!r}.")
        self._hvp = hvp
        self._jax_grad = self._jax_hvp = None
        self.reset_counts()

    @property
    def capabilities(self):
        caps = {"fun", "grad", "hvp"}
        if self.n_samples is not None:
            caps.add("minibatch")
        return frozenset(caps)

    # ------------------------------------------------------------------ helpers
    def _args(self, idx):
        return () if self.n_samples is None else (idx,)

    def _batch_size(self, idx):
        if self.n_samples is None:
            return 1
        return self.n_samples if idx is None else len(idx)

    def _build_jax(self):
        jax = _jax()

        def scalar(x, y, *rest):
            return self._fun(x, y, *rest)

        grad = jax.grad(scalar, argnums=(0, 1))

        def hvp(x, y, v, *rest):
            def gy(yy):
                return grad(x, yy, *rest)

            _, tangent = jax.jvp(gy, (y,), (v,))
            return tangent

        self._jax_eager = (grad, hvp)
        self._jax_grad, self._jax_hvp = jax.jit(grad), jax.jit(hvp)

    def _call_jax(self, which, *args):
        with jax_x64():
            fn = self._jax_grad if which == "grad" else self._jax_hvp
            try:
                out = fn(*args)
            except Exception as exc:
                if self.n_samples is None or not _is_trace_error(exc):
                    raise
                # fun indexes NumPy data with the (traced) minibatch indices: run without jit,
                # where the indices stay concrete (slower; use jax.numpy data to keep jit)
                warnings.warn(f"{self.name} cannot be jit-compiled with traced minibatch indices "
                              f"({type(exc).__name__}); using eager JAX (slow). Hold the data in "
                              "jax.numpy arrays to allow jit.", stacklevel=4)
                self._jax_grad, self._jax_hvp = self._jax_eager
                fn = self._jax_grad if which == "grad" else self._jax_hvp
                out = fn(*args)
            return tuple(np.asarray(o, dtype=float).reshape(-1) for o in out)

    def _fd_grad(self, x, y, idx):
        n = x.size
        rest = self._args(idx)

        def joint(w):
            return float(np.asarray(self._fun(w[:n], w[n:], *rest)).reshape(()))

        g, nev = finite_difference_gradient(joint, np.concatenate([x, y]), scheme="3-point")
        self._count("nfev", nev)
        return g[:n], g[n:]

    # ------------------------------------------------------------------ oracles
    def value(self, x, y, idx=None) -> float:
        """Value (the minibatch mean when ``idx`` is given)."""
        self._count("nfev")
        if self.grad_mode == "jax":
            with jax_x64():
                out = np.asarray(self._fun(x, y, *self._args(idx)))
        else:
            out = np.asarray(self._fun(x, y, *self._args(idx)))
        if out.size != 1:
            raise ValueError(f"{self.name}(x, y) must return a scalar; got an array of shape {out.shape}.")
        return float(out.reshape(()))

    def grad(self, x, y, idx=None) -> tuple[np.ndarray, np.ndarray]:
        """``(grad_x, grad_y)`` (minibatch mean when ``idx`` is given)."""
        self._count("ngev")
        self._count("nsamp", self._batch_size(idx))
        if self.grad_mode == "user":
            return self._pair("grad", self._grad(x, y, *self._args(idx)))
        if self.grad_mode == "jax":
            if self._jax_grad is None:
                self._build_jax()
            return self._call_jax("grad", x, y, *self._args(idx))
        return self._fd_grad(x, y, idx)

    def hvp(self, x, y, v, idx=None) -> tuple[np.ndarray, np.ndarray]:
        """``(H_xy v, H_yy v)``: derivatives of ``<grad_y(x, y), v>`` in x and y."""
        self._count("nhvp")
        if self._hvp is not None or self.grad_mode == "jax":
            self._count("nsamp", self._batch_size(idx))
        if self._hvp is not None:
            return self._pair("hvp", self._hvp(x, y, v, *self._args(idx)))
        if self.grad_mode == "jax":
            if self._jax_hvp is None:
                self._build_jax()
            return self._call_jax("hvp", x, y, v, *self._args(idx))
        # the y-derivative of the full gradient along v is (H_xy v, H_yy v) (symmetry of the Hessian)
        n = x.size

        def joint_grad(yy):
            return np.concatenate(self.grad(x, yy, idx))

        hv, _ = finite_difference_hessp(joint_grad, np.asarray(y, dtype=float), v, scheme="3-point")
        return hv[:n], hv[n:]

    def _pair(self, what, out) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            seen = f"{type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else \
                f"{type(out).__name__} of shape {np.shape(out)}"
            raise ValueError(f"the {what} of {self.name} must return a pair ({what}_x, {what}_y) of arrays; "
                             f"got {seen}.")
        return tuple(np.asarray(part, dtype=float).reshape(-1) for part in out)

    def _restore(self, counts):
        for key, value in counts.items():
            setattr(self, key, value)


def _as_function(obj, name) -> BilevelFunction:
    if isinstance(obj, BilevelFunction):
        return obj
    if callable(obj):
        return BilevelFunction(obj, name=name)
    raise TypeError(f"{name} must be a BilevelFunction or a callable {name}(x, y); got {type(obj).__name__}.")


class BilevelProblem(Problem):
    """min_{x in X} f(x, y*(x)) with y*(x) in argmin_{y in Y} g(x, y).

    Parameters
    ----------
    f, g : BilevelFunction or callable
        Upper and lower objectives (callables get JAX or finite-difference gradients).
    x0, y0 : array_like
        Starting points; they fix the sizes ``n`` and ``m``. Both functions are
        evaluated there once (uncounted) to check that their gradients have
        the sizes of x and y.
    proj_x, proj_y : None, ConvexSet, (lower, upper) or callable
        The sets X and Y (see :func:`numopt.bilevel.sets.as_set`); ``None`` is
        the whole space. User projections are tested for idempotence,
        non-expansiveness and convexity on seeded points.
    name : str

    Examples
    --------
    >>> import numpy as np
    >>> f = BilevelFunction(lambda x, y: 0.5 * (y - 1) @ (y - 1), grad=lambda x, y: (0 * x, y - 1))
    >>> g = BilevelFunction(lambda x, y: 0.5 * (y - x) @ (y - x), grad=lambda x, y: (x - y, y - x))
    >>> p = BilevelProblem(f, g, np.zeros(2), np.zeros(2), proj_x=(-1, 0.5))
    >>> p.n, p.m, sorted(p.capabilities)[:3]
    (2, 2, ['lower_fun', 'lower_grad', 'lower_hvp'])
    """

    def __init__(self, f, g, x0, y0, *, proj_x=None, proj_y=None, name: str = "bilevel"):
        self.f = _as_function(f, "f")
        self.f.name = "f"
        self.g = _as_function(g, "g")
        self.g.name = "g"
        self.x0 = as_float_array(x0, "x0", ndim=1)
        self.y0 = as_float_array(y0, "y0", ndim=1)
        for label, start in (("x0", self.x0), ("y0", self.y0)):
            if start.size == 0:
                raise ValueError(f"{label} must have at least one entry; got shape {start.shape}.")
        self.n, self.m = self.x0.size, self.y0.size
        self.name = name
        self.X = as_set(proj_x, "proj_x", self.x0)
        self.Y = as_set(proj_y, "proj_y", self.y0)
        self._check_shapes()

    @property
    def stochastic(self) -> bool:
        """True when either level is a finite sum with minibatch oracles."""
        return self.f.n_samples is not None or self.g.n_samples is not None

    @property
    def capabilities(self):
        caps = {"upper_fun", "upper_grad", "lower_fun", "lower_grad", "lower_hvp", "projection"}
        if self.stochastic:
            caps.add("minibatch")
        return frozenset(caps)

    def _check_shapes(self):
        x, y = self.proj_x(self.x0), self.proj_y(self.y0)
        with self.uncounted():
            for fn in (self.f, self.g):
                try:
                    value = fn.value(x, y)
                    gx, gy = fn.grad(x, y)
                except Exception as exc:
                    if fn.grad_mode == "jax" and _jax() is not None and _is_trace_error(exc):
                        warnings.warn(f"{fn.name} does not trace with JAX ({type(exc).__name__}); "
                                      "using finite-difference gradients.", stacklevel=3)
                        fn.grad_mode = "finite-difference"
                        value = fn.value(x, y)
                        gx, gy = fn.grad(x, y)
                    elif isinstance(exc, ValueError) and "must return" in str(exc):
                        raise
                    else:
                        raise ValueError(
                            f"evaluating {fn.name}(x0, y0) with x of size {self.n} and y of size {self.m} "
                            f"failed ({type(exc).__name__}: {exc}); check that f and g take x and y of the "
                            "same sizes as x0 and y0."
                        ) from exc
                if not np.isfinite(value):
                    raise ValueError(f"{fn.name}(x0, y0) = {value}; expected a finite value.")
                if gx.size != self.n or gy.size != self.m:
                    raise ValueError(
                        f"the gradient of {fn.name} has sizes (x: {gx.size}, y: {gy.size}) but x0 has {self.n} "
                        f"and y0 has {self.m} entries: the x/y shapes of f and g disagree."
                    )

    # ------------------------------------------------------------------ projections
    def proj_x(self, x) -> np.ndarray:
        """Projection onto X."""
        return self.X.project(x)

    def proj_y(self, y) -> np.ndarray:
        """Projection onto Y."""
        return self.Y.project(y)

    # ------------------------------------------------------------------ sampling
    def batch(self, which: str, rng: np.random.Generator, size: int | None):
        """Sample indices (with replacement) for ``which`` in {'f', 'g'}; ``None`` = full sum."""
        fn = self.f if which == "f" else self.g
        if fn.n_samples is None or size is None or size >= fn.n_samples:
            return None
        return rng.integers(0, fn.n_samples, size=size)

    # ------------------------------------------------------------------ counts
    @property
    def count_names(self) -> tuple[str, ...]:
        """The counters of both levels (``nfev_f``, ..., ``nsamp_g``) and the totals ``ngrad``,
        ``noracle``, ``nsamples``."""
        return tuple(self.counts())

    def counts(self) -> dict[str, int]:
        out = {}
        for fn in (self.f, self.g):
            for key, value in fn.counts().items():
                out[f"{key}_{fn.name}"] = value
        out["ngrad"] = self.f.ngev + self.g.ngev
        out["noracle"] = out["ngrad"] + self.f.nhvp + self.g.nhvp
        out["nsamples"] = self.f.nsamp + self.g.nsamp
        return out

    def reset_counts(self) -> None:
        self.f.reset_counts()
        self.g.reset_counts()

    @contextlib.contextmanager
    def uncounted(self):
        """Context in which evaluations are not counted (diagnostics, reports)."""
        saved = (self.f.counts(), self.g.counts())
        try:
            yield self
        finally:
            self.f._restore(saved[0])
            self.g._restore(saved[1])


def _is_trace_error(exc) -> bool:
    jax = _jax()
    errors = tuple(getattr(jax.errors, n) for n in ("TracerArrayConversionError", "ConcretizationTypeError",
                                                      "TracerBoolConversionError", "TracerIntegerConversionError")
                   if hasattr(jax.errors, n))
    return isinstance(exc, errors) or "Tracer" in type(exc).__name__ or "Tracer" in str(exc)
