"""The shared contract of the bcd family: counted evaluations, immutable solvers, LIBSVM problems, the gap."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Lasso as SkLasso

import numopt
from numopt import MissingCapabilityError, Status
from numopt.bcd import BlockCoordinateDescent, least_squares
from numopt.bcd.datasets import dataset, dataset_d
from numopt.bcd.gap import l1_duality_gap
from numopt.problems import libsvm


def _small_l1_logistic(seed=0, lam=0.05):
    rng = np.random.default_rng(seed)
    X = sp.random(120, 15, density=0.4, random_state=seed, format="csr")
    y = np.where(X @ rng.standard_normal(15) + 0.3 * rng.standard_normal(120) > 0, 1.0, -1.0)
    return X, y, libsvm.l1_regularized(libsvm.logistic_regression(X, y), lam=lam)


def test_block_problem_counts_its_evaluations():
    p = least_squares(np.eye(3), np.ones(3), l1=0.1)
    p.reset_counts()
    p.fun(np.zeros(3))
    p.grad(np.zeros(3))
    p.hess_bound_block(np.array([0, 1]))
    assert p.counts() == {"nfev": 1, "njev": 1, "nhev": 1, "nbev": 0}
    res = numopt.minimize(p, method="bcd", options={"rule": "cyclic", "block_size": 1, "maxiter": 50})
    assert res.nbev == 2 * res.nit  # per block step: its gradient read from the data, then the update
    assert res.njev >= 1 and res.nfev >= 1


def test_same_solver_object_twice_is_bitwise_identical():
    p = dataset("B", quick=True)
    solver = BlockCoordinateDescent(rule="random", partition="random", block_size=7, maxiter=300)
    options_before = dict(solver.options)
    first = numopt.run(solver, p, None)
    second = numopt.run(solver, p, None)
    assert np.array_equal(first.x, second.x) and first.fun == second.fun and first.nit == second.nit
    assert dict(solver.options) == options_before
    # default calls (no seed) are reproducible too
    a = numopt.minimize(p, method="bcd", options={"rule": "random", "maxiter": 200})
    b = numopt.minimize(p, method="bcd", options={"rule": "random", "maxiter": 200})
    assert np.array_equal(a.x, b.x)


def test_callback_stop_iteration_gives_callback_status():
    def stop(intermediate_result):
        raise StopIteration

    res = numopt.minimize(dataset("A", quick=True), method="bcd", callback=stop)
    assert res.status == Status.CALLBACK.code and res.nit == 1 and not res.success


def test_libsvm_l1_logistic_runs_under_bcd_and_matches_sklearn_objective():
    X, y, p = _small_l1_logistic()
    res = numopt.minimize(p, method="bcd", options={"rule": "gsl", "block_size": 1, "tol": 1e-10,
                                                    "maxiter": 100000})
    assert res.success
    from sklearn.linear_model import LogisticRegression

    m = X.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear stops at max_iter, its objective already exact to 1e-15
        ref = LogisticRegression(C=1.0 / (p.lam * m), l1_ratio=1.0, solver="liblinear", fit_intercept=False,
                                 tol=1e-8, max_iter=1000).fit(X, y)
    assert res.fun == pytest.approx(p.fun(ref.coef_.ravel()), rel=1e-8)
    assert res.fun == pytest.approx(p.fun(res.x), rel=1e-14)  # reported in the problem's own (mean) scale
    assert l1_duality_gap(X, y, res.x, loss="logistic", lam=p.lam * m) < 1e-7 * m * np.log(2)


def test_libsvm_a9a_l1_logistic_runs_under_bcd():
    try:
        X, y = libsvm.load("a9a", download=False)
    except FileNotFoundError as exc:
        pytest.skip(f"a9a not in the data folder: {exc}")
    p = libsvm.l1_regularized(libsvm.logistic_regression(X, y), lam=0.01)
    res = numopt.minimize(p, method="bcd", options={"rule": "gsl", "block_size": 1, "tol": 1e-6,
                                                    "maxiter": 200000})
    assert res.success
    m = X.shape[0]
    assert l1_duality_gap(X, y, res.x, loss="logistic", lam=p.lam * m) < 1e-5 * m * np.log(2)


def test_libsvm_smooth_least_squares_runs_under_bcd():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6))
    y = rng.standard_normal(40)
    p = libsvm.least_squares(X, y, l2=0.1)
    res = numopt.minimize(p, method="bcd", options={"rule": "gsq", "update": "matrix", "tol": 1e-12,
                                                    "maxiter": 20000})
    w = np.linalg.solve(X.T @ X / 40 + 0.1 * np.eye(6), X.T @ y / 40)
    assert res.success and np.allclose(res.x, w, atol=1e-9)


def test_bcd_refuses_a_problem_without_block_structure():
    with pytest.raises(MissingCapabilityError, match="block-structured problem"):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), method="bcd")


def test_gap_closed_form_on_an_orthogonal_design():
    # X = I: the solution is soft thresholding, the gap at 0 is ||y||^2/2 - D(y / s), s = max|y| / lam
    y = np.array([3.0, -0.5, 1.5])
    lam = 1.0
    w_star = np.sign(y) * np.maximum(np.abs(y) - lam, 0.0)
    assert l1_duality_gap(np.eye(3), y, w_star, loss="squared", lam=lam) == pytest.approx(0.0, abs=1e-15)
    s = np.abs(y).max() / lam
    theta = y / s
    expected = 0.5 * y @ y - (0.5 * y @ y - 0.5 * (y - theta) @ (y - theta))
    assert l1_duality_gap(np.eye(3), y, np.zeros(3), loss="squared", lam=lam) == pytest.approx(expected, rel=1e-14)
    # logistic on X = I with labels y: coordinate j solves log(1 + exp(-w)) + lam |w| -> w = log(1/lam - 1)
    lam = 0.25
    yl = np.array([1.0, -1.0])
    w_log = yl * np.log(1.0 / lam - 1.0)
    assert l1_duality_gap(np.eye(2), yl, w_log, loss="logistic", lam=lam) == pytest.approx(0.0, abs=1e-14)
    # at w = 0: primal 2 log 2, theta = y / 2 / max(1, 0.5 / lam) = y / 4, dual 2 H(1/4)
    H = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    assert l1_duality_gap(np.eye(2), yl, np.zeros(2), loss="logistic", lam=lam) == pytest.approx(
        2 * np.log(2) - 2 * H, rel=1e-14)


def test_gap_matches_sklearn_lasso_solution():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 20))
    y = X[:, :3].sum(axis=1) + 0.1 * rng.standard_normal(50)
    alpha = 0.05
    loose = SkLasso(alpha=alpha, fit_intercept=False, tol=1e-2, max_iter=3).fit(X, y)
    tight = SkLasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100000).fit(X, y)
    gap_loose = l1_duality_gap(X, y, loose.coef_, loss="squared", lam=alpha * 50)
    gap_tight = l1_duality_gap(X, y, tight.coef_, loss="squared", lam=alpha * 50)
    assert gap_tight < 1e-9 < gap_loose


def test_gap_names_bad_arguments():
    from numopt.testing import assert_names_argument

    eye, ones = np.eye(2), np.ones(2)
    assert_names_argument(l1_duality_gap, eye, ones, np.zeros(2), loss="hinge", lam=1, names="loss", seen="hinge")
    assert_names_argument(l1_duality_gap, eye, ones, np.zeros(3), loss="squared", lam=1.0, names="w", seen="(3,)")
    assert_names_argument(l1_duality_gap, eye, ones, np.zeros(2), loss="squared", lam=0.0, names="lam")


def test_readme_example_2_succeeds_as_written():
    res = numopt.minimize(dataset("D"), method="bcd", options={"rule": "gsl", "partition": "comb"})
    assert res.success and res.block_update == "matrix"
    # the solution of the label-propagation system Q x = c
    p = dataset("D")
    x_star = sp.linalg.spsolve(p.Q.tocsc(), p.c)
    assert np.abs(res.x - x_star).max() < 1e-6 * np.abs(x_star).max()


def test_lipschitz_update_on_comb_blocks_is_slow_on_the_lattice():
    # the reason behind update='auto': a Lipschitz step on a comb block of data set D is a gradient step
    res = numopt.minimize(dataset_d(20, 20, 20), method="bcd",
                          options={"rule": "gsl", "partition": "comb", "update": "lipschitz", "maxiter": 300})
    assert res.status == Status.MAXITER.code


def test_deprecated_dataset_module_still_works_and_warns():
    from numopt.problems import bcd_datasets

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build = bcd_datasets.dataset
    assert build is dataset and any(issubclass(w.category, DeprecationWarning) for w in caught)


def test_problems_layer_does_not_import_solver_families():
    import ast
    import pathlib

    import numopt.problems

    families = {"bcd", "bilevel", "causal", "completion", "constrained", "decentralized", "tuning"}
    folder = pathlib.Path(numopt.problems.__file__).parent
    for path in (folder / "libsvm.py", folder / "bcd_datasets.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in families, (path.name, node.module)


def _sklearn_l1_solution(X, y, loss, lam, liblinear_tol):
    """scikit-learn's minimizer of loss + lam ||w||_1 (summed loss, no intercept): Lasso or liblinear."""
    from sklearn.linear_model import Lasso as SkLasso
    from sklearn.linear_model import LogisticRegression

    if loss == "squared":
        return SkLasso(alpha=lam / X.shape[0], fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, y).coef_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear stops at max_iter, its objective already exact to 1e-15
        return LogisticRegression(C=1 / lam, l1_ratio=1.0, solver="liblinear", fit_intercept=False,
                                  tol=liblinear_tol, max_iter=1000).fit(X, y).coef_.ravel()


