"""Gossip rates: uniform and the SDP of minimal total rate."""

import numpy as np
import pytest

from numopt.decentralized import edge_array, graph_constants, make_graph, resolve_rates, sdp_rates, uniform_rates


@pytest.mark.parametrize("kind, n", [("cycle", 7), ("star", 6), ("complete", 5)])
def test_sdp_on_edge_transitive_graph_is_uniform(kind, n):
    # by symmetry and convexity the optimum of an edge-transitive graph is uniform,
    # with total rate sqrt(2 chi1 chi2) of the |E|-normalized Laplacian
    G = make_graph(kind, n)
    r = sdp_rates(G)
    chi1, chi2 = graph_constants(G)
    np.testing.assert_allclose(r, r.mean(), rtol=1e-4)
    assert np.isclose(r.sum(), np.sqrt(2 * chi1 * chi2), rtol=1e-4)


def test_sdp_rates_meet_the_condition_and_beat_uniform_on_a_barbell():
    G = make_graph("barbell", 8)
    r, u = sdp_rates(G), uniform_rates(G)
    c1, c2 = graph_constants(G, r)
    assert np.isclose(c1 * c2, 0.5, rtol=1e-8)
    assert np.isclose(np.prod(graph_constants(G, u)), 0.5)
    assert r.sum() < 0.8 * u.sum()
    E = edge_array(G)
    bridge = (E[:, 0] < 4) & (E[:, 1] >= 4)
    assert r[bridge].min() > r[~bridge].max()  # the bridge carries the most traffic


def test_uniform_rates_are_optimal_on_a_path():
    # on a tree R_e = 1 / lambda_e, and the uniform rates already balance chi1 chi2
    G = make_graph("path", 6)
    assert np.isclose(sdp_rates(G).sum(), uniform_rates(G).sum(), rtol=1e-5)


def test_resolve_rates_inputs():
    G = make_graph("cycle", 5)
    np.testing.assert_allclose(resolve_rates(G, np.ones(5)), np.ones(5))
    with pytest.raises(ValueError, match="5 finite nonnegative edge rates"):
        resolve_rates(G, np.ones(4))
    with pytest.raises(ValueError, match="'uniform', 'sdp'"):
        resolve_rates(G, "fast")
