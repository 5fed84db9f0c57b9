"""pytest-benchmark: AdaSketch-Newton and the sketching solvers on small problems; quality in extra_info."""

import numpy as np
import pytest
import scipy.sparse as sp

import numopt
from numopt.linalg import sketch_solve
from numopt.problems.constrained_logistic import constrained_logistic
from numopt.problems.pde_control import pde_control


@pytest.fixture(scope="module")
def logistic():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 20))
    y = np.sign(X @ rng.standard_normal(20) + 0.5 * rng.standard_normal(400))
    return constrained_logistic(X, y, seed=0)


@pytest.mark.parametrize("inner", ["sketch", "exact"])
def test_logistic(benchmark, logistic, inner):
    res = benchmark.pedantic(numopt.minimize, args=(logistic,),
                             kwargs={"method": "adasketch-newton", "options": {"inner": inner, "seed": 0}},
                             rounds=3, iterations=1)
    benchmark.extra_info.update(nit=res.nit, n_inner=res.n_inner, kkt=res.kkt, success=res.success)
    assert res.success


def test_pde_control_n32(benchmark):
    problem = pde_control(32)
    res = benchmark.pedantic(numopt.minimize, args=(problem,),
                             kwargs={"method": "adasketch-newton", "options": {"inner": "exact"}},
                             rounds=3, iterations=1)
    benchmark.extra_info.update(nit=res.nit, kkt=res.kkt, n=problem.n)
    assert res.success


@pytest.mark.parametrize("sketch", ["rk", "block-kaczmarz", "gaussian", "countsketch", "sparse-sign"])
def test_sketch_solvers(benchmark, sketch):
    rng = np.random.default_rng(1)
    n = 300
    A = sp.random(n, n, density=0.02, random_state=rng, format="csr") + 5 * sp.identity(n, format="csr")
    b = A @ rng.standard_normal(n)
    res = benchmark.pedantic(sketch_solve, args=(sp.csr_matrix(A), b),
                             kwargs={"sketch": sketch, "rtol": 1e-6, "seed": 0, "block_size": 20,
                                     "maxiter": 20_000},
                             rounds=3, iterations=1)
    benchmark.extra_info.update(nit=res.nit, residual=res.residual / np.linalg.norm(b), success=res.success)
    assert res.success
