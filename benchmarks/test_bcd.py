"""pytest-benchmark: greedy BCD rules, tree blocks and the L1 estimators against scikit-learn and skglm.

Quality goes to extra_info: iterations and f - f* for the rules, the relative duality gap for the L1 solvers.
"""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import numopt
from numopt.bcd import L1LogisticRegression, Lasso
from numopt.bcd.datasets import dataset
from numopt.bench.suite_bcd import relative_gap


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
    res = benchmark.pedantic(numopt.minimize, args=(p,), kwargs={"method": "bcd", "options": opts}, rounds=2,
                             iterations=1)
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
        make = lambda: Lasso(alpha=lam / m, fit_intercept=False, tol=1e-8)  # noqa: E731
    elif solver == "sklearn":
        from sklearn.linear_model import Lasso as SkLasso

        make = lambda: SkLasso(alpha=lam / m, fit_intercept=False, tol=1e-8, max_iter=100000)  # noqa: E731
    else:
        skglm = pytest.importorskip("skglm")
        make = lambda: skglm.Lasso(alpha=lam / m, fit_intercept=False, tol=1e-8)  # noqa: E731
    model = benchmark.pedantic(lambda: make().fit(X, y), rounds=3, iterations=1)
    benchmark.extra_info["relative_gap"] = relative_gap(X, y, np.ravel(model.coef_), lam, "squared")


def test_l1_logistic_numopt(benchmark):
    p = dataset("B", quick=True, seed=0)
    X = p.A.tocsr()
    lam = 0.05 * float(np.abs(X.T @ p.y).max())
    model = benchmark.pedantic(lambda: L1LogisticRegression(C=1 / lam, fit_intercept=False, tol=1e-8).fit(X, p.y),
                               rounds=2, iterations=1)
    benchmark.extra_info["relative_gap"] = relative_gap(X, p.y, model.coef_, lam, "logistic")
    benchmark.extra_info["nnz"] = int(np.count_nonzero(model.coef_))
