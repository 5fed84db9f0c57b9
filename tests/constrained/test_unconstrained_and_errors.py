"""numopt.minimize without constraints, with quasi-Newton Hessians, by default; bad input and hopeless runs."""

import numpy as np
import pytest
from scipy.optimize import BFGS, SR1, LinearConstraint, rosen, rosen_der, rosen_hess
from scipy.optimize import minimize as scipy_minimize

import numopt
from numopt import Status
from numopt.testing import assert_names_argument


def beale(x):
    return (1.5 - x[0] + x[0] * x[1]) ** 2 + (2.25 - x[0] + x[0] * x[1] ** 2) ** 2 + (
        2.625 - x[0] + x[0] * x[1] ** 3) ** 2


@pytest.mark.parametrize("x0", [[-1.2, 1.0], [1.3, 0.7, 0.8, 1.9, 1.2]])
def test_rosenbrock_matches_scipy(x0):
    res = numopt.minimize(rosen, np.array(x0), jac=rosen_der, hess=rosen_hess)
    ref = scipy_minimize(rosen, np.array(x0), jac=rosen_der, hess=rosen_hess, method="trust-exact", tol=1e-12)
    assert res.success and ref.success
    assert np.allclose(res.x, ref.x, atol=1e-7) and np.linalg.norm(rosen_der(res.x)) <= 1e-8
    assert res.inner_paths == {"dense-lu": res.nit}  # small dense systems are solved directly


def test_rosenbrock_iteration_count_is_pinned():
    # Newton with a Hessian shift and an Armijo search on f: 21 iterations and 27 function values
    res = numopt.minimize(rosen, np.array([-1.2, 1.0]), jac=rosen_der, hess=rosen_hess)
    assert (res.nit, res.nfev) == (21, 27)


def test_scipy_test_problem_beale_with_finite_differences():
    res = numopt.minimize(beale, np.array([1.0, 1.0]))
    ref = scipy_minimize(beale, np.array([1.0, 1.0]), method="BFGS", options={"gtol": 1e-10})
    assert res.success and res.hessian_used == "quasi-newton"  # BFGS: the gradient is differenced
    assert np.allclose(res.x, ref.x, atol=1e-5) and np.allclose(res.x, [3.0, 0.5], atol=1e-5)


@pytest.mark.parametrize("strategy", [BFGS, SR1])
def test_hessian_update_strategies(strategy):
    update = strategy()
    res = numopt.minimize(rosen, np.array([-1.2, 1.0]), jac=rosen_der, hess=update)
    assert res.success and res.hessian_used == "quasi-newton" and np.allclose(res.x, 1.0, atol=1e-7)
    again = numopt.minimize(rosen, np.array([-1.2, 1.0]), jac=rosen_der, hess=update)
    assert again.nit == res.nit and np.array_equal(again.x, res.x)  # the user's object is not modified


def test_quasi_newton_with_an_equality_constraint():
    # min x1^2 + 2 x2^2 + x3^2 s.t. x1 + x2 + x3 = 1: x* = (0.4, 0.2, 0.4)
    res = numopt.minimize(lambda x: x[0] ** 2 + 2 * x[1] ** 2 + x[2] ** 2, np.zeros(3),
                          jac=lambda x: np.array([2 * x[0], 4 * x[1], 2 * x[2]]), hess=BFGS(),
                          constraints=LinearConstraint(np.ones((1, 3)), 1.0, 1.0))
    assert res.success and np.allclose(res.x, [0.4, 0.2, 0.4], atol=1e-7)


def test_default_calls_are_deterministic_and_seed_none_is_allowed():
    kw = dict(jac=lambda x: np.array([-2 * (1 - x[0]), 0.0]), hess=lambda x: np.array([[2.0, 0], [0, 0]]),
              constraints={"type": "eq", "fun": lambda x: np.array([10 * (x[1] - x[0] ** 2)]),
                           "jac": lambda x: np.array([[-20 * x[0], 10.0]]),
                           "hess": lambda x, v: np.array([[-20 * v[0], 0], [0, 0]])},
              options={"inner": "sketch", "inner_maxiter": 20_000})
    runs = [numopt.minimize(lambda x: (1 - x[0]) ** 2, np.array([-1.2, 1.0]), **kw) for _ in range(3)]
    assert all(r.success for r in runs)
    assert len({(r.nit, r.n_inner, r.x.tobytes()) for r in runs}) == 1
    kw["options"] = {**kw["options"], "seed": None}
    fresh = numopt.minimize(lambda x: (1 - x[0]) ** 2, np.array([-1.2, 1.0]), **kw)
    assert fresh.success and np.allclose(fresh.x, 1.0, atol=1e-6)


# ------------------------------------------------------------------------------- bad input
def test_vector_valued_objective_names_fun_and_shape():
    assert_names_argument(numopt.minimize, lambda x: x, np.ones(3), names="fun", seen="(3,)")


def test_wrong_length_jac_names_jac_and_shape():
    assert_names_argument(numopt.minimize, lambda x: x @ x, np.ones(2), jac=lambda x: np.ones(3),
                          names="jac", seen="(3,)")


