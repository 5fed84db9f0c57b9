"""Observed entries of a partially known matrix, checked and stored by rows and by columns."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._core.validate import as_float_array, check_choice
from ..oracles import Problem

__all__ = ["Observations", "observations"]


@dataclass(eq=False)
class Observations(Problem):
    """Observed entries in two CSR layouts (one per alternating half-step); never a dense mask.

    ``row_ptr, row_idx, row_val`` list, for each row ``i``, the observed columns and
    values (columns increasing); ``col_ptr, col_idx, col_val`` the same by columns.
    Indices are int64, values float64.

    As a :class:`numopt.oracles.Problem` it offers two evaluations and counts them:
    ``squared_residual`` (one objective evaluation, counter ``nfev``) and
    ``row_regressions`` (one small ridge least-squares solve per row or column,
    counter ``nsolves``). Counts accumulate over the life of the object;
    :meth:`reset_counts` sets them back to zero.

    Examples
    --------
    >>> obs = observations([0, 1], [1, 0], [2.0, 3.0], (2, 2))
    >>> U, V = np.ones((2, 1)), np.ones((2, 1))
    >>> obs.squared_residual(U, V), obs.counts()
    (5.0, {'nfev': 1, 'nsolves': 0})
    >>> out, _ = obs.row_regressions("rows", V, reg=0.0)
    >>> out.ravel(), obs.counts()["nsolves"]
    (array([2., 3.]), 2)
    """

    shape: tuple
    row_ptr: np.ndarray
    row_idx: np.ndarray
    row_val: np.ndarray
    col_ptr: np.ndarray
    col_idx: np.ndarray
    col_val: np.ndarray
    nduplicates: int = 0
    name = "observations"
    count_names = ("nfev", "nsolves")

    @property
    def capabilities(self) -> frozenset[str]:
        """``squared_residual`` and ``row_regressions``."""
        return frozenset({"squared_residual", "row_regressions"})

    @property
    def n(self) -> int:
        """Number of matrix entries ``m * n`` (the unknowns of the completion)."""
        return int(self.shape[0] * self.shape[1])

    def entries(self, axis: str) -> tuple:
        """``(ptr, idx, val)`` of the CSR layout by ``axis`` (``'rows'`` or ``'cols'``)."""
        check_choice("axis", axis, ["rows", "cols"])
        if axis == "rows":
            return self.row_ptr, self.row_idx, self.row_val
        return self.col_ptr, self.col_idx, self.col_val

    def squared_residual(self, U, V, *, kernels=None, entries=None) -> float:
        """``sum over observed (i, j) of (M_ij - U_i . V_j)^2`` (counts one ``nfev``).

        ``kernels`` is the module doing the work (default the NumPy references of
        :mod:`numopt.completion._kernels`); ``entries`` the row layout, possibly
        copied to a device (default this object's host arrays).
        """
        kernels = kernels or _reference_kernels()
        entries = self.entries("rows") if entries is None else entries
        self._count("nfev")
        return float(kernels.observed_sq_residual(*entries, U, V))

    def row_regressions(self, axis: str, F, reg: float, *, kernels=None, entries=None, robust=None):
        """Ridge regression of every row (``axis='rows'``) or column of ``M`` on the fixed factor ``F``.

        Row ``i`` solves ``min_x sum_{j in Omega_i} (M_ij - F_j . x)^2 + reg |x|^2``
        (counts one ``nsolves`` per row). With ``robust=None`` each is solved exactly;
        otherwise ``robust`` is a dict with ``X0`` (warm starts), ``sketch_rows``,
        ``sketch_nnz``, ``inner_rtol``, ``inner_maxiter`` and ``seed`` for the
        sketch-preconditioned solver. ``entries`` may replace the stored layout
        (same pattern, e.g. on a device or with shifted values).

        Returns
        -------
        out : array, one solution per row
        inner : int
            CG iterations spent (0 for exact solves).
        """
        kernels = kernels or _reference_kernels()
        ptr, idx, val = self.entries(axis) if entries is None else entries
        xp = _namespace(F)
        nrow = ptr.size - 1
        out = xp.zeros((nrow, F.shape[1]))
        self._count("nsolves", nrow)
        if robust is None:
            kernels.exact_solve(ptr, idx, val, F, float(reg), out)
            return out, 0
        iters = xp.zeros(nrow, dtype=xp.int64)
        kernels.robust_solve(ptr, idx, val, F, float(reg), robust["X0"], robust["sketch_rows"],
                             robust["sketch_nnz"], robust["inner_rtol"], robust["inner_maxiter"], robust["seed"],
                             out, iters)
        return out, int(iters.sum())

    @property
    def nnz(self) -> int:
        """Number of observed entries (after merging duplicates)."""
        return int(self.row_val.size)

    @property
    def empty_rows(self) -> int:
        """Rows with no observation."""
        return int(np.count_nonzero(np.diff(self.row_ptr) == 0))

    @property
    def empty_cols(self) -> int:
        """Columns with no observation."""
        return int(np.count_nonzero(np.diff(self.col_ptr) == 0))

    def csr(self) -> sp.csr_matrix:
        """The observed entries as a scipy CSR matrix (shares the row arrays)."""
        return sp.csr_matrix((self.row_val, self.row_idx, self.row_ptr), shape=self.shape)

    def coo(self):
        """``(rows, cols, values)`` in row-major order."""
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.row_ptr))
        return rows, self.row_idx, self.row_val


def _namespace(a):
    from .._core.backend import array_namespace

    return array_namespace(a)


def _reference_kernels():
    from . import _kernels

    return _kernels.REFERENCE


def _check_shape(shape) -> tuple:
    ok = (isinstance(shape, (tuple, list)) and len(shape) == 2
          and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in shape))
    if not ok:
        raise ValueError(f"shape must be a pair of positive integers (m, n); got {shape!r}.")
    return int(shape[0]), int(shape[1])


def _check_index(name: str, idx, size: int, bound: int, axis: str) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {arr.shape}.")
    if arr.size != size:
        raise ValueError(f"{name} must have one entry per value ({size}); got {arr.size}.")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer indices; got dtype {arr.dtype}.")
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= bound:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{name} holds index {bad} out of range for {axis} of size {bound} "
                             f"(expected 0 <= {name} < {bound}).")
    return arr.astype(np.int64, copy=False)


def observations(rows, cols, values, shape, *, duplicates: str = "error") -> Observations:
    """Check observed entries ``M[rows[t], cols[t]] = values[t]`` and store them by rows and columns.

    Parameters
    ----------
    rows, cols : array_like of int
        Indices of the observed entries, ``0 <= rows < m``, ``0 <= cols < n``.
    values : array_like of float
        Observed values; NaN or inf is an error (a missing entry is simply not listed).
    shape : (int, int)
        ``(m, n)``.
    duplicates : {'error', 'average'}
        What to do with a ``(row, col)`` pair listed more than once: raise
        (default), or keep one entry holding the mean of its values.

    Examples
    --------
    >>> obs = observations([0, 1, 1], [2, 0, 2], [1.0, 2.0, 3.0], (2, 3))
    >>> obs.nnz, obs.empty_cols
    (3, 1)
    >>> observations([0, 0], [1, 1], [1.0, 3.0], (2, 2), duplicates="average").row_val
    array([2.])
    """
    m, n = _check_shape(shape)
    check_choice("duplicates", duplicates, ["error", "average"])
    values = as_float_array(values, "values", ndim=1).astype(np.float64, copy=False)
    if values.size == 0:
        raise ValueError("values is empty: at least one observed entry is needed.")
    rows = _check_index("rows", rows, values.size, m, "axis 0 (rows)")
    cols = _check_index("cols", cols, values.size, n, "axis 1 (columns)")
    key = rows * n + cols
    if not np.all(key[1:] > key[:-1]):
        order = np.argsort(key, kind="stable")
        key, values = key[order], values[order]
    dup = key[1:] == key[:-1]
    ndup = int(dup.sum())
    if ndup:
        if duplicates == "error":
            first = int(key[1:][dup][0])
            raise ValueError(
                f"rows/cols list {ndup} duplicate (row, col) entries, e.g. ({first // n}, {first % n}); "
                "remove them or pass duplicates='average' to keep the mean of each group."
            )
        start = np.flatnonzero(np.concatenate(([True], ~dup)))
        counts = np.diff(np.append(start, key.size))
        values = np.add.reduceat(values, start) / counts
        key = key[start]
    rows, cols = key // n, key % n
    del key
    row_ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=m), out=row_ptr[1:])
    order = np.argsort(cols, kind="stable")
    col_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=n), out=col_ptr[1:])
    return Observations((m, n), row_ptr, cols, values, col_ptr, rows[order], values[order], ndup)
