"""Scikit-learn-style front end: ``MatrixCompleter(rank).fit(observed).predict(rows, cols)``."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .altmin import complete
from .metrics import heldout_rmse

__all__ = ["MatrixCompleter"]


class MatrixCompleter:
    """Low-rank matrix completion by (robust) alternating minimization, scikit-learn style.

    Parameters
    ----------
    rank : int
        Rank of the fitted factorization.
    method : {'robust', 'exact'}
        Update rule (see :func:`~numopt.completion.complete`).
    reg : float
        Ridge weight on the factors.
    center : bool
        Subtract the mean of the observed values before fitting and add it back
        in :meth:`predict` (useful for ratings; off for exact low-rank recovery,
        since a shifted low-rank matrix has rank ``k + 1``). With ``center=True``,
        rows or columns never observed are predicted as the mean.
    seed : int, Generator or None
        Seeds the spectral start and the sketches.
    **options
        Passed to :func:`~numopt.completion.complete` (``maxiter``, ``tol``,
        ``inner_rtol``, ``duplicates``, ``backend``, ...).

    Attributes
    ----------
    U_, V_ : ndarray
        Fitted factors.
    mean_ : float
        Subtracted mean (0 without centering).
    result_ : OptimizeResult
        Full result of the solver.
    n_iter_ : int
        Sweeps run.

    Examples
    --------
    >>> from numopt.completion import MatrixCompleter
    >>> from numopt.problems.completion_data import synthetic_completion
    >>> d = synthetic_completion(120, 100, 3, nnz=4000, seed=0)
    >>> model = MatrixCompleter(rank=3, seed=0).fit((d.rows, d.cols, d.values), shape=d.shape)
    >>> truth = d.U_true[:5] @ d.V_true[:5].T
    >>> bool(np.allclose(model.predict(np.arange(5), np.arange(5)), np.diag(truth)))
    True
    """

    def __init__(self, rank: int = 10, *, method: str = "robust", reg: float = 0.0, center: bool = False,
                 seed=None, **options):
        self.rank = rank
        self.method = method
        self.reg = reg
        self.center = center
        self.seed = seed
        self.options = options

    def get_params(self, deep: bool = True) -> dict:
        """Constructor parameters (scikit-learn convention)."""
        return {"rank": self.rank, "method": self.method, "reg": self.reg, "center": self.center,
                "seed": self.seed, **self.options}

    def set_params(self, **params):
        """Set constructor parameters (scikit-learn convention)."""
        for key, value in params.items():
            if key in ("rank", "method", "reg", "center", "seed"):
                setattr(self, key, value)
            else:
                self.options[key] = value
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"MatrixCompleter({args})"

    def fit(self, X, y=None, *, shape=None, callback=None):
        """Fit to observed entries.

        Parameters
        ----------
        X : scipy.sparse matrix or (rows, cols, values)
            The observed entries: the stored entries of a sparse matrix (explicit
            zeros count as observations), or coordinate arrays with ``shape``.
        y : ignored
        shape : (int, int), optional
            Required with coordinate input.
        callback : callable, optional
            Passed to the solver.
        """
        if sp.issparse(X):
            coo = sp.coo_matrix(X)
            rows, cols, values, shape = coo.row, coo.col, coo.data, coo.shape
        elif isinstance(X, (tuple, list)) and len(X) == 3:
            rows, cols, values = X
            if shape is None:
                raise ValueError("shape=(m, n) is required when X is (rows, cols, values).")
        else:
            raise TypeError("X must be a scipy.sparse matrix or a tuple (rows, cols, values); "
                            f"got {type(X).__name__}.")
        values = np.asarray(values, dtype=float)
        self.mean_ = float(np.mean(values)) if self.center and values.size else 0.0
        res = complete(rows, cols, values - self.mean_, shape, self.rank, self.method, reg=self.reg,
                       seed=self.seed, callback=callback, **self.options)
        self.result_ = res
        self.U_, self.V_ = res.U, res.V
        self.n_iter_ = res.nit
        self.shape_ = tuple(shape)
        return self

    def predict(self, rows, cols) -> np.ndarray:
        """Predicted values at entries ``(rows[t], cols[t])``."""
        if not hasattr(self, "U_"):
            raise RuntimeError("This MatrixCompleter is not fitted yet; call fit first.")
        rows, cols = np.asarray(rows), np.asarray(cols)
        if rows.shape != cols.shape or rows.ndim != 1:
            raise ValueError(f"rows and cols must be 1-D of equal length; got {rows.shape} and {cols.shape}.")
        m, n = self.shape_
        for name, idx, size in (("rows", rows, m), ("cols", cols, n)):
            if idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= size):
                raise IndexError(f"{name} must be integer indices in [0, {size}).")
        return np.einsum("ij,ij->i", self.U_[rows], self.V_[cols]) + self.mean_

    def rmse(self, rows, cols, values) -> float:
        """Held-out root-mean-square error (see :func:`~numopt.completion.heldout_rmse`)."""
        return heldout_rmse(self, rows, cols, values)

    def score(self, rows, cols, values) -> float:
        """Negative RMSE (higher is better, scikit-learn convention)."""
        return -self.rmse(rows, cols, values)
