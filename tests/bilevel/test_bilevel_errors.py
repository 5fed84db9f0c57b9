"""Bad input: clear errors naming the argument, and statuses for runs that cannot succeed."""
import numpy as np
import pytest

from numopt import Status
from numopt.bilevel import BilevelFunction, BilevelProblem, minimize_bilevel
from numopt.bilevel.apps import quadratic_bilevel


@pytest.fixture(scope="module")
def qp():
    return quadratic_bilevel(n=2, m=3, seed=1)


def _f():
    return BilevelFunction(lambda x, y: 0.5 * np.sum((y - 1.0) ** 2),
                           grad=lambda x, y: (np.zeros_like(x), y - 1.0))


@pytest.mark.parametrize("sigma", [0.0, -1e-3, np.inf, np.nan])
def test_sigma_must_be_positive(qp, sigma):
    for method in ("penalty", "penalty-stochastic", "penalty-single-loop"):
        with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
            minimize_bilevel(qp.problem, method=method, sigma=sigma)


def test_option_errors(qp):
    with pytest.raises(ValueError, match="sigma0=.*must be >= sigma"):
        minimize_bilevel(qp.problem, method="penalty", sigma=0.1, sigma0=0.01)
    with pytest.raises(ValueError, match="Unknown option 'sigm'.*Did you mean 'sigma'"):
        minimize_bilevel(qp.problem, method="penalty", sigm=0.1)
    with pytest.raises(ValueError, match="method='penality' is not valid.*Did you mean 'penalty'"):
        minimize_bilevel(qp.problem, method="penality")
    with pytest.raises(ValueError, match="batch_size must be finite and > 0"):
        minimize_bilevel(qp.problem, method="f2sa", batch_size=0)
    with pytest.raises(TypeError, match="monitor must be callable"):
        minimize_bilevel(qp.problem, method="f2sa", monitor=3)
    with pytest.raises(ValueError, match="needs f, g, x0 and y0"):
        minimize_bilevel(lambda x, y: 0.0, None, np.zeros(1), np.zeros(1))


def test_missing_or_nonconvex_projections():
    g = lambda x, y: 0.5 * np.sum((y - x) ** 2)  # noqa: E731
    with pytest.raises(ValueError, match="proj_y moves the midpoint.*not convex"):
        minimize_bilevel(_f(), g, np.zeros(2), np.ones(2), proj_y=lambda v: v / np.linalg.norm(v))
    with pytest.raises(ValueError, match="proj_x returned None"):
        minimize_bilevel(_f(), g, np.zeros(2), np.ones(2), proj_x=lambda v: None)
    with pytest.raises(TypeError, match="proj_x='simplex': give a set object"):
        minimize_bilevel(_f(), g, np.zeros(2), np.ones(2), proj_x="simplex")


def test_implicit_refuses_constrained_lower_level(qp):
    p = BilevelProblem(qp.problem.f, qp.problem.g, qp.problem.x0, qp.problem.y0, proj_y=(-1.0, 1.0))
    with pytest.raises(ValueError, match="method='implicit' needs an unconstrained"):
        minimize_bilevel(p, method="implicit")


def test_inconsistent_shapes_between_f_and_g():
    f = BilevelFunction(lambda x, y: np.sum(y ** 2) + np.sum(x ** 2), grad=lambda x, y: (2 * x, 2 * y))
    g = BilevelFunction(lambda x, y: np.sum((y[:2] - x) ** 2),
                        grad=lambda x, y: (2 * (x - y[:2]), 2 * (y[:2] - x)))
    with pytest.raises(ValueError, match="x/y shapes of f and g disagree"):
        minimize_bilevel(f, g, np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("method", ["penalty", "penalty-stochastic", "penalty-single-loop", "f2sa", "implicit"])
def test_diverging_lower_level_is_a_status(method):
    # g is unbounded below in y: the lower level has no solution
    g = BilevelFunction(lambda x, y: -0.5 * np.sum(y ** 2) + x @ y, grad=lambda x, y: (y, x - y),
                        hvp=lambda x, y, v: (v, -v), name="g")
    res = minimize_bilevel(_f(), g, np.ones(2), np.array([2.0, -1.0]), method=method, maxiter=200, max_norm=1e6)
    assert not res.success
    assert res.status in (Status.DIVERGED.code, Status.NONFINITE.code)
    assert res.lower_diverged
    assert np.isnan(res.lower_gap)
