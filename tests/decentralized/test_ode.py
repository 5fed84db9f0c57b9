"""Exact between-event integration of DADAO's linear ODE."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from numopt.decentralized import Propagator, dadao_constants, ode_matrix
from numopt.decentralized._kernels import propagate, sync_nodes


@pytest.mark.parametrize("L, mu", [(1.0, 1.0), (10.0, 1.0), (3.35, 0.176), (1e4, 1.0)])
def test_propagator_matches_fine_ode_solve(L, mu):
    c = dadao_constants(L, mu, chi1=2.5)
    M = ode_matrix(c)
    prop = Propagator(M)
    s0 = np.random.default_rng(0).normal(size=6)
    for dt in (0.05, 2.0, 40.0):
        sol = solve_ivp(lambda t, s: M @ s, (0.0, dt), s0, method="DOP853", rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(prop.expm(dt) @ s0, sol.y[:, -1], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(prop.expm(dt), expm(dt * M), atol=1e-11 * max(1.0, np.abs(expm(dt * M)).max()))


def test_ode_matrix_is_the_anchored_dynamics():
    c = dadao_constants(L=8.0, mu=2.0, chi1=1.0)
    nu = 1.0
    assert c["nu"] == nu and np.isclose(c["alpha"], np.sqrt(nu / 8) / 4)
    assert np.isclose(c["eta"], np.sqrt(nu / 8) / 8) and np.isclose(c["alpha_t"], c["eta"])
    assert np.isclose(c["theta"], np.sqrt(8 / nu) / 2)
    x, xt, y, yt, z, zt = np.arange(1.0, 7.0)
    ds = ode_matrix(c) @ np.array([x, xt, y, yt, z, zt])
    expected = [c["eta"] * (xt - x), c["eta"] * (x - xt), c["alpha"] * (yt - y), -c["theta"] * (nu * xt + y + z),
                c["alpha"] * (zt - z), c["alpha_t"] * (z - zt)]
    np.testing.assert_allclose(ds, expected)


def test_kernel_propagation_and_lazy_sync_compose():
    prop = Propagator(ode_matrix(dadao_constants(5.0, 0.5, 3.0)))
    np.testing.assert_allclose(propagate(prop.P, prop.lam, 1.3), prop.expm(1.3), atol=1e-13)
    S = np.random.default_rng(1).normal(size=(3, 6, 2))
    ref = np.stack([prop.expm(2.0) @ S[i] for i in range(3)])
    tlast = np.zeros(3)
    sync_nodes(S, tlast, 0.7, prop.P, prop.lam)
    sync_nodes(S, tlast, 2.0, prop.P, prop.lam)
    np.testing.assert_allclose(S, ref, atol=1e-12)
    assert np.all(tlast == 2.0)
