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
from .dcdm_model import DirectionModel, DirectionNet, _jax

__all__ = ["dcdm_loss", "lanczos_ritz", "register_cli", "train_dcdm", "training_vectors"]


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
    jax, jnp, eqx = _jax()
    import optax
    from jax.experimental import sparse as jsparse

    check_square(A, "A")
    grid_shape = tuple(int(s) for s in grid_shape)
    n_active = int(np.prod(grid_shape)) if mask is None else int(np.asarray(mask).sum())
    if A.shape[0] != n_active:
        raise ValueError(f"A has {A.shape[0]} rows but the grid {grid_shape} has {n_active} active cells.")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("n_train", n_train), ("n_val", n_val)):
        check_positive(name, value, integer=True)
    t0 = time.perf_counter()
    seeds = np.random.SeedSequence(seed).spawn(3)
    ritz = lanczos_ritz(A, n_ritz, seed=seeds[0])
    train_set = training_vectors(ritz, n_train, seed=seeds[1]).astype(np.float32)
    val_set = training_vectors(ritz, n_val, seed=seeds[2]).astype(np.float32)
    A_jax = jsparse.BCOO.from_scipy_sparse(sp.csr_matrix(A, dtype=np.float32))

    net = init.net if init is not None else DirectionNet(len(grid_shape), width, blocks,
                                                         identity_skip=identity_skip, seed=seed)
    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(eqx.filter(net, eqx.is_array))

    @eqx.filter_jit
    def step(net, opt_state, batch):
        loss, grads = eqx.filter_value_and_grad(dcdm_loss)(net, A_jax, batch, grid_shape, mask)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(net, eqx.is_array))
        return eqx.apply_updates(net, updates), opt_state, loss

    @eqx.filter_jit
    def evaluate(net, batch):
        return dcdm_loss(net, A_jax, batch, grid_shape, mask)

    def val_loss(net):
        parts = [float(evaluate(net, val_set[i:i + batch_size])) * len(val_set[i:i + batch_size])
                 for i in range(0, n_val, batch_size)]
        return sum(parts) / n_val

    rng = np.random.default_rng(seeds[1].spawn(1)[0])
    history = {"train_loss": [], "val_loss": [val_loss(net)]}
    best = (history["val_loss"][0], net)
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    epochs_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc="train-dcdm", unit="epoch")
    for _ in epochs_iter:
        order = rng.permutation(n_train)
        losses = []
        for i in range(0, n_train - batch_size + 1, batch_size):
            net, opt_state, loss = step(net, opt_state, train_set[order[i:i + batch_size]])
            losses.append(float(loss))
        history["train_loss"].append(float(np.mean(losses)))
        history["val_loss"].append(val_loss(net))
        if history["val_loss"][-1] < best[0]:
            best = (history["val_loss"][-1], net)
        if progress:
            epochs_iter.set_postfix(train=f"{history['train_loss'][-1]:.3e}", val=f"{history['val_loss'][-1]:.3e}")
        if ckpt is not None:
            DirectionModel(net, grid_shape, mask).save(ckpt / "last.npz")
            if best[1] is net:
                DirectionModel(net, grid_shape, mask).save(ckpt / "best.npz")
    history["seconds"] = time.perf_counter() - t0
    meta = {"grid_shape": list(grid_shape), "epochs": epochs, "n_train": n_train, "n_val": n_val,
            "n_ritz": n_ritz, "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
            "best_val_loss": best[0], "train_seconds": round(history["seconds"], 1)}
    return DirectionModel(best[1], grid_shape, mask, meta), history


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
    p.add_argument("--init", help="continue from these weights (.npz)")
    p.add_argument("--checkpoints", default="checkpoints", help="folder for last.npz / best.npz")
    p.add_argument("--out", required=True, help="file for the best weights (.npz)")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args) -> int:
    import shlex
    import sys

    from ..problems.pde import poisson

    shape = (args.grid,) * args.dim
    A = poisson(shape, bc=args.bc)
    if args.bc == "neumann":
        A = A + sp.identity(A.shape[0], format="csr") * 1e-8 * A.diagonal().max()
    init = DirectionModel.load(args.init) if args.init else None
    model, hist = train_dcdm(A, shape, width=args.width, blocks=args.blocks, identity_skip=args.identity_skip,
                             n_ritz=args.n_ritz,
                             n_train=args.n_train, n_val=args.n_val, epochs=args.epochs,
                             batch_size=args.batch_size,
                             learning_rate=args.lr, seed=args.seed, checkpoint_dir=args.checkpoints,
                             progress=True, init=init)
    model.meta["command"] = "numopt " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    model.meta["bc"] = args.bc
    model.meta["n_params"] = model.n_params
    model.save(args.out)
    print(f"trained {model.n_params} parameters in {hist['seconds']:.1f} s; validation loss "
          f"{hist['val_loss'][0]:.4e} -> {min(hist['val_loss']):.4e}; weights written to {args.out}")
    return 0
