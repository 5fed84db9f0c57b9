"""Draw a learned DAG next to the true one (matplotlib + networkx)."""

from __future__ import annotations

import networkx as nx
import numpy as np

from .metrics import count_accuracy, to_binary

__all__ = ["draw_graphs"]


def draw_graphs(W_est, B_true=None, names=None, *, title: str = "learned", ax=None, layout: str = "circular"):
    """Plot the learned graph (and the truth beside it, when given) on a shared layout.

    Edges of the learned graph are green when true, orange when reversed and red
    when absent from the truth; missing true edges are drawn dashed grey on the truth panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from numopt.causal.plot import draw_graphs
    >>> fig = draw_graphs(np.array([[0, 1], [0, 0]]), np.array([[0, 1], [0, 0]]))
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    E = to_binary(W_est)
    d = E.shape[0]
    labels = {k: (names[k] if names is not None else str(k)) for k in range(d)}
    G_est = nx.DiGraph(E)
    G_est.add_nodes_from(range(d))
    pos = nx.circular_layout(G_est) if layout == "circular" else nx.spring_layout(G_est, seed=0)
    panels = 1 if B_true is None else 2
    if ax is None:
        fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 5))
        axes = np.atleast_1d(axes)
    else:
        axes = np.atleast_1d(ax)
        fig = axes[0].figure
    style = {"node_color": "#dde7f5", "node_size": 500, "arrowsize": 14, "font_size": 8}
    if B_true is None:
        nx.draw_networkx(G_est, pos, ax=axes[0], labels=labels, **style)
        axes[0].set_title(f"{title}: {int(E.sum())} edges")
    else:
        T = to_binary(B_true)
        colors = ["tab:green" if T[i, j] else "tab:orange" if T[j, i] else "tab:red" for i, j in G_est.edges]
        nx.draw_networkx(G_est, pos, ax=axes[0], labels=labels, edge_color=colors, **style)
        acc = count_accuracy(T, E)
        axes[0].set_title(f"{title}: SHD {acc['shd']}, {acc['nnz']} edges")
        G_true = nx.DiGraph(T)
        G_true.add_nodes_from(range(d))
        found = [(i, j) for i, j in G_true.edges if E[i, j]]
        missed = [(i, j) for i, j in G_true.edges if not E[i, j]]
        nx.draw_networkx(G_true, pos, ax=axes[1], labels=labels, edgelist=found, **style)
        nx.draw_networkx_edges(G_true, pos, ax=axes[1], edgelist=missed, style="dashed", edge_color="grey",
                               arrowsize=14, node_size=500)
        axes[1].set_title(f"truth: {int(T.sum())} edges ({len(missed)} missed, dashed)")
    for a in axes:
        a.set_axis_off()
    return fig
