"""Each inner-solve path of adasketch-newton against an independent direct solve; the cost model."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.linalg import LinearOperator, aslinearoperator

import numopt
from numopt.constrained.kkt import assemble_kkt, choose_inner, inner_path, solve_kkt


def kkt_system(n=12, m=4, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    B = A @ A.T / n + np.eye(n)
    G = rng.standard_normal((m, n))
    return B, G, rng.standard_normal(n + m)


def reference(B, G, rhs):
    n, m = B.shape[0], G.shape[0]
    K = np.zeros((n + m, n + m))
    K[:n, :n], K[:n, n:], K[n:, :n] = B, G.T, G
    return np.linalg.solve(K, rhs)


def solve(K, rhs, inner, **kw):
    options = dict(stop=lambda z, r, k: np.linalg.norm(r) <= 1e-10 * np.linalg.norm(rhs), sketch="rk",
                   sampling="row-norm", block_size=None, maxiter=200_000, rng=np.random.default_rng(0))
    options.update(kw)
    return solve_kkt(K, rhs, inner=inner, **options)


@pytest.mark.parametrize("form", ["dense", "sparse", "operator"])
def test_exact_paths_match_a_direct_solve(form):
    B, G, rhs = kkt_system()
    if form == "dense":
        K = assemble_kkt(B, G)
    elif form == "sparse":
        K = assemble_kkt(sp.csr_matrix(B), sp.csr_matrix(G), dense_max=1)
    else:
        K = assemble_kkt(aslinearoperator(B), G, dense_max=1)
    assert inner_path(K, "exact", "rk") == {"dense": "dense-lu", "sparse": "sparse-lu", "operator": "minres"}[form]
    z, _, met = solve(K, rhs, "exact")
    assert met and np.allclose(z, reference(B, G, rhs), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("sketch", ["rk", "block-kaczmarz", "precond-lsqr"])
def test_sketch_path_matches_a_direct_solve_to_its_tolerance(sketch):
    B, G, rhs = kkt_system(n=6, m=2)
    z, nit, met = solve(assemble_kkt(B, G), rhs, "sketch", sketch=sketch, block_size=4 if sketch != "rk" else None)
    ref = reference(B, G, rhs)
    assert met and nit > 0
    assert np.linalg.norm(z - ref) <= 1e-6 * np.linalg.norm(ref)


@pytest.mark.parametrize("form", ["dense", "sparse"])
def test_sketch_and_precondition_solves_an_ill_conditioned_kkt_system_in_few_iterations(form):
    # B with eigenvalues from 1e-4 to 1e4: Kaczmarz would need ~cond(K)^2 row steps, LSQR on A R^{-1} a few tens
    rng = np.random.default_rng(3)
    n, m = 60, 20
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    B = Q @ np.diag(np.logspace(-4, 4, n)) @ Q.T
    G = rng.standard_normal((m, n))
    rhs = rng.standard_normal(n + m)
    K = assemble_kkt(B, G) if form == "dense" else sp.csr_matrix(assemble_kkt(B, G))
    assert np.linalg.cond(assemble_kkt(B, G)) > 1e6
    z, nit, met = solve(K, rhs, "sketch", sketch="precond-lsqr", maxiter=200)
    ref = reference(B, G, rhs)
    assert met and nit <= 60
    assert np.linalg.norm(K @ z - rhs) <= 1e-10 * np.linalg.norm(rhs)
    assert np.linalg.norm(z - ref) <= 1e-4 * np.linalg.norm(ref)


def test_sketch_and_precondition_warm_start_stops_at_the_callers_test():
    B, G, rhs = kkt_system(n=30, m=10)
    K = assemble_kkt(B, G)
    ref = reference(B, G, rhs)
    loose = lambda z, r, k: np.linalg.norm(r) <= 1e-3 * np.linalg.norm(rhs)  # noqa: E731
    z1, nit1, met1 = solve(K, rhs, "sketch", sketch="precond-lsqr", stop=loose)
    assert met1 and np.linalg.norm(K @ z1 - rhs) <= 1e-3 * np.linalg.norm(rhs)
    z2, nit2, met2 = solve(K, rhs, "sketch", sketch="precond-lsqr", z0=z1)  # tighter test, continued
    z3, nit3, _ = solve(K, rhs, "sketch", sketch="precond-lsqr")  # the same test from zero
    assert met2 and np.linalg.norm(z2 - ref) <= 1e-8 * np.linalg.norm(ref)
    assert nit2 < nit3


def test_least_squares_path_gives_the_minimum_norm_solution_of_a_singular_system():
    B, G, rhs = kkt_system()
    G = np.vstack([G, G[:1]])  # a repeated constraint: K is singular
    K = assemble_kkt(B, G)
    rhs = K @ np.random.default_rng(1).standard_normal(K.shape[0])  # consistent right-hand side
    z, _, _ = solve(K, rhs, "exact", least_squares=True)
    assert inner_path(K, "exact", "rk", least_squares=True) == "dense-lstsq"
    assert np.allclose(z, np.linalg.pinv(K) @ rhs, atol=1e-8)
    zs, _, _ = solve(sp.csr_matrix(K), rhs, "exact", least_squares=True)
    assert np.allclose(zs, z, atol=1e-6)


def test_cost_model():
    assert choose_inner(np.zeros((300, 300))) == "exact"  # N^3/3 = 9e6 <= 100 N^2 = 9e6
    assert choose_inner(np.zeros((301, 301))) == "sketch"
    assert choose_inner(np.zeros((301, 301)), sketch_sweeps=1000) == "exact"
    lap = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(100, 100))
    assert choose_inner(sp.kronsum(lap, lap, format="csr")) == "exact"  # N^1.5 = 1e6 < 100 nnz = 5e6
    assert choose_inner(LinearOperator((5, 5), matvec=lambda v: v)) == "exact"


# ---------------------------------------------------------------------- PDE control, independent
def pde_control_reference(N):
    """Solution of the PDE-control QP from a KKT system built here from the problem's definition."""
    h = 2.0 / (N + 1)
    T = sp.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(N, N)) / h**2
    laplacian = sp.kron(sp.identity(N), T) + sp.kron(T, sp.identity(N))  # 5-point, zero Dirichlet
    k = N * N
    i = np.arange(1, N + 1)
    shift = 0.1 / np.sqrt(15.0)
    wstar = (np.sin(4 + shift * (i[:, None] - (N + 1) / 2)) + np.cos(3 + shift * (i[None, :] - (N + 1) / 2)))
    H = sp.diags(np.concatenate([np.ones(k), np.full(k, 0.1)]))
    J = sp.hstack([laplacian, sp.identity(k)])  # Delta_h w + z = 0
    K = sp.bmat([[H, J.T], [J, None]], format="csc")
    rhs = np.concatenate([wstar.ravel(), np.zeros(k), np.zeros(k)])
    return spla.spsolve(K, rhs)[:2 * k]


@pytest.mark.parametrize("options", [{}, {"hessian": "hessp", "dense_max": 10}, {"hessian": "fd"},
                                     {"dense_max": 10}])
def test_pde_control_matches_an_independent_kkt_solve(options):
    from numopt.problems.pde_control import pde_control

    ref = pde_control_reference(5)
    res = numopt.minimize(pde_control(5), options=options)
    assert res.success
    assert np.linalg.norm(res.x - ref) <= 1e-6 * np.linalg.norm(ref)
