"""Training the DCDM direction network: Ritz-vector data, the scale-invariant loss, the CLI.

Training data (Kaneda et al., ICML 2023): run Lanczos on the training matrix to
get Ritz pairs (theta_i, v_i), then draw right-hand sides
``b = sum_i w_i z_i v_i / ||.||`` with ``z_i ~ N(0, 1)`` and weights ``w_i``
larger on the low end of the spectrum (those components are what CG resolves
slowly). Training and validation sets are drawn from independent seeds, so no
validation sample is ever trained on (the reference code mixes them).

The loss is unsupervised and invariant to the scale of the network's output:

    loss(b) = || b - A (q^T b / q^T A q) q ||^2,   q = net(b),

i.e. the residual left after the exact line search along q.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .._core.validate import check_positive, check_rng, check_square
from .dcdm_model import DirectionModel, DirectionNet, _jax, _weights
from .dcdm_multilevel import FIELDS, MultilevelNet

__all__ = ["dcdm_loss", "lanczos_ritz", "register_cli", "train_dcdm", "train_multilevel", "training_vectors"]


def lanczos_ritz(A, m: int, *, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Ritz values (ascending) and vectors ``(n, m)`` of the symmetric ``A`` after ``m`` Lanczos steps.

    Uses full reorthogonalization, so the vectors are orthonormal to working precision.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems.pde import poisson
    >>> theta, V = lanczos_ritz(poisson((10, 10)), 30, seed=0)
    >>> bool(np.allclose(V.T @ V, np.eye(30), atol=1e-10)), bool(theta[0] > 0)
    (True, True)
    """
    check_square(A, "A")
    n = A.shape[0]
    check_positive("m", m, integer=True)
    m = min(int(m), n)
    rng = check_rng(seed)
    Q = np.zeros((n, m))
    alpha = np.zeros(m)
    beta = np.zeros(m)
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    steps = m
    for j in range(m):
        Q[:, j] = q
        w = A @ q
        alpha[j] = q @ w
        w -= Q[:, : j + 1] @ (Q[:, : j + 1].T @ w)
        w -= Q[:, : j + 1] @ (Q[:, : j + 1].T @ w)
        beta[j] = np.linalg.norm(w)
        if beta[j] <= 1e-12 * max(abs(alpha[j]), 1.0):
            steps = j + 1
            break
        q = w / beta[j]
    T = np.diag(alpha[:steps]) + np.diag(beta[: steps - 1], 1) + np.diag(beta[: steps - 1], -1)
    theta, S = np.linalg.eigh(T)
    return theta, Q[:, :steps] @ S


def training_vectors(ritz: tuple[np.ndarray, np.ndarray], count: int, *, low_fraction: float = 0.5,
                     low_weight: float = 9.0, seed=None) -> np.ndarray:
    """``count`` unit right-hand sides mixing the Ritz vectors, weighted toward small Ritz values.

    The lowest ``low_fraction`` of the Ritz vectors get weight ``low_weight``, the
    rest weight 1. Returns an array of shape ``(count, n)``.
    """
    theta, V = ritz
    rng = check_rng(seed)
    m = theta.size
    weights = np.ones(m)
    weights[: int(np.ceil(low_fraction * m))] = low_weight
    Z = rng.standard_normal((count, m)) * weights
    B = Z @ V.T
    return B / np.linalg.norm(B, axis=1, keepdims=True)


def _matmul(A_jax, Q):
    """A @ Q^T for a batch Q of shape (batch, n); returns (batch, n)."""
    return (A_jax @ Q.T).T


def dcdm_loss(net, A_jax, B, grid_shape, mask=None):
    """Mean over the batch ``B`` (rows) of ``||b - A (q^T b / q^T A q) q||^2`` with ``q = net(b)``.

    ``A_jax`` is a ``jax.experimental.sparse.BCOO`` (or dense) matrix; ``mask``
    selects the active cells of the grid (None: all).
    """
    jax, jnp, _ = _jax()
    B = jnp.asarray(B, dtype=jnp.float32)
    if mask is None:
        Q = jax.vmap(lambda b: net(b.reshape(grid_shape)).reshape(-1))(B)
    else:
        idx = jnp.asarray(np.flatnonzero(np.asarray(mask).reshape(-1)))
        size = int(np.prod(grid_shape))

        def apply(b):
            u = jnp.zeros(size, dtype=b.dtype).at[idx].set(b).reshape(grid_shape)
            return net(u).reshape(-1)[idx]

        Q = jax.vmap(apply)(B)
    AQ = _matmul(A_jax, Q)
    qb = jnp.sum(Q * B, axis=1)
    qAq = jnp.sum(Q * AQ, axis=1)
    R = B - (qb / qAq)[:, None] * AQ
    return jnp.mean(jnp.sum(R * R, axis=1))


