"""The five test problems of Nutini, Laradji and Schmidt (JMLR 2022), as block-structured problems.

* A: least squares, ``A`` m x n sparse, entries ``(N(0,1) + 1) * s_j`` with a
  column scale ``s_j ~ 10 N(0,1)``, kept with probability ``10 log(m) / m``;
  ``b = A w + N(0, 1)`` for a truth ``w`` with 10% nonzero N(0,1) entries.
* B: binary logistic regression on the same kind of ``A`` with labels
  ``sign(A w)``, each flipped with probability 0.1.
* C: softmax regression with 50 classes, ``A`` 1000 x 1000 as above, labels
  ``argmax(A W + N(0,1))`` for a dense N(0,1) ``W``.
* D: label propagation on a 50 x 50 lattice, weights 1e5 between lattice
  neighbours, 100 nodes labelled with N(0, 100) values (2400 unknowns).
* E: label propagation on a two-moons point cloud of 2000 nodes joined to their
  5 nearest neighbours (weight 1), 100 nodes labelled with their moon (+-1);
  a component of the graph without a labelled node gets its first node
  labelled, so that the problem is positive definite.

Sizes default to the paper's; smaller ones keep the same construction.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._core.validate import check_choice, check_positive, check_rng
from .problems import label_propagation, least_squares, logistic, softmax

__all__ = ["DATASETS", "dataset", "dataset_a", "dataset_b", "dataset_c", "dataset_d", "dataset_e",
           "sparse_design", "synthetic_sparse"]


def sparse_design(m: int, n: int, rng, *, bias: float = 1.0, scale: float = 10.0, sparsity: float = 10.0):
    """The paper's sparse design: ``(N(0,1) + bias) * scale N(0,1)`` per column, density ``sparsity log(m) / m``.

    Examples
    --------
    >>> import numpy as np
    >>> A = sparse_design(100, 80, np.random.default_rng(0))
    >>> A.shape, bool(0.4 < A.nnz / (100 * 80) < 0.52)
    ((100, 80), True)
    """
    check_positive("m", m, integer=True)
    check_positive("n", n, integer=True)
    density = min(1.0, sparsity * np.log(m) / m)
    k = int(rng.binomial(m * n, density))
    flat = np.sort(rng.choice(m * n, size=k, replace=False))
    rows, cols = np.divmod(flat, n)
    col_scale = scale * rng.standard_normal(n)
    vals = (rng.standard_normal(k) + bias) * col_scale[cols]
    return sp.csc_matrix((vals, (rows, cols)), shape=(m, n))


def synthetic_sparse(n_samples: int = 100_000, n_features: int = 100_000, nnz: int = 10_000_000, *,
                     loss: str = "squared", n_informative: int = 100, noise: float = 0.1, seed=0):
    """A seeded sparse L1 benchmark: ``X`` with about ``nnz`` N(0, 1) entries at uniform positions.

    The targets come from a truth with ``n_informative`` N(0, 1) coefficients: ``y = X w + noise``
    (``noise`` times the standard deviation of ``X w``) for ``loss='squared'``, the sign of that
    for ``loss='logistic'``. The default size is the large-scale case of the benchmarks
    (1e5 x 1e5 with 1e7 nonzeros, about 120 MB in CSR form).

    Returns
    -------
    X : scipy.sparse.csr_matrix, shape (n_samples, n_features)
    y : (n_samples,) array (labels in {-1, +1} for the logistic loss)

    Examples
    --------
    >>> X, y = synthetic_sparse(200, 300, 2000, loss="logistic", n_informative=5, seed=0)
    >>> X.shape, 1900 < X.nnz <= 2000, sorted(set(y.tolist()))
    ((200, 300), True, [-1.0, 1.0])
    """
    for name, value in (("n_samples", n_samples), ("n_features", n_features), ("nnz", nnz),
                        ("n_informative", n_informative)):
        check_positive(name, value, integer=True)
    check_choice("loss", loss, ("squared", "logistic"))
    check_positive("noise", noise, strict=False)
    if n_informative > n_features:
        raise ValueError(f"n_informative must be <= n_features={n_features}; got {n_informative}.")
    rng = check_rng(seed)
    rows = rng.integers(0, n_samples, nnz)
    cols = rng.integers(0, n_features, nnz)
    X = sp.csr_matrix((rng.standard_normal(nnz), (rows, cols)), shape=(n_samples, n_features))
    X.sum_duplicates()
    w = np.zeros(n_features)
    w[rng.choice(n_features, n_informative, replace=False)] = rng.standard_normal(n_informative)
    z = X @ w
    z = z + noise * (float(np.std(z)) or 1.0) * rng.standard_normal(n_samples)
    if loss == "squared":
        return X, z
    return X, np.where(z > 0, 1.0, -1.0)


def _truth(n, rng, fraction=0.1):
    return rng.standard_normal(n) * (rng.random(n) < fraction)


def dataset_a(m: int = 1000, n: int = 10000, *, seed=0):
    """Dataset A: sparse least squares.

    Examples
    --------
    >>> p = dataset_a(40, 100, seed=0)
    >>> p.n, p.loss
    (100, 'squared')
    """
    rng = check_rng(seed)
    A = sparse_design(m, n, rng)
    b = A @ _truth(n, rng) + rng.standard_normal(m)
    return least_squares(A, b, name=f"A: least squares {m} x {n}")


def dataset_b(m: int = 1000, n: int = 10000, *, seed=0):
    """Dataset B: sparse logistic regression with 10% flipped labels.

    Examples
    --------
    >>> p = dataset_b(40, 100, seed=0)
    >>> sorted(set(p.y.tolist()))
    [-1.0, 1.0]
    """
    rng = check_rng(seed)
    A = sparse_design(m, n, rng)
    y = np.sign(A @ _truth(n, rng))
    y[y == 0] = 1.0
    y *= np.where(rng.random(m) < 0.1, -1.0, 1.0)
    return logistic(A, y, name=f"B: logistic {m} x {n}")


def dataset_c(m: int = 1000, n: int = 1000, n_classes: int = 50, *, seed=0):
    """Dataset C: softmax regression.

    Examples
    --------
    >>> p = dataset_c(40, 30, 4, seed=0)
    >>> p.n, p.C
    (120, 4)
    """
    rng = check_rng(seed)
    A = sparse_design(m, n, rng)
    W = rng.standard_normal((n, n_classes))
    labels = np.argmax(A @ W + rng.standard_normal((m, n_classes)), axis=1)
    return softmax(A, labels, n_classes, name=f"C: softmax {m} x {n}, {n_classes} classes")


def dataset_d(rows: int = 50, cols: int = 50, n_labelled: int = 100, *, weight: float = 1e5, seed=0):
    """Dataset D: label propagation on a lattice (red-black and comb partitions apply).

    Examples
    --------
    >>> p = dataset_d(6, 6, 4, seed=0)
    >>> p.n, p.grid[0]
    (32, (6, 6))
    """
    rng = check_rng(seed)
    N = rows * cols
    idx = np.arange(N).reshape(rows, cols)
    right = np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    down = np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])
    i, j = np.concatenate([right, down], axis=1)
    W = sp.coo_matrix((np.full(i.size, float(weight)), (i, j)), shape=(N, N))
    W = (W + W.T).tocsr()
    labelled = np.zeros(N, bool)
    labelled[rng.choice(N, n_labelled, replace=False)] = True
    labels = np.where(labelled, 10.0 * rng.standard_normal(N), 0.0)
    return label_propagation(W, labels, labelled, grid_shape=(rows, cols),
                             name=f"D: lattice label propagation {rows} x {cols}")


def dataset_e(n_nodes: int = 2000, n_labelled: int = 100, n_neighbors: int = 5, *, noise: float = 0.1, seed=0):
    """Dataset E: label propagation on a two-moons k-nearest-neighbour graph.

    Examples
    --------
    >>> p = dataset_e(60, 6, seed=0)
    >>> p.n
    54
    """
    from sklearn.datasets import make_moons
    from sklearn.neighbors import kneighbors_graph

    rng = check_rng(seed)
    pts, moon = make_moons(n_nodes, noise=noise, random_state=int(rng.integers(2**31)))
    G = kneighbors_graph(pts, n_neighbors, mode="connectivity", include_self=False)
    W = ((G + G.T) > 0).astype(float)
    labelled = np.zeros(n_nodes, bool)
    labelled[rng.choice(n_nodes, n_labelled, replace=False)] = True
    ncomp, comp = connected_components(W, directed=False)
    unlabelled_comps = np.setdiff1d(np.arange(ncomp), comp[labelled])
    labelled[[np.flatnonzero(comp == k)[0] for k in unlabelled_comps]] = True
    labels = np.where(moon == 1, 1.0, -1.0)
    return label_propagation(W, labels, labelled, name=f"E: two-moons {n_neighbors}-NN label propagation")


DATASETS = {"A": dataset_a, "B": dataset_b, "C": dataset_c, "D": dataset_d, "E": dataset_e}


def dataset(name: str, *, quick: bool = False, seed=0):
    """Dataset ``name`` ('A'..'E') at the paper's size, or a small version with ``quick``.

    Examples
    --------
    >>> dataset("D", quick=True).n
    380
    """
    check_choice("name", name, tuple(DATASETS))
    if not quick:
        return DATASETS[name](seed=seed)
    small = {"A": dict(m=200, n=1000), "B": dict(m=200, n=1000), "C": dict(m=200, n=200, n_classes=10),
             "D": dict(rows=20, cols=20, n_labelled=20), "E": dict(n_nodes=400, n_labelled=20)}
    return DATASETS[name](**small[name], seed=seed)
