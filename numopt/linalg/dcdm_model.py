"""The convolutional direction network of the deep conjugate direction method (JAX + Equinox).

The network follows Kaneda et al. (ICML 2023): a 3^d convolution lifts the
residual to ``width`` channels, residual blocks work at full resolution, one
2x average-pooling stage runs more residual blocks at half resolution, the
result is upsampled and added to the full-resolution features (skip
connection), and a final linear (1 x 1) layer returns one channel. It is fully
convolutional, so a model trained on one grid runs on others of the same
dimension (see :meth:`DirectionModel.on_grid`).

Training and the JAX forward pass need the ``learn`` extra (``pip install 'numopt[learn]'``);
:class:`NumpyDirectionNet` applies the same weights with NumPy alone, and
``DirectionModel(..., backend=None)`` (the default) uses it where it was measured faster (3-D grids on a
CPU) or where JAX is missing.
"""

from __future__ import annotations

import itertools
import json
from importlib import resources
from pathlib import Path

import numpy as np

from .._core.validate import check_choice

__all__ = ["PRETRAINED", "NumpyDirectionNet", "DirectionModel", "DirectionNet", "load_pretrained"]

#: Shipped weights: name -> file in numopt/linalg/weights (made by ``numopt train-dcdm``).
PRETRAINED = {
    "poisson2d-64": "dcdm_poisson2d_64.npz",
    "poisson2d-64-small": "dcdm_poisson2d_64_small.npz",  # 8 channels, 1 block per stage: 8x cheaper
    "poisson3d-32": "dcdm_poisson3d_32.npz",
    # learned V-cycles (numopt.linalg.dcdm_multilevel), trained on several grid sizes
    "poisson2d-multilevel": "dcdm_poisson2d_multilevel.npz",
    "poisson3d-multilevel": "dcdm_poisson3d_multilevel.npz",
}


def _jax():
    try:
        import equinox as eqx
        import jax
        import jax.numpy as jnp
    except ImportError as exc:  # pragma: no cover - exercised only without the learn extra
        raise ImportError("the DCDM network needs JAX and Equinox: pip install 'numopt[learn]'.") from exc
    return jax, jnp, eqx


