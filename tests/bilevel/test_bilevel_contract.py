"""The shared contracts on the bilevel family: oracle layer, result fields, stateless solvers, callbacks."""
import warnings

import numpy as np
import pytest

from numopt import Status, run
from numopt.bilevel import (
    F2SA,
    BilevelFunction,
    ImplicitDifferentiation,
    PenaltyMethod,
    PenaltySingleLoop,
    PenaltyStochastic,
)
from numopt.bilevel.apps import quadratic_bilevel
from numopt.oracles import Problem, finite_difference_gradient

SOLVERS = {
    PenaltyMethod: dict(sigma=1e-3, maxiter=300),
    PenaltyStochastic: dict(sigma=1e-2, maxiter=60, seed=1, batch_size=16, inner_steps=5),
    PenaltySingleLoop: dict(sigma0=0.1, maxiter=300, seed=1, batch_size=4),
    ImplicitDifferentiation: dict(maxiter=200),
    F2SA: dict(lr=0.05, maxiter=60, seed=1, batch_size=16, inner_steps=5),
}
STOCHASTIC = (PenaltyStochastic, PenaltySingleLoop, F2SA)


@pytest.fixture(scope="module")
def problems():
    return {"deterministic": quadratic_bilevel(n=3, m=4, seed=0),
            "stochastic": quadratic_bilevel(n=3, m=4, n_samples=100, noise=0.5, seed=0)}


def _qp(problems, cls):
    return problems["stochastic" if cls in STOCHASTIC else "deterministic"]


@pytest.mark.parametrize("cls", list(SOLVERS), ids=lambda c: c.name)
def test_result_contract_and_known_answer(problems, cls):
    qp = _qp(problems, cls)
    res = run(cls(**SOLVERS[cls]), qp.problem, qp.problem.x0)
    for field in ("x", "success", "status", "message", "nit", "time", "ngrad", "noracle", "nsamples"):
        assert field in res, field
    assert isinstance(res.status, int) and res.nit > 0 and res.ngrad > 0
    start = np.linalg.norm(qp.problem.x0 - qp.x_star)
    # deterministic solvers reach the closed-form solution; stochastic ones close most of the gap
    bound = 0.05 * start if cls not in STOCHASTIC else 0.5 * start
    assert np.linalg.norm(res.x - qp.x_star) < bound


@pytest.mark.parametrize("cls", list(SOLVERS), ids=lambda c: c.name)
def test_same_solver_object_twice_is_bitwise_identical(problems, cls):
    qp = _qp(problems, cls)
    solver = cls(**SOLVERS[cls])
    options = dict(solver.options)
    first = run(solver, qp.problem, qp.problem.x0)
    second = run(solver, qp.problem, qp.problem.x0)
    assert np.array_equal(first.x, second.x) and np.array_equal(first.y, second.y)
    assert first.nit == second.nit and first.status == second.status
    assert dict(solver.options) == options  # options are never rewritten


@pytest.mark.parametrize("cls", list(SOLVERS), ids=lambda c: c.name)
def test_stop_iteration_from_callback_is_callback_status(problems, cls):
    qp = _qp(problems, cls)
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result.nit)
        if len(seen) == 2:
            raise StopIteration

    res = run(cls(**SOLVERS[cls]), qp.problem, qp.problem.x0, callback=callback)
    assert res.status == Status.CALLBACK.code and not res.success and res.nit == 2


def test_penalty_tol_default_follows_sigma_without_rewriting_options():
    solver = PenaltyMethod(sigma=1e-3)
    assert solver.options["tol"] is None and solver.tol == 1e-3
    assert PenaltyMethod(sigma=1e-3, tol=1e-4).tol == 1e-4


def test_bilevel_function_is_an_oracle_problem_with_shared_counting():
    f = BilevelFunction(lambda x, y: float(x @ x + y @ y), grad="finite-difference")
    assert isinstance(f, Problem) and f.count_names == ("nfev", "ngev", "nhvp", "nsamp")
    x, y = np.array([1.0, -2.0]), np.array([0.5])
    gx, gy = f.grad(x, y)
    # the same numbers as the shared central-difference helper on the stacked variables
    want, nev = finite_difference_gradient(lambda w: float(w @ w), np.concatenate([x, y]), scheme="3-point")
    assert np.array_equal(np.concatenate([gx, gy]), want)
    assert f.counts() == {"nfev": nev, "ngev": 1, "nhvp": 0, "nsamp": 1}
    f.reset_counts()
    assert f.counts() == {"nfev": 0, "ngev": 0, "nhvp": 0, "nsamp": 0}


def test_jax_level_leaves_the_global_x64_flag_alone():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    before = jax.config.jax_enable_x64
    f = BilevelFunction(lambda x, y: jnp.sum(x * y) + 0.5 * jnp.sum(y ** 2))
    x, y = np.array([0.1, 0.2]), np.array([1.0 / 3.0, 2.0])
    gx, gy = f.grad(x, y)
    assert jax.config.jax_enable_x64 == before
    np.testing.assert_allclose(gx, y, rtol=1e-15)  # float64 accuracy, not float32's 1e-7
    np.testing.assert_allclose(gy, x + y, rtol=1e-15)


def test_old_problems_path_is_a_deprecated_alias():
    import numopt.bilevel.apps as apps
    import numopt.problems.bilevel_apps as old

    with pytest.warns(DeprecationWarning, match="numopt.bilevel.apps"):
        builder = old.quadratic_bilevel
    assert builder is apps.quadratic_bilevel
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError):
            old.not_a_builder  # noqa: B018
