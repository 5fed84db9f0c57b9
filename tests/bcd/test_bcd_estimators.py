"""Lasso and L1LogisticRegression against scikit-learn (solutions and estimator conventions); datasets A-E.

scikit-learn's ``check_estimator`` runs through ``parametrize_with_checks``: Lasso 52 checks and
L1LogisticRegression 55 checks, all passing except one that skips itself:
``check_array_api_input`` (skipped by scikit-learn unless the environment variable
``SCIPY_ARRAY_API=1`` is set; the estimators take NumPy and SciPy sparse input only).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from numopt.bcd import L1LogisticRegression, Lasso
from numopt.bcd.datasets import dataset
from numopt.testing import assert_names_argument


@parametrize_with_checks([Lasso(), L1LogisticRegression()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 15)) * (rng.random((80, 15)) < 0.5)
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(80) + 1.0
    return X, y


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_lasso_agrees_with_sklearn(regression, sparse, fit_intercept):
    from sklearn.linear_model import Lasso as SkLasso

    X, y = regression
    Xf = sp.csr_matrix(X) if sparse else X
    ours = Lasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-12).fit(Xf, y)
    ref = SkLasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-7)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-6)
    if not fit_intercept:
        assert ours.dual_gap_ <= 1e-12 * (y @ y) / 2 + 1e-12


def test_l1_logistic_agrees_with_sklearn_objective(regression):
    from sklearn.linear_model import LogisticRegression

    X, y = regression
    labels = np.where(y > 1.0, "pos", "neg")
    ours = L1LogisticRegression(C=0.5, fit_intercept=False, tol=1e-12).fit(X, labels)
    ref = LogisticRegression(C=0.5, l1_ratio=1.0, solver="liblinear", fit_intercept=False, tol=1e-12,
                             max_iter=100000).fit(X, labels)
    ys = np.where(labels == "pos", 1.0, -1.0)

    def objective(w):
        return np.logaddexp(0, -ys * (X @ w)).sum() + np.abs(w).sum() / 0.5

    assert ours.coef_.shape == ref.coef_.shape == (1, 15)
    assert objective(ours.coef_[0]) <= objective(ref.coef_[0]) + 1e-8
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    assert ours.dual_gap_[0] < 1e-9
    assert set(ours.predict(X)) <= {"pos", "neg"}
    np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0)
    with_b = L1LogisticRegression(C=0.5, tol=1e-10).fit(X, labels)
    assert with_b.score(X, labels) >= ours.score(X, labels) - 0.05


def test_numpy_backend_gives_the_same_estimates(regression):
    X, y = regression
    a = Lasso(alpha=0.05, tol=1e-10).fit(X, y)
    b = Lasso(alpha=0.05, tol=1e-10, backend="numpy").fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)


def test_estimator_errors(regression):
    X, y = regression
    with pytest.raises(ValueError, match="alpha must be finite and > 0"):
        Lasso(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="C must be finite and > 0"):
        L1LogisticRegression(C=0.0).fit(X, y > 0)
    with pytest.raises(ValueError, match="at least two classes"):
        L1LogisticRegression().fit(X, np.zeros(80))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        Lasso().fit(np.full((3, 2), np.nan), np.ones(3))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Lasso().fit(X, y[:5])
    with pytest.raises(NotFittedError, match="not fitted"):
        Lasso().predict(X)
    with pytest.raises(ValueError, match="Invalid parameter"):
        Lasso().set_params(beta=1)
    model = Lasso().fit(X, y)
    with pytest.raises(ValueError, match="15 features"):
        model.predict(X[:, :4])
    assert model.n_features_in_ == 15


@pytest.mark.parametrize("estimator", [Lasso(), L1LogisticRegression()])
def test_fit_on_zero_samples_is_a_clear_error(estimator):
    assert_names_argument(estimator.fit, np.zeros((0, 3)), np.zeros(0), names="X", seen=["0 samples", "(0, 3)"])
    assert_names_argument(estimator.fit, sp.csr_matrix((0, 3)), np.zeros(0), names="X", seen="0 samples")


def test_multiclass_one_vs_rest_matches_sklearn():
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 6))
    labels = np.array(["a", "b", "c"])[np.argmax(X[:, :3] + 0.5 * rng.standard_normal((150, 3)), axis=1)]
    ours = L1LogisticRegression(C=0.3, fit_intercept=False, tol=1e-12).fit(X, labels)
    ref = OneVsRestClassifier(LogisticRegression(C=0.3, l1_ratio=1.0, solver="liblinear", fit_intercept=False,
                                                 tol=1e-12, max_iter=100000)).fit(X, labels)
    refcoef = np.vstack([e.coef_ for e in ref.estimators_])
    assert ours.coef_.shape == (3, 6) and list(ours.classes_) == ["a", "b", "c"]
    np.testing.assert_allclose(ours.coef_, refcoef, atol=1e-4)
    assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.99
    np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0)
    assert ours.decision_function(X).shape == (150, 3)


def test_sparse_input_gives_the_dense_solution(regression):
    X, y = regression
    labels = y > 1.0
    for make in (sp.csr_matrix, sp.csc_matrix):
        a = L1LogisticRegression(C=0.5, tol=1e-10).fit(make(X), labels)
        b = L1LogisticRegression(C=0.5, tol=1e-10).fit(X, labels)
        np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)
        np.testing.assert_allclose(a.decision_function(make(X)), b.decision_function(X), atol=1e-9)


def test_pipeline_cross_validation_and_grid_search(regression):
    from sklearn.linear_model import Lasso as SkLasso
    from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = regression
    folds = KFold(4, shuffle=True, random_state=0)
    ours = cross_val_score(make_pipeline(StandardScaler(), Lasso(alpha=0.05, tol=1e-10)), X, y, cv=folds)
    ref = cross_val_score(make_pipeline(StandardScaler(), SkLasso(alpha=0.05, tol=1e-12, max_iter=100000)), X, y,
                          cv=folds)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert ours.mean() > 0.9
    search = GridSearchCV(Lasso(tol=1e-8), {"alpha": [0.01, 0.1, 3.0]}, cv=folds).fit(X, y)
    assert search.best_params_["alpha"] < 3.0  # alpha = 3 zeroes every coefficient
    grid = GridSearchCV(L1LogisticRegression(), {"C": [1e-3, 1.0]}, cv=folds).fit(X, y > 1.0)
    assert grid.best_params_["C"] == 1.0  # C = 1e-3 predicts one class only


@pytest.mark.parametrize("name", list("ABCDE"))
def test_quick_datasets_have_the_paper_structure(name):
    p = dataset(name, quick=True, seed=0)
    if name in "AB":
        assert p.A.shape == (200, 1000)
        assert 0.1 < p.A.nnz / 200 / 1000 < 0.4  # density 10 log(200) / 200
    if name == "C":
        assert p.C == 10 and set(np.unique(p.y)) <= set(range(10))
    if name == "D":
        assert p.n == 380 and p.grid[0] == (20, 20)
        # Q = (D - W)[U, U]: row sums are the weights (1e5) to labelled lattice neighbours
        shape, nodes = p.grid
        labelled = np.ones(shape[0] * shape[1], bool)
        labelled[nodes] = False
        r, c = np.unravel_index(nodes, shape)
        expected = np.zeros(nodes.size)
        for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            rr, cc = r + dr, c + dc
            inside = (rr >= 0) & (rr < shape[0]) & (cc >= 0) & (cc < shape[1])
            expected[inside] += labelled[np.ravel_multi_index((rr[inside], cc[inside]), shape)]
        np.testing.assert_allclose(np.asarray(p.Q.sum(axis=1)).ravel(), 1e5 * expected)
        assert expected.sum() > 0
    if name == "E":
        assert p.n <= 380
        assert (p.Q != p.Q.T).nnz == 0


def test_ready_input_fits_as_converted_input_and_bad_values_still_name_x(regression):
    # float64 CSC/CSR and arrays with 1-D numeric targets skip scikit-learn's conversion: same estimates
    # as input that is converted (a list, int targets), and bad values still get scikit-learn's messages
    X, y = regression
    labels = (y > 1.0).astype(np.int64)
    for make, target in ((lambda: Lasso(alpha=0.05, tol=1e-10), y),
                         (lambda: L1LogisticRegression(C=0.5, tol=1e-10), labels)):
        converted = make().fit(X.tolist(), target.tolist())
        for Xf in (X, sp.csc_matrix(X), sp.csr_matrix(X)):
            model = make().fit(Xf, target)
            np.testing.assert_allclose(model.coef_, converted.coef_, atol=1e-8)
            assert model.n_features_in_ == X.shape[1] and not hasattr(model, "feature_names_in_")
        bad = sp.csc_matrix(X)
        bad.data[3] = np.inf
        assert_names_argument(make().fit, bad, target, names="X", seen="infinity")
        bad_y = target.astype(float)
        bad_y[0] = np.nan
        assert_names_argument(make().fit, X, bad_y, names="y", seen="NaN")
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        L1LogisticRegression().fit(X, y)
