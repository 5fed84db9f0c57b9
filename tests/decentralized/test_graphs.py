"""Graphs and their constants chi1, chi2."""

import networkx as nx
import numpy as np
import pytest

from numopt.decentralized import TimeVaryingGraph, edge_resistances, graph_constants, make_graph
from numopt.decentralized import graphs as graphs_mod


@pytest.mark.parametrize("n", [5, 8])
def test_known_constants(n):
    # |E|-normalized Laplacian: chi1 = |E| / lambda_2(Lap); edge-transitive graphs and trees: chi2 = (n - 1)/2
    cases = {
        "complete": (n - 1) / 2,
        "cycle": n / (2 - 2 * np.cos(2 * np.pi / n)),
        "path": (n - 1) / (2 - 2 * np.cos(np.pi / n)),
        "star": n - 1.0,
    }
    for kind, chi1 in cases.items():
        c1, c2 = graph_constants(make_graph(kind, n))
        assert np.isclose(c1, chi1, rtol=1e-10), kind
        assert np.isclose(c2, (n - 1) / 2, rtol=1e-10), kind


def test_resistances_scale_with_rates_and_barbell_bridge_dominates():
    G = make_graph("barbell", 8)
    R1, lam1 = edge_resistances(G)
    R2, lam2 = edge_resistances(G, np.full(G.number_of_edges(), 3.0 / G.number_of_edges()))
    np.testing.assert_allclose(R2, R1 / 3)
    assert np.isclose(lam2, 3 * lam1)
    E = graphs_mod.edge_array(G)
    bridge = np.flatnonzero((E[:, 0] < 4) & (E[:, 1] >= 4))
    assert R1.argmax() in bridge and np.isclose(R1[bridge[0]], G.number_of_edges())  # a bridge has resistance 1


def test_sparse_path_matches_dense(monkeypatch):
    G = make_graph("geometric", 60, radius=0.3, seed=1)
    dense = graph_constants(G)
    monkeypatch.setattr(graphs_mod, "DENSE_MAX", 10)
    sparse = graph_constants(G)
    np.testing.assert_allclose(sparse, dense, rtol=1e-7)


@pytest.mark.parametrize("kind", ["geometric", "erdos-renyi"])
def test_random_graphs_are_connected_and_seeded(kind):
    G1 = make_graph(kind, 40, radius=0.1, seed=3)
    G2 = make_graph(kind, 40, radius=0.1, seed=3)
    assert nx.is_connected(G1) and sorted(G1.edges) == sorted(G2.edges)


def test_bad_graphs():
    G = nx.Graph([(0, 1), (2, 3)])
    with pytest.raises(ValueError, match="disconnected.*consensus is impossible"):
        graph_constants(G)
    with pytest.raises(ValueError, match="square number"):
        make_graph("grid", 10)
    with pytest.raises(ValueError, match="even n"):
        make_graph("barbell", 7)
    with pytest.raises(ValueError, match="kind='ring' is not valid"):
        make_graph("ring", 5)
    with pytest.raises(ValueError, match="do not connect"):
        graph_constants(make_graph("path", 4), rates=[1.0, 0.0, 1.0])


def test_time_varying_sequence():
    tv = TimeVaryingGraph.random("geometric", 12, count=4, radius=0.4, period=2.0, seed=0)
    assert len(tv.graphs) == 4 and tv.n_nodes == 12
    with pytest.raises(ValueError, match="same node count"):
        TimeVaryingGraph([make_graph("path", 4), make_graph("path", 5)])
