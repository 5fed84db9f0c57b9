import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import solve_triangular

from numopt.linalg import _sor_kernels as kernels
from numopt.linalg.sor import (
    SweepMatrix,
    color_rows,
    jacobi_spectral_radius,
    optimal_omega,
    sor,
    ssor_pcg,
    ssor_pcg_iterations,
    ssor_preconditioner,
)
from numopt.problems.pde import diffusion, poisson


def dense_sweep(A, b, x, omega, kind):
    """Readable reference: x + (D/omega + L)^{-1} r, backward with U, symmetric = both."""
    A = np.asarray(A.todense()) if sp.issparse(A) else A
    D = np.diag(np.diag(A))
    if kind in ("forward", "symmetric"):
        x = x + solve_triangular(D / omega + np.tril(A, -1), b - A @ x, lower=True)
    if kind in ("backward", "symmetric"):
        x = x + solve_triangular(D / omega + np.triu(A, 1), b - A @ x, lower=False)
    return x


@pytest.fixture
def problem():
    rng = np.random.default_rng(1)
    A = diffusion(np.exp(rng.standard_normal((6, 5))))
    return A, rng.standard_normal(A.shape[0]), rng.standard_normal(A.shape[0])


@pytest.mark.parametrize("kind", ["forward", "backward", "symmetric"])
@pytest.mark.parametrize("omega", [0.7, 1.0, 1.6])
def test_sweep_matches_dense_reference(problem, kind, omega):
    A, b, x = problem
    got = SweepMatrix(A).sweep(b, x.copy(), omega, kind)
    np.testing.assert_allclose(got, dense_sweep(A, b, x, omega, kind), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("ordering", ["red-black", "multicolor"])
@pytest.mark.parametrize("kind", ["forward", "backward", "symmetric"])
def test_colored_sweep_is_natural_sweep_of_permuted_matrix(problem, ordering, kind, parallel):
    A, b, x = problem
    S = SweepMatrix(A, ordering, parallel=parallel)
    assert S.parallel == parallel
    P = S.order
    got = S.sweep(b, x.copy(), 1.3, kind)
    ref = dense_sweep(A[P][:, P], b[P], x[P], 1.3, kind)
    np.testing.assert_allclose(got[P], ref, rtol=1e-12, atol=1e-12)


def test_red_black_and_natural_reach_same_fixed_point(problem):
    A, b, _ = problem
    x_nat = sor(A, b, omega=1.4, rtol=1e-12).x
    x_rb = sor(A, b, omega=1.4, rtol=1e-12, ordering="red-black").x
    exact = sp.linalg.spsolve(A.tocsc(), b)
    np.testing.assert_allclose(x_nat, exact, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(x_rb, exact, rtol=1e-9, atol=1e-10)
    # the exact solution is a fixed point of both sweeps
    for ordering in ("natural", "red-black"):
        np.testing.assert_allclose(SweepMatrix(A, ordering).sweep(b, exact.copy(), 1.4), exact, atol=1e-12)


def test_colorings():
    rb2 = color_rows(poisson((4, 5)))
    i, j = np.indices((4, 5))
    assert np.array_equal(rb2, ((i + j) % 2).ravel())
    rb3 = color_rows(poisson((3, 3, 3)))
    i, j, k = np.indices((3, 3, 3))
    assert np.array_equal(rb3, ((i + j + k) % 2).ravel())
    nine = sp.csr_matrix(np.ones((3, 3)) + 2 * np.eye(3))  # a triangle: odd cycle
    with pytest.raises(ValueError, match="odd cycle"):
        color_rows(nine)
    colors = color_rows(nine, "greedy")
    assert sorted(colors) == [0, 1, 2]
    assert SweepMatrix(poisson((3, 3, 3)), "multicolor").ncolors == 2


def test_numpy_kernel_helpers_agree():
    A = poisson((5, 5))
    b = np.arange(25.0)
    x = np.ones(25)
    assert kernels.residual_norm(A.data, A.indices, A.indptr, b, x) == pytest.approx(np.linalg.norm(b - A @ x))
    out = np.zeros(3, dtype=np.int64)
    S = SweepMatrix(A)
    kernels.solve_many(*S.arrays, b, np.array([1.0, 1.5, 1.8]), 0, S.order, 1e-8 * np.linalg.norm(b), 10000, out)
    assert list(out) == [sor(A, b, omega=w, rtol=1e-8).nit for w in (1.0, 1.5, 1.8)]


@pytest.mark.parametrize("omega", [0.5, 1.0, 1.5, 1.9])
@pytest.mark.parametrize("kind", ["forward", "backward", "symmetric"])
def test_converges_for_spd_at_several_omegas(problem, omega, kind):
    A, b, _ = problem
    res = sor(A, b, omega=omega, sweep=kind, rtol=1e-10)
    assert res.info == 0 and res.success
    assert np.linalg.norm(b - A @ res.x) <= 1e-10 * np.linalg.norm(b)


def test_kernel_loop_and_driver_loop_agree(problem):
    A, b, x0 = problem
    fast = sor(A, b, x0, omega=1.3, rtol=1e-8)
    seen = []
    slow = sor(A, b, x0, omega=1.3, rtol=1e-8, callback=seen.append, record_history=True)
    assert fast.nit == slow.nit == len(seen)
    np.testing.assert_allclose(fast.x, slow.x, rtol=1e-14)
    hist = slow.history["residual"]
    assert hist[-1] <= 1e-8 * np.linalg.norm(b) < hist[-2]


def test_warm_start_and_maxiter(problem):
    A, b, _ = problem
    cold = sor(A, b, omega=1.2)
    warm = sor(A, b, cold.x + 1e-6, omega=1.2)
    assert warm.nit < cold.nit
    x, info = sor(A, b, omega=1.2, maxiter=3)
    assert info == 3
    def stop(xk):
        raise StopIteration

    stopped = sor(A, b, omega=1.2, callback=stop)
    assert stopped.nit == 1 and stopped.info == 1


def test_divergence_reported_through_info():
    A = sp.csr_matrix(np.array([[1.0, 3.0], [3.0, 1.0]]))  # not positive definite: SOR diverges
    res = sor(A, np.ones(2), omega=1.0, maxiter=2000)
    assert res.info != 0 and not res.success


def test_optimal_omega_matches_young_and_is_near_best():
    A = poisson((10, 10))
    rho = jacobi_spectral_radius(A)
    assert rho == pytest.approx(np.cos(np.pi / 11), rel=1e-12)
    w = optimal_omega(A)
    assert w == pytest.approx(2 / (1 + np.sin(np.pi / 11)), rel=1e-12)
    b = np.random.default_rng(0).standard_normal(100)
    grid = np.linspace(1.0, 1.95, 20)
    its = [sor(A, b, omega=g).nit for g in grid]
    assert sor(A, b, omega=w).nit <= 1.1 * min(its)


def test_jacobi_radius_large_matrix_uses_lanczos():
    A = poisson((40, 40))
    assert jacobi_spectral_radius(A) == pytest.approx(np.cos(np.pi / 41), rel=1e-8)


def test_ssor_preconditioner_matches_dense_formula():
    A = diffusion(np.exp(np.random.default_rng(3).standard_normal((4, 4))))
    Ad = A.toarray()
    omega = 1.3
    D = np.diag(np.diag(Ad))
    L = np.tril(Ad, -1)
    M = (D / omega + L) @ np.linalg.inv(D) @ (D / omega + L.T) * omega / (2 - omega)
    r = np.arange(16.0)
    np.testing.assert_allclose(ssor_preconditioner(A, omega) @ r, np.linalg.solve(M, r), rtol=1e-10)


@pytest.mark.parametrize("ordering, fraction", [("natural", 0.4), ("red-black", 0.75)])
def test_ssor_pcg_needs_fewer_iterations_than_scipy_cg(ordering, fraction):
    A = poisson((20, 20))
    b = np.random.default_rng(0).standard_normal(400)
    res = ssor_pcg(A, b, omega=1.5, ordering=ordering, rtol=1e-8)
    assert res.info == 0
    assert np.linalg.norm(b - A @ res.x) <= 1.5e-8 * np.linalg.norm(b)
    scipy_iterations = []
    x, info = sp.linalg.cg(A, b, rtol=1e-8, callback=lambda xk: scipy_iterations.append(1))
    assert info == 0 and np.linalg.norm(b - A @ x) <= 1e-8 * np.linalg.norm(b)
    # scipy's CG takes 65 iterations; SSOR(1.5) in natural order 19, in red-black order (a weaker
    # preconditioner: the colored sweep does not improve the condition number's order) 41
    assert res.nit <= fraction * len(scipy_iterations)


@pytest.mark.parametrize(
    "A, b, kwargs, error, match",
    [
        (sp.diags([1.0, 0.0, 2.0]), np.ones(3), {}, ValueError, "zero or negative diagonal"),
        (sp.diags([1.0, -1.0, 2.0]), np.ones(3), {}, ValueError, "zero or negative diagonal"),
        (poisson((2, 2)), np.ones(4), {"omega": 2.0}, ValueError, "omega must lie in"),
        (poisson((2, 2)), np.ones(4), {"omega": 0.0}, ValueError, "omega must lie in"),
        (np.ones((2, 3)), np.ones(2), {}, ValueError, "square"),
        (poisson((2, 2)), np.ones(5), {}, ValueError, "b must have shape"),
        (poisson((2, 2)), np.array([1.0, np.nan, 0, 0]), {}, ValueError, "b contains NaN"),
        (sp.csr_matrix(np.array([[1.0, np.inf], [0, 1]])), np.ones(2), {}, ValueError, "A contains NaN"),
        (poisson((2, 2)), np.ones(4), {"sweep": "sideways"}, ValueError, "sweep="),
        (poisson((2, 2)), np.ones(4), {"ordering": "zigzag"}, ValueError, "ordering="),
        (poisson((2, 2)), np.ones(4), {"ordering": np.zeros(4, dtype=int)}, ValueError, "share a color"),
        (poisson((2, 2)), np.ones(4), {"rtol": 0.0}, ValueError, "rtol and atol"),
        (poisson((2, 2)), np.ones(4), {"backend": "numpy"}, ValueError, "Numba"),
        (sp.linalg.aslinearoperator(poisson((2, 2))), np.ones(4), {}, TypeError, "LinearOperator"),
    ],
)
def test_bad_input(A, b, kwargs, error, match):
    with pytest.raises(error, match=match):
        sor(A, b, **kwargs)


def test_optimal_omega_bad_input():
    with pytest.raises(ValueError, match="exactly one"):
        optimal_omega()
    with pytest.raises(ValueError, match="rho must lie"):
        optimal_omega(rho=1.5)


@pytest.mark.gpu
@pytest.mark.parametrize("kind", ["forward", "symmetric"])
def test_gpu_matches_cpu(kind):
    import cupy as cp

    A = poisson((12, 12))
    b = np.random.default_rng(0).standard_normal(144)
    cpu = sor(A, b, omega=1.5, ordering="red-black", sweep=kind)
    gpu = sor(A, cp.asarray(b), omega=1.5, ordering="red-black", sweep=kind)
    assert gpu.nit == cpu.nit and gpu.info == 0
    np.testing.assert_allclose(cp.asnumpy(gpu.x), cpu.x, rtol=1e-10, atol=1e-12)


def test_sor_refuses_a_complex_matrix_instead_of_dropping_the_imaginary_part():
    from numopt.testing import assert_names_argument

    A = sp.csr_matrix(poisson((3, 3)) * (1 + 0.5j))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning either
        assert_names_argument(sor, A, np.ones(9), names="A", seen="complex")


def test_sor_refuses_an_empty_matrix():
    from numopt.testing import assert_names_argument

    assert_names_argument(sor, sp.csr_matrix((0, 0)), np.zeros(0), names="A", seen="(0, 0)")


def test_ssor_pcg_refuses_a_nonsymmetric_matrix():
    from numopt.testing import assert_names_argument

    A = poisson((4, 4)).tolil()
    A[0, 1] = -2.0
    assert_names_argument(ssor_pcg, A.tocsr(), np.ones(16), names=["A", "symmetric"], seen="assume_symmetric")


def test_sor_object_is_reentrant_and_bitwise_reproducible():
    from numopt import run
    from numopt.linalg.sor import SOR

    A = poisson((6, 6))
    b = np.random.default_rng(1).standard_normal(36)
    solver = SOR(omega=1.4, rtol=1e-10)
    S, other = SweepMatrix(A), SweepMatrix(A + 3 * sp.identity(36))
    x0 = np.zeros(36)
    first = run(solver, (S, b), x0)
    interleaved = run(solver, (other, b), x0)
    second = run(solver, (S, b), x0)
    assert np.all(x0 == 0)  # the start is not overwritten
    assert first.nit == second.nit != interleaved.nit
    np.testing.assert_array_equal(first.x, second.x)


def test_ssor_pcg_iterations_equal_ssor_pcg_runs_and_their_coefficients():
    A = diffusion(np.exp(np.random.default_rng(3).normal(size=(12, 10))))
    b = np.linspace(1.0, 2.0, A.shape[0])
    omegas = [0.6, 1.0, 1.4, 1.9]
    counts, alphas, betas = ssor_pcg_iterations(A, b, omegas, rtol=1e-9, return_coefficients=True)
    for k, w in enumerate(omegas):
        run = ssor_pcg(A, b, omega=w, rtol=1e-9, record_history=True)
        assert counts[k] == run.nit and run.info == 0
        np.testing.assert_allclose(alphas[k, :run.nit], run.history["alpha"][1:], rtol=1e-12)
        np.testing.assert_allclose(betas[k, :run.nit], run.history["beta"][1:], rtol=1e-12)
        assert np.all(np.isnan(alphas[k, run.nit:]))
    # the cap: a count equal to maxiter did not converge
    np.testing.assert_array_equal(ssor_pcg_iterations(A, b, omegas, rtol=1e-9, maxiter=3), 3)


def test_ssor_pcg_iterations_report_a_breakdown_and_name_bad_arguments():
    indefinite = sp.csr_matrix(np.array([[1.0, 2.0], [2.0, 1.0]]))
    assert ssor_pcg_iterations(indefinite, np.array([1.0, -1.0]), [1.0]).tolist() == [-1]
    assert ssor_pcg(indefinite, np.array([1.0, -1.0]), omega=1.0).info == -1
    A = poisson((4, 4))
    with pytest.raises(ValueError, match="omega"):
        ssor_pcg_iterations(A, np.ones(16), [1.0, 2.5])
    with pytest.raises(ValueError, match="maxiter"):
        ssor_pcg_iterations(A, np.ones(16), [1.0], maxiter=0)
    with pytest.raises(ValueError, match="symmetric"):
        ssor_pcg_iterations(sp.csr_matrix(np.array([[2.0, 1.0], [0.0, 2.0]])), np.ones(2), [1.0])
