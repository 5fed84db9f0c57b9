"""Generalized linear model losses on dense or sparse data: :class:`GLM` and the loss names.

The objective of a :class:`GLM` is ``red_i loss(x_i^T W, y_i) + (l2/2) ||w||^2`` where
``red`` is the mean (``reduction='mean'``) or the sum over the selected rows and
``W = w.reshape(d, C)``. Sparse data go through the Numba kernels of
:mod:`numopt.losses._kernels`; dense data through BLAS products and the margin kernels.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from .._core.validate import as_float_array, check_choice, check_finite, check_positive

__all__ = ["GLM", "LOSS_CODES", "check_loss", "kernels", "loss_code"]

#: Loss name -> code taken by the kernels.
LOSS_CODES = {"squared": 0, "logistic": 1, "softmax": 2}

_ALIASES = {"ridge": "squared"}

#: Largest second derivative of each loss in its margin (softmax: the Böhning bound on the row Hessian).
_CURVATURE = {"squared": 1.0, "logistic": 0.25, "softmax": 0.5}

#: Largest diagonal entry of the row Hessian (softmax: p (1 - p) <= 1/4).
_COORD_CURVATURE = {"squared": 1.0, "logistic": 0.25, "softmax": 0.25}


def check_loss(loss) -> str:
    """The canonical name of the loss ``loss``: 'squared', 'logistic' or 'softmax'.

    The alias ``'ridge'`` of ``'squared'`` is deprecated and still accepted for one release,
    with a ``DeprecationWarning``.

    Raises
    ------
    ValueError
        For any other value, naming the argument, the valid names and the value seen.

    Examples
    --------
    >>> check_loss("logistic")
    'logistic'
    >>> check_loss("hinge")
    Traceback (most recent call last):
    ...
    ValueError: loss='hinge' is not valid; expected one of 'squared', 'logistic', 'softmax'.
    """
    if isinstance(loss, str) and loss in _ALIASES:
        new = _ALIASES[loss]
        warnings.warn(f"loss={loss!r} is deprecated and will be removed in the next release; use loss={new!r}.",
                      DeprecationWarning, stacklevel=2)
        return new
    return check_choice("loss", loss, tuple(LOSS_CODES))


def loss_code(loss) -> int:
    """The kernel code of the loss ``loss`` (0 squared, 1 logistic, 2 softmax); see :func:`check_loss`.

    Examples
    --------
    >>> loss_code("softmax")
    2
    """
    return LOSS_CODES[check_loss(loss)]


def kernels(backend: str | None = None):
    """The kernel module of ``backend``: the Numba kernels (None, the default, or 'numba') or their NumPy twins.

    Examples
    --------
    >>> K = kernels("numpy")
    >>> K.row_loss_and_slope(0, 3.0, 1.0)
    (2.0, 2.0)
    """
    check_choice("backend", backend, (None, "numba", "numpy"))
    if backend != "numpy":
        from . import _kernels as module
    else:
        from . import _reference as module
    return module


class GLM:
    """Loss of a generalized linear model with its gradient, Hessian and curvature constants.

    Parameters
    ----------
    X : (N, d) array or scipy sparse matrix
        Data, one sample per row. Sparse input is converted once to CSR float64 with sorted,
        summed indices; dense input is kept dense (float64).
    y : (N,) array
        Targets (squared), labels in {-1, +1} (logistic) or class indices 0..C-1 (softmax).
    loss : {'squared', 'logistic', 'softmax'}
        ``(t - y)^2 / 2``, ``log(1 + exp(-y t))`` or ``logsumexp(t) - t_y`` (``t`` the margins).
        ``'ridge'`` is a deprecated alias of ``'squared'``.
    l2 : float
        Weight of ``(l2/2) ||w||^2``.
    n_classes : int, optional
        C for softmax (default: the largest label plus one); the other losses have one output.
    reduction : {'mean', 'sum'}
        Mean or sum of the row losses over the selected rows.
    backend : {None, 'numba', 'numpy'}
        Numba kernels (None, the default, picks them for the NumPy/SciPy arrays this class takes) or
        their NumPy twins.

    Notes
    -----
    The variables ``w`` have ``d * C`` entries, ``w.reshape(d, C)`` the coefficients. The
    methods taking ``rows`` evaluate the loss on ``rows=None`` (all rows), a slice (a
    contiguous range when its step is 1) or an integer index array (a minibatch; repeated
    indices count repeatedly), without slicing a sparse matrix.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]); y = np.array([1.0, -1.0, 1.0])
    >>> f = GLM(X, y, "logistic", l2=0.1)
    >>> round(f.value(np.zeros(2)), 6), f.grad(np.zeros(2))
    (0.693147, array([-0.333333,  0.166667]))
    >>> round(f.value(np.zeros(2), rows=[0, 0]), 6)  # a minibatch: row 0 twice
    0.693147
    """

    def __init__(self, X, y, loss: str = "logistic", *, l2: float = 0.0, n_classes: int | None = None,
                 reduction: str = "mean", backend: str | None = None):
        self.loss = check_loss(loss)
        self.code = LOSS_CODES[self.loss]
        check_positive("l2", l2, strict=False)
        self.l2 = float(l2)
        self.reduction = check_choice("reduction", reduction, ("mean", "sum"))
        self.backend = backend
        self._K = kernels(backend)
        self.X = _as_data(X)
        N, d = self.X.shape
        self.y = as_float_array(y, "y", ndim=1).astype(np.float64, copy=False)
        if self.y.shape[0] != N:
            raise ValueError(f"y has {self.y.shape[0]} entries but X has {N} rows.")
        self.C = _check_labels(self.loss, self.y, n_classes)
        self._csr = None
        self._cache = {}

    # ------------------------------------------------------------------ sizes
    @property
    def n_samples(self) -> int:
        """Number of rows N of ``X``."""
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        """Number of columns d of ``X``."""
        return self.X.shape[1]

    @property
    def n_outputs(self) -> int:
        """Outputs per row C (the number of classes for softmax, else 1)."""
        return self.C

    @property
    def n_variables(self) -> int:
        """Length ``d * C`` of the variable vector ``w``."""
        return self.X.shape[1] * self.C

    def kernel_arrays(self):
        """``(code, data, indices, indptr, y, C)``: what the CSR kernels take (a dense X is converted once).

        Examples
        --------
        >>> f = GLM(np.array([[0.0, 2.0]]), [3.0], "squared")
        >>> code, data, indices, indptr, y, C = f.kernel_arrays()
        >>> code, data, indices, indptr, C
        (0, array([2.]), array([1], dtype=int32), array([0, 1], dtype=int32), 1)
        """
        if self._csr is None:
            self._csr = self.X if sp.issparse(self.X) else sp.csr_matrix(self.X)
        A = self._csr
        return self.code, A.data, A.indices, A.indptr, self.y, self.C

    # ------------------------------------------------------------------ helpers
    def _vector(self, w, name):
        w = np.ascontiguousarray(w, dtype=np.float64)
        if w.shape != (self.n_variables,):
            raise ValueError(f"{name} must have shape ({self.n_variables},) "
                             f"(d * C = {self.n_features} * {self.C}); got {w.shape}.")
        return w

    def _select(self, rows):
        """``(r0, r1, None)`` for a contiguous range of rows, ``(0, 0, idx)`` for an index array."""
        N = self.n_samples
        if rows is None:
            return 0, N, None
        if isinstance(rows, slice):
            r = range(N)[rows]
            if len(r) == 0:
                raise ValueError(f"rows={rows!r} selects no row of the {N} rows.")
            if r.step == 1:
                return r.start, r.stop, None
            return 0, 0, np.arange(r.start, r.stop, r.step, dtype=np.int64)
        idx = np.asarray(rows)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(f"rows must be None, a slice or a 1-D array of integer row indices; got "
                             f"{type(rows).__name__} of dtype {idx.dtype} and shape {idx.shape}.")
        if idx.size == 0:
            raise ValueError("rows selects no row (an empty index array).")
        if idx.min() < 0 or idx.max() >= N:
            raise ValueError(f"rows must hold indices in [0, {N}); got values from {idx.min()} to {idx.max()}.")
        return 0, 0, idx.astype(np.int64, copy=False)

    def _scale(self, sel):
        r0, r1, idx = sel
        n = r1 - r0 if idx is None else idx.size
        return 1.0 / n if self.reduction == "mean" else 1.0

    def _selected_rows(self, sel):
        r0, r1, idx = sel
        if idx is None:
            return self.X[r0:r1], self.y[r0:r1]
        return self.X[idx], self.y[idx]

    def _margins(self, w, sel):
        Xr, yr = self._selected_rows(sel)
        return Xr, yr, np.ascontiguousarray(np.asarray(Xr @ w.reshape(-1, self.C)).reshape(-1))

    # ------------------------------------------------------------------ oracle
    def value(self, w, rows=None) -> float:
        """Objective at ``w`` on the selected rows.

        Examples
        --------
        >>> f = GLM(np.eye(2), np.array([1.0, 3.0]), "squared", l2=1.0)
        >>> f.value(np.array([1.0, 1.0])), f.value(np.array([1.0, 1.0]), rows=slice(1, 2))
        (2.0, 3.0)
        """
        w = self._vector(w, "w")
        sel = self._select(rows)
        mean = self.reduction == "mean"
        if sp.issparse(self.X):
            code, data, indices, indptr, y, C = self.kernel_arrays()
            r0, r1, idx = sel
            if idx is None:
                loss = self._K.csr_range_loss(code, data, indices, indptr, y, w, C, r0, r1, mean)
            else:
                loss = self._K.csr_batch_loss(code, data, indices, indptr, y, w, C, idx, mean)
        else:
            _, yr, z = self._margins(w, sel)
            loss = self._scale(sel) * self._K.margin_losses(self.code, z, yr, self.C, np.empty(yr.size),
                                                            np.empty(z.size))
        return float(loss) + 0.5 * self.l2 * float(w @ w)

    def value_and_grad(self, w, rows=None):
        """Objective and gradient at ``w`` on the selected rows.

        Examples
        --------
        >>> f = GLM(np.eye(2), np.array([1.0, 3.0]), "squared", reduction="sum")
        >>> f.value_and_grad(np.zeros(2), rows=np.array([1, 1]))
        (9.0, array([ 0., -6.]))
        """
        w = self._vector(w, "w")
        sel = self._select(rows)
        g = np.empty(self.n_variables)
        mean = self.reduction == "mean"
        if sp.issparse(self.X):
            code, data, indices, indptr, y, C = self.kernel_arrays()
            r0, r1, idx = sel
            if idx is None:
                loss = self._K.csr_range_loss_grad(code, data, indices, indptr, y, w, C, r0, r1, mean, g)
            else:
                loss = self._K.csr_batch_loss_grad(code, data, indices, indptr, y, w, C, idx, mean, g)
        else:
            Xr, yr, z = self._margins(w, sel)
            slopes = np.empty(z.size)
            scale = self._scale(sel)
            loss = scale * self._K.margin_losses(self.code, z, yr, self.C, np.empty(yr.size), slopes)
            g[:] = scale * (Xr.T @ slopes.reshape(-1, self.C)).reshape(-1)
        if self.l2:
            g += self.l2 * w
        return float(loss) + 0.5 * self.l2 * float(w @ w), g

    def grad(self, w, rows=None) -> np.ndarray:
        """Gradient at ``w`` on the selected rows.

        Examples
        --------
        >>> f = GLM(np.eye(2), np.array([0, 1]), "softmax")
        >>> f.grad(np.zeros(4))
        array([-0.25,  0.25,  0.25, -0.25])
        """
        return self.value_and_grad(w, rows)[1]

    def hessp(self, w, v, rows=None) -> np.ndarray:
        """Hessian at ``w`` (on the selected rows) times ``v``.

        Examples
        --------
        >>> f = GLM(np.array([[1.0, 2.0]]), np.array([1.0]), "logistic")
        >>> f.hessp(np.zeros(2), np.array([1.0, 0.0]))
        array([0.25, 0.5 ])
        """
        w = self._vector(w, "w")
        v = self._vector(v, "v")
        sel = self._select(rows)
        out = np.empty(self.n_variables)
        mean = self.reduction == "mean"
        if sp.issparse(self.X):
            code, data, indices, indptr, y, C = self.kernel_arrays()
            r0, r1, idx = sel
            if idx is None:
                self._K.csr_range_hessp(code, data, indices, indptr, y, w, v, C, r0, r1, mean, out)
            else:
                self._K.csr_batch_hessp(code, data, indices, indptr, y, w, v, C, idx, mean, out)
        else:
            Xr, yr, z = self._margins(w, sel)
            u = np.ascontiguousarray((Xr @ v.reshape(-1, self.C)).reshape(-1))
            hu = np.empty(z.size)
            self._K.margin_hessp(self.code, z, yr, self.C, u, hu)
            out[:] = self._scale(sel) * (Xr.T @ hu.reshape(-1, self.C)).reshape(-1)
        if self.l2:
            out += self.l2 * v
        return out

    def row_losses(self, w, rows=None):
        """Loss of each selected row at ``w`` and its derivatives in the margins, unscaled.

        Returns ``(losses, slopes)`` of shapes ``(n,)`` and ``(n, C)`` (n the number of selected
        rows): the pieces of per-sample weighted objectives, whose gradient is
        ``X[rows].T @ (weights[:, None] * slopes)``.

        Examples
        --------
        >>> f = GLM(np.eye(2), np.array([1.0, 3.0]), "squared")
        >>> f.row_losses(np.zeros(2))
        (array([0.5, 4.5]), array([[-1.],
               [-3.]]))
        """
        w = self._vector(w, "w")
        _, yr, z = self._margins(w, self._select(rows))
        losses, slopes = np.empty(yr.size), np.empty(z.size)
        self._K.margin_losses(self.code, z, yr, self.C, losses, slopes)
        return losses, slopes.reshape(-1, self.C)

    def curvature_weights(self, w, rows=None) -> np.ndarray:
        """Second derivatives of the (mean- or sum-scaled) row losses in their margins at ``w``.

        Shape ``(n,)`` for one output, so that the Hessian is ``X^T diag(weights) X + l2 I``;
        ``(n, C, C)`` for softmax, the row Hessians ``(diag(p) - p p^T)`` times the scale
        (n the number of selected rows).

        Examples
        --------
        >>> f = GLM(np.array([[1.0], [2.0]]), np.array([1.0, -1.0]), "logistic")
        >>> f.curvature_weights(np.zeros(1))
        array([0.125, 0.125])
        """
        w = self._vector(w, "w")
        sel = self._select(rows)
        _, yr, z = self._margins(w, sel)
        C = self.C
        out = np.empty(yr.size * C * C)
        self._K.margin_curvatures(self.code, z, yr, C, out)
        out *= self._scale(sel)
        return out if C == 1 else out.reshape(-1, C, C)

    def hess(self, w, rows=None):
        """Hessian at ``w`` on the selected rows: sparse (CSR) when X is sparse, dense otherwise.

        Examples
        --------
        >>> f = GLM(np.array([[1.0, 2.0]]), np.array([1.0]), "squared", l2=1.0)
        >>> f.hess(np.zeros(2))
        array([[2., 2.],
               [2., 5.]])
        """
        w = self._vector(w, "w")
        constant = self.code == 0 and rows is None
        if constant and "hess" in self._cache:
            return self._cache["hess"]
        Xr, _ = self._selected_rows(self._select(rows))
        weights = self.curvature_weights(w, rows)
        n = self.n_variables
        if self.C == 1:
            if sp.issparse(Xr):
                H = (Xr.T @ sp.diags(weights) @ Xr).tocsr()
            else:
                H = Xr.T @ (weights[:, None] * Xr)
        elif sp.issparse(Xr):
            H = sp.csr_matrix((n, n))
            for a in range(self.C):
                for b in range(self.C):
                    unit = sp.csr_matrix(([1.0], ([a], [b])), shape=(self.C, self.C))
                    H = H + sp.kron(Xr.T @ sp.diags(weights[:, a, b]) @ Xr, unit, format="csr")
        else:
            H = np.einsum("ij,iab,ik->jakb", Xr, weights, Xr).reshape(n, n)
        if self.l2:
            H = (H + self.l2 * sp.identity(n, format="csr")).tocsr() if sp.issparse(H) else H + self.l2 * np.eye(n)
        if constant:
            self._cache["hess"] = H
        return H

    # ------------------------------------------------------------------ constants
    def _spectral_norm_sq(self, method):
        key = ("norm", method)
        if key not in self._cache:
            X = self.X
            if min(X.shape) == 1:
                top = float(X.multiply(X).sum()) if sp.issparse(X) else float(np.sum(X * X))
            elif method == "exact" or (method == "auto" and not sp.issparse(X) and min(X.shape) <= 200):
                top = float(np.linalg.norm(X.toarray() if sp.issparse(X) else X, 2)) ** 2
            else:
                from scipy.sparse.linalg import svds

                top = float(svds(X, k=1, return_singular_vectors=False, random_state=0)[0]) ** 2
            self._cache[key] = top
        return self._cache[key]

    def lipschitz(self, method: str = "auto") -> float:
        """Lipschitz constant of the gradient: ``c ||X||_2^2 / N + l2`` (without ``/ N`` for ``'sum'``).

        ``c`` is 1 (squared), 1/4 (logistic) or 1/2 (softmax). ``method``: ``'exact'`` (a dense
        SVD), ``'svds'`` (scipy's ``svds(k=1, random_state=0)``) or ``'auto'`` (exact for a dense
        X with at most 200 rows or columns, svds otherwise).

        Examples
        --------
        >>> GLM(np.array([[3.0, 0.0], [0.0, 1.0]]), [1.0, -1.0], "logistic", l2=0.5).lipschitz()
        1.625
        """
        check_choice("method", method, ("auto", "exact", "svds"))
        scale = 1.0 / self.n_samples if self.reduction == "mean" else 1.0
        return _CURVATURE[self.loss] * scale * self._spectral_norm_sq(method) + self.l2

    def coordinate_lipschitz(self) -> np.ndarray:
        """Lipschitz constants of the partial derivatives: ``c ||X[:, j]||^2 / N + l2`` per variable.

        ``c`` is 1 (squared) or 1/4 (logistic, softmax: the largest diagonal entry of a row
        Hessian); softmax repeats each feature's constant for its C variables.

        Examples
        --------
        >>> GLM(np.array([[1.0, 0.0], [0.0, 2.0]]), [0.0, 0.0], "squared").coordinate_lipschitz()
        array([0.5, 2. ])
        """
        X = self.X
        sq = np.asarray(X.multiply(X).sum(axis=0)).ravel() if sp.issparse(X) else np.einsum("ij,ij->j", X, X)
        scale = 1.0 / self.n_samples if self.reduction == "mean" else 1.0
        return np.repeat(_COORD_CURVATURE[self.loss] * scale * sq, self.C) + self.l2

    def lam_max_l1(self) -> float:
        """Smallest L1 weight ``lam`` for which ``w = 0`` minimizes the objective plus ``lam ||w||_1``.

        It is ``||grad(0)||_inf`` (the l2 term has no gradient at 0).

        Examples
        --------
        >>> GLM(np.eye(2), np.array([3.0, 0.1]), "squared").lam_max_l1()
        1.5
        """
        return float(np.max(np.abs(self.grad(np.zeros(self.n_variables)))))


def _as_data(X):
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        check_finite(X, "X")
    else:
        X = np.ascontiguousarray(as_float_array(X, "X", ndim=2), dtype=np.float64)
    if X.shape[0] == 0:
        raise ValueError("X has no rows.")
    return X


def _check_labels(loss, y, n_classes) -> int:
    """Validate the targets of ``loss``; return the number of outputs C."""
    if loss != "softmax":
        if n_classes not in (None, 1):
            raise ValueError(f"n_classes is only for loss='softmax'; got n_classes={n_classes!r} with "
                             f"loss={loss!r}.")
        if loss == "logistic":
            bad = np.unique(y[np.abs(y) != 1.0])
            if bad.size:
                raise ValueError(f"y must hold labels in {{-1, +1}} for loss='logistic'; got {bad.size} other "
                                 f"value(s), e.g. {bad[:5].tolist()}.")
        return 1
    bad = np.unique(y[(y < 0) | (y != np.round(y))])
    if bad.size:
        raise ValueError(f"y must hold integer class labels >= 0 for loss='softmax'; got {bad[:5].tolist()}.")
    if n_classes is None:
        n_classes = int(y.max()) + 1
    check_positive("n_classes", n_classes, integer=True)
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2 for loss='softmax'; got n_classes={n_classes}.")
    if y.max() >= n_classes:
        raise ValueError(f"y must hold class labels in [0, {n_classes}) for n_classes={n_classes}; got "
                         f"label {int(y.max())}.")
    return int(n_classes)
