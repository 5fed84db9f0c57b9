"""A multilevel direction network for DCDM: a learned, symmetric V-cycle with one channel.

The network maps a residual grid ``r`` to a direction by a V-cycle whose four small kernels are
learned and shared by every level (the Poisson operator looks the same on every level, so one set
of weights serves any grid size, and the depth grows with the grid):

.. code-block:: text

    V(r):  x  = S * r                                   pre-smoothing
           if the grid is larger than 2 cells per axis:
               rc = c * pool(P' * (r - K * x))          restriction: the adjoint of the prolongation
               x  = x + P * upsample(V(rc))             coarse-grid correction
           x  = x + S' * (r - K * x)                    post-smoothing (the adjoint smoother)

``*`` is zero-padded 3^d correlation, ``S'``/``P'`` the kernels flipped along every axis (the
adjoints of ``S *`` and ``P *``), ``K`` the symmetrized learned stencil, ``pool`` the sum over 2^d
blocks and ``upsample`` the copy to them. Because the post-smoother and the restriction are the
adjoints of the pre-smoother and the prolongation, the map ``r -> V(r)`` is linear and symmetric, so
DCDM with it is preconditioned conjugate gradients with a learned multigrid preconditioner. One
application costs about ``(4/3) * 5 * 3^d`` multiply-adds per cell in 2-D (``8/7`` in 3-D), so its
cost is a small multiple of one CG iteration at every grid size.

Training (:func:`numopt.linalg.dcdm_train.train_multilevel`) starts from a geometric multigrid
(weighted Jacobi smoother, the 5- or 7-point stencil, linear interpolation) and minimizes the DCDM
loss on several grid sizes at once. Three forward passes compute the same function:
:class:`MultilevelNet` (JAX, for training), :class:`NumbaMultilevelNet` (fused Numba kernels, float32,
the CPU inference path) and :func:`reference_vcycle` (plain NumPy, for tests).
"""

from __future__ import annotations

import numpy as np

from . import _dcdm_kernels as kernels

__all__ = ["FIELDS", "MultilevelNet", "NumbaMultilevelNet", "geometric_weights", "reference_vcycle"]

#: Weight names in saving order.
FIELDS = ("smoother", "stencil", "interp", "coarse_scale")
#: Grids with at most this many cells along some axis are not coarsened further.
COARSEST = 2


def geometric_weights(dim: int, omega: float = 0.8) -> dict:
    """Weights of a plain geometric V(1,1)-cycle: the starting point of training.

    Weighted Jacobi (``omega / diag``), the ``2 dim + 1``-point Laplacian stencil, cell-centred
    linear interpolation (upsampling then ``[1, 2, 1] / 4`` along each axis) and the coarse scale
    that makes the coarse problem the Galerkin one for smooth errors (``2^(2 - dim)``).

    Examples
    --------
    >>> w = geometric_weights(2)
    >>> float(w["stencil"].sum()), float(w["interp"].sum()), float(w["coarse_scale"])
    (0.0, 1.0, 1.0)
    """
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3; got {dim}.")
    delta = np.zeros((3,) * dim, dtype=np.float32)
    delta[(1,) * dim] = 1
    stencil = 2 * dim * delta
    for axis in range(dim):
        for side in (0, 2):
            stencil[tuple(side if a == axis else 1 for a in range(dim))] = -1
    hat = np.array([0.25, 0.5, 0.25], dtype=np.float32)
    interp = hat
    for _ in range(dim - 1):
        interp = np.multiply.outer(interp, hat)
    return {"smoother": (omega / (2 * dim)) * delta, "stencil": stencil.astype(np.float32),
            "interp": interp.astype(np.float32), "coarse_scale": np.float32(2.0 ** (2 - dim))}


def _vcycle(r, w, ops):
    """The V-cycle above with primitive operations ``ops`` (shared by every forward pass)."""
    shape = r.shape
    x = ops.correlate(r, w["smoother"], shape)
    if min(shape) > COARSEST:
        even = tuple(s + s % 2 for s in shape)
        residual = ops.correlate(x, w["stencil"], shape, base=r, gamma=-1.0)
        coarse = ops.pool(ops.correlate(residual, w["interp_adjoint"], even), w["coarse_scale"])
        x = ops.correlate(ops.upsample(_vcycle(coarse, w, ops)), w["interp"], shape, base=x)
    residual = ops.correlate(x, w["stencil"], shape, base=r, gamma=-1.0)
    return ops.correlate(residual, w["smoother_adjoint"], shape, base=x)


def _prepared(weights: dict, xp) -> dict:
    """The weights as used by the cycle: symmetrized stencil, flipped (adjoint) kernels."""
    flip = tuple(range(weights["stencil"].ndim))
    w = dict(weights)
    w["stencil"] = 0.5 * (weights["stencil"] + xp.flip(weights["stencil"], axis=flip))
    w["smoother_adjoint"] = xp.flip(weights["smoother"], axis=flip)
    w["interp_adjoint"] = xp.flip(weights["interp"], axis=flip)
    return w