def _build_classes():
    jax, jnp, eqx = _jax()

    class ResBlock(eqx.Module):
        conv1: eqx.nn.Conv
        conv2: eqx.nn.Conv

        def __init__(self, dim, width, key):
            k1, k2 = jax.random.split(key)
            self.conv1 = eqx.nn.Conv(dim, width, width, 3, padding=1, key=k1)
            self.conv2 = eqx.nn.Conv(dim, width, width, 3, padding=1, key=k2)

        def __call__(self, h):
            return h + self.conv2(jax.nn.relu(self.conv1(h)))

    class Net(eqx.Module):
        """Fully convolutional map from a residual grid to a direction grid."""

        lift: eqx.nn.Conv
        fine: tuple
        coarse: tuple
        post: tuple
        head: eqx.nn.Conv
        dim: int = eqx.field(static=True)
        width: int = eqx.field(static=True)
        identity_skip: bool = eqx.field(static=True)

        def __init__(self, dim: int, width: int = 16, blocks: int = 2, identity_skip: bool = False, *, key):
            keys = jax.random.split(key, 3 * blocks + 2)
            self.dim, self.width, self.identity_skip = dim, width, identity_skip
            self.lift = eqx.nn.Conv(dim, 1, width, 3, padding=1, key=keys[0])
            self.fine = tuple(ResBlock(dim, width, k) for k in keys[1:1 + blocks])
            self.coarse = tuple(ResBlock(dim, width, k) for k in keys[1 + blocks:1 + 2 * blocks])
            self.post = tuple(ResBlock(dim, width, k) for k in keys[1 + 2 * blocks:1 + 3 * blocks])
            self.head = eqx.nn.Conv(dim, width, 1, 1, key=keys[-1])

        def __call__(self, u):
            shape = u.shape
            u = u.astype(self.lift.weight.dtype)
            pads = [(0, s % 2) for s in shape]
            h = self.lift(jnp.pad(u, pads)[None])
            for block in self.fine:
                h = block(h)
            c = _pool(h, self.dim)
            for block in self.coarse:
                c = block(c)
            h = h + _upsample(c, self.dim)
            for block in self.post:
                h = block(h)
            out = self.head(h)[0][tuple(slice(0, s) for s in shape)]
            return u + out if self.identity_skip else out

    def _pool(h, dim):
        ch, *sizes = h.shape
        new = [ch]
        for s in sizes:
            new += [s // 2, 2]
        return h.reshape(new).mean(axis=tuple(range(2, 2 + 2 * dim, 2)))

    def _upsample(c, dim):
        for axis in range(1, dim + 1):
            c = jnp.repeat(c, 2, axis=axis)
        return c

    return Net


_NET_CLASS = None


def DirectionNet(dim: int, width: int = 16, blocks: int = 2, *, identity_skip: bool = False, seed: int = 0):
    """A freshly initialized direction network for ``dim``-D grids (an ``equinox.Module``).

    With ``identity_skip`` the network returns ``u + net(u)``: untrained, it
    proposes (nearly) the residual itself, i.e. conjugate gradients, so the
    training loss starts below 1 and cannot settle on the trivial plateau
    ``q^T b = 0`` (loss exactly 1) that a plain network can fall into on large
    3-D grids.

    Examples
    --------
    >>> import numpy as np
    >>> net = DirectionNet(2, width=4, blocks=1, seed=0)
    >>> net(np.zeros((6, 6))).shape
    (6, 6)
    """
    global _NET_CLASS
    jax, _, eqx = _jax()
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3; got {dim}.")
    if _NET_CLASS is None:
        _NET_CLASS = _build_classes()
    net = _NET_CLASS(dim, width, blocks, identity_skip, key=jax.random.PRNGKey(seed))
    # float32 whatever jax_enable_x64 says, so weights and inputs always agree
    return jax.tree_util.tree_map(lambda a: a.astype(np.float32) if eqx.is_array(a) else a, net)


class DirectionModel:
    """A trained direction network bound to a grid: ``model(r) -> q`` on the active cells.

    Parameters
    ----------
    net : equinox.Module or NumpyDirectionNet
        A :func:`DirectionNet` (or its NumPy forward pass, for inference only).
    grid_shape : tuple of int
        Grid the model runs on (its dimension must match the network).
    mask : array of bool, optional
        Active cells (obstacles removed); unknowns are the active cells in C order,
        as in :func:`numopt.problems.pde.diffusion`.
    meta : dict, optional
        Training record (command, grid, epochs, losses) kept with saved weights.
    backend : {None, "jax", "numpy"}
        Forward pass: JAX's, :class:`NumpyDirectionNet`, or None (default): NumPy for 3-D networks on a
        CPU (measured faster there) and for a NumPy network, JAX otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> model = DirectionModel(DirectionNet(2, width=4, blocks=1), (8, 8))
    >>> model.backend
    'jax'
    >>> r = np.ones(64)
    >>> bool(np.allclose(DirectionModel(model.net, (8, 8), backend="numpy")(r), model(r), atol=1e-6))
    True
    >>> model(np.ones(64)).shape
    (64,)
    >>> model.on_grid((16, 16))(np.ones(256)).shape
    (256,)
    """

    def __init__(self, net, grid_shape, mask=None, meta: dict | None = None, *, backend: str | None = None):
        check_choice("backend", backend, (None, "jax", "numpy"))
        self.net = net
        self.grid_shape = tuple(int(s) for s in grid_shape)
        if len(self.grid_shape) != net.dim:
            raise ValueError(f"grid_shape {self.grid_shape} has {len(self.grid_shape)} dimensions but the "
                             f"network is {net.dim}-D.")
        self.mask = None if mask is None else np.asarray(mask, dtype=bool)
        if self.mask is not None and self.mask.shape != self.grid_shape:
            raise ValueError(f"mask has shape {self.mask.shape}; expected the grid shape {self.grid_shape}.")
        self.n = int(np.prod(self.grid_shape)) if self.mask is None else int(self.mask.sum())
        self.meta = dict(meta or {})
        self.backend = _resolve_backend(backend, net)
        if self.backend == "numpy":
            self._forward = _numpy_forward(net)
        else:
            _, _, eqx = _jax()
            jit = eqx.filter_jit(lambda net, u: net(u))
            self._forward = lambda u: jit(net, u)

    @property
    def n_params(self) -> int:
        """Number of trainable parameters."""
        return sum(int(np.size(a)) for a in _weights(self.net))

    @property
    def linear_spd(self) -> bool:
        """Whether ``model(r)`` is a linear, symmetric positive definite map of ``r`` (the multilevel
        networks): :func:`~numopt.linalg.dcdm.dcdm` is then preconditioned CG and judges stalls on its
        energy decrease rather than on the residual norm alone."""
        return _is_multilevel(self.net)

    def on_grid(self, grid_shape, mask=None) -> DirectionModel:
        """The same network (and forward pass) bound to another grid of the same dimension."""
        return DirectionModel(self.net, grid_shape, mask, self.meta, backend=self.backend)

    def to_grid(self, r: np.ndarray) -> np.ndarray:
        """Scatter a vector of active-cell values onto the full grid (zeros elsewhere)."""
        if self.mask is None:
            return r.reshape(self.grid_shape)
        u = np.zeros(self.grid_shape)
        u[self.mask] = r
        return u

    def __call__(self, r):
        r = np.asarray(r, dtype=float)
        if r.shape != (self.n,):
            raise ValueError(
                f"this DCDM model is bound to grid {self.grid_shape} with {self.n} unknowns but got a vector of "
                f"shape {r.shape}; use model.on_grid(shape, mask) for another grid of the same dimension.")
        q = np.asarray(self._forward(self.to_grid(r).astype(np.float32)), dtype=float)
        return q.reshape(-1) if self.mask is None else q[self.mask]

    def save(self, path) -> Path:
        """Write the weights and the architecture/training record to ``path`` (.npz)."""
        leaves = _weights(self.net)
        if _is_multilevel(self.net):
            config = {"kind": "multilevel", "dim": self.net.dim, "grid_shape": list(self.grid_shape),
                      "meta": self.meta}
        else:
            config = {"dim": self.net.dim, "width": self.net.width, "blocks": len(self.net.fine),
                      "identity_skip": self.net.identity_skip, "grid_shape": list(self.grid_shape),
                      "meta": self.meta}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, config=np.array(json.dumps(config)),
                            **{f"leaf_{i:03d}": np.asarray(a, dtype=np.float32) for i, a in enumerate(leaves)})
        return path

    @classmethod
    def load(cls, path, mask=None, *, backend: str | None = None) -> DirectionModel:
        """Load a model written by :meth:`save` (bound to its training grid unless ``mask`` is given).

        Without JAX installed, ``backend=None`` loads the NumPy forward pass.
        """
        check_choice("backend", backend, (None, "jax", "numpy"))
        with np.load(path) as data:
            config = json.loads(str(data["config"]))
            arrays = [data[k] for k in sorted(k for k in data.files if k.startswith("leaf_"))]
        if config.get("kind") == "multilevel":
            from .dcdm_multilevel import FIELDS, MultilevelNet, NumbaMultilevelNet

            weights = dict(zip(FIELDS, arrays))
            net = MultilevelNet(config["dim"], weights) if backend == "jax" else NumbaMultilevelNet(
                weights, config["dim"])
            return cls(net, tuple(config["grid_shape"]), mask, config.get("meta"), backend=backend)
        if backend == "numpy" or (backend is None and not _has_jax()):
            net = NumpyDirectionNet(arrays, config["dim"], config.get("identity_skip", False))
            return cls(net, tuple(config["grid_shape"]), mask, config.get("meta"), backend="numpy")
        jax, jnp, eqx = _jax()
        net = DirectionNet(config["dim"], config["width"], config["blocks"],
                           identity_skip=config.get("identity_skip", False))
        params, static = eqx.partition(net, eqx.is_array)
        flat, treedef = jax.tree_util.tree_flatten(params)
        if len(flat) != len(arrays) or any(a.shape != b.shape for a, b in zip(flat, arrays)):
            raise ValueError(f"{path}: the stored weights do not match the architecture in its config.")
        params = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(a, dtype=jnp.float32) for a in arrays])
        return cls(eqx.combine(params, static), tuple(config["grid_shape"]), mask, config.get("meta"),
                   backend=backend)