@pytest.mark.parametrize("inner", ["prox-newton", "cd"])
@pytest.mark.parametrize("loss", ["logistic", "squared"])
def test_epoch_solver_inner_paths_match_sklearn(inner, loss):
    from numopt.bcd import GLMProblem
    from numopt.bcd.datasets import synthetic_sparse
    from numopt.bcd.epochs import ProxCoordinateEpochs

    X, y = synthetic_sparse(300, 80, 4000, loss=loss, n_informative=8, seed=1)
    lam = 0.05 * float(np.abs(X.T @ y).max())
    p = GLMProblem(X, y, loss, l1=lam)
    res = numopt.run(ProxCoordinateEpochs(inner=inner, tol=1e-12, maxiter=1000), p, None)
    assert res.success
    ref = _sklearn_l1_solution(X, y, loss, lam, liblinear_tol=1e-8)
    assert res.fun == pytest.approx(p.fun(ref), rel=1e-8)
    assert l1_duality_gap(X, y, res.x, loss=loss, lam=lam) <= 1e-10 * p.fun(np.zeros(p.n))


def test_synthetic_sparse_is_seeded_and_sized():
    from numopt.bcd.datasets import synthetic_sparse

    X1, y1 = synthetic_sparse(500, 400, 600, n_informative=3, seed=7)
    X2, y2 = synthetic_sparse(500, 400, 600, n_informative=3, seed=7)
    assert (X1 != X2).nnz == 0 and np.array_equal(y1, y2)
    assert X1.shape == (500, 400) and 590 < X1.nnz <= 600  # duplicates of a position are summed
    X3, _ = synthetic_sparse(500, 400, 600, n_informative=3, seed=8)
    assert (X1 != X3).nnz > 0