class _ArrayOps:
    """The primitives in array code, for NumPy (the reference) or ``jax.numpy`` (training)."""

    def __init__(self, xp):
        self.xp = xp

    def correlate(self, x, w, shape, base=None, gamma=1.0):
        xp = self.xp
        pad = [(1, max(0, n + 1 - m)) for n, m in zip(shape, x.shape)]
        xpad = xp.pad(x, pad)[tuple(slice(0, n + 2) for n in shape)]
        if xp is np:
            acc = 0.0
            for tap in np.ndindex(*w.shape):
                acc = acc + w[tap] * xpad[tuple(slice(t, t + n) for t, n in zip(tap, shape))]
        else:  # one XLA convolution: a much smaller graph to compile and differentiate than 3^d slices
            from jax import lax

            acc = lax.conv(xpad[None, None], w[None, None], (1,) * w.ndim, "VALID")[0, 0]
        return gamma * acc if base is None else base + gamma * acc

    def pool(self, x, scale):
        shape = [d for s in x.shape for d in (s // 2, 2)]
        return scale * x.reshape(shape).sum(axis=tuple(range(1, 2 * x.ndim, 2)))

    def upsample(self, x):
        for axis in range(x.ndim):
            x = self.xp.repeat(x, 2, axis=axis)
        return x


def reference_vcycle(weights: dict, u) -> np.ndarray:
    """The network's output for the grid ``u`` in plain NumPy (float64): the reference for tests.

    Examples
    --------
    >>> import numpy as np
    >>> w = geometric_weights(2)
    >>> u = np.random.default_rng(0).standard_normal((9, 12))
    >>> v = np.random.default_rng(1).standard_normal((9, 12))
    >>> bool(np.isclose(np.vdot(v, reference_vcycle(w, u)), np.vdot(u, reference_vcycle(w, v))))
    True
    """
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    return _vcycle(np.asarray(u, dtype=np.float64), _prepared(w, np), _ArrayOps(np))


class _NumbaOps:
    """The primitives as fused float32 Numba kernels (:mod:`numopt.linalg._dcdm_kernels`)."""

    def __init__(self, dim):
        self.correlate_kernel = kernels.CORRELATE[dim]
        self.pool_kernel = kernels.POOL[dim]
        self.upsample_kernel = kernels.UPSAMPLE[dim]

    def correlate(self, x, w, shape, base=None, gamma=1.0):
        out = np.empty(shape, dtype=np.float32)
        self.correlate_kernel(x, w, out, out if base is None else base, np.float32(base is not None),
                              np.float32(gamma))
        return out

    def pool(self, x, scale):
        out = np.empty(tuple(s // 2 for s in x.shape), dtype=np.float32)
        self.pool_kernel(x, np.float32(scale), out)
        return out

    def upsample(self, x):
        out = np.empty(tuple(2 * s for s in x.shape), dtype=np.float32)
        self.upsample_kernel(x, out)
        return out


class NumbaMultilevelNet:
    """The multilevel network's forward pass with fused float32 Numba kernels (no JAX needed).

    Parameters
    ----------
    weights : dict
        Arrays named as in :data:`FIELDS` (``3^dim`` kernels and a scalar).
    dim : int
        Grid dimension (2 or 3).

    Examples
    --------
    >>> import numpy as np
    >>> net = NumbaMultilevelNet(geometric_weights(2), 2)
    >>> u = np.random.default_rng(0).standard_normal((20, 17)).astype(np.float32)
    >>> q = reference_vcycle(net.weights, u)
    >>> bool(np.abs(net(u) - q).max() <= 1e-5 * np.abs(q).max())
    True
    """

    kind = "multilevel"

    def __init__(self, weights: dict, dim: int):
        if dim not in (2, 3):
            raise ValueError(f"dim must be 2 or 3; got {dim}.")
        missing = [k for k in FIELDS if k not in weights]
        if missing:
            raise ValueError(f"weights must hold {FIELDS}; missing {missing}.")
        self.dim = dim
        self.weights = {k: np.asarray(weights[k], dtype=np.float32) for k in FIELDS}
        for name in FIELDS[:3]:
            if self.weights[name].shape != (3,) * dim:
                raise ValueError(f"weights[{name!r}] must have shape {(3,) * dim}; "
                                 f"got {self.weights[name].shape}.")
        self._w = {k: np.ascontiguousarray(v) if v.ndim else np.float32(v)
                   for k, v in _prepared(self.weights, np).items()}
        self._ops = _NumbaOps(dim)

    @property
    def leaves(self) -> list:
        return [self.weights[k] for k in FIELDS]

    def __call__(self, u):
        """The direction for the grid ``u`` (same shape, float32)."""
        u = np.ascontiguousarray(u, dtype=np.float32)
        if u.ndim != self.dim:
            raise ValueError(f"u must be a {self.dim}-D grid; got shape {u.shape}.")
        return _vcycle(u, self._w, self._ops)


_JAX_CLASS = None


def MultilevelNet(dim: int, weights: dict | None = None):
    """The multilevel network as an ``equinox.Module`` (trainable; starts from :func:`geometric_weights`).

    Examples
    --------
    >>> import numpy as np
    >>> net = MultilevelNet(2)
    >>> u = np.random.default_rng(0).standard_normal((16, 16)).astype(np.float32)
    >>> bool(np.allclose(np.asarray(net(u)), reference_vcycle(geometric_weights(2), u), atol=1e-5))
    True
    """
    global _JAX_CLASS
    from .dcdm_model import _jax

    jax, jnp, eqx = _jax()
    if _JAX_CLASS is None:

        class Multilevel(eqx.Module):
            smoother: jax.Array
            stencil: jax.Array
            interp: jax.Array
            coarse_scale: jax.Array
            dim: int = eqx.field(static=True)
            kind: str = eqx.field(static=True, default="multilevel")

            def __call__(self, u):
                w = {k: getattr(self, k) for k in FIELDS}
                return _vcycle(u.astype(jnp.float32), _prepared(w, jnp), _ArrayOps(jnp))

        _JAX_CLASS = Multilevel
    weights = geometric_weights(dim) if weights is None else weights
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3; got {dim}.")
    arrays = {k: jnp.asarray(np.asarray(weights[k], dtype=np.float32)) for k in FIELDS}
    return _JAX_CLASS(dim=dim, **arrays)