def test_wrong_shape_hess_names_hess():
    assert_names_argument(numopt.minimize, lambda x: x @ x, np.ones(2), jac=lambda x: 2 * x,
                          hess=lambda x: np.eye(3), names="hess", seen="(3, 3)")


def test_empty_x0_names_x0():
    assert_names_argument(numopt.minimize, lambda x: 0.0, np.zeros(0), names="x0", seen="(0,)")


def test_wrong_constraint_jacobian_names_the_constraint():
    assert_names_argument(numopt.minimize, lambda x: x @ x, np.ones(2), jac=lambda x: 2 * x,
                          constraints={"type": "eq", "fun": lambda x: x[:1], "jac": lambda x: np.ones((2, 2))},
                          names="constraint", seen="(2, 2)")


def test_string_seed_names_seed():
    assert_names_argument(numopt.minimize, lambda x: x @ x, np.ones(2), jac=lambda x: 2 * x,
                          options={"seed": "abc"}, names="seed", seen="'abc'")


def test_hessian_update_refused_by_a_method_without_it():
    from numopt._core.registry import METHODS

    assert "bcd" in METHODS
    assert_names_argument(numopt.minimize, lambda x: x @ x, np.ones(2), method="bcd", hess=BFGS(),
                          names="hess", seen="bcd")


# ---------------------------------------------------------------------------- hopeless runs
def barrier(x):
    """-x1 - 2 log(1.5 - x1) + x2^2, NaN beyond x1 = 1.5; minimizer (-0.5, 0)."""
    return -x[0] - 2 * np.log(1.5 - x[0]) + x[1] ** 2 if x[0] < 1.5 else np.nan


@pytest.mark.parametrize("jac", [None, lambda x: np.array([-1 + 2 / (1.5 - x[0]), 2 * x[1]])
                                 if x[0] < 1.5 else np.full(2, np.nan)])
def test_nan_objective_mid_run_backs_off(jac):
    # the first Newton step from x1 = -3 lands at x1 = 2.6, where f (and its differences) are NaN
    res = numopt.minimize(barrier, np.array([-3.0, 1.0]), jac=jac)
    assert res.success and np.allclose(res.x, [-0.5, 0.0], atol=1e-6)


def test_inconsistent_linear_equalities_are_infeasible():
    res = numopt.minimize(lambda x: x @ x, np.array([1.0, 2.0, 3.0]), jac=lambda x: 2 * x,
                          hess=lambda x: 2 * np.eye(3),
                          constraints=LinearConstraint([[1.0, 1, 0], [1, 1, 0]], [1, 2], [1, 2]))
    assert res.status == Status.INFEASIBLE.code and not res.success
    assert np.isclose(res.x[0] + res.x[1], 1.5)  # the least-squares compromise of x1 + x2 = 1 and = 2


def test_inconsistent_nonlinear_equalities_are_infeasible():
    res = numopt.minimize(lambda x: x @ x, np.array([1.0, 2.0, 3.0]), jac=lambda x: 2 * x,
                          hess=lambda x: 2 * np.eye(3),
                          constraints={"type": "eq",
                                       "fun": lambda x: np.array([x[0] ** 2 + x[1] ** 2 - 1,
                                                                  x[0] ** 2 + x[1] ** 2 - 4]),
                                       "jac": lambda x: np.array([[2 * x[0], 2 * x[1], 0],
                                                                  [2 * x[0], 2 * x[1], 0]])})
    assert res.status == Status.INFEASIBLE.code
    assert np.isclose(res.x[0] ** 2 + res.x[1] ** 2, 2.5)


def test_singular_message_gives_the_reason():
    res = numopt.minimize(lambda x: (x[0] - 1) ** 2 + x[1] ** 2, [1.0, 1.0],
                          jac=lambda x: np.array([2 * (x[0] - 1), 2 * x[1]]), hess=lambda x: 2 * np.eye(2),
                          constraints={"type": "eq", "fun": lambda x: np.array([x[0] ** 2, x[0] ** 2]),
                                       "jac": lambda x: np.array([[2 * x[0], 0], [2 * x[0], 0]]),
                                       "hess": lambda x, v: np.diag([2 * (v[0] + v[1]), 0])},
                          options={"maxiter": 200})
    assert res.status == Status.SINGULAR.code
    assert "constraint Jacobian is rank deficient at the iterate" in res.message


def test_maximum_of_the_violation_is_not_called_infeasible():
    # at x0 = 0 the circle constraint has a zero Jacobian: x0 is a local *maximum* of ||c||^2, so the
    # run must leave it along negative curvature and solve, not report INFEASIBLE
    res = numopt.minimize(lambda x: (x[0] - 2) ** 2 + x[1] ** 2, np.zeros(2),
                          jac=lambda x: np.array([2 * (x[0] - 2), 2 * x[1]]), hess=lambda x: 2 * np.eye(2),
                          constraints={"type": "eq", "fun": lambda x: np.array([x @ x - 1]),
                                       "jac": lambda x: 2 * x[None, :], "hess": lambda x, v: 2 * v[0] * np.eye(2)})
    assert res.success and np.allclose(res.x, [1.0, 0.0], atol=1e-7)