def train_dcdm(A, grid_shape, *, mask=None, width: int = 16, blocks: int = 2, identity_skip: bool = False,
               n_ritz: int = 200,
               n_train: int = 512, n_val: int = 64, epochs: int = 10, batch_size: int = 16,
               learning_rate: float = 1e-3, seed: int = 0, checkpoint_dir=None, progress: bool = False,
               init: DirectionModel | None = None):
    """Train a direction network on the SPD matrix ``A`` of a grid problem.

    Parameters
    ----------
    A : sparse matrix
        Training matrix (unknowns are the active grid cells in C order).
    grid_shape : tuple of int
        The grid (2-D or 3-D).
    mask : array of bool, optional
        Active cells.
    width, blocks, identity_skip
        Architecture of :func:`DirectionNet`.
    n_ritz : int
        Lanczos steps for the Ritz basis of the training data.
    n_train, n_val : int
        Sizes of the independent training and validation sets.
    epochs, batch_size, learning_rate : training loop (Adam).
    seed : int
        Seeds the Ritz start vector, both data sets and the initial weights.
    checkpoint_dir : path, optional
        Where ``last.npz`` (every epoch) and ``best.npz`` (lowest validation loss) go.
    progress : bool
        tqdm progress bar over epochs.
    init : DirectionModel, optional
        Continue from these weights.

    Returns
    -------
    model : DirectionModel
        The weights with the lowest validation loss (``model.meta`` has the record).
    history : dict
        ``train_loss``, ``val_loss`` per epoch and ``seconds``.

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> model, hist = train_dcdm(poisson((8, 8)), (8, 8), width=4, blocks=1, n_ritz=20, n_train=32,
    ...                          n_val=8, epochs=3, batch_size=8)
    >>> hist["val_loss"][-1] < hist["val_loss"][0]
    True
    """
    check_square(A, "A")
    grid_shape = tuple(int(s) for s in grid_shape)
    n_active = int(np.prod(grid_shape)) if mask is None else int(np.asarray(mask).sum())
    if A.shape[0] != n_active:
        raise ValueError(f"A has {A.shape[0]} rows but the grid {grid_shape} has {n_active} active cells.")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("n_train", n_train), ("n_val", n_val)):
        check_positive(name, value, integer=True)
    net = init.net if init is not None else DirectionNet(len(grid_shape), width, blocks,
                                                         identity_skip=identity_skip, seed=seed)
    t0 = time.perf_counter()
    task = _Task(A, grid_shape, mask, n_ritz, n_train, n_val, seed)
    best_net, history = _fit(net, [task], epochs, batch_size, learning_rate, seed, checkpoint_dir, progress)
    history["seconds"] = time.perf_counter() - t0
    meta = {"grid_shape": list(grid_shape), "epochs": epochs, "n_train": n_train, "n_val": n_val,
            "n_ritz": n_ritz, "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
            "best_val_loss": min(history["val_loss"]), "train_seconds": round(history["seconds"], 1)}
    return DirectionModel(best_net, grid_shape, mask, meta), history


