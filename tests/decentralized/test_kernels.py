"""Numba event kernels against their NumPy references."""

import numpy as np
import pytest

from numopt.decentralized import (
    EventStream,
    Propagator,
    dadao_constants,
    edge_array,
    edge_resistances,
    logistic_problem,
    make_graph,
    ode_matrix,
    ridge_problem,
)
from numopt.decentralized._kernels import (
    continuized_events,
    continuized_events_reference,
    dadao_events,
    dadao_events_reference,
    local_grad,
)


@pytest.mark.parametrize("build", [ridge_problem, logistic_problem])
def test_local_grad_kernel_matches_problem(build):
    p = build(4, m_per_node=7, dim=5, seed=3)
    kind, data, indices, indptr, node_ptr, b, reg = p.kernel_data()
    x = np.random.default_rng(0).normal(size=5)
    out = np.empty(5)
    for i in range(4):
        local_grad(kind, data, indices, indptr, node_ptr, b, reg, i, x, out)
        np.testing.assert_allclose(out, p.local_grad(i, x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(p.grad_all(np.tile(x, (4, 1))), [p.local_grad(i, x) for i in range(4)], atol=1e-13)


@pytest.mark.parametrize("build", [ridge_problem, logistic_problem])
def test_dadao_kernel_matches_reference(build):
    p = build(5, m_per_node=6, dim=3, seed=1)
    G = make_graph("cycle", 5)
    E = edge_array(G)
    stream = EventStream(5, [(E, np.full(len(E), 0.7))], grad_rate=1.0, seed=2)
    times, kinds, ids = stream.window(0.0, 30.0)
    c = dadao_constants(p.L, p.mu, 1.5)
    consts = np.array([c["gamma"], c["gamma_t"], c["delta"], c["nu"], c["beta"], c["beta_t"]])
    prop = Propagator(ode_matrix(c))
    S0 = np.random.default_rng(0).normal(size=(5, 6, 3))
    S1, t1 = S0.copy(), np.zeros(5)
    S2, t2 = S0.copy(), np.zeros(5)
    assert dadao_events(S1, t1, times, kinds, ids, E, prop.P, prop.lam, consts, *p.kernel_data()) == -1
    assert dadao_events_reference(S2, t2, times, kinds, ids, E, prop.expm, consts, p.local_grad) == -1
    np.testing.assert_allclose(S1, S2, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(t1, t2)


def test_communication_events_conserve_the_dual_invariant():
    p = ridge_problem(6, dim=2, seed=0)
    G = make_graph("path", 6)
    E = edge_array(G)
    times, kinds, ids = EventStream(6, [(E, np.ones(len(E)))], grad_rate=1.0, seed=0).window(0.0, 50.0)
    c = dadao_constants(p.L, p.mu, 2.0)
    consts = np.array([c["gamma"], c["gamma_t"], c["delta"], c["nu"], c["beta"], c["beta_t"]])
    prop = Propagator(ode_matrix(c))
    S, tl = np.zeros((6, 6, 2)), np.zeros(6)
    dadao_events(S, tl, times, kinds, ids, E, prop.P, prop.lam, consts, *p.kernel_data())
    inv = (c["alpha_t"] * S[:, 4] + c["alpha"] * S[:, 5]).sum(axis=0)
    assert np.abs(inv).max() < 1e-10 * max(1.0, np.abs(S).max())


def test_nonfinite_gradient_stops_the_kernel_reference():
    E = np.array([[0, 1]])
    times, kinds, ids = np.array([0.1, 0.2]), np.array([1, 0], np.int8), np.array([0, 1])
    c = dadao_constants(1.0, 0.5, 1.0)
    consts = np.array([c["gamma"], c["gamma_t"], c["delta"], c["nu"], c["beta"], c["beta_t"]])
    S, tl = np.zeros((2, 6, 1)), np.zeros(2)
    stop = dadao_events_reference(S, tl, times, kinds, ids, E, Propagator(ode_matrix(c)).expm, consts,
                                  lambda i, x: np.array([np.nan]))
    assert stop == 1


def test_continuized_kernel_matches_reference():
    p = ridge_problem(5, m_per_node=6, dim=3, seed=4)
    G = make_graph("cycle", 5)
    E = edge_array(G)
    R, _ = edge_resistances(G)
    times, _, ids = EventStream(5, [(E, np.ones(len(E)))], grad_rate=0.0, seed=1).window(0.0, 20.0)
    Y0 = np.random.default_rng(0).normal(size=(5, 3))
    Y0 -= Y0.mean(0)
    a = [Y0.copy(), np.zeros((5, 3)), np.zeros(5)]
    b = [Y0.copy(), np.zeros((5, 3)), np.zeros(5)]
    continuized_events(*a, times, ids, E, R, 0.05, 0.02, 0.3, p.Hinv, p.c)
    continuized_events_reference(*b, times, ids, E, R, 0.05, 0.02, 0.3, p.local_conj_grad)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    # the ODE keeps y_i + z_i and the jumps are antisymmetric: sum_i (y_i + z_i) stays 0
    np.testing.assert_allclose((a[0] + a[1]).sum(0), 0.0, atol=1e-10)
