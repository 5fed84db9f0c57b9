"""svmlight reader, LIBSVM registry and the problems built on the data."""

import gzip
import os

import numpy as np
import pytest
import scipy.sparse as sp

from numopt.oracles import finite_difference_jacobian
from numopt.problems import datasets, libsvm

SHARED = os.environ.get("NUMOPT_DATA", "")
_LIBSVM = os.path.join(SHARED, "libsvm")
have_data = pytest.mark.skipif(not (SHARED and os.path.isdir(_LIBSVM) and os.listdir(_LIBSVM)),
                               reason="needs NUMOPT_DATA with the LIBSVM files (../shared/data)")


@have_data
@pytest.mark.parametrize("name", sorted(libsvm.DATASETS))
def test_every_registered_dataset_has_its_shape(name):
    X, y = libsvm.load(name)
    meta = libsvm.DATASETS[name]
    assert X.shape == (meta.n_samples, meta.n_features)
    assert sp.isspmatrix_csr(X) and X.dtype == np.float64 and y.dtype == np.float64
    assert set(np.unique(y)) == {-1.0, 1.0}


@have_data
def test_label_mapping_keeps_counts():
    _, y = libsvm.load("mushrooms")  # labels 1 (3916) and 2 (4208)
    assert (y == -1).sum() == 3916 and (y == 1).sum() == 4208
    _, y = libsvm.load("phishing")  # labels 0 (4898) and 1 (6157)
    assert (y == -1).sum() == 4898


def test_reader_handles_comments_qid_blank_and_empty_rows(tmp_path):
    path = tmp_path / "small.svm.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("# header comment\n+1 qid:3 1:0.5 4:-2 # trailing\n\n-1\n2 2:1e-3\n")
    X, y = libsvm.read_svmlight(path)
    np.testing.assert_array_equal(y, [1.0, -1.0, 2.0])
    np.testing.assert_allclose(X.toarray(), [[0.5, 0, 0, -2], [0, 0, 0, 0], [0, 1e-3, 0, 0]])
    assert libsvm.read_svmlight(path, n_features=6)[0].shape == (3, 6)
    with pytest.raises(ValueError, match="uses feature index 4, but n_features=3"):
        libsvm.read_svmlight(path, n_features=3)


@pytest.mark.parametrize("bad", ["1 2:abc", "1 3", "x 1:1", "1 0:1", "1 2:nan"])
def test_malformed_line_reports_file_and_line(tmp_path, bad):
    path = tmp_path / "broken.svm"
    path.write_text(f"1 1:1\n-1 2:0.5\n{bad}\n")
    with pytest.raises(ValueError, match=r"broken\.svm: line 3 is not valid svmlight"):
        libsvm.read_svmlight(path)


def test_missing_file_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"Put the file at {tmp_path}/libsvm/a9a .*a9a.gz"):
        libsvm.load("a9a", data_home=tmp_path, download=False)


def test_failed_download_says_where_to_put_it(tmp_path, monkeypatch):
    def offline(url, timeout=60.0):
        raise datasets.DownloadError(f"could not download {url}: no network")

    monkeypatch.setattr(datasets, "read_url", offline)
    with pytest.raises(FileNotFoundError, match="download failed.*https://www.csie.ntu.edu.tw/"):
        libsvm.load("heart_scale", data_home=tmp_path)


def test_files_in_root_or_libsvm_folder_and_shape_check(tmp_path):
    (tmp_path / "heart_scale").write_text("+1 1:1\n-1 13:1\n")
    with pytest.raises(ValueError, match="2 x 13 data set; 'heart_scale' should be 270 x 13"):
        libsvm.load("heart_scale", data_home=tmp_path)


def test_unknown_dataset_lists_close_matches():
    with pytest.raises(ValueError, match="Unknown LIBSVM data set 'a9b'. Close matches: a9a"):
        libsvm.load("a9b")


def random_data(sparse, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 5)) * (rng.random((30, 5)) < 0.6)
    y = np.where(rng.random(30) < 0.5, -1.0, 1.0)
    return (sp.csr_matrix(X) if sparse else X), y


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("builder", [libsvm.logistic_regression, libsvm.least_squares])
def test_builders_derivatives(builder, sparse):
    X, y = random_data(sparse)
    p = builder(X, y, l2=0.3)
    f = p.objective
    w = np.random.default_rng(1).standard_normal(5)
    g_fd, _ = finite_difference_jacobian(f.fun, w, scheme="3-point")
    np.testing.assert_allclose(f.grad(w), g_fd, rtol=1e-7, atol=1e-8)
    H = f.hess(w)
    assert sp.issparse(H) == sparse
    H_fd, _ = finite_difference_jacobian(f.grad, w, scheme="3-point")
    np.testing.assert_allclose(np.asarray(H.toarray() if sparse else H), H_fd, rtol=1e-6, atol=1e-7)
    v = np.arange(5.0)
    np.testing.assert_allclose(f.hessp(w, v), H @ v, atol=1e-12)
    Xd = X.toarray() if sparse else X
    curvature = 0.25 if builder is libsvm.logistic_regression else 1.0
    np.testing.assert_allclose(p.coordinate_lipschitz(), curvature * (Xd**2).sum(0) / 30 + 0.3)
    assert p.lipschitz() == pytest.approx(curvature * np.linalg.norm(Xd, 2) ** 2 / 30 + 0.3, rel=1e-6)


