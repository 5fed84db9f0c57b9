"""pytest-benchmark: greedy BCD rules, tree blocks and the L1 estimators against scikit-learn and skglm.

Quality goes to extra_info: iterations and f - f* for the rules, the relative duality gap for the L1 solvers
(by :func:`numopt.bcd.gap.l1_duality_gap`, the same judge for every solver). Every timed solver gets one
warm-up round (Numba and skglm compile outside the timing), 5 timed rounds, one BLAS thread and the same
iteration caps (``MAX_ITER``, also skglm's ``max_epochs``).
"""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import numopt
from numopt.bcd import L1LogisticRegression, Lasso
from numopt.bcd.datasets import dataset
from numopt.bench.suite_bcd import MAX_ITER, relative_gap


@pytest.fixture(autouse=True)
def one_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def lattice():
    p = dataset("D", quick=True, seed=0)
    return p, p.fun(spla.spsolve(p.Q.tocsc(), p.c))


@pytest.mark.parametrize("options", [
    {"rule": "cyclic", "update": "matrix", "block_size": 5},
    {"rule": "gsl", "update": "matrix", "block_size": 5},
    {"rule": "gsq", "update": "matrix", "block_size": 5},
    {"rule": "cyclic", "partition": "comb", "update": "matrix"},
    {"rule": "gsl", "partition": "tree", "update": "matrix", "block_size": 380},
], ids=["cyclic", "gsl", "gsq", "comb", "tree"])
def test_bcd_rules_on_lattice(benchmark, lattice, options):
    p, fstar = lattice
    target = fstar + 1e-8 * abs(fstar)
    opts = {"tol": 0.0, "target": target, "maxiter": 2000, **options}
    res = benchmark.pedantic(numopt.minimize, args=(p,), kwargs={"method": "bcd", "options": opts}, rounds=5,
                             iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(nit=int(res.nit), success=bool(res.success),
                                rel_subopt=(res.fun - fstar) / abs(fstar))


@pytest.fixture(scope="module")
def sparse_regression():
    p = dataset("A", quick=True, seed=0)
    lam = 0.1 * float(np.abs(p.A.T @ p.y).max())
    return p.A.tocsr(), p.y, lam


@pytest.mark.parametrize("solver", ["numopt", "sklearn", "skglm"])
def test_lasso_solvers(benchmark, sparse_regression, solver):
    X, y, lam = sparse_regression
    m = X.shape[0]
    if solver == "numopt":
        make = lambda: Lasso(alpha=lam / m, fit_intercept=False, tol=1e-8, max_iter=MAX_ITER)  # noqa: E731
    elif solver == "sklearn":
        from sklearn.linear_model import Lasso as SkLasso

        make = lambda: SkLasso(alpha=lam / m, fit_intercept=False, tol=1e-8, max_iter=MAX_ITER)  # noqa: E731
    else:
        skglm = pytest.importorskip("skglm")
        make = lambda: skglm.Lasso(alpha=lam / m, fit_intercept=False, tol=1e-8, max_iter=MAX_ITER,  # noqa: E731
                                   max_epochs=MAX_ITER)
    model = benchmark.pedantic(lambda: make().fit(X, y), rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info["relative_gap"] = relative_gap(X, y, np.ravel(model.coef_), lam, "squared")


@pytest.mark.parametrize("solver", ["numopt", "liblinear", "skglm"])
def test_l1_logistic_solvers(benchmark, solver):
    p = dataset("B", quick=True, seed=0)
    X = p.A.tocsr()
    m = X.shape[0]
    lam = 0.05 * float(np.abs(X.T @ p.y).max())
    if solver == "numopt":
        make = lambda: L1LogisticRegression(C=1 / lam, fit_intercept=False, tol=1e-8, max_iter=MAX_ITER)  # noqa: E731
    elif solver == "liblinear":
        from sklearn.linear_model import LogisticRegression

        make = lambda: LogisticRegression(C=1 / lam, l1_ratio=1.0, solver="liblinear", fit_intercept=False,  # noqa: E731
                                          tol=1e-8, max_iter=MAX_ITER)
    else:
        skglm = pytest.importorskip("skglm")
        make = lambda: skglm.SparseLogisticRegression(alpha=lam / m, fit_intercept=False, tol=1e-8,  # noqa: E731
                                                      max_iter=MAX_ITER, max_epochs=MAX_ITER)
    model = benchmark.pedantic(lambda: make().fit(X, p.y), rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info["relative_gap"] = relative_gap(X, p.y, model.coef_, lam, "logistic")
    benchmark.extra_info["nnz"] = int(np.count_nonzero(model.coef_))
