"""Closed convex sets given by their Euclidean projections.

The bilevel methods keep the upper variable ``x`` in a set ``X`` and the lower
variables ``y`` (and the auxiliary ``z``) in a set ``Y``; every iterate is
projected. :func:`as_set` turns what a user passes (``None``, a set object, a
``(lower, upper)`` pair or a plain projection callable) into a
:class:`ConvexSet`. A user projection is checked on a few seeded test points:
it must return a finite array of the right shape, be idempotent
(``P(P(v)) = P(v)``), be non-expansive (``|P(a) - P(b)| <= |a - b|``, true of
every projection onto a closed convex set) and keep midpoints of projected
points fixed (the image of a convex set is convex). A failure of either of the
last two is reported as a clue that the set is not convex.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core.validate import as_float_array, check_positive, check_rng

__all__ = ["Ball", "Box", "ConvexSet", "Projection", "Reals", "Simplex", "as_set"]


class ConvexSet:
    """A closed convex set with a Euclidean projection ``project(v)``."""

    def project(self, v: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, v):
        return self.project(v)

    @property
    def is_whole_space(self) -> bool:
        """True for :class:`Reals` (no constraint)."""
        return False

    def check_dim(self, dim: int, name: str) -> None:
        """Raise if the set's dimension is fixed and differs from ``dim``."""


class Reals(ConvexSet):
    """The whole space (no constraint).

    Examples
    --------
    >>> import numpy as np
    >>> Reals().project(np.array([3.0, -1.0]))
    array([ 3., -1.])
    """

    def project(self, v):
        return np.asarray(v, dtype=float)

    @property
    def is_whole_space(self):
        return True

    def __repr__(self):
        return "Reals()"


class Box(ConvexSet):
    """Box ``lower <= v <= upper`` (scalars broadcast; infinite bounds allowed).

    Examples
    --------
    >>> import numpy as np
    >>> Box(0.0, 1.0).project(np.array([-0.5, 0.3, 2.0]))
    array([0. , 0.3, 1. ])
    """

    def __init__(self, lower=-np.inf, upper=np.inf):
        self.lower = as_float_array(lower, "Box lower", finite=False)
        self.upper = as_float_array(upper, "Box upper", finite=False)
        if np.any(np.isnan(self.lower)) or np.any(np.isnan(self.upper)):
            raise ValueError("Box bounds must not be NaN.")
        if np.any(np.broadcast_to(self.lower, np.broadcast_shapes(self.lower.shape, self.upper.shape))
                  > self.upper):
            raise ValueError("Box: some lower bounds exceed the upper bounds (the set is empty).")

    def project(self, v):
        return np.clip(np.asarray(v, dtype=float), self.lower, self.upper)

    def check_dim(self, dim, name):
        for bound, which in ((self.lower, "lower"), (self.upper, "upper")):
            if bound.ndim and bound.shape != (dim,):
                raise ValueError(f"{name}: Box {which} bound has shape {bound.shape}; expected ({dim},).")

    def __repr__(self):
        return f"Box({self.lower!r}, {self.upper!r})"


class Ball(ConvexSet):
    """Euclidean ball ``|v - center| <= radius``.

    Examples
    --------
    >>> import numpy as np
    >>> Ball(1.0).project(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    """

    def __init__(self, radius: float = 1.0, center=0.0):
        self.radius = float(check_positive("Ball radius", radius))
        self.center = as_float_array(center, "Ball center")

    def project(self, v):
        d = np.asarray(v, dtype=float) - self.center
        norm = np.linalg.norm(d)
        if norm <= self.radius:
            return self.center + d
        return self.center + d * (self.radius / norm)

    def check_dim(self, dim, name):
        if self.center.ndim and self.center.shape != (dim,):
            raise ValueError(f"{name}: Ball center has shape {self.center.shape}; expected ({dim},).")

    def __repr__(self):
        return f"Ball({self.radius!r})"


class Simplex(ConvexSet):
    """Simplex ``{v >= 0, sum(v) = total}`` (sort-based projection).

    Examples
    --------
    >>> import numpy as np
    >>> Simplex().project(np.array([0.8, 0.6, -1.0]))
    array([0.6, 0.4, 0. ])
    """

    def __init__(self, total: float = 1.0):
        self.total = float(check_positive("Simplex total", total))

    def project(self, v):
        v = np.asarray(v, dtype=float)
        u = np.sort(v)[::-1]
        css = np.cumsum(u) - self.total
        k = np.arange(1, v.size + 1)
        rho = np.nonzero(u - css / k > 0)[0][-1]
        theta = css[rho] / (rho + 1)
        return np.maximum(v - theta, 0.0)

    def __repr__(self):
        return f"Simplex({self.total!r})"


