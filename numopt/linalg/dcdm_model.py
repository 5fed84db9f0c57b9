"""The convolutional direction network of the deep conjugate direction method (JAX + Equinox).

The network follows Kaneda et al. (ICML 2023): a 3^d convolution lifts the
residual to ``width`` channels, residual blocks work at full resolution, one
2x average-pooling stage runs more residual blocks at half resolution, the
result is upsampled and added to the full-resolution features (skip
connection), and a final linear (1 x 1) layer returns one channel. It is fully
convolutional, so a model trained on one grid runs on others of the same
dimension (see :meth:`DirectionModel.on_grid`).

Needs the ``learn`` extra (``pip install 'numopt[learn]'``).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

from .._core.validate import check_choice

__all__ = ["PRETRAINED", "DirectionModel", "DirectionNet", "load_pretrained"]

#: Shipped weights: name -> file in numopt/linalg/weights (made by ``numopt train-dcdm``).
PRETRAINED = {
    "poisson2d-64": "dcdm_poisson2d_64.npz",
    "poisson3d-32": "dcdm_poisson3d_32.npz",
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
    net : equinox.Module
        A :func:`DirectionNet`.
    grid_shape : tuple of int
        Grid the model runs on (its dimension must match the network).
    mask : array of bool, optional
        Active cells (obstacles removed); unknowns are the active cells in C order,
        as in :func:`numopt.problems.pde.diffusion`.
    meta : dict, optional
        Training record (command, grid, epochs, losses) kept with saved weights.

    Examples
    --------
    >>> import numpy as np
    >>> model = DirectionModel(DirectionNet(2, width=4, blocks=1), (8, 8))
    >>> model(np.ones(64)).shape
    (64,)
    >>> model.on_grid((16, 16))(np.ones(256)).shape
    (256,)
    """

    def __init__(self, net, grid_shape, mask=None, meta: dict | None = None):
        jax, jnp, eqx = _jax()
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
        self._forward = eqx.filter_jit(lambda net, u: net(u))

    @property
    def n_params(self) -> int:
        """Number of trainable parameters."""
        _, _, eqx = _jax()
        return sum(int(np.size(a)) for a in _leaves(eqx.filter(self.net, eqx.is_array)))

    def on_grid(self, grid_shape, mask=None) -> DirectionModel:
        """The same network bound to another grid of the same dimension."""
        return DirectionModel(self.net, grid_shape, mask, self.meta)

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
        q = np.asarray(self._forward(self.net, self.to_grid(r).astype(np.float32)), dtype=float)
        return q.reshape(-1) if self.mask is None else q[self.mask]

    def save(self, path) -> Path:
        """Write the weights and the architecture/training record to ``path`` (.npz)."""
        _, _, eqx = _jax()
        leaves = _leaves(eqx.filter(self.net, eqx.is_array))
        config = {"dim": self.net.dim, "width": self.net.width, "blocks": len(self.net.fine),
                  "identity_skip": self.net.identity_skip, "grid_shape": list(self.grid_shape),
                  "meta": self.meta}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, config=np.array(json.dumps(config)),
                            **{f"leaf_{i:03d}": np.asarray(a, dtype=np.float32) for i, a in enumerate(leaves)})
        return path

    @classmethod
    def load(cls, path, mask=None) -> DirectionModel:
        """Load a model written by :meth:`save` (bound to its training grid unless ``mask`` is given)."""
        jax, jnp, eqx = _jax()
        with np.load(path) as data:
            config = json.loads(str(data["config"]))
            arrays = [data[k] for k in sorted(k for k in data.files if k.startswith("leaf_"))]
        net = DirectionNet(config["dim"], config["width"], config["blocks"],
                           identity_skip=config.get("identity_skip", False))
        params, static = eqx.partition(net, eqx.is_array)
        flat, treedef = jax.tree_util.tree_flatten(params)
        if len(flat) != len(arrays) or any(a.shape != b.shape for a, b in zip(flat, arrays)):
            raise ValueError(f"{path}: the stored weights do not match the architecture in its config.")
        params = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(a, dtype=jnp.float32) for a in arrays])
        return cls(eqx.combine(params, static), tuple(config["grid_shape"]), mask, config.get("meta"))


def _leaves(tree):
    jax, _, _ = _jax()
    return [leaf for leaf in jax.tree_util.tree_leaves(tree) if leaf is not None]


def load_pretrained(name: str = "poisson2d-64") -> DirectionModel:
    """Load weights shipped with numopt (see :data:`PRETRAINED`; ``meta`` records how they were made).

    Examples
    --------
    >>> model = load_pretrained("poisson2d-64")
    >>> model.grid_shape
    (64, 64)
    """
    check_choice("name", name, list(PRETRAINED))
    ref = resources.files("numopt.linalg") / "weights" / PRETRAINED[name]
    with resources.as_file(ref) as path:
        if not path.exists():
            raise FileNotFoundError(f"pretrained weights {PRETRAINED[name]} are missing from the installation.")
        return DirectionModel.load(path)
