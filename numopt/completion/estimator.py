"""Scikit-learn estimator for ratings: ``MatrixCompleter().fit(X, y).predict(X_new)``.

Input convention
----------------
One observed entry per sample: ``X`` is an ``(n_obs, 2)`` array of ``(row id, column id)``
pairs (for ratings: user id, item id) and ``y`` the observed values. Ids are labels, not
positions: any numbers work (MovieLens' sparse movie ids included) and are numbered in
increasing order at fit time. This makes the estimator a regressor on entries, so
held-out RMSE, ``cross_val_score`` and ``GridSearchCV`` split and score observed entries,
as they should for matrix completion. :func:`observed_entries` turns the stored
entries of a scipy sparse matrix into ``(X, y)``.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from .._core.validate import check_choice, check_in_range, check_positive, check_rng
from .altmin import METHODS, complete

__all__ = ["MatrixCompleter", "observed_entries"]

#: Coarse ridge candidates of ``reg='auto'``, in units of ``var(y)`` (see :class:`MatrixCompleter`).
AUTO_REG_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
#: The coarse winner is refined by trying it times and divided by this factor.
AUTO_REG_REFINE = 3.0
#: Sweeps (at most) and relative decrease (at least) of each validation fit of ``reg='auto'``.
AUTO_REG_MAXITER = 25
#: Below this many observations ``reg='auto'`` skips validation and takes one data scale.
MIN_VALIDATION_SAMPLES = 50


def observed_entries(M):
    """``(X, y)`` for :class:`MatrixCompleter` from the stored entries of a sparse matrix.

    Stored entries (explicit zeros included) are the observations; ids are the row and
    column positions.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X, y = observed_entries(sp.coo_matrix(([4.0, 5.0], ([0, 2], [1, 0])), shape=(3, 2)))
    >>> X.tolist(), y.tolist()
    ([[0, 1], [2, 0]], [4.0, 5.0])
    """
    if not sp.issparse(M):
        raise TypeError(f"M must be a scipy.sparse matrix or array; got {type(M).__name__}.")
    coo = sp.coo_matrix(M)
    return np.column_stack([coo.row, coo.col]).astype(np.int64), np.asarray(coo.data, dtype=float)


class MatrixCompleter(RegressorMixin, BaseEstimator):
    """Low-rank matrix completion by (robust) alternating minimization, as a scikit-learn regressor.

    Fits ``M_ij ~ mu + b_i + c_j + U_i . V_j`` to observed entries: ``mu`` is the mean of
    the observed values and the row/column biases ``b``, ``c`` are fitted jointly with the
    factors (``biases=True``, the default), or ``M_ij ~ U_i . V_j`` (``biases=False``,
    exact low-rank recovery). See the module docstring for the input convention.

    Parameters
    ----------
    rank : int
        Rank of the factorization (capped at the number of distinct row or column ids;
        the rank used is ``rank_``).
    method : {'robust', 'exact'}
        Update rule (see :func:`~numopt.completion.complete`).
    reg : float or 'auto'
        Ridge weight on factors and biases. ``'auto'`` holds out ``validation_fraction``
        of the entries and fits the ridges ``g * var(y)`` for ``g`` in 0.01, 0.1, 1, 10,
        100, then the best of those times and divided by 3 (each fit at most 25 sweeps);
        it keeps the ridge with the smallest held-out RMSE and refits on all entries (choice in ``reg_``). The
        objective sums over entries, so the ridge that balances noise against the prior
        on the factors does not grow with the number of observations; it scales with
        the square of the values, and its best multiple ranges from about 0.05 (clean
        low-rank data) to about 15 (MovieLens ratings), hence the wide grid.
    biases : bool
        Fit the global mean and row/column biases (recommended for ratings).
    clip : bool
        Clip predictions to the range of the observed values.
    maxiter : int
        Maximum sweeps.
    ftol : float
        Stop when a sweep lowers the objective by less than ``ftol`` relatively.
    validation_fraction : float
        Fraction of entries held out by ``reg='auto'``.
    seed : int, Generator or None
        Seeds the validation split, the spectral start and the sketches.
    backend : {'numba', 'numpy', 'cupy'} or None

    Attributes
    ----------
    U_, V_ : ndarray
        Fitted factors (rows in the order of ``row_ids_`` / ``col_ids_``).
    row_bias_, col_bias_ : ndarray
        Fitted biases (zeros with ``biases=False``).
    mean_ : float
        Global mean (0 with ``biases=False``).
    row_ids_, col_ids_ : ndarray
        The distinct ids seen in fit; ids seen only at predict time get zero factors and
        biases (their predictions fall back to the mean and the known bias).
    rank_ : int
        Rank used.
    reg_ : float
        Ridge used.
    validation_rmse_ : dict or None
        Held-out RMSE per ridge tried by ``reg='auto'``.
    result_ : OptimizeResult
        Full result of the final fit; ``n_iter_`` its sweeps.
    n_features_in_ : int
        Always 2.

    Examples
    --------
    >>> from numopt.completion import MatrixCompleter
    >>> from numopt.problems.completion_data import synthetic_completion
    >>> d = synthetic_completion(120, 100, 3, nnz=4000, seed=0)
    >>> X = np.column_stack([d.rows, d.cols])
    >>> model = MatrixCompleter(rank=3, reg=0.0, biases=False, clip=False, ftol=0.0).fit(X, d.values)
    >>> truth = np.einsum("ij,ij->i", d.U_true[:5], d.V_true[:5])
    >>> bool(np.allclose(model.predict(np.column_stack([np.arange(5), np.arange(5)])), truth))
    True
    """

    def __init__(self, rank: int = 10, *, method: str = "robust", reg="auto", biases: bool = True,
                 clip: bool = True, maxiter: int = 100, ftol: float = 1e-5, validation_fraction: float = 0.1,
                 seed=0, backend: str | None = None):
        self.rank = rank
        self.method = method
        self.reg = reg
        self.biases = biases
        self.clip = clip
        self.maxiter = maxiter
        self.ftol = ftol
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.backend = backend

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    # ------------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        check_positive("rank", self.rank, integer=True)
        check_choice("method", self.method, METHODS)
        if not (isinstance(self.reg, str) and self.reg == "auto"):
            if isinstance(self.reg, str) or not isinstance(self.reg, numbers.Real):
                raise TypeError(f"reg must be 'auto' or a number >= 0; got {self.reg!r}.")
            check_positive("reg", self.reg, strict=False)
        for name in ("biases", "clip"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False; got {getattr(self, name)!r}.")
        check_positive("maxiter", self.maxiter, integer=True)
        check_positive("ftol", self.ftol, strict=False)
        check_in_range("validation_fraction", self.validation_fraction, 0.0, 1.0)
        check_rng(self.seed)

    def _check_pairs(self, X, y=None, *, fitting: bool):
        if sp.issparse(X):
            raise TypeError("X must be a dense (n_obs, 2) array of (row id, column id) pairs; got a sparse "
                            "matrix, which is not supported as X. Use observed_entries(M) to turn the stored "
                            "entries of a sparse matrix into (X, y).")
        if fitting and y is not None and hasattr(X, "__len__") and np.ndim(y) >= 1 and len(X) != len(y):
            raise ValueError(f"y must hold one value per row of X; got {len(y)} values for {len(X)} rows.")
        if not fitting:
            X = validate_data(self, X, reset=False, dtype="numeric")
        else:
            X, y = validate_data(self, X, y, reset=True, dtype="numeric", y_numeric=True)
        if X.shape[1] != 2:
            raise ValueError(f"X must have 2 columns (row id, column id), one observed entry per sample; "
                             f"got shape {X.shape}.")
        return X, (np.asarray(y, dtype=float) if fitting else None)

    def _fit_factors(self, rows, cols, values, shape, reg: float, seed, ftol: float, maxiter: int):
        return complete(rows, cols, values, shape, self.rank_, self.method, reg=reg, biases=self.biases,
                        duplicates="average", seed=seed, backend=self.backend, maxiter=maxiter,
                        ftol=ftol, tol=1e-10)

    def fit(self, X, y):
        """Fit to observed entries ``M[X[t, 0], X[t, 1]] = y[t]``.

        Parameters
        ----------
        X : array_like, shape (n_obs, 2)
            ``(row id, column id)`` of each observed entry; a pair listed twice counts
            once, with the mean of its values.
        y : array_like, shape (n_obs,)
            Observed values.

        Returns
        -------
        self
        """
        self._check_params()
        X, y = self._check_pairs(X, y, fitting=True)
        self.row_ids_, rows = np.unique(X[:, 0], return_inverse=True)
        self.col_ids_, cols = np.unique(X[:, 1], return_inverse=True)
        shape = (self.row_ids_.size, self.col_ids_.size)
        self.rank_ = int(min(self.rank, *shape))
        self.mean_ = float(np.mean(y)) if self.biases else 0.0
        self.y_range_ = (float(np.min(y)), float(np.max(y)))
        values = y - self.mean_
        rng = check_rng(self.seed)
        self.reg_, self.validation_rmse_ = self._choose_reg(rows, cols, values, shape, rng)
        res = self._fit_factors(rows, cols, values, shape, self.reg_, rng, self.ftol, self.maxiter)
        self.result_ = res
        self.U_, self.V_ = res.U, res.V
        self.row_bias_ = res.get("row_bias", np.zeros(shape[0]))
        self.col_bias_ = res.get("col_bias", np.zeros(shape[1]))
        self.n_iter_ = res.nit
        if not res.success:
            warnings.warn(f"MatrixCompleter did not converge: {res.message} ({res.nit} sweeps, ftol={self.ftol}); "
                          "raise maxiter or loosen ftol.", ConvergenceWarning, stacklevel=2)
        return self

    def _choose_reg(self, rows, cols, values, shape, rng):
        if not isinstance(self.reg, str):
            return float(self.reg), None
        scale = float(np.var(values))
        scale = scale if scale > 0 else 1.0
        n_val = int(round(self.validation_fraction * values.size))
        if values.size < MIN_VALIDATION_SAMPLES or n_val == 0:
            return scale, None
        held = np.zeros(values.size, dtype=bool)
        held[rng.choice(values.size, n_val, replace=False)] = True
        seed = int(rng.integers(0, 2**31 - 1))
        y_held = values[held] + self.mean_
        scores = {}

        def score(reg):
            res = self._fit_factors(rows[~held], cols[~held], values[~held], shape, reg, seed,
                                    max(self.ftol, 1e-4), min(self.maxiter, AUTO_REG_MAXITER))
            pred = self._combine(res.U, res.V, res.get("row_bias"), res.get("col_bias"), rows[held], cols[held])
            scores[reg] = float(np.sqrt(np.mean((self._clip(pred + self.mean_) - y_held) ** 2)))

        for g in AUTO_REG_GRID:
            score(g * scale)
        best = min(scores, key=scores.get)
        for reg in (best / AUTO_REG_REFINE, best * AUTO_REG_REFINE):
            score(reg)
        return min(scores, key=scores.get), dict(sorted(scores.items()))

    @staticmethod
    def _combine(U, V, row_bias, col_bias, rows, cols):
        pred = np.einsum("ij,ij->i", U[rows], V[cols])
        if row_bias is not None:
            pred = pred + row_bias[rows] + col_bias[cols]
        return pred

    def _clip(self, pred):
        return np.clip(pred, *self.y_range_) if self.clip else pred

    @staticmethod
    def _positions(ids, query):
        pos = np.clip(np.searchsorted(ids, query), 0, ids.size - 1)
        return pos, ids[pos] == query

    def predict(self, X) -> np.ndarray:
        """Predicted values at ``(row id, column id)`` pairs ``X`` (shape ``(n, 2)``).

        An id not seen in fit contributes a zero factor and bias, so its prediction is
        the mean plus the other side's bias. With ``clip=True`` predictions are clipped to
        the observed value range.
        """
        check_is_fitted(self, "U_")
        X, _ = self._check_pairs(X, fitting=False)
        r, r_known = self._positions(self.row_ids_, X[:, 0])
        c, c_known = self._positions(self.col_ids_, X[:, 1])
        both = r_known & c_known
        pred = np.full(X.shape[0], self.mean_)
        pred += np.where(r_known, self.row_bias_[r], 0.0) + np.where(c_known, self.col_bias_[c], 0.0)
        pred[both] += np.einsum("ij,ij->i", self.U_[r[both]], self.V_[c[both]])
        return self._clip(pred)

    def rmse(self, X, y) -> float:
        """Root-mean-square error of :meth:`predict` on held-out entries ``(X, y)``."""
        y = np.asarray(y, dtype=float)
        return float(np.sqrt(np.mean((self.predict(X) - y) ** 2)))
