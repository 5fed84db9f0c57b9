"""AltMin is an immutable configuration; Observations is a counting problem; results follow the contract."""

import numpy as np
import pytest

from numopt import Status
from numopt._core.driver import run
from numopt.completion import AltMin, complete, observations, relative_error
from numopt.oracles import Problem

from .conftest import obs_of


@pytest.mark.parametrize("method", ["exact", "robust"])
@pytest.mark.parametrize("biases", [False, True])
def test_same_solver_object_twice_gives_bitwise_identical_factors(small_problem, method, biases):
    solver = AltMin(rank=3, method=method, reg=0.1 if biases else 0.0, biases=biases, seed=0, maxiter=4,
                    tol=0.0, ftol=0.0)
    before = dict(solver.options)
    first = run(solver, obs_of(small_problem), None)
    second = run(solver, obs_of(small_problem), None)
    np.testing.assert_array_equal(first.U, second.U)
    np.testing.assert_array_equal(first.V, second.V)
    assert first.fun == second.fun and first.inner_iterations == second.inner_iterations
    assert dict(solver.options) == before
    if biases:
        np.testing.assert_array_equal(first.row_bias, second.row_bias)


def test_default_calls_are_reproducible(small_problem):
    d = small_problem
    a = complete(d.rows, d.cols, d.values, d.shape, 3, maxiter=2)
    b = complete(d.rows, d.cols, d.values, d.shape, 3, maxiter=2)
    np.testing.assert_array_equal(a.U, b.U)


def test_observations_is_a_counting_problem(small_problem):
    d = small_problem
    obs = obs_of(d)
    assert isinstance(obs, Problem)
    res = run(AltMin(rank=3, method="exact", maxiter=3, tol=0.0, ftol=0.0), obs, None)
    m, n = d.shape
    # one objective evaluation at the start and one per sweep; one regression per row and column per sweep
    assert res.nit == 3 and res.nfev == 4 and res.nsolves == 3 * (m + n)
    assert obs.counts() == {"nfev": 4, "nsolves": 3 * (m + n)}
    obs.reset_counts()
    assert obs.counts() == {"nfev": 0, "nsolves": 0}


def test_observations_evaluations_match_direct_formulas():
    rng = np.random.default_rng(0)
    rows, cols = np.array([0, 0, 1, 2, 2]), np.array([0, 2, 1, 0, 1])
    vals = rng.standard_normal(5)
    obs = observations(rows, cols, vals, (3, 3))
    U, V = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    direct = np.sum((vals - np.einsum("ij,ij->i", U[rows], V[cols])) ** 2)
    assert obs.squared_residual(U, V) == pytest.approx(direct, rel=1e-14)
    out, inner = obs.row_regressions("rows", V, reg=0.5)
    A = V[[0, 2]]
    expect = np.linalg.solve(A.T @ A + 0.5 * np.eye(2), A.T @ vals[:2])
    np.testing.assert_allclose(out[0], expect, rtol=1e-12)
    assert inner == 0 and obs.counts() == {"nfev": 1, "nsolves": 3}


def test_result_contract_and_callback_stop(small_problem):
    d = small_problem

    def stop_now(intermediate_result):
        raise StopIteration

    res = complete(d.rows, d.cols, d.values, d.shape, 3, callback=stop_now)
    assert res.status == Status.CALLBACK.code and not res.success and res.nit == 1
    assert res.message == Status.CALLBACK.value and res.time >= 0.0
    assert res.x is res.U


def test_biases_recover_low_rank_plus_bias_exactly():
    from numopt.problems.completion_data import synthetic_completion

    d = synthetic_completion(80, 70, 2, nnz=2800, seed=4)
    rng = np.random.default_rng(1)
    b, c = rng.standard_normal(80), rng.standard_normal(70)
    values = d.values + b[d.rows] + c[d.cols]
    res = complete(d.rows, d.cols, values, d.shape, 2, "exact", biases=True, reg=1e-9, tol=1e-11, ftol=0.0,
                   maxiter=500)
    truth_u = np.hstack([d.U_true, b[:, None], np.ones((80, 1))])
    truth_v = np.hstack([d.V_true, np.ones((70, 1)), c[:, None]])
    fit_u = np.hstack([res.U, res.row_bias[:, None], np.ones((80, 1))])
    fit_v = np.hstack([res.V, np.ones((70, 1)), res.col_bias[:, None]])
    assert relative_error(fit_u, fit_v, truth_u, truth_v) < 1e-6
