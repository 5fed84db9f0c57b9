"""The peer adapters (dagma, gcastle) against a simulated truth; each test skips when its package is missing."""

import importlib.util

import numpy as np
import pytest

from numopt import Status
from numopt.causal import is_dag, notears_linear, shd, simulate_dag, simulate_linear_sem, simulate_parameter
from numopt.causal.peers import available_peers, dagma_linear, gcastle_golem, gcastle_notears

pytestmark = pytest.mark.peers

needs_dagma = pytest.mark.skipif(not available_peers()["dagma"],
                                 reason="dagma is not installed (pip install dagma)")
needs_gcastle = pytest.mark.skipif(not available_peers()["gcastle"],
                                   reason="gcastle (with torch) is not installed (pip install gcastle torch)")


@pytest.fixture(scope="module")
def sem():
    B = simulate_dag(6, 6, "ER", seed=11)
    return B, simulate_linear_sem(simulate_parameter(B, seed=11), 800, seed=11)


def _check_contract(res):
    for key in ("x", "W_raw", "success", "status", "message", "time", "n_removed"):
        assert key in res, key
    assert res.success and res.status == Status.SUCCESS.code and is_dag(res.x)


def test_available_peers_reports_what_imports():
    have = available_peers()
    found = {name: importlib.util.find_spec(name) is not None for name in ("dagma", "castle", "torch")}
    assert have == {"dagma": found["dagma"], "gcastle": found["castle"] and found["torch"]}
    for name, adapter in (("dagma", dagma_linear), ("gcastle", gcastle_notears)):
        if not have[name]:
            with pytest.raises(ImportError, match=name):
                adapter(np.ones((5, 2)))


@needs_dagma
def test_dagma_linear_recovers_the_graph(sem):
    B, X = sem
    res = dagma_linear(X)
    _check_contract(res)
    assert shd(B, res.x) <= 2


@needs_gcastle
def test_gcastle_notears_recovers_the_graph_like_numopts_notears(sem):
    B, X = sem
    res = gcastle_notears(X)
    _check_contract(res)
    assert shd(B, res.x) <= 2
    assert shd(notears_linear(X).x, res.x) <= 2    # same objective and algorithm


@needs_gcastle
def test_gcastle_golem_returns_a_dag_near_the_truth(sem):
    B, X = sem
    res = gcastle_golem(X, num_iter=5000)
    _check_contract(res)
    assert shd(B, res.x) <= 4
