"""pytest-benchmark: DADAO's event kernel and DADAO vs the baselines on a small ring; quality in extra_info."""

import numpy as np
import pytest

from numopt.decentralized import (
    EventStream,
    Propagator,
    dadao_constants,
    edge_array,
    make_graph,
    minimize,
    ode_matrix,
    ridge_problem,
    uniform_rates,
)
from numopt.decentralized._kernels import dadao_events


@pytest.fixture(scope="module")
def setup():
    return ridge_problem(16, m_per_node=20, dim=10, seed=0), make_graph("cycle", 16)


def test_event_kernel_million_events(benchmark, setup):
    p, G = setup
    E = edge_array(G)
    rates = uniform_rates(G)
    times, kinds, ids = EventStream(16, [(E, rates)], grad_rate=1.0, seed=0).window(0.0, 1e6 / (16 + rates.sum()))
    c = dadao_constants(p.L, p.mu, 1.0)
    consts = np.array([c["gamma"], c["gamma_t"], c["delta"], c["nu"], c["beta"], c["beta_t"]])
    prop = Propagator(ode_matrix(c))
    kd = p.kernel_data()

    def go():
        S = np.zeros((16, 6, p.dim))
        dadao_events(S, np.zeros(16), times, kinds, ids, E, prop.P, prop.lam, consts, *kd)
        return S

    S = benchmark.pedantic(go, rounds=2, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(events=int(times.size), finite=bool(np.all(np.isfinite(S))))


@pytest.mark.parametrize("method", ["dadao", "adom+", "adom+mc", "msda", "continuized", "gradient-tracking"])
def test_methods_to_tolerance(benchmark, setup, method):
    p, G = setup
    res = benchmark.pedantic(minimize, args=(p, G), kwargs=dict(method=method, t_max=5000.0, tol=1e-6, seed=0,
                                                                record_every=1.0), rounds=1, iterations=1)
    benchmark.extra_info.update(success=bool(res.success), ngrad=int(res.ngrad), ncomm=int(res.ncomm),
                                rel_error=float(res.rel_error))
    assert res.success