def train_multilevel(dim: int, grids=(32, 64, 128), *, n_ritz: int = 200, n_train: int = 256, n_val: int = 32,
                     epochs: int = 10, batch_size: int = 16, learning_rate: float = 3e-3, seed: int = 0,
                     checkpoint_dir=None, progress: bool = False, init: DirectionModel | None = None):
    """Train the multilevel network (:mod:`numopt.linalg.dcdm_multilevel`) on Poisson grids of several sizes.

    Each epoch visits the training sets of all grids (``n_train`` right-hand sides per grid, drawn
    as in :func:`train_dcdm`, batches interleaved in random order); the validation loss is the mean
    over the grids of each grid's loss on ``n_val`` independent right-hand sides. Training starts
    from the geometric V-cycle (:func:`~numopt.linalg.dcdm_multilevel.geometric_weights`) unless
    ``init`` is given.

    Returns
    -------
    model : DirectionModel
        The weights with the lowest validation loss, bound to the largest training grid.
    history : dict
        ``train_loss``, ``val_loss`` (mean over grids, entry 0 before training), ``val_loss_by_grid``
        and ``seconds``.

    Examples
    --------
    >>> model, hist = train_multilevel(2, grids=(8, 16), n_ritz=20, n_train=16, n_val=8, epochs=2,
    ...                                batch_size=8)
    >>> model.n_params, len(hist["val_loss"])
    (28, 3)
    """
    from ..problems.pde import poisson

    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3; got {dim}.")
    grids = [int(g) for g in np.atleast_1d(grids)]
    if not grids or min(grids) < 2:
        raise ValueError(f"grids must be cells per side (at least 2 each); got {grids}.")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("n_train", n_train), ("n_val", n_val)):
        check_positive(name, value, integer=True)
    if init is not None and getattr(init.net, "kind", None) != "multilevel":
        raise ValueError("init must hold a multilevel network (DirectionModel of a MultilevelNet).")
    net = MultilevelNet(dim, None if init is None else dict(zip(FIELDS, _weights(init.net))))
    t0 = time.perf_counter()
    tasks = [_Task(poisson((g,) * dim), (g,) * dim, None, n_ritz, n_train, n_val, seed + i)
             for i, g in enumerate(grids)]
    best_net, history = _fit(net, tasks, epochs, batch_size, learning_rate, seed, checkpoint_dir, progress)
    history["seconds"] = time.perf_counter() - t0
    shape = (max(grids),) * dim
    meta = {"grid_shape": list(shape), "grids": grids, "epochs": epochs, "n_train": n_train, "n_val": n_val,
            "n_ritz": n_ritz, "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
            "best_val_loss": min(history["val_loss"]), "val_loss": history["val_loss"],
            "val_loss_by_grid": history["val_loss_by_grid"], "train_seconds": round(history["seconds"], 1)}
    return DirectionModel(best_net, shape, None, meta), history


class _Task:
    """One training matrix: its grid, the JAX copy of the matrix and independent training/validation sets."""

    def __init__(self, A, grid_shape, mask, n_ritz, n_train, n_val, seed):
        from jax.experimental import sparse as jsparse

        seeds = np.random.SeedSequence(seed).spawn(3)
        ritz = lanczos_ritz(A, n_ritz, seed=seeds[0])
        self.grid_shape, self.mask = grid_shape, mask
        self.train_set = training_vectors(ritz, n_train, seed=seeds[1]).astype(np.float32)
        self.val_set = training_vectors(ritz, n_val, seed=seeds[2]).astype(np.float32)
        self.A = jsparse.BCOO.from_scipy_sparse(sp.csr_matrix(A, dtype=np.float32))


