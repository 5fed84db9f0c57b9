"""Structure metrics of an estimated graph against the truth: SHD, FDR, TPR, FPR, nnz.

Conventions follow the NOTEARS evaluation: a predicted edge whose reverse is a
true edge counts as one reversal (a false discovery, and one unit of SHD), and
the number of negatives is ``d (d - 1) / 2 - |true edges|``.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from .._core.validate import as_float_array, check_square

__all__ = ["count_accuracy", "is_dag", "remove_cycles", "shd", "to_binary"]


def to_binary(W, threshold: float = 0.0) -> np.ndarray:
    """Support ``|W| > threshold`` as an int 0/1 matrix with a zero diagonal.

    Examples
    --------
    >>> from numopt.causal import to_binary
    >>> to_binary([[0, 0.5], [0.1, 0]], threshold=0.3)
    array([[0, 1],
           [0, 0]])
    """
    W = as_float_array(W, "W", ndim=2)
    check_square(W, "W")
    B = (np.abs(W) > threshold).astype(int)
    np.fill_diagonal(B, 0)
    return B


def is_dag(W) -> bool:
    """True when the support of ``W`` has no directed cycle (self-loops included).

    Examples
    --------
    >>> from numopt.causal import is_dag
    >>> is_dag([[0, 1], [0, 0]]), is_dag([[0, 1], [1, 0]])
    (True, False)
    """
    W = as_float_array(W, "W", ndim=2)
    check_square(W, "W")
    if np.any(np.diag(W) != 0):
        return False
    return nx.is_directed_acyclic_graph(nx.DiGraph(W != 0))


def _pairs(B_true, B_est):
    B_true = to_binary(B_true)
    B_est = to_binary(B_est)
    if B_true.shape != B_est.shape:
        raise ValueError(f"B_est must have the shape of B_true {B_true.shape}; got {B_est.shape}.")
    return B_true, B_est


def shd(B_true, B_est) -> int:
    """Structural Hamming distance: edge additions, deletions and reversals.

    Each unordered pair ``{i, j}`` whose state (no edge, ``i -> j``, ``j -> i``,
    both) differs between the two graphs counts one.

    Examples
    --------
    >>> from numopt.causal import shd
    >>> T = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    >>> E = np.array([[0, 1, 0], [0, 0, 0], [1, 1, 0]])   # 0->2 reversed, 1->2 reversed
    >>> shd(T, E)
    2
    """
    B_true, B_est = _pairs(B_true, B_est)
    code_t = B_true + 2 * B_true.T
    code_e = B_est + 2 * B_est.T
    return int(np.sum(np.triu(code_t != code_e, 1)))


def count_accuracy(B_true, B_est) -> dict:
    """SHD, FDR, TPR, FPR and nnz of ``B_est`` (any weighted matrix; nonzeros are edges).

    Returns
    -------
    dict
        ``shd``, ``fdr`` (false and reversed over predicted), ``tpr`` (true over
        true edges), ``fpr`` (false and reversed over negatives), ``nnz``.

    Examples
    --------
    >>> from numopt.causal import count_accuracy
    >>> T = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> E = np.array([[0, 1, 1], [0, 0, 0], [0, 1, 0]])
    >>> count_accuracy(T, E)
    {'shd': 2, 'fdr': 0.666..., 'tpr': 0.5, 'fpr': 2.0, 'nnz': 3}
    """
    B_true, B_est = _pairs(B_true, B_est)
    d = B_true.shape[0]
    pred = B_est.astype(bool)
    cond = B_true.astype(bool)
    true_pos = int(np.sum(pred & cond))
    reverse = int(np.sum(pred & ~cond & cond.T))
    false_pos = int(np.sum(pred & ~cond & ~cond.T))
    nnz = int(pred.sum())
    n_cond = int(cond.sum())
    n_neg = d * (d - 1) // 2 - n_cond
    return {
        "shd": shd(B_true, B_est),
        "fdr": (reverse + false_pos) / max(nnz, 1),
        "tpr": true_pos / max(n_cond, 1),
        "fpr": (reverse + false_pos) / max(n_neg, 1),
        "nnz": nnz,
    }


def remove_cycles(W):
    """``(W_dag, removed)``: ``W`` with edges on cycles dropped, weakest ``|W|`` first, until it is a DAG.

    Self-loops are dropped too. ``removed`` counts the dropped edges.

    Examples
    --------
    >>> from numopt.causal import remove_cycles
    >>> W, removed = remove_cycles(np.array([[0, 2.0, 0], [0, 0, 1.0], [0.5, 0, 0]]))
    >>> float(W[2, 0]), removed
    (0.0, 1)
    """
    W = as_float_array(W, "W", ndim=2, copy=True)
    check_square(W, "W")
    removed = int(np.count_nonzero(np.diag(W)))
    np.fill_diagonal(W, 0.0)
    G = nx.DiGraph()
    G.add_nodes_from(range(W.shape[0]))
    G.add_weighted_edges_from((int(i), int(j), abs(W[i, j])) for i, j in zip(*np.nonzero(W), strict=True))
    while True:
        try:
            cycle = nx.find_cycle(G)
        except nx.NetworkXNoCycle:
            return W, removed
        i, j = min(cycle, key=lambda e: G.edges[e[0], e[1]]["weight"])[:2]
        G.remove_edge(i, j)
        W[i, j] = 0.0
        removed += 1