class NumpyDirectionNet:
    """The direction network's forward pass in NumPy, without JAX (CPU inference).

    Computes what the Equinox network computes, from the same weights. Feature maps are
    channel-last on a grid with a one-cell zero border, flattened in C order, so that each tap of a
    ``3^d`` convolution is one BLAS matrix product of a shifted contiguous slice with a
    ``(c_in, c_out)`` weight matrix (no copies; the zero border is the convolution's padding).
    ``dtype`` float32 (the training precision, the default) or float64.

    Parameters
    ----------
    leaves : list of arrays
        The network's weights in the order of :meth:`DirectionModel.save` (lift, the fine, coarse
        and post-upsampling residual blocks, head; a weight then a bias for each convolution).
    dim : int
        Grid dimension (2 or 3).
    identity_skip : bool
        Whether the network adds its input to its output.
    dtype : {numpy.float32, numpy.float64}

    Examples
    --------
    >>> import numpy as np
    >>> model = load_pretrained("poisson2d-64")
    >>> fast = NumpyDirectionNet.from_model(model)
    >>> u = np.random.default_rng(0).standard_normal((16, 16)).astype(np.float32)
    >>> q_jax = np.asarray(model.net(u))
    >>> bool(np.abs(fast(u) - q_jax).max() <= 1e-5 * np.abs(q_jax).max())
    True
    """

    def __init__(self, leaves, dim: int, identity_skip: bool = False, dtype=np.float32):
        if dim not in (2, 3):
            raise ValueError(f"dim must be 2 or 3; got {dim}.")
        if len(leaves) < 4 or len(leaves) % 2 or (len(leaves) - 4) % 12:
            raise ValueError(f"leaves must hold lift, 3 x blocks residual blocks and head (weight, bias each); "
                             f"got {len(leaves)} arrays.")
        self.dim, self.identity_skip, self.dtype = dim, bool(identity_skip), np.dtype(dtype)
        self.leaves = [np.asarray(a, dtype=np.float32) for a in leaves]
        convs = [self._conv_params(w, b) for w, b in zip(leaves[0::2], leaves[1::2])]
        blocks = [tuple(convs[i:i + 2]) for i in range(1, len(convs) - 1, 2)]
        per_stage = len(blocks) // 3
        self.lift, self.head = convs[0], convs[-1]
        self.fine, self.coarse = blocks[:per_stage], blocks[per_stage:2 * per_stage]
        self.post = blocks[2 * per_stage:]
        self.width = self.lift[0].shape[2]

    @classmethod
    def from_model(cls, model: DirectionModel, dtype=np.float32) -> NumpyDirectionNet:
        """The compiled forward pass of a :class:`DirectionModel`'s network."""
        return cls(_weights(model.net), model.net.dim, model.net.identity_skip, dtype)

    def _conv_params(self, weight, bias):
        weight = np.asarray(weight, dtype=self.dtype)
        c_out, c_in = weight.shape[:2]
        taps = weight.reshape(c_out, c_in, -1).transpose(2, 1, 0)  # (taps, c_in, c_out), taps in C order
        return np.ascontiguousarray(taps), np.asarray(bias, dtype=self.dtype).reshape(c_out)

    def _layout(self, shape):
        """Padded shape, the flat range ``[lo, hi)`` over the interior, its border rows, the tap offsets."""
        padded = tuple(s + 2 for s in shape)
        strides = np.array([int(np.prod(padded[i + 1:])) for i in range(self.dim)])
        lo = int(strides.sum())
        hi = int(np.prod(padded)) - lo
        border = np.ones(padded, dtype=bool)
        border[(slice(1, -1),) * self.dim] = False
        taps = np.array(list(itertools.product((-1, 0, 1), repeat=self.dim)))
        return padded, lo, hi, np.flatnonzero(border.reshape(-1)[lo:hi]), (taps @ strides).tolist()

    def _apply(self, src, conv, layout, relu=False, skip=None):
        _, lo, hi, border, offsets = layout
        weight, bias = conv
        if weight.shape[0] == 1:
            offsets = [0]
        dst = np.zeros((src.shape[0], weight.shape[2]), dtype=self.dtype)
        out, term = dst[lo:hi], np.empty((hi - lo, weight.shape[2]), dtype=self.dtype)
        for t, offset in enumerate(offsets):  # each tap: one GEMM on a shifted contiguous slice
            np.matmul(src[lo + offset:hi + offset], weight[t], out=term if t else out)
            if t:
                out += term
        out += bias
        if relu:
            np.maximum(out, 0, out=out)
        if skip is not None:
            out += skip[lo:hi]
        out[border] = 0
        return dst

    def _blocks(self, h, blocks, layout):
        for conv1, conv2 in blocks:
            h = self._apply(self._apply(h, conv1, layout, relu=True), conv2, layout, skip=h)
        return h

    def __call__(self, u):
        """The direction for the grid ``u`` (same shape, in ``dtype``)."""
        u = np.asarray(u, dtype=self.dtype)
        if u.ndim != self.dim:
            raise ValueError(f"u must be a {self.dim}-D grid; got shape {u.shape}.")
        shape = tuple(s + s % 2 for s in u.shape)  # even sizes for the 2x pooling
        coarse_shape = tuple(s // 2 for s in shape)
        fine, coarse = self._layout(shape), self._layout(coarse_shape)
        inner = (slice(1, -1),) * self.dim
        grid = np.zeros(fine[0] + (1,), dtype=self.dtype)
        grid[tuple(slice(1, 1 + s) for s in u.shape)] = u[..., None]
        h = self._blocks(self._apply(grid.reshape(-1, 1), self.lift, fine), self.fine, fine)
        h_grid = h.reshape(fine[0] + (self.width,))
        pairs = h_grid[inner].reshape(tuple(x for s in coarse_shape for x in (s, 2)) + (self.width,))
        c = np.zeros(coarse[0] + (self.width,), dtype=self.dtype)
        c[inner] = pairs.mean(axis=tuple(range(1, 2 * self.dim, 2)))
        c = self._blocks(c.reshape(-1, self.width), self.coarse, coarse).reshape(coarse[0] + (self.width,))
        up = c[inner]
        for axis in range(self.dim):
            up = np.repeat(up, 2, axis=axis)
        h_grid[inner] += up
        h = self._blocks(h, self.post, fine)
        out = self._apply(h, self.head, fine).reshape(fine[0])[tuple(slice(1, 1 + s) for s in u.shape)]
        return out + u if self.identity_skip else out


def _has_jax() -> bool:
    try:
        _jax()
    except ImportError:
        return False
    return True


def _is_multilevel(net) -> bool:
    return getattr(net, "kind", None) == "multilevel"


def _numpy_forward(net):
    """The JAX-free forward pass of ``net`` (itself if it already is one)."""
    from .dcdm_multilevel import FIELDS, NumbaMultilevelNet

    if isinstance(net, (NumpyDirectionNet, NumbaMultilevelNet)):
        return net
    if _is_multilevel(net):
        return NumbaMultilevelNet(dict(zip(FIELDS, _weights(net))), net.dim)
    return NumpyDirectionNet(_weights(net), net.dim, net.identity_skip)


def _resolve_backend(backend: str, net) -> str:
    """The forward pass to use: NumPy for a NumPy network; None picks by measurement (docs/dcdm.md).

    On a CPU, JAX's convolutions beat the NumPy pass in 2-D and lose to it in 3-D, and the Numba
    kernels of the multilevel network beat JAX at every size measured; on an accelerator JAX runs
    there.
    """
    from .dcdm_multilevel import NumbaMultilevelNet

    if isinstance(net, (NumpyDirectionNet, NumbaMultilevelNet)):
        if backend == "jax":
            raise ValueError(f"backend='jax' needs a JAX network; this model holds a {type(net).__name__}.")
        return "numpy"
    if backend is not None:
        return backend
    jax, _, _ = _jax()
    on_cpu = jax.default_backend() == "cpu"
    return "numpy" if on_cpu and (net.dim == 3 or _is_multilevel(net)) else "jax"


def _weights(net) -> list:
    """The network's weight arrays in saving order, for either forward pass."""
    if isinstance(net, NumpyDirectionNet) or (_is_multilevel(net) and hasattr(net, "leaves")):
        return net.leaves
    _, _, eqx = _jax()
    return [np.asarray(a) for a in _leaves(eqx.filter(net, eqx.is_array))]


def _leaves(tree):
    jax, _, _ = _jax()
    return [leaf for leaf in jax.tree_util.tree_leaves(tree) if leaf is not None]


def load_pretrained(name: str = "poisson2d-multilevel", *, backend: str | None = None) -> DirectionModel:
    """Load weights shipped with numopt (see :data:`PRETRAINED`; ``meta`` records how they were made).

    The default, ``"poisson2d-multilevel"``, is the learned V-cycle of
    :mod:`numopt.linalg.dcdm_multilevel`: the fewest iterations and the least CPU time of the shipped
    2-D networks at every grid size measured (docs/dcdm.md).

    Examples
    --------
    >>> model = load_pretrained()
    >>> model.grid_shape, model.n_params, model.backend
    ((128, 128), 28, 'numpy')
    >>> load_pretrained("poisson2d-64").grid_shape
    (64, 64)
    """
    check_choice("name", name, list(PRETRAINED))
    ref = resources.files("numopt.linalg") / "weights" / PRETRAINED[name]
    with resources.as_file(ref) as path:
        if not path.exists():
            raise FileNotFoundError(f"pretrained weights {PRETRAINED[name]} are missing from the installation.")
        return DirectionModel.load(path, backend=backend)
