"""pytest-benchmark: penalty methods vs implicit differentiation and F2SA on small bilevel problems.

Quality goes to extra_info: distance to the closed-form solution on the quadratic problem; validation
loss and test accuracy on hyper-cleaning.
"""

import numpy as np
import pytest

from numopt.bilevel import minimize_bilevel
from numopt.bilevel.apps import hyper_cleaning_task, quadratic_bilevel

QUAD = {
    "penalty": dict(sigma=1e-3),
    "implicit": dict(),
}
NOISY = {
    "penalty-stochastic": dict(sigma=1e-2, batch_size=16, inner_steps=5, maxiter=200),
    "penalty-single-loop": dict(sigma0=0.1, batch_size=4, maxiter=2000),
    "f2sa": dict(lr=0.05, batch_size=16, inner_steps=5, maxiter=120),
}
CLEAN = {
    "penalty": dict(sigma=1e-2, sigma0=1e-2, lr_x=2e4, inner_steps=20, maxiter=20),
    "penalty-stochastic": dict(sigma=1e-2, sigma0=1e-2, batch_size=64, lr_x=2e4, inner_steps=10,
                               step_power=0.0, maxiter=150),
    "penalty-single-loop": dict(sigma=1e-2, sigma0=1e-2, batch_size=32, lr_x=2e4, k0=1000.0, maxiter=1500),
    "implicit": dict(maxiter=8),
    "f2sa": dict(maxiter=150),
}


@pytest.fixture(scope="module")
def quad():
    return quadratic_bilevel(n=5, m=8, seed=0)


@pytest.fixture(scope="module")
def noisy():
    return quadratic_bilevel(n=5, m=8, n_samples=200, noise=0.5, seed=0)


@pytest.fixture(scope="module")
def cleaning():
    return hyper_cleaning_task(n_train=300, n_val=200, seed=0)


def _record(benchmark, res, **quality):
    benchmark.extra_info.update(nit=int(res.nit), ngrad=int(res.ngrad), nsamples=int(res.nsamples),
                                success=bool(res.success), stationarity=float(res.stationarity),
                                lower_gap=float(res.lower_gap), **quality)


@pytest.mark.parametrize("method", list(QUAD))
def test_quadratic_deterministic(benchmark, quad, method):
    res = benchmark.pedantic(minimize_bilevel, args=(quad.problem,), kwargs=dict(method=method, **QUAD[method]),
                             rounds=2, iterations=1)
    _record(benchmark, res, dist_to_solution=float(np.linalg.norm(res.x - quad.x_star)))
    assert np.linalg.norm(res.x - quad.x_star) < 1e-2


@pytest.mark.parametrize("method", list(NOISY))
def test_quadratic_stochastic(benchmark, noisy, method):
    res = benchmark.pedantic(minimize_bilevel, args=(noisy.problem,),
                             kwargs=dict(method=method, seed=0, **NOISY[method]), rounds=2, iterations=1)
    dist = float(np.linalg.norm(res.x - noisy.x_star))
    _record(benchmark, res, dist_to_solution=dist)
    assert dist < 0.2 * np.linalg.norm(noisy.problem.x0 - noisy.x_star)


@pytest.mark.parametrize("method", list(CLEAN))
def test_hyper_cleaning(benchmark, cleaning, method):
    res = benchmark.pedantic(minimize_bilevel, args=(cleaning.problem,),
                             kwargs=dict(method=method, seed=0, **CLEAN[method]), rounds=1, iterations=1)
    ev = cleaning.evaluate(res.x, res.y)
    _record(benchmark, res, val_loss=ev["val_loss"], test_accuracy=ev["test_accuracy"],
            flagged_f1=ev["flagged_f1"])
    assert np.isfinite(ev["val_loss"])
