"""pytest-benchmark: exact vs robust alternating minimization, and the plain NumPy ALS baseline.

Quality goes to extra_info: sweeps, relative recovery error, success, inner CG iterations.
"""

import numpy as np
import pytest

from numopt.bench.suite_completion import numpy_als
from numopt.completion import complete, relative_error
from numopt.problems.completion_data import synthetic_completion


@pytest.fixture(scope="module")
def problem():
    d = synthetic_completion(800, 800, 8, factor=3.0, seed=0)
    complete(d.rows, d.cols, d.values, d.shape, 8, "exact", seed=0, maxiter=1)  # compile
    complete(d.rows, d.cols, d.values, d.shape, 8, "robust", seed=0, maxiter=1)
    return d


@pytest.mark.parametrize("method", ["exact", "robust"])
def test_completion_recovery(benchmark, problem, method):
    d = problem
    res = benchmark.pedantic(complete, args=(d.rows, d.cols, d.values, d.shape, 8, method),
                             kwargs={"seed": 0, "tol": 1e-11}, rounds=2, iterations=1)
    benchmark.extra_info.update(sweeps=int(res.nit), success=bool(res.success),
                                error=relative_error(res.U, res.V, d.U_true, d.V_true),
                                inner_per_solve=float(res.mean_inner_iterations))
    assert res.success


def test_numpy_als_baseline(benchmark, problem):
    d = problem
    U, V, sweeps = benchmark.pedantic(numpy_als, args=((d.rows, d.cols, d.values), d.shape, 8, 1e-9),
                                      kwargs={"ftol": 1e-14, "maxiter": 30}, rounds=1, iterations=1)
    benchmark.extra_info.update(sweeps=int(sweeps), error=relative_error(U, V, d.U_true, d.V_true))
    assert np.isfinite(U).all()
