"""Closed-form quadratic bilevel problems: solutions and the O(sigma) closeness of the penalty surrogate."""
import numpy as np
import pytest

from numopt.bilevel import minimize_bilevel
from numopt.bilevel.apps import quadratic_bilevel


@pytest.fixture(scope="module")
def qp():
    return quadratic_bilevel(n=3, m=4, seed=0)


def _fd(fun, x, h=1e-6):
    return np.array([(fun(x + h * e) - fun(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def test_closed_forms_are_consistent(qp):
    x = np.array([0.3, -0.7, 1.1])
    np.testing.assert_allclose(qp.hypergradient(x), _fd(qp.hyper_objective, x), atol=1e-6)
    np.testing.assert_allclose(qp.grad_psi_sigma(x, 0.1), _fd(lambda v: qp.psi_sigma(v, 0.1), x), atol=1e-6)
    assert np.linalg.norm(qp.hypergradient(qp.x_star)) < 1e-10


def test_penalty_surrogate_is_order_sigma_close(qp):
    x = np.array([0.3, -0.7, 1.1])
    sigmas = np.logspace(-1, -4, 7)
    value_err = [abs(qp.psi_sigma(x, s) - qp.hyper_objective(x)) for s in sigmas]
    grad_err = [np.linalg.norm(qp.grad_psi_sigma(x, s) - qp.hypergradient(x)) for s in sigmas]
    for err in (value_err, grad_err):
        slope = np.polyfit(np.log(sigmas), np.log(err), 1)[0]
        assert 0.9 < slope < 1.1, slope  # O(sigma), not faster or slower
        assert np.all(np.array(err) / sigmas < 10 * err[-1] / sigmas[-1])


def test_implicit_recovers_closed_form_solution(qp):
    res = minimize_bilevel(qp.problem, method="implicit", tol=1e-9)
    assert res.success
    np.testing.assert_allclose(res.x, qp.x_star, atol=1e-7)
    np.testing.assert_allclose(res.y, qp.y_star(res.x), atol=1e-8)
    assert res.ngev_g > 0 and res.nhvp_g > 0


@pytest.mark.parametrize("sigma", [1e-2, 1e-3])
def test_penalty_solution_within_order_sigma(qp, sigma):
    res = minimize_bilevel(qp.problem, method="penalty", sigma=sigma, maxiter=400)
    assert res.success, res.message
    assert res.stationarity <= 2 * sigma  # reported with an accurate lower minimizer in place of z
    # the minimizer of psi_sigma is O(sigma) away from x*; F at the result is O(sigma) from F*
    assert np.linalg.norm(res.x - qp.x_star) < 5 * sigma
    assert qp.hyper_objective(res.x) - qp.hyper_objective(qp.x_star) < 5 * sigma
    assert 0 <= res.lower_gap < 5 * sigma
    assert np.linalg.norm(res.y - qp.y_star(res.x)) < 5 * sigma


def test_penalty_fixed_step_rule(qp):
    res = minimize_bilevel(qp.problem, method="penalty", sigma=1e-2, lr_x=20.0, maxiter=300)
    assert res.success, res.message
    assert np.linalg.norm(res.x - qp.x_star) < 5e-2


def test_box_constrained_upper_level():
    qb = quadratic_bilevel(n=3, m=4, seed=0, x_box=(-0.5, 0.5))
    assert np.any(np.abs(qb.x_star) == 0.5)  # the box is active
    ref = minimize_bilevel(qb.problem, method="implicit", tol=1e-9)
    np.testing.assert_allclose(ref.x, qb.x_star, atol=1e-6)
    res = minimize_bilevel(qb.problem, method="penalty", sigma=1e-3, maxiter=400)
    assert res.success
    assert np.all(np.abs(res.x) <= 0.5)
    np.testing.assert_allclose(res.x, qb.x_star, atol=5e-3)


def test_constrained_lower_level_against_brute_force():
    # f = (y - 1)^2 / 2 + x^2 / 2, g = (y - x)^2 / 2, y in [0, 0.25]: y*(x) = clip(x, 0, 0.25)
    f = lambda x, y: 0.5 * np.sum((y - 1.0) ** 2) + 0.5 * np.sum(x ** 2)  # noqa: E731
    g = lambda x, y: 0.5 * np.sum((y - x) ** 2)  # noqa: E731
    grid = np.linspace(-1, 2, 30001)
    F = 0.5 * (np.clip(grid, 0, 0.25) - 1) ** 2 + 0.5 * grid ** 2
    x_ref = grid[np.argmin(F)]
    res = minimize_bilevel(f, g, np.array([1.0]), np.array([0.0]), method="penalty", sigma=1e-3,
                           grad_f=lambda x, y: (x, y - 1.0), grad_g=lambda x, y: (x - y, y - x),
                           proj_y=(0.0, 0.25), maxiter=400)
    assert res.success
    assert abs(res.x[0] - x_ref) < 5e-3
    assert 0.0 <= res.y[0] <= 0.25


def test_ball_and_simplex_constraints_on_the_upper_level(qp):
    from numopt.bilevel import Ball, BilevelProblem, Simplex

    for X in (Ball(0.5), Simplex(1.0)):
        p = BilevelProblem(qp.problem.f, qp.problem.g, qp.problem.x0, qp.problem.y0, proj_x=X)
        ref = minimize_bilevel(p, method="implicit", tol=1e-8, maxiter=500)
        res = minimize_bilevel(p, method="penalty", sigma=1e-3, maxiter=400)
        assert np.allclose(X.project(ref.x), ref.x) and np.allclose(X.project(res.x), res.x)
        assert np.linalg.norm(ref.x - qp.x_star) > 0.1  # the constraint is active
        assert np.linalg.norm(res.x - ref.x) < 1e-2
        assert abs(qp.hyper_objective(res.x) - qp.hyper_objective(ref.x)) < 1e-2
