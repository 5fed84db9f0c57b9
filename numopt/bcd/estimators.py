"""scikit-learn style estimators: L1 least squares (Lasso) and L1 logistic regression.

Both solve their problem with :class:`numopt.bcd.epochs.ProxCoordinateEpochs`
(cyclic proximal coordinate passes in Numba, duality-gap stopping, Newton
steps on the identified support) and follow scikit-learn's conventions:
``fit(X, y)`` returns the estimator, the solution is in ``coef_`` and
``intercept_``, and the objectives are scaled as in scikit-learn:

* ``Lasso``: ``1/(2 m) ||y - X w - b||^2 + alpha ||w||_1``;
* ``L1LogisticRegression``: ``sum_i log(1 + exp(-y_i (x_i^T w + b))) + ||w||_1 / C``.

The intercept, when fitted, is an unpenalized variable (a column of ones).
Then the duality gap is undefined and the stopping test uses the
minimum-norm subgradient instead; with ``fit_intercept=False`` it is the
duality gap relative to the objective at zero.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._core.driver import run
from .._core.validate import as_float_array, check_finite, check_positive
from .epochs import ProxCoordinateEpochs
from .problems import GLMProblem

__all__ = ["L1LogisticRegression", "Lasso"]


def _design(X, fit_intercept):
    if sp.issparse(X):
        X = sp.csc_matrix(X, dtype=float)
        check_finite(X, "X")
    else:
        X = as_float_array(X, "X", ndim=2)
    if fit_intercept:
        ones = np.ones((X.shape[0], 1))
        X = sp.hstack([X, sp.csc_matrix(ones)], format="csc") if sp.issparse(X) else np.hstack([X, ones])
    return X


class _L1Estimator:
    _loss = "squared"

    def __init__(self, *, fit_intercept=True, tol=1e-6, max_iter=1000, active_set=True, backend="numba"):
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.active_set = active_set
        self.backend = backend

    def _penalty(self, m):
        raise NotImplementedError

    def _targets(self, y, m):
        return as_float_array(y, "y", shape=(m,))

    def fit(self, X, y):
        """Fit on data ``X`` (m x d, dense or sparse) and targets ``y``; returns ``self``."""
        check_positive("max_iter", self.max_iter, integer=True)
        check_positive("tol", self.tol, strict=False)
        Xd = _design(X, self.fit_intercept)
        m, d = Xd.shape
        y = self._targets(y, m)
        lam = np.full(d, self._penalty(m))
        if self.fit_intercept:
            lam[-1] = 0.0
        problem = GLMProblem(Xd, y, self._loss, l1=lam)
        solver = ProxCoordinateEpochs(tol=self.tol, maxiter=self.max_iter, active_set=self.active_set,
                                      backend=self.backend)
        res = run(solver, problem, None)
        w = res.x
        self.coef_ = w[:-1].copy() if self.fit_intercept else w.copy()
        self.intercept_ = float(w[-1]) if self.fit_intercept else 0.0
        self.n_iter_ = int(res.nit)
        self.dual_gap_ = res.gap
        self.result_ = res
        return self

    def _decision(self, X):
        if not hasattr(self, "coef_"):
            raise AttributeError(f"This {type(self).__name__} instance is not fitted yet; call fit first.")
        return np.asarray(X @ self.coef_).reshape(-1) + self.intercept_

    def get_params(self, deep=True):
        keys = ["fit_intercept", "tol", "max_iter", "active_set", "backend"] + self._own_params
        return {k: getattr(self, k) for k in keys}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"Invalid parameter {k!r} for {type(self).__name__}; valid: "
                                 f"{', '.join(sorted(self.get_params()))}.")
            setattr(self, k, v)
        return self


class Lasso(_L1Estimator):
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
    backend : {'numba', 'numpy'}

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
    _own_params = ["alpha"]

    def __init__(self, alpha=1.0, *, fit_intercept=True, tol=1e-6, max_iter=1000, active_set=True,
                 backend="numba"):
        super().__init__(fit_intercept=fit_intercept, tol=tol, max_iter=max_iter, active_set=active_set,
                         backend=backend)
        self.alpha = alpha

    def _penalty(self, m):
        check_positive("alpha", self.alpha)
        return self.alpha * m

    def predict(self, X):
        """Predicted targets ``X @ coef_ + intercept_``."""
        return self._decision(X)


class L1LogisticRegression(_L1Estimator):
    """L1-regularized binary logistic regression (scikit-learn's ``LogisticRegression(penalty='l1')``).

    Minimizes ``sum_i log(1 + exp(-y_i (x_i^T w + b))) + ||w||_1 / C`` with
    labels mapped to -1 (the smaller class) and +1.

    Parameters
    ----------
    C : float
        Inverse regularization strength (> 0), as in scikit-learn.
    fit_intercept, tol, max_iter, active_set, backend
        As for :class:`Lasso` (``tol`` relative to ``m log 2``).

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
    _own_params = ["C"]

    def __init__(self, C=1.0, *, fit_intercept=True, tol=1e-6, max_iter=1000, active_set=True, backend="numba"):
        super().__init__(fit_intercept=fit_intercept, tol=tol, max_iter=max_iter, active_set=active_set,
                         backend=backend)
        self.C = C

    def _penalty(self, m):
        check_positive("C", self.C)
        return 1.0 / self.C

    def _targets(self, y, m):
        y = np.asarray(y)
        if y.shape != (m,):
            raise ValueError(f"y must have shape ({m},); got {y.shape}.")
        classes = np.unique(y)
        if classes.size != 2:
            raise ValueError(f"y must hold exactly two classes; got {classes.size}.")
        self.classes_ = classes
        return np.where(y == classes[1], 1.0, -1.0)

    def decision_function(self, X):
        """Signed distance ``X @ coef_ + intercept_`` (positive means ``classes_[1]``)."""
        return self._decision(X)

    def predict_proba(self, X):
        """Probabilities of ``classes_[0]`` and ``classes_[1]``, one row per sample."""
        p1 = 1.0 / (1.0 + np.exp(-self._decision(X)))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X):
        """Predicted class labels."""
        return self.classes_[(self._decision(X) > 0).astype(int)]

    def score(self, X, y):
        """Mean accuracy on ``(X, y)``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))
