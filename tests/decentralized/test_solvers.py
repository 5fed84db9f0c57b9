"""DADAO and the baselines converge to x*; bad input gives clear errors or statuses."""

import networkx as nx
import numpy as np
import pytest

from numopt import Status
from numopt.decentralized import (
    SeparableProblem,
    TimeVaryingGraph,
    logistic_problem,
    make_graph,
    minimize,
    ridge_problem,
)

RIDGE = ridge_problem(6, m_per_node=10, dim=4, seed=0)
CYCLE = make_graph("cycle", 6)


@pytest.mark.parametrize("method", ["dadao", "adom+", "adom+mc", "msda", "continuized", "gradient-tracking"])
def test_every_method_reaches_x_star_on_ridge(method):
    res = minimize(RIDGE, CYCLE, method=method, t_max=3000.0, tol=1e-8, seed=1, record_every=2.0)
    assert res.success, res.message
    assert res.rel_error <= 1e-8
    np.testing.assert_allclose(res.x_mean, RIDGE.x_star(), rtol=1e-3, atol=1e-4)
    h = res.history
    assert len(h["t"]) == len(h["error"]) == len(h["ngrad"]) == len(h["ncomm"])
    assert np.all(np.diff(h["ngrad"]) >= 0) and np.all(np.diff(h["ncomm"]) >= 0)
    assert res.ngrad == h["ngrad"][-1] > 0 and res.ncomm == h["ncomm"][-1] > 0


@pytest.mark.parametrize("method", ["dadao", "adom+", "gradient-tracking"])
def test_primal_methods_on_logistic(method):
    p = logistic_problem(5, m_per_node=12, dim=3, seed=2)
    res = minimize(p, make_graph("star", 5), method=method, t_max=3000.0, tol=1e-7, seed=0, record_every=2.0)
    assert res.success and res.rel_error <= 1e-7


def test_dadao_numpy_path_matches_numba_path():
    r1 = minimize(RIDGE, CYCLE, t_max=20.0, seed=5, tol=0.0, options={"backend": "numba"})
    r2 = minimize(RIDGE, CYCLE, t_max=20.0, seed=5, tol=0.0, options={"backend": "numpy"})
    np.testing.assert_allclose(r1.x, r2.x, rtol=1e-9, atol=1e-12)
    assert (r1.ngrad, r1.ncomm) == (r2.ngrad, r2.ncomm)
    assert r1.status == Status.MAXITER.code and not r1.success


def test_dadao_event_rates_follow_the_clocks():
    res = minimize(RIDGE, CYCLE, t_max=400.0, tol=0.0, seed=3)
    assert abs(res.ngrad / (6 * 400.0) - 1) < 0.05  # rate 1 per node
    assert abs(res.ncomm / (res.total_rate * 400.0) - 1) < 0.1


def test_dadao_with_sdp_rates_time_varying_graphs_and_generic_problem():
    p = ridge_problem(8, m_per_node=8, dim=3, seed=4)
    res = minimize(p, make_graph("barbell", 8), rates="sdp", t_max=2000.0, seed=0, tol=1e-6)
    assert res.success
    tv = TimeVaryingGraph.random("geometric", 8, count=3, radius=0.6, period=5.0, seed=1)
    assert minimize(p, tv, t_max=2000.0, seed=0).success
    # same objectives through plain callables (NumPy event path)
    q = SeparableProblem(p.local_grad, 8, 3, L=p.L, mu=p.mu, x_star=p.x_star())
    res = minimize(q, make_graph("complete", 8), t_max=2000.0, seed=0, record_every=4.0)
    assert res.success


def test_bad_input():
    with pytest.raises(ValueError, match="mu must be > 0"):
        SeparableProblem(lambda i, x: x, 2, 1, L=1.0, mu=0.0)
    with pytest.raises(ValueError, match="L must be >= mu"):
        SeparableProblem(lambda i, x: x, 2, 1, L=0.5, mu=1.0)
    with pytest.raises(ValueError, match="node count mismatch"):
        minimize(RIDGE, make_graph("cycle", 5))
    with pytest.raises(ValueError, match="disconnected.*consensus is impossible"):
        minimize(RIDGE, nx.Graph([(0, 1), (1, 2), (3, 4), (4, 5)]))
    with pytest.raises(ValueError, match="method='dadaoo' is not valid"):
        minimize(RIDGE, CYCLE, method="dadaoo")
    with pytest.raises(ValueError, match="rates='sdp' applies to method='dadao' only"):
        minimize(RIDGE, CYCLE, method="adom+", rates="sdp")
    with pytest.raises(ValueError, match="Unknown option 'stepp'"):
        minimize(RIDGE, CYCLE, method="gradient-tracking", options={"stepp": 0.1})
    q = SeparableProblem(lambda i, x: x, 6, 1, L=1.0, mu=1.0, x_star=[0.0])
    with pytest.raises(TypeError, match="local_conj_grad"):
        minimize(q, CYCLE, method="msda")


@pytest.mark.parametrize("method", ["dadao", "adom+", "gradient-tracking"])
def test_nonfinite_local_gradient_is_a_status(method):
    def grad(i, x):
        return np.full(1, np.nan) if i == 2 else x - 1.0

    q = SeparableProblem(grad, 6, 1, L=1.0, mu=1.0, x_star=[1.0])
    res = minimize(q, CYCLE, method=method, t_max=50.0, seed=0)
    assert not res.success and res.status == Status.NONFINITE.code


def test_user_maxiter_is_kept_and_ends_the_run():
    res = minimize(RIDGE, CYCLE, t_max=100.0, tol=0.0, seed=0, options={"maxiter": 3})
    assert res.nit == 3 and res.status == Status.MAXITER.code
    assert res.t == pytest.approx(3 * 100.0 / 500)
