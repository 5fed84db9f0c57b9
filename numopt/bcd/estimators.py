"""scikit-learn estimators: L1 least squares (Lasso) and L1 logistic regression.

Both solve their problem with :class:`numopt.bcd.epochs.ProxCoordinateEpochs`
(cyclic proximal coordinate passes in Numba, duality-gap stopping, Newton
steps on the identified support) and are scikit-learn estimators
(``BaseEstimator`` with ``RegressorMixin`` or ``ClassifierMixin``): they pass
``check_estimator``, take dense or sparse (CSR/CSC) input, and work in
pipelines, ``cross_val_score`` and ``GridSearchCV``. The objectives are scaled
as in scikit-learn:

* ``Lasso``: ``1/(2 m) ||y - X w - b||^2 + alpha ||w||_1``;
* ``L1LogisticRegression``: ``sum_i log(1 + exp(-y_i (x_i^T w + b))) + ||w||_1 / C``,
  one binary problem per class against the rest when there are more than two
  classes (one-vs-rest).

The intercept, when fitted, is an unpenalized variable (a column of ones).
Then the duality gap is undefined and the stopping test uses the
minimum-norm subgradient instead; with ``fit_intercept=False`` it is the
duality gap relative to the objective at zero.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._core.driver import run
from .._core.validate import check_choice, check_positive
from .epochs import ProxCoordinateEpochs
from .problems import GLMProblem

__all__ = ["L1LogisticRegression", "Lasso"]


def _design(X, fit_intercept):
    if fit_intercept:
        ones = np.ones((X.shape[0], 1))
        X = sp.hstack([X, sp.csc_matrix(ones)], format="csc") if sp.issparse(X) else np.hstack([X, ones])
    elif sp.issparse(X) and X.format != "csc":
        X = sp.csc_matrix(X)
    return X


def _ready(X, y):
    """Whether ``X`` (float64 CSR/CSC or 2-D array) and ``y`` (1-D numbers) are valid as given, finite included.

    Such input needs no conversion, so one pass over the values replaces scikit-learn's validation
    (whose checks of the array types cost as much as a small fit); anything else, invalid input
    included, goes through ``validate_data`` and its messages.
    """
    if sp.issparse(X):
        if X.format not in ("csr", "csc") or X.dtype != np.float64:
            return False
        values = X.data
    elif type(X) is np.ndarray and X.dtype == np.float64 and X.ndim == 2:
        values = X
    else:
        return False
    if not (type(y) is np.ndarray and y.ndim == 1 and y.dtype.kind in "fiub"):
        return False
    if X.shape[0] != y.shape[0] or min(X.shape) == 0:
        return False
    return bool(np.isfinite(values.sum())) and (y.dtype.kind != "f" or bool(np.isfinite(y.sum())))


def _class_labels(y):
    """Raise scikit-learn's error unless ``y`` holds class labels; integer-valued numbers pass without it."""
    if y.dtype.kind in "iub" or (y.dtype.kind == "f" and bool(np.all(y == np.floor(y)))):
        return
    check_classification_targets(y)


