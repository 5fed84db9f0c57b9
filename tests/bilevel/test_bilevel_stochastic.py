"""Stochastic variants on a seeded finite-sum quadratic: convergence in expectation (mean over seeds)."""
import numpy as np
import pytest

from numopt.bilevel import minimize_bilevel
from numopt.bilevel.apps import quadratic_bilevel

CASES = {
    "penalty-stochastic": dict(sigma=1e-2, batch_size=16, inner_steps=5),
    "penalty-single-loop": dict(sigma0=0.1, batch_size=4),
    "f2sa": dict(lr=0.05, batch_size=16, inner_steps=5),
}
ITERS = {"penalty-stochastic": (30, 240), "penalty-single-loop": (250, 2000)}


@pytest.fixture(scope="module")
def noisy():
    return quadratic_bilevel(n=3, m=4, n_samples=100, noise=0.5, seed=0)


def _mean_sq_error(qp, method, maxiter, seeds=range(3)):
    errs = []
    for seed in seeds:
        res = minimize_bilevel(qp.problem, method=method, maxiter=maxiter, seed=seed, **CASES[method])
        assert res.status == 1  # MAXITER: stochastic methods run their budget
        errs.append(np.sum((res.x - qp.x_star) ** 2))
    return float(np.mean(errs))


@pytest.mark.parametrize("method", ["penalty-stochastic", "penalty-single-loop"])
def test_converges_in_expectation(noisy, method):
    start = np.sum((noisy.problem.x0 - noisy.x_star) ** 2)
    short, long = (_mean_sq_error(noisy, method, k) for k in ITERS[method])
    assert long < 0.6 * short
    assert long < 0.01 * start


def test_f2sa_reaches_the_noise_floor(noisy):
    # fixed steps with a growing multiplier: fast progress, then a noise floor (no decaying steps)
    start = np.sum((noisy.problem.x0 - noisy.x_star) ** 2)
    assert _mean_sq_error(noisy, "f2sa", 120) < 0.01 * start


def test_seeds_make_runs_reproducible(noisy):
    a = minimize_bilevel(noisy.problem, method="penalty-single-loop", maxiter=50, seed=3)
    b = minimize_bilevel(noisy.problem, method="penalty-single-loop", maxiter=50, seed=3)
    c = minimize_bilevel(noisy.problem, method="penalty-single-loop", maxiter=50, seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    assert a.nsamples == b.nsamples


def test_single_loop_uses_constant_samples_per_iteration(noisy):
    r1 = minimize_bilevel(noisy.problem, method="penalty-single-loop", maxiter=10, seed=0, batch_size=2)
    r2 = minimize_bilevel(noisy.problem, method="penalty-single-loop", maxiter=20, seed=0, batch_size=2)
    # 6 minibatch gradients of 2 samples per momentum iteration (after the first), plus the start-up estimate
    assert r2.nsamples - r1.nsamples == 10 * 6 * 2
    r3 = minimize_bilevel(noisy.problem, method="penalty-single-loop", maxiter=20, seed=0, batch_size=2,
                          momentum=False)
    assert r3.nsamples - r1.nsamples < 10 * 6 * 2


def test_single_loop_on_deterministic_problem():
    qp = quadratic_bilevel(n=3, m=4, seed=0)
    res = minimize_bilevel(qp.problem, method="penalty-single-loop", sigma=1e-2, sigma0=1e-2, lr_x=10.0,
                           maxiter=2000)
    assert np.linalg.norm(res.x - qp.x_star) < 0.05
    # deterministic oracles: one "sample" per gradient call and per exact Hessian-vector product of g
    # (the curvature estimates; f's products are differences of its gradient, counted in ngrad)
    assert res.nsamples == res.ngrad + res.nhvp_g and res.nhvp_g > 0


def test_trace_records_oracle_calls_and_monitor(noisy):
    res = minimize_bilevel(noisy.problem, method="f2sa", maxiter=20, seed=0, record_every=5,
                           monitor=lambda x, y: {"err": np.linalg.norm(x - noisy.x_star)})
    tr = res.trace
    assert tr["nit"] == [0, 5, 10, 15, 20]
    assert np.all(np.diff(tr["ngrad"]) > 0) and np.all(np.diff(tr["time"]) >= 0)
    assert len(tr["err"]) == 5 and tr["err"][-1] < tr["err"][0]
