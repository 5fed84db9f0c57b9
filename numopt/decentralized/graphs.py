"""Communication graphs and their constants chi1 (inverse spectral gap) and chi2 (maximal resistance).

For edge rates ``lambda_e`` the gossip Laplacian is ``Lam = sum_e lambda_e (e_i - e_j)(e_i - e_j)^T``.
With the default rates ``1/|E|`` (the Laplacian normalized by the number of edges):

- ``chi1 = 1 / lambda_2(Lam)``;
- ``chi2 = max_e (1/2) (e_i - e_j)^T Lam^+ (e_i - e_j)`` (half the largest effective resistance).

Both scale as ``1 / c`` when all rates are multiplied by ``c``. lambda_2 comes from
:func:`numopt.linalg.eigen.extreme_eigenvalues` (dense for small graphs, shift-invert Lanczos
for large ones); all effective resistances from one factorization of the grounded Laplacian
(Cholesky for small graphs, sparse LU for large ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from .._core.validate import check_choice, check_positive, check_rng
from ..linalg.eigen import extreme_eigenvalues

__all__ = ["GRAPHS", "TimeVaryingGraph", "as_graph", "edge_array", "edge_resistances", "graph_constants",
           "make_graph", "rate_laplacian"]

GRAPHS = ("star", "complete", "cycle", "path", "grid", "barbell", "geometric", "erdos-renyi")
DENSE_MAX = 600


def make_graph(kind: str, n: int, *, radius: float = 0.3, p: float | None = None, seed=None) -> nx.Graph:
    """A connected graph on nodes ``0..n-1``.

    Parameters
    ----------
    kind : {'star', 'complete', 'cycle', 'path', 'grid', 'barbell', 'geometric', 'erdos-renyi'}
        'grid' needs a square ``n``, 'barbell' an even ``n`` (two cliques of n/2 joined by an edge).
        'geometric' places n points uniformly in the unit square and links pairs closer than
        ``radius``; 'erdos-renyi' links each pair with probability ``p`` (default ``2 log(n)/n``).
        Random graphs that come out disconnected are linked component to component by one
        edge between random nodes of consecutive components.
    n : int
        Number of nodes.

    Examples
    --------
    >>> G = make_graph("cycle", 6)
    >>> G.number_of_nodes(), G.number_of_edges()
    (6, 6)
    >>> make_graph("grid", 9).number_of_edges()
    12
    """
    check_choice("kind", kind, GRAPHS)
    check_positive("n", n, integer=True)
    if n < 2:
        raise ValueError(f"a graph needs n >= 2 nodes; got n={n}.")
    rng = check_rng(seed)
    if kind == "star":
        G = nx.star_graph(n - 1)
    elif kind == "complete":
        G = nx.complete_graph(n)
    elif kind == "cycle":
        if n < 3:
            raise ValueError(f"a cycle needs n >= 3 nodes; got n={n}.")
        G = nx.cycle_graph(n)
    elif kind == "path":
        G = nx.path_graph(n)
    elif kind == "grid":
        m = int(round(np.sqrt(n)))
        if m * m != n:
            raise ValueError(f"a 2-D grid needs a square number of nodes; got n={n}.")
        G = nx.convert_node_labels_to_integers(nx.grid_2d_graph(m, m))
    elif kind == "barbell":
        if n % 2 or n < 4:
            raise ValueError(f"a barbell needs an even n >= 4 (two cliques of n/2); got n={n}.")
        G = nx.barbell_graph(n // 2, 0)
    else:
        if kind == "geometric":
            pos = {i: tuple(rng.random(2)) for i in range(n)}
            G = nx.random_geometric_graph(n, radius, pos=pos)
        else:
            prob = 2.0 * np.log(n) / n if p is None else p
            G = nx.gnp_random_graph(n, min(prob, 1.0), seed=int(rng.integers(2**31 - 1)))
        comps = [sorted(c) for c in nx.connected_components(G)]
        for a, b in zip(comps[:-1], comps[1:]):
            G.add_edge(int(rng.choice(a)), int(rng.choice(b)))
    G.graph["kind"] = kind
    return G


def as_graph(G, n_nodes: int | None = None) -> nx.Graph:
    """Check that ``G`` is a connected networkx graph on nodes ``0..n-1`` (matching ``n_nodes``).

    Examples
    --------
    >>> import networkx as nx
    >>> as_graph(nx.Graph([(0, 1), (2, 3)]))
    Traceback (most recent call last):
    ...
    ValueError: graph is disconnected (2 connected components): consensus is impossible; connect the graph.
    """
    if not isinstance(G, nx.Graph) or G.is_directed():
        raise TypeError(f"graph must be an undirected networkx.Graph; got {type(G).__name__}.")
    n = G.number_of_nodes()
    if set(G.nodes) != set(range(n)):
        shown = sorted(map(repr, G.nodes))[:5]
        raise ValueError(f"graph nodes must be the integers 0..n-1 (use nx.convert_node_labels_to_integers); "
                         f"got nodes such as {', '.join(shown)}.")
    if n_nodes is not None and n != n_nodes:
        raise ValueError(f"node count mismatch: the graph has {n} nodes but the problem has n_nodes={n_nodes}.")
    if n < 2:
        raise ValueError(f"graph must have at least 2 nodes (a network to gossip over); got {n} node"
                         f"{'' if n == 1 else 's'}. A single node needs no decentralized method.")
    if not nx.is_connected(G):
        k = nx.number_connected_components(G)
        raise ValueError(f"graph is disconnected ({k} connected components): consensus is impossible; "
                         "connect the graph.")
    if nx.number_of_selfloops(G):
        raise ValueError("graph has self-loops; remove them.")
    return G


def edge_array(G) -> np.ndarray:
    """Edges as an (|E|, 2) int64 array with i < j, in a fixed order.

    Examples
    --------
    >>> edge_array(make_graph("path", 3)).tolist()
    [[0, 1], [1, 2]]
    """
    E = np.array(sorted((min(u, v), max(u, v)) for u, v in G.edges()), dtype=np.int64)
    return E.reshape(-1, 2)


def rate_laplacian(n: int, edges, rates) -> sp.csr_matrix:
    """Sparse Laplacian sum_e rates[e] (e_i - e_j)(e_i - e_j)^T.

    Examples
    --------
    >>> rate_laplacian(3, [[0, 1], [1, 2]], [1.0, 2.0]).toarray()
    array([[ 1., -1.,  0.],
           [-1.,  3., -2.],
           [ 0., -2.,  2.]])
    """
    edges = np.asarray(edges, dtype=np.int64)
    w = np.asarray(rates, dtype=float)
    i, j = edges[:, 0], edges[:, 1]
    W = sp.coo_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    return (sp.diags(np.asarray(W.sum(axis=1)).ravel()) - W).tocsr()


def edge_resistances(G, rates=None) -> np.ndarray:
    """Effective resistances (e_i - e_j)^T Lam^+ (e_i - e_j) of the edges (order of :func:`edge_array`).

    ``rates`` default to ``1/|E|`` each. Also returns lambda_2(Lam) as second value.

    Examples
    --------
    >>> R, lam2 = edge_resistances(make_graph("path", 4), rates=[1.0, 1.0, 1.0])
    >>> R.round(6), round(lam2, 6)
    (array([1., 1., 1.]), 0.585786)
    """
    G = as_graph(G)
    E = edge_array(G)
    n = G.number_of_nodes()
    rates = np.full(len(E), 1.0 / len(E)) if rates is None else np.asarray(rates, dtype=float)
    if rates.shape != (len(E),) or np.any(rates < 0) or not np.all(np.isfinite(rates)):
        raise ValueError(f"rates must be {len(E)} finite nonnegative numbers (one per edge); got shape "
                         f"{rates.shape} with min {np.min(rates) if rates.size else None}.")
    Lam = rate_laplacian(n, E, rates)
    i, j = E[:, 0], E[:, 1]
    scale = float(Lam.diagonal().mean())
    # lambda_2: the second smallest eigenvalue (lambda_1 = 0 on the constant vector)
    lam2 = float(extreme_eigenvalues(Lam, k=2, which="smallest", sigma=-1e-3 * scale)[0][1])
    if lam2 <= 1e-10 * scale:
        raise ValueError("rates: the edges with positive rates do not connect the graph (lambda_2 = "
                         f"{lam2:.3g}): chi1 is infinite.")
    # ground node n-1: the reduced Laplacian is SPD and r^T Lam^+ r = r_g^T Lam_g^{-1} r_g for r ⊥ 1
    grounded = Lam[:-1, :-1]
    if n <= DENSE_MAX:
        factor = sla.cho_factor(grounded.toarray())

        def solve(R):
            return sla.cho_solve(factor, R)
    else:
        solve = splu(grounded.tocsc()).solve
    res = np.empty(len(E))
    for s in range(0, len(E), 256):
        ii, jj = i[s:s + 256], j[s:s + 256]
        R = np.zeros((n, len(ii)))
        R[ii, np.arange(len(ii))] += 1.0
        R[jj, np.arange(len(ii))] -= 1.0
        res[s:s + 256] = np.einsum("ij,ij->j", R[:-1], solve(R[:-1]))
    return res, float(lam2)


def graph_constants(G, rates=None) -> tuple[float, float]:
    """(chi1, chi2) of the gossip Laplacian of ``G`` with edge ``rates`` (default ``1/|E|`` each).

    ``rates`` follows the order of :func:`edge_array`.

    Examples
    --------
    Complete graph K_n: chi1 = chi2 = (n - 1)/2.

    >>> chi1, chi2 = graph_constants(make_graph("complete", 5))
    >>> round(chi1, 6), round(chi2, 6)
    (2.0, 2.0)
    """
    res, lam2 = edge_resistances(G, rates)
    return float(1.0 / lam2), float(0.5 * res.max())


@dataclass
class TimeVaryingGraph:
    """A sequence of connected graphs on the same nodes, each active for ``period`` time units in turn.

    At time t the active graph is ``graphs[int(t / period) % len(graphs)]``.

    Examples
    --------
    >>> tv = TimeVaryingGraph.random("geometric", n=10, count=3, radius=0.5, seed=0)
    >>> len(tv.graphs), tv.n_nodes
    (3, 10)
    """

    graphs: list
    period: float = 1.0

    def __post_init__(self):
        if len(self.graphs) == 0:
            raise ValueError("a time-varying graph needs at least one graph.")
        check_positive("period", self.period)
        self.graphs = [as_graph(g) for g in self.graphs]
        ns = {g.number_of_nodes() for g in self.graphs}
        if len(ns) != 1:
            raise ValueError(f"all graphs of a time-varying sequence need the same node count; got {sorted(ns)}.")

    @property
    def n_nodes(self) -> int:
        return self.graphs[0].number_of_nodes()

    @classmethod
    def random(cls, kind: str, n: int, count: int = 10, period: float = 1.0, seed=None, **kwargs):
        """``count`` independent draws of :func:`make_graph` (random kinds differ between draws)."""
        rng = check_rng(seed)
        return cls([make_graph(kind, n, seed=rng, **kwargs) for _ in range(count)], period)