def _fit(net, tasks, epochs, batch_size, learning_rate, seed, checkpoint_dir, progress):
    """Adam on the DCDM loss over the batches of all ``tasks``; returns the best network and the history."""
    _, _, eqx = _jax()
    import optax

    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(eqx.filter(net, eqx.is_array))

    @eqx.filter_jit
    def step(net, opt_state, A, batch, grid_shape, mask):
        loss, grads = eqx.filter_value_and_grad(dcdm_loss)(net, A, batch, grid_shape, mask)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(net, eqx.is_array))
        return eqx.apply_updates(net, updates), opt_state, loss

    @eqx.filter_jit
    def evaluate(net, A, batch, grid_shape, mask):
        return dcdm_loss(net, A, batch, grid_shape, mask)

    def val_losses(net):
        out = []
        for t in tasks:
            n_val = len(t.val_set)
            parts = [float(evaluate(net, t.A, t.val_set[i:i + batch_size], t.grid_shape, t.mask))
                     * len(t.val_set[i:i + batch_size]) for i in range(0, n_val, batch_size)]
            out.append(sum(parts) / n_val)
        return out

    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[1].spawn(1)[0])
    by_grid = [val_losses(net)]
    history = {"train_loss": [], "val_loss": [float(np.mean(by_grid[0]))], "val_loss_by_grid": by_grid}
    best = (history["val_loss"][0], net)
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    epochs_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc="train-dcdm", unit="epoch")
    for _ in epochs_iter:
        batches = [(t, i) for t in tasks for i in range(0, len(t.train_set) - batch_size + 1, batch_size)]
        orders = [rng.permutation(len(t.train_set)) for t in tasks]
        losses = []
        for j in (rng.permutation(len(batches)) if len(tasks) > 1 else range(len(batches))):
            t, i = batches[j]
            batch = t.train_set[orders[tasks.index(t)][i:i + batch_size]]
            net, opt_state, loss = step(net, opt_state, t.A, batch, t.grid_shape, t.mask)
            losses.append(float(loss))
        history["train_loss"].append(float(np.mean(losses)))
        by_grid.append(val_losses(net))
        history["val_loss"].append(float(np.mean(by_grid[-1])))
        if history["val_loss"][-1] < best[0]:
            best = (history["val_loss"][-1], net)
        if progress:
            epochs_iter.set_postfix(train=f"{history['train_loss'][-1]:.3e}", val=f"{history['val_loss'][-1]:.3e}")
        if ckpt is not None:
            t = tasks[-1]
            DirectionModel(net, t.grid_shape, t.mask).save(ckpt / "last.npz")
            if best[1] is net:
                DirectionModel(net, t.grid_shape, t.mask).save(ckpt / "best.npz")
    return best[1], history


def register_cli(subparsers) -> None:
    """Add ``numopt train-dcdm`` to the ``numopt`` command."""
    p = subparsers.add_parser("train-dcdm", help="train a deep-conjugate-direction network on a Poisson grid")
    p.add_argument("--grid", type=int, default=64, help="cells per side (default 64)")
    p.add_argument("--dim", type=int, choices=(2, 3), default=2)
    p.add_argument("--bc", choices=("dirichlet", "neumann"), default="dirichlet")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--n-train", type=int, default=512)
    p.add_argument("--n-val", type=int, default=64)
    p.add_argument("--n-ritz", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--identity-skip", action="store_true",
                   help="learn a correction to the residual: q = u + net(u)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--multilevel", action="store_true",
                   help="train the multilevel network (a learned V-cycle) instead of the convolutional one")
    p.add_argument("--grids", type=int, nargs="+",
                   help="with --multilevel: cells per side of every training grid (default: --grid)")
    p.add_argument("--init", help="continue from these weights (.npz)")
    p.add_argument("--checkpoints", default="checkpoints", help="folder for last.npz / best.npz")
    p.add_argument("--out", required=True, help="file for the best weights (.npz)")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args) -> int:
    from ..problems.pde import poisson

    init = DirectionModel.load(args.init) if args.init else None
    if args.multilevel:
        model, hist = train_multilevel(args.dim, args.grids or [args.grid], n_ritz=args.n_ritz,
                                       n_train=args.n_train, n_val=args.n_val, epochs=args.epochs,
                                       batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed,
                                       checkpoint_dir=args.checkpoints, progress=True, init=init)
        return _finish_cli(model, hist, args)
    shape = (args.grid,) * args.dim
    A = poisson(shape, bc=args.bc)
    if args.bc == "neumann":
        A = A + sp.identity(A.shape[0], format="csr") * 1e-8 * A.diagonal().max()
    model, hist = train_dcdm(A, shape, width=args.width, blocks=args.blocks, identity_skip=args.identity_skip,
                             n_ritz=args.n_ritz,
                             n_train=args.n_train, n_val=args.n_val, epochs=args.epochs,
                             batch_size=args.batch_size,
                             learning_rate=args.lr, seed=args.seed, checkpoint_dir=args.checkpoints,
                             progress=True, init=init)
    return _finish_cli(model, hist, args)


def _finish_cli(model, hist, args) -> int:
    import shlex
    import sys

    model.meta["command"] = "numopt " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    model.meta["bc"] = args.bc
    model.meta["n_params"] = model.n_params
    model.save(args.out)
    print(f"trained {model.n_params} parameters in {hist['seconds']:.1f} s; validation loss "
          f"{hist['val_loss'][0]:.4e} -> {min(hist['val_loss']):.4e}; weights written to {args.out}")
    return 0