class _L1Estimator(BaseEstimator):
    """Shared fitting machinery: validation, one L1 problem per output, the result attributes."""

    _loss = "squared"

    def _check_options(self):
        check_positive("max_iter", self.max_iter, integer=True)
        check_positive("tol", self.tol, strict=False)
        check_choice("backend", self.backend, (None, "numba", "numpy"))
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise TypeError(f"fit_intercept must be a bool; got {self.fit_intercept!r}.")

    def _validate(self, X, y):
        shape = np.shape(X) if isinstance(X, (np.ndarray, list, tuple)) or sp.issparse(X) else ()
        if len(shape) and shape[0] == 0:
            raise ValueError(f"X has 0 samples (shape {tuple(shape)}); {type(self).__name__}.fit needs at least "
                             "one sample.")
        if _ready(X, y):  # nothing to convert: only the checks scikit-learn's conversion would repeat
            validate_data(self, X, y, skip_check_array=True)  # feature names and n_features_in_
            return X, y
        return validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=np.float64,
                             y_numeric=self._loss == "squared")

    def _solve(self, Xd, targets, lam):
        """Solve one L1 problem; returns (weights, result)."""
        penalty = np.full(Xd.shape[1], lam)
        if self.fit_intercept:
            penalty[-1] = 0.0
        problem = GLMProblem(Xd, targets, self._loss, l1=penalty, check_input=False)  # validated by fit
        solver = ProxCoordinateEpochs(tol=self.tol, maxiter=self.max_iter, active_set=self.active_set,
                                      backend=self.backend)
        res = run(solver, problem, None)
        if not res.success:
            warnings.warn(f"{type(self).__name__} did not converge in max_iter={self.max_iter} passes "
                          f"({res.message}); increase max_iter or tol.", ConvergenceWarning, stacklevel=3)
        return res.x, res

    def _split(self, w):
        return (w[:-1], float(w[-1])) if self.fit_intercept else (w, 0.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Lasso(RegressorMixin, _L1Estimator):
    """L1-regularized least squares, a drop-in for ``sklearn.linear_model.Lasso``.

    Minimizes ``1/(2 m) ||y - X w - b||^2 + alpha ||w||_1``.

    Parameters
    ----------
    alpha : float
        L1 weight (> 0).
    fit_intercept : bool
    tol : float
        Duality gap relative to the objective at zero (``||y||^2 / (2 m)``).
    max_iter : int
        Passes over the features.
    active_set : bool
        Newton steps on the identified support.
    backend : {None, 'numba', 'numpy'}
        Numba kernels (None, the default) or their NumPy references.

    Attributes
    ----------
    coef_ : (n_features,) array
    intercept_ : float
    n_features_in_ : int
    n_iter_ : int
    dual_gap_ : float or None
        The duality gap of the sum-scaled problem (None with an intercept).
    result_ : OptimizeResult

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.bcd import Lasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 8)); y = X[:, 0] - 2 * X[:, 1] + 0.5
    >>> model = Lasso(alpha=0.01).fit(X, y)
    >>> np.round(model.coef_[:3], 2), round(model.intercept_, 2)
    (array([ 0.98, -1.99,  0.  ]), 0.5)
    """

    _loss = "squared"

    def __init__(self, alpha=1.0, *, fit_intercept=True, tol=1e-6, max_iter=1000, active_set=True,
                 backend=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.active_set = active_set
        self.backend = backend

    def fit(self, X, y):
        """Fit on data ``X`` (m x d, dense or sparse) and targets ``y``; returns ``self``."""
        self._check_options()
        check_positive("alpha", self.alpha)
        X, y = self._validate(X, y)
        w, res = self._solve(_design(X, self.fit_intercept), y, self.alpha * X.shape[0])
        self.coef_, self.intercept_ = self._split(w)
        self.n_iter_ = int(res.nit)
        self.dual_gap_ = res.gap
        self.result_ = res
        return self

    def predict(self, X):
        """Predicted targets ``X @ coef_ + intercept_``."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_).reshape(-1) + self.intercept_


class L1LogisticRegression(ClassifierMixin, _L1Estimator):
    """L1-regularized logistic regression (scikit-learn's ``LogisticRegression(l1_ratio=1)``), one-vs-rest.

    Minimizes ``sum_i log(1 + exp(-y_i (x_i^T w + b))) + ||w||_1 / C`` with
    labels mapped to -1 and +1; with more than two classes, one such problem
    per class against the rest.

    Parameters
    ----------
    C : float
        Inverse regularization strength (> 0), as in scikit-learn.
    fit_intercept, tol, max_iter, active_set, backend
        As for :class:`Lasso` (``tol`` relative to ``m log 2``).

    Attributes
    ----------
    classes_ : array
    coef_ : (1, n_features) or (n_classes, n_features) array
    intercept_ : (1,) or (n_classes,) array
    n_features_in_ : int
    n_iter_ : (1,) or (n_classes,) int array
    dual_gap_ : list of float or None

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.bcd import L1LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5)); y = (X[:, 0] + 0.3 * rng.standard_normal(200) > 0).astype(int)
    >>> model = L1LogisticRegression(C=0.1).fit(X, y)
    >>> float(model.score(X, y)) > 0.85, int(np.count_nonzero(model.coef_)) <= 3
    (True, True)
    """

    _loss = "logistic"

    def __init__(self, C=1.0, *, fit_intercept=True, tol=1e-6, max_iter=1000, active_set=True, backend=None):
        self.C = C
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.active_set = active_set
        self.backend = backend

    def fit(self, X, y):
        """Fit on data ``X`` (m x d, dense or sparse) and class labels ``y``; returns ``self``."""
        self._check_options()
        check_positive("C", self.C)
        X, y = self._validate(X, y)
        _class_labels(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(f"y must hold at least two classes; got one class, {self.classes_[0]!r}.")
        Xd = _design(X, self.fit_intercept)
        positives = self.classes_[1:] if self.classes_.size == 2 else self.classes_
        coefs, intercepts, iters, gaps = [], [], [], []
        for cls in positives:
            w, res = self._solve(Xd, np.where(y == cls, 1.0, -1.0), 1.0 / self.C)
            coef, intercept = self._split(w)
            coefs.append(coef)
            intercepts.append(intercept)
            iters.append(int(res.nit))
            gaps.append(res.gap)
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.asarray(intercepts)
        self.n_iter_ = np.asarray(iters)
        self.dual_gap_ = gaps
        return self

    def decision_function(self, X):
        """Scores ``X @ coef_.T + intercept_``: shape (m,) for two classes (positive means ``classes_[1]``)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=np.float64, reset=False)
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores[:, 0] if self.classes_.size == 2 else scores

    def predict_proba(self, X):
        """Class probabilities, one row per sample (one-vs-rest probabilities normalized to sum 1)."""
        scores = self.decision_function(X)
        if self.classes_.size == 2:
            p1 = 1.0 / (1.0 + np.exp(-scores))
            return np.column_stack([1.0 - p1, p1])
        prob = 1.0 / (1.0 + np.exp(-scores))
        return prob / prob.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels."""
        scores = self.decision_function(X)
        if self.classes_.size == 2:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]
