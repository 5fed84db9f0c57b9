"""Lasso and L1LogisticRegression against scikit-learn; datasets A-E."""

import numpy as np
import pytest
import scipy.sparse as sp

from numopt.bcd import L1LogisticRegression, Lasso
from numopt.bcd.datasets import dataset


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

    assert objective(ours.coef_) <= objective(ref.coef_.ravel()) + 1e-8
    np.testing.assert_allclose(ours.coef_, ref.coef_.ravel(), atol=1e-4)
    assert ours.dual_gap_ < 1e-9
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
    with pytest.raises(ValueError, match="exactly two classes"):
        L1LogisticRegression().fit(X, np.arange(80) % 3)
    with pytest.raises(ValueError, match="X contains NaN"):
        Lasso().fit(np.full((3, 2), np.nan), np.ones(3))
    with pytest.raises(ValueError, match="y must have shape"):
        Lasso().fit(X, y[:5])
    with pytest.raises(AttributeError, match="not fitted"):
        Lasso().predict(X)
    with pytest.raises(ValueError, match="Invalid parameter"):
        Lasso().set_params(beta=1)


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
        assert np.all(np.abs(p.Q.sum(axis=1)) >= 0)
    if name == "E":
        assert p.n <= 380
        assert (p.Q != p.Q.T).nnz == 0