class Projection(ConvexSet):
    """A user-supplied projection ``proj(v) -> v'`` onto a closed convex set.

    Use :func:`as_set` (or :meth:`check`) to test it on sample points first.

    Examples
    --------
    >>> import numpy as np
    >>> P = Projection(lambda v: np.maximum(v, 0.0))
    >>> P.check(np.zeros(3), "proj_y").project(np.array([-1.0, 2.0, 0.5]))
    array([0. , 2. , 0.5])
    """

    def __init__(self, proj: Callable):
        if not callable(proj):
            raise TypeError(f"a projection must be callable; got {type(proj).__name__}.")
        self._proj = proj

    def project(self, v):
        return np.asarray(self._proj(np.asarray(v, dtype=float)), dtype=float)

    def check(self, point, name: str, *, n_points: int = 6, seed=0, rtol: float = 1e-8) -> Projection:
        """Test the projection on seeded points around ``point``; raise a ValueError naming ``name``."""
        point = np.asarray(point, dtype=float)
        rng = check_rng(seed)
        images = []
        for k in range(n_points):
            v = point + (10.0 ** (k % 3)) * rng.standard_normal(point.shape)
            out = self._proj(v.copy())
            if out is None:
                raise ValueError(f"{name} returned None; expected an array of shape {point.shape}.")
            p = np.asarray(out, dtype=float)
            if p.shape != point.shape:
                raise ValueError(f"{name} returned shape {p.shape}; expected {point.shape}.")
            if not np.all(np.isfinite(p)):
                raise ValueError(f"{name} returned NaN or inf at a test point.")
            scale = 1.0 + np.linalg.norm(v)
            pp = self.project(p)
            if np.linalg.norm(pp - p) > rtol * scale * 1e2:
                raise ValueError(
                    f"{name} is not idempotent: |P(P(v)) - P(v)| = {np.linalg.norm(pp - p):.3g} at a test "
                    "point; a projection must leave points of its set unchanged."
                )
            images.append((v, p))
        for (a, pa), (b, pb) in zip(images, images[1:]):
            scale = 1.0 + np.linalg.norm(a) + np.linalg.norm(b)
            if np.linalg.norm(pa - pb) > np.linalg.norm(a - b) + rtol * scale * 1e2:
                raise ValueError(
                    f"{name} is expansive: |P(a) - P(b)| = {np.linalg.norm(pa - pb):.3g} > |a - b| = "
                    f"{np.linalg.norm(a - b):.3g}. A projection onto a closed convex set is 1-Lipschitz; "
                    "the set is likely not convex."
                )
            mid = 0.5 * (pa + pb)
            pm = self.project(mid)
            if np.linalg.norm(pm - mid) > rtol * scale * 1e2:
                raise ValueError(
                    f"{name} moves the midpoint of two projected points by {np.linalg.norm(pm - mid):.3g}: "
                    "the set is not convex (penalty and projected-gradient methods need a convex set)."
                )
        return self

    def __repr__(self):
        return f"Projection({getattr(self._proj, '__name__', 'user')})"


def as_set(spec, name: str, point=None, *, seed=0) -> ConvexSet:
    """Turn ``spec`` into a :class:`ConvexSet` for the variable ``name``.

    ``None`` is the whole space; a :class:`ConvexSet` is kept; a ``(lower,
    upper)`` tuple is a :class:`Box`; a callable is a user projection, checked
    at test points around ``point`` (see :meth:`Projection.check`).

    Examples
    --------
    >>> import numpy as np
    >>> as_set((0, 1), "proj_x", np.zeros(2))
    Box(array(0.), array(1.))
    >>> as_set(lambda v: np.round(v), "proj_x", np.zeros(2))
    Traceback (most recent call last):
    ...
    ValueError: proj_x moves the midpoint of two projected points by ...
    """
    if spec is None:
        return Reals()
    if isinstance(spec, ConvexSet):
        out = spec
    elif isinstance(spec, tuple) and len(spec) == 2 and not callable(spec[0]):
        try:
            out = Box(*spec)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}={spec!r} is not a valid (lower, upper) box: {exc}") from exc
    elif callable(spec):
        out = Projection(spec)
    elif isinstance(spec, str):
        raise TypeError(
            f"{name}={spec!r}: give a set object (Box(lower, upper), Ball(radius), Simplex(), Reals()), "
            "a (lower, upper) tuple or a projection callable, not a name."
        )
    else:
        seen = f"a tuple of length {len(spec)}" if isinstance(spec, tuple) else type(spec).__name__
        raise TypeError(
            f"{name} must be None, a ConvexSet, a (lower, upper) tuple or a projection callable; "
            f"got {seen}."
        )
    if point is not None:
        point = np.asarray(point, dtype=float)
        out.check_dim(point.size, name)
        if isinstance(out, Projection):
            out.check(point, name, seed=seed)
    return out