@pytest.mark.parametrize("dense_models", [False, True])
@pytest.mark.parametrize("subproblem_tol", [0.0, 0.1, "auto"])
@pytest.mark.parametrize("loss", ["logistic", "squared"])
def test_epoch_solver_working_set_stops_and_newton_blocks_match_sklearn(subproblem_tol, loss, dense_models):
    from numopt.bcd import GLMProblem
    from numopt.bcd.datasets import synthetic_sparse
    from numopt.bcd.epochs import ProxCoordinateEpochs

    X, y = synthetic_sparse(1500, 400, 30000, loss=loss, n_informative=25, seed=3)
    lam = 0.02 * float(np.abs(X.T @ y).max())
    p = GLMProblem(X, y, loss, l1=lam)
    # dense_models: least-squares working sets solved on their Gram matrix (Newton steps inside), and
    # prox-Newton models of up to 400 variables on their Hessian; otherwise coordinate passes on the columns
    size = 400 if dense_models else 0
    solver = ProxCoordinateEpochs(subproblem_tol=subproblem_tol, tol=1e-13, maxiter=1000, gram_max_size=size,
                                  newton_gram_size=size)
    res = numopt.run(solver, p, None)
    # the support Newton steps (Hessian blocks) ran, unless the dense models converged without them
    assert res.success and (dense_models or res.n_newton > 0)
    ref = _sklearn_l1_solution(X, y, loss, lam, liblinear_tol=1e-10)
    assert res.fun == pytest.approx(p.fun(ref), rel=1e-8)
    assert res.fun == pytest.approx(p.fun(res.x), rel=1e-12)  # the objective reported from the state is exact
    assert l1_duality_gap(X, y, res.x, loss=loss, lam=lam) <= 1e-11 * p.fun(np.zeros(p.n))


@pytest.mark.parametrize("anderson", [0, 3, 5])
def test_prox_newton_passes_with_anderson_match_sklearn(anderson):
    from numopt.bcd import GLMProblem
    from numopt.bcd.datasets import synthetic_sparse
    from numopt.bcd.epochs import ProxCoordinateEpochs

    X, y = synthetic_sparse(1500, 400, 30000, loss="logistic", n_informative=25, seed=5)
    lam = 0.02 * float(np.abs(X.T @ y).max())
    p = GLMProblem(X, y, "logistic", l1=lam)
    # every model solved by coordinate passes on the columns (no dense Hessian), no support Newton steps
    solver = ProxCoordinateEpochs(tol=1e-13, maxiter=1000, newton_gram_size=0, active_set=False, anderson=anderson)
    res = numopt.run(solver, p, None)
    assert res.success and res.n_newton == 0 and res.n_nonzero > 32
    ref = _sklearn_l1_solution(X, y, "logistic", lam, liblinear_tol=1e-10)
    assert res.fun == pytest.approx(p.fun(ref), rel=1e-8)
    assert l1_duality_gap(X, y, res.x, loss="logistic", lam=lam) <= 1e-11 * p.fun(np.zeros(p.n))