def test_logistic_is_stable_for_huge_margins():
    X = np.array([[1.0], [-1.0]])
    p = libsvm.logistic_regression(X, np.array([1.0, 1.0]))
    w = np.array([1000.0])  # margins +1000 and -1000
    assert p.objective.fun(w) == pytest.approx(500.0)
    np.testing.assert_allclose(p.objective.grad(w), [0.5])
    assert np.all(np.isfinite(p.objective.hess(w)))


def test_logistic_optimum_agrees_with_scikit_learn():
    LogisticRegression = pytest.importorskip("sklearn.linear_model").LogisticRegression
    from scipy.optimize import minimize

    X, y = random_data(False, seed=2)
    l2 = 0.1
    p = libsvm.logistic_regression(X, y, l2=l2)
    res = minimize(p.objective.fun, np.zeros(5), jac=p.objective.grad, hess=p.objective.hess,
                   method="trust-exact", options={"gtol": 1e-10})
    ref = LogisticRegression(C=1.0 / (l2 * len(y)), fit_intercept=False, tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(res.x, ref.coef_.ravel(), rtol=1e-5, atol=1e-6)


def test_l1_problem_matches_scikit_learn_lasso():
    Lasso = pytest.importorskip("sklearn.linear_model").Lasso
    X, y = random_data(False, seed=3)
    y = X @ np.array([1.0, 0, -2.0, 0, 0]) + 0.01 * y
    prob = libsvm.l1_regularized(libsvm.least_squares(X, y), lam=0.05)
    w = Lasso(alpha=0.05, fit_intercept=False, tol=1e-12, max_iter=100000).fit(X, y).coef_
    assert prob.optimality(w) < 1e-8
    assert prob.optimality(np.zeros(5)) > 0.1
    assert prob.fun(w) == pytest.approx(prob.smooth.objective.fun(w) + 0.05 * np.abs(w).sum())
    big = libsvm.l1_regularized(prob.smooth, lam=prob.lam_max())
    assert big.optimality(np.zeros(5)) == 0.0


def test_l1_problem_is_a_counted_problem_that_bcd_solves():
    import numopt
    from numopt.oracles import Problem

    Lasso = pytest.importorskip("sklearn.linear_model").Lasso
    X, y = random_data(False, seed=3)
    prob = libsvm.l1_regularized(libsvm.least_squares(X, y), lam=0.05)
    assert isinstance(prob, Problem) and {"fun", "prox", "glm"} <= prob.capabilities
    prob.reset_counts()
    prob.fun(np.zeros(5))
    prob.optimality(np.zeros(5))
    assert prob.counts()["nfev"] == 1 and prob.counts()["njev"] == 1
    res = numopt.minimize(prob, method="bcd", options={"rule": "gsl", "block_size": 1, "tol": 1e-12,
                                                       "maxiter": 100000})
    w = Lasso(alpha=0.05, fit_intercept=False, tol=1e-14, max_iter=100000).fit(X, y).coef_
    assert res.success and res.fun == pytest.approx(prob.fun(w), rel=1e-10)
    assert prob.optimality(res.x) < 1e-8


@pytest.mark.parametrize("call, exc, match", [
    (lambda: libsvm.logistic_regression(np.ones((3, 2)), np.array([0.0, 1.0, 1.0])), ValueError,
     "labels in {-1, \\+1}"),
    (lambda: libsvm.least_squares(np.ones((3, 2)), np.ones(4)), ValueError, "y has 4 entries but X has 3 rows"),
    (lambda: libsvm.least_squares(np.ones((3, 2)), np.ones(3), l2=-1.0), ValueError, "l2 must be finite and >= 0"),
    (lambda: libsvm.least_squares(np.full((3, 2), np.nan), np.ones(3)), ValueError, "X contains NaN"),
    (lambda: libsvm.l1_regularized(None, 0.1), TypeError, "smooth must be an UnconstrainedProblem"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
