"""Exact recovery, robust vs exact agreement, backends, driver integration."""

import numpy as np
import pytest

from numopt import Status
from numopt.completion import complete, relative_error


@pytest.mark.parametrize("method", ["exact", "robust"])
def test_exact_recovery_of_low_rank_matrix(small_problem, method):
    d = small_problem
    res = complete(d.rows, d.cols, d.values, d.shape, 3, method, seed=0, tol=1e-12)
    assert res.success and res.status == Status.SUCCESS.code
    assert res.residual <= 1e-12
    assert relative_error(res.U, res.V, d.U_true, d.V_true) < 1e-9
    # factors are orthonormalized without ridge
    np.testing.assert_allclose(res.U.T @ res.U, np.eye(3), atol=1e-10)


def test_robust_and_exact_agree(small_problem):
    d = small_problem
    kw = dict(seed=1, tol=1e-13)
    ex = complete(d.rows, d.cols, d.values, d.shape, 3, "exact", **kw)
    ro = complete(d.rows, d.cols, d.values, d.shape, 3, "robust", **kw)
    assert relative_error(ro.U, ro.V, ex.U, ex.V) < 1e-9
    assert ro.mean_inner_iterations > 0


def test_robust_with_tight_inner_tolerance_reproduces_exact_iterates(small_problem):
    d = small_problem
    kw = dict(seed=2, maxiter=3, tol=0.0, ftol=0.0, record_history=True)
    ex = complete(d.rows, d.cols, d.values, d.shape, 3, "exact", **kw)
    ro = complete(d.rows, d.cols, d.values, d.shape, 3, "robust", inner_rtol=1e-14, inner_maxiter=200, **kw)
    np.testing.assert_allclose(ro.history["fun"], ex.history["fun"], rtol=1e-7)
    assert relative_error(ro.U, ro.V, ex.U, ex.V) < 1e-9


def test_ridge_objective_decreases_and_methods_agree(small_problem):
    d = small_problem
    noisy = d.values + 0.1 * np.random.default_rng(0).standard_normal(d.nnz)
    kw = dict(reg=0.5, seed=0, record_history=True, tol=0.0, ftol=1e-12, maxiter=300)
    ex = complete(d.rows, d.cols, noisy, d.shape, 3, "exact", **kw)
    ro = complete(d.rows, d.cols, noisy, d.shape, 3, "robust", **kw)
    for res in (ex, ro):
        f = np.array(res.history["fun"])
        assert np.all(np.diff(f) <= 1e-10 * f[:-1])  # block coordinate descent: monotone
    assert ro.fun == pytest.approx(ex.fun, rel=1e-6)
    # first-order optimality of the exact fixed point: gradient w.r.t. U vanishes
    U, V = ex.U, ex.V
    r = np.einsum("ij,ij->i", U[d.rows], V[d.cols]) - noisy
    gU = np.zeros_like(U)
    np.add.at(gU, d.rows, r[:, None] * V[d.cols])
    gU += 0.5 * U
    assert np.linalg.norm(gU) < 1e-5 * np.linalg.norm(U)


def test_numpy_backend_matches_numba(small_problem):
    d = small_problem
    for method in ("exact", "robust"):
        kw = dict(seed=4, maxiter=2, tol=0.0, ftol=0.0)
        a = complete(d.rows, d.cols, d.values, d.shape, 3, method, backend="numba", **kw)
        b = complete(d.rows, d.cols, d.values, d.shape, 3, method, backend="numpy", **kw)
        np.testing.assert_allclose(a.U @ a.V[:5].T, b.U @ b.V[:5].T, rtol=1e-7, atol=1e-9)
        assert a.inner_iterations == b.inner_iterations


def test_seed_determinism(small_problem):
    d = small_problem
    a = complete(d.rows, d.cols, d.values, d.shape, 3, seed=5, maxiter=2)
    b = complete(d.rows, d.cols, d.values, d.shape, 3, seed=5, maxiter=2)
    np.testing.assert_array_equal(a.U, b.U)


def test_callback_stop_and_history(small_problem):
    d = small_problem
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.residual)
        if intermediate_result.nit == 2:
            raise StopIteration

    res = complete(d.rows, d.cols, d.values, d.shape, 3, seed=0, callback=cb, record_history=True)
    assert res.status == Status.CALLBACK.code and res.nit == 2 and not res.success
    assert len(res.history["residual"]) == 3 and res.history["residual"][1] == seen[0]


def test_maxiter_status(small_problem):
    d = small_problem
    res = complete(d.rows, d.cols, d.values, d.shape, 3, "exact", seed=0, maxiter=1, tol=0.0)
    assert res.status == Status.MAXITER.code and not res.success


def test_user_start(small_problem):
    d = small_problem
    rng = np.random.default_rng(0)
    x0 = (d.U_true + 0.01 * rng.standard_normal(d.U_true.shape), d.V_true)
    res = complete(d.rows, d.cols, d.values, d.shape, 3, "exact", x0=x0, tol=1e-12)
    assert res.success and relative_error(res.U, res.V, d.U_true, d.V_true) < 1e-9
