"""Block-structured problems for block coordinate descent.

Two families cover the problems of Nutini, Laradji and Schmidt (JMLR 2022):

* :class:`GLMProblem`: ``sum_i loss(a_i^T X, y_i) + l2/2 ||x||^2`` with
  ``X = x.reshape(d, C)``: least squares, binary logistic and softmax (multi-class)
  regression (:func:`least_squares`, :func:`logistic`, :func:`softmax`).
* :class:`QuadraticProblem`: ``1/2 x^T Q x - c^T x`` with a sparse symmetric
  positive definite ``Q``, such as graph label propagation
  (:func:`label_propagation`).

Both add an optional separable ``sum_i l1_i |x_i|`` and an optional ``x >= 0``
constraint. Besides ``fun`` and ``grad`` they expose what block coordinate
descent needs: coordinate Lipschitz constants, blocks of a constant Hessian
upper bound (and of the exact Hessian), the sparse dependency graph, and an
*incremental state* whose gradient is updated after a block step at the cost
of the nonzeros the step touches (rows of the touched columns for GLMs,
columns of ``Q`` for quadratics) instead of a full gradient pass.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp

from .._core.validate import as_float_array, check_choice, check_finite, check_positive, check_symmetric
from ..losses import LOSS_CODES, check_loss
from ..losses import kernels as loss_kernels
from ..oracles import MissingCapabilityError, Problem
from .gap import _gap

__all__ = [
    "BlockProblem",
    "as_block_problem",
    "GLMProblem",
    "QuadraticProblem",
    "label_propagation",
    "least_squares",
    "logistic",
    "softmax",
]

def margin_losses(loss, z, y, C, backend=None):
    """Row losses and their derivatives at the flat margins ``z`` (via :mod:`numopt.losses`)."""
    lrow = np.empty(y.size)
    slopes = np.empty(z.size)
    loss_kernels(backend).margin_losses(LOSS_CODES[loss], np.ascontiguousarray(z, dtype=float), y, C, lrow,
                                        slopes)
    return lrow, slopes


def _losses_at_zero(loss, y, C):
    """:func:`margin_losses` at zero margins: ``y^2 / 2`` and ``-y`` (squared), ``log 2`` and ``-y / 2``
    (logistic, ``y`` in {-1, +1}), without evaluating the loss row by row (softmax: by the kernel)."""
    if loss == "squared":
        return 0.5 * y * y, -y
    if loss == "logistic":
        return np.full(y.size, np.log(2.0)), -0.5 * y
    return margin_losses(loss, np.zeros(y.size * C), y, C)


#: Largest block whose exact Hessian is assembled column pair by column pair (cost |block| nnz(A_block))
#: rather than by a sparse product.
SMALL_BLOCK = 128


def kernels(backend: str | None):
    """The kernel module of ``backend`` (None or 'numba': the Numba kernels; 'numpy': their references)."""
    check_choice("backend", backend, (None, "numba", "numpy"))
    if backend != "numpy":
        from . import _kernels as module
    else:
        from . import _reference as module
    return module


def _penalty(value, n, name):
    """Broadcast a nonnegative penalty to one weight per variable."""
    arr = np.broadcast_to(as_float_array(value, name), (n,)).astype(float)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0; got a negative value ({arr.min():g}).")
    return arr


class BlockProblem(Problem):
    """Base of problems ``f(x) + sum_i l1_i |x_i|`` (optionally ``x >= 0``) with block structure.

    Subclasses implement the smooth part ``f`` and its incremental state.
    Attributes: ``n``, ``x0``, ``l1`` (one weight per variable), ``nonneg``,
    ``grid`` (``(shape, node)`` for lattice problems, else ``None``).

    Evaluations are counted (:meth:`counts`): ``nfev`` objective values,
    ``njev`` full gradients (a full pass over the data, including the exact
    state recomputations of :meth:`refresh`), ``nhev`` Hessian blocks and
    ``nbev`` block evaluations (incremental state updates after a block step
    and block gradients read from the data).
    """

    nonneg: bool = False
    grid = None
    count_names = ("nfev", "njev", "nhev", "nbev")

    @property
    def capabilities(self):
        caps = {"fun", "grad", "hess_bound_block", "hess_block", "coord_lipschitz", "incremental"}
        if self.has_graph:
            caps.add("dependency_graph")
        return frozenset(caps)

    @property
    def has_graph(self) -> bool:
        """True when the Hessian's sparsity pattern is available (needed by forest blocks)."""
        return True

    @property
    def has_l1(self) -> bool:
        return bool(np.any(self.l1 > 0))

    def fun(self, x):
        """Objective value, L1 term included."""
        x = np.asarray(x, float)
        self._count("nfev")
        return self.smooth(x) + float(self.l1 @ np.abs(x))

    def coord_lipschitz(self) -> np.ndarray:
        """Lipschitz constants L_i of the coordinate derivatives (diagonal of the Hessian bound)."""
        if getattr(self, "_L", None) is None:
            self._L = self._coord_lipschitz()
        return self._L

    def hess_bound(self) -> sp.csr_matrix:
        """Constant Hessian upper bound as a sparse matrix (its pattern is the dependency graph)."""
        if getattr(self, "_H", None) is None:
            H = sp.csr_matrix(self._hess_bound())
            H.sum_duplicates()
            H.sort_indices()
            self._H = H
        return self._H

    def kkt(self, x) -> float:
        """Infinity norm of the minimum-norm subgradient (0 exactly at a solution)."""
        from ._kernels import min_norm_subgrad

        x = np.asarray(x, float)
        out = np.empty(self.n)
        min_norm_subgrad(self.grad(x), x, self.l1, self.nonneg, np.arange(self.n), out)
        return float(np.max(np.abs(out))) if self.n else 0.0

    def _finish_state(self, st):
        st.f = st.fsmooth + float(self.l1 @ np.abs(st.x))
        return st


class GLMProblem(BlockProblem):
    """``sum_i loss(a_i^T X, y_i) + l2/2 ||x||^2 + sum_j l1_j |x_j|`` with ``X = x.reshape(d, C)``.

    Parameters
    ----------
    A : (m, d) array or sparse matrix
    y : (m,) array
        Targets (squared), labels in {-1, +1} (logistic) or class indices 0..C-1 (softmax).
    loss : {'squared', 'logistic', 'softmax'}
    n_classes : int
        C for softmax (1 otherwise).
    l1, l2 : float or array
        Penalty weights (``l1`` per variable, ``l2`` a scalar).
    nonneg : bool
        Constrain x >= 0.
    check_input : bool
        Check that ``A`` and ``y`` are finite (False: the caller has, as the estimators do).

    Notes
    -----
    Hessian upper bounds: ``A^T A`` (squared), ``A^T A / 4`` (logistic),
    ``A^T A (x) (I - 11^T / C) / 2`` (softmax, Böhning's bound), plus ``l2 I``.
    """

    def __init__(self, A, y, loss="squared", *, n_classes: int = 1, l1=0.0, l2: float = 0.0,
                 nonneg: bool = False, x0=None, name: str | None = None, check_input: bool = True):
        loss = check_loss(loss)
        if not (sp.issparse(A) and A.format == "csc" and A.dtype == np.float64 and A.has_canonical_format):
            # a canonical float CSC matrix is used as given (read only; its cached format flags spare a pass)
            A = sp.csc_matrix(A, dtype=float) if sp.issparse(A) else sp.csc_matrix(
                as_float_array(A, "A", ndim=2, finite=False))
            A.sum_duplicates()
            A.sort_indices()
        if check_input:
            check_finite(A, "A")
        m, d = A.shape
        y = as_float_array(y, "y", shape=(m,), finite=check_input)
        C = int(n_classes) if loss == "softmax" else 1
        if loss == "softmax":
            check_positive("n_classes", n_classes, integer=True)
            if np.any((y < 0) | (y >= C) | (y != np.round(y))):
                raise ValueError(f"y must hold class indices 0..{C - 1} for the softmax loss.")
        elif loss == "logistic" and not np.all(np.abs(y) == 1.0):
            raise ValueError("y must hold labels -1 and +1 for the logistic loss.")
        check_positive("l2", l2, strict=False)
        self.A, self.y, self.loss, self.C = A, y, loss, C
        self._Ar = self._At = None
        self.m, self.d = m, d
        self.n = d * C
        self.l1 = _penalty(l1, self.n, "l1")
        self.l2 = float(l2)
        self.nonneg = bool(nonneg)
        self.x0 = np.zeros(self.n) if x0 is None else as_float_array(x0, "x0", shape=(self.n,))
        self.name = name or f"{loss} ({m} x {d}{f', {C} classes' if C > 1 else ''})"
        self._scale = {"squared": 1.0, "logistic": 0.25, "softmax": 0.5}[loss]
        self._L = self._H = None

    @property
    def has_graph(self):
        return self.C == 1

    @property
    def Ar(self):
        """A in CSR form (built on first use: only gradient tracking reads rows)."""
        if self._Ar is None:
            self._Ar = self.A.tocsr()
        return self._Ar

    @property
    def At(self):
        """A transposed, a CSR view of the CSC arrays (built once: a gradient pass without a new object)."""
        if self._At is None:
            self._At = self.A.T
        return self._At

    def _class_factor(self, cls_a, cls_b):
        if self.C == 1:
            return self._scale
        return self._scale * ((cls_a[:, None] == cls_b[None, :]) - 1.0 / self.C)

    def smooth(self, x):
        """Smooth part ``sum_i loss(a_i^T X, y_i) + l2/2 ||x||^2`` (not counted: :meth:`fun` counts)."""
        x = np.asarray(x, float)
        Z = self.A @ x.reshape(self.d, self.C)
        lrow, _ = margin_losses(self.loss, Z.reshape(-1), self.y, self.C)
        return float(lrow.sum() + 0.5 * self.l2 * (x @ x))

    def grad(self, x):
        """Gradient of the smooth part (one full pass over A)."""
        x = np.asarray(x, float)
        self._count("njev")
        Z = self.A @ x.reshape(self.d, self.C)
        _, slopes = margin_losses(self.loss, Z.reshape(-1), self.y, self.C)
        return np.asarray(self.A.T @ slopes.reshape(self.m, self.C)).reshape(-1) + self.l2 * x

    def _coord_lipschitz(self):
        col_sq = np.asarray(self.A.multiply(self.A).sum(axis=0)).reshape(-1)
        diag = self._scale * (1.0 - 1.0 / self.C) if self.C > 1 else self._scale
        return np.repeat(col_sq * diag, self.C) + self.l2

    def _hess_bound(self):
        if self.C > 1:
            raise ValueError("the softmax problem has no sparse Hessian bound (classes couple every feature).")
        return self._scale * (self.A.T @ self.A) + self.l2 * sp.eye(self.n)

    def hess_bound_matvec(self, v):
        """Product of the Hessian upper bound with ``v``: cost nnz(A)."""
        V = np.asarray(v, float).reshape(self.d, self.C)
        M = self.A @ V
        if self.C > 1:
            M = self._scale * (M - M.mean(axis=1, keepdims=True))
        else:
            M = self._scale * M
        return np.asarray(self.A.T @ M).reshape(-1) + self.l2 * v

    def _columns(self, idx):
        feats, cls = np.divmod(np.asarray(idx), self.C)
        return feats, cls, self.A[:, feats]

    def hess_bound_block(self, idx):
        """Block of the constant Hessian upper bound: cost of the sparse product A_b^T A_b."""
        self._count("nhev")
        feats, cls, Ab = self._columns(idx)
        H = (Ab.T @ Ab).toarray() * self._class_factor(cls, cls)
        H[np.diag_indices_from(H)] += self.l2
        return H

    def hess_block(self, state, idx):
        """Block of the exact Hessian at the state's point."""
        self._count("nhev")
        idx = np.asarray(idx, np.int64)
        if self.C == 1 and idx.size <= SMALL_BLOCK:
            c = np.ones(self.m) if self.loss == "squared" else np.abs(state.w) * (1.0 - np.abs(state.w))
            H = np.empty((idx.size, idx.size))
            state.K.weighted_gram(self.A.indptr, self.A.indices, self.A.data, idx, c, np.zeros(self.m), H)
            H[np.diag_indices_from(H)] += self.l2
            return H
        feats, cls, Ab = self._columns(idx)
        if self.loss == "squared":
            H = (Ab.T @ Ab).toarray()
        elif self.loss == "logistic":
            s = np.abs(state.w)
            H = (Ab.T @ sp.diags(s * (1.0 - s)) @ Ab).toarray()
        else:
            Ab = Ab.toarray()
            P = state.w.reshape(self.m, self.C) + np.eye(self.C)[self.y.astype(int)]
            Pc = P[:, cls]
            S = (Pc[:, :, None] * ((cls[:, None] == cls[None, :])[None] - Pc[:, None, :]))
            H = np.einsum("ik,il,ikl->kl", Ab, Ab, S)
        H[np.diag_indices_from(H)] += self.l2
        return H

    # incremental state -----------------------------------------------------------------
    def init_state(self, x, *, backend=None, track_grad=True):
        """State at ``x``: z = A X, row losses and derivatives, the gradient when ``track_grad``."""
        st = SimpleNamespace(x=np.array(x, float), K=kernels(backend), track_grad=track_grad)
        st.row_mark = np.zeros(self.m, np.int32)
        st.rows_buf = np.empty(self.m, np.int64)
        st.col_mark = np.zeros(self.d, np.int32)
        st.cols_buf = np.empty(self.d, np.int64)
        self.refresh(st)
        return st

    def refresh(self, st):
        """Recompute the state exactly from ``st.x`` (one full pass over A)."""
        self._count("nfev")
        self._count("njev")
        if st.x.any():
            st.z = np.ascontiguousarray((self.A @ st.x.reshape(self.d, self.C)).reshape(-1))
            st.lrow, st.w = margin_losses(self.loss, st.z, self.y, self.C)
        else:  # the usual start: no product needed, and the row losses at zero margins in closed form
            st.z = np.zeros(self.m * self.C)
            st.lrow, st.w = _losses_at_zero(self.loss, self.y, self.C)
        st.g = np.asarray(self.At @ st.w.reshape(self.m, self.C)).reshape(-1) + self.l2 * st.x
        lrow = st.lrow
        st.fsmooth = float(lrow.sum() + 0.5 * self.l2 * (st.x @ st.x))
        return self._finish_state(st)

    def apply(self, st, idx, delta):
        """x[idx] += delta; update the state. Returns the variables whose gradient changed."""
        idx = np.asarray(idx, np.int64)
        delta = np.ascontiguousarray(delta, dtype=float)
        self._count("nbev")
        xold = st.x[idx]
        st.x[idx] = xold + delta
        A = self.A
        Ar = self.Ar if st.track_grad else A  # rows are read only when the gradient is tracked
        df, nc = st.K.glm_apply(A.indptr, A.indices, A.data, Ar.indptr, Ar.indices, Ar.data, self.C,
                                LOSS_CODES[self.loss], self.y, st.z, st.w, st.lrow, st.g, idx, delta,
                                st.track_grad, st.row_mark, st.rows_buf, st.col_mark, st.cols_buf)
        if self.l2:
            df += self.l2 * float(delta @ (xold + 0.5 * delta))
            st.g[idx] += self.l2 * delta
        st.fsmooth += df
        st.f += df + float(self.l1[idx] @ (np.abs(st.x[idx]) - np.abs(xold)))
        if not st.track_grad:
            return idx
        cols = st.cols_buf[:nc]
        if self.C > 1:
            cols = (cols[:, None] * self.C + np.arange(self.C)).reshape(-1)
        return np.concatenate((cols, idx))

    def block_grad(self, st, idx):
        """Gradient of the smooth part on ``idx``: read from the state, or nnz(A[:, idx]) when untracked."""
        idx = np.asarray(idx, np.int64)
        if st.track_grad:
            return st.g[idx].copy()
        self._count("nbev")
        out = np.empty(idx.size)
        st.K.glm_block_grad(self.A.indptr, self.A.indices, self.A.data, self.C, st.w, idx, out)
        return out + self.l2 * st.x[idx]

    def duality_gap(self, st, grad=None):
        """Duality gap of an L1 least-squares or L1 logistic problem at the state (None if not defined).

        Defined for one output, ``l2 = 0``, no bound constraint and every
        ``l1_j > 0``. The dual point is the rescaled residual ``theta = -w / s``
        with ``s = max(1, max_j |a_j^T w| / l1_j)``; the dual objective is
        ``||y||^2/2 - ||y - theta||^2/2`` (squared) or the summed binary entropy
        of ``y_i theta_i`` (logistic), as in :func:`numopt.bcd.gap.l1_duality_gap`.
        Cost: one pass over A, none when the exact gradient ``grad`` (:meth:`full_grad`) is given.
        """
        if self.C != 1 or self.l2 or self.nonneg or self.loss == "softmax" or np.any(self.l1 <= 0):
            return None
        if grad is None:
            self._count("njev")
        return _gap(self.A, self.y, self.loss, self.l1, st.x, float(st.lrow.sum()), st.w, grad, kernels=st.K)

    def full_grad(self, st):
        """Exact gradient of the smooth part at the state (a full pass when untracked)."""
        if st.track_grad:
            return st.g
        self._count("njev")
        return np.asarray(self.At @ st.w.reshape(self.m, self.C)).reshape(-1) + self.l2 * st.x


class QuadraticProblem(BlockProblem):
    """``1/2 x^T Q x - c^T x + sum_i l1_i |x_i|`` with sparse symmetric positive definite ``Q``.

    Parameters
    ----------
    Q : (n, n) sparse or dense symmetric matrix
    c : (n,) array
    l1 : float or array, optional
    nonneg : bool
    grid : (shape, node), optional
        For lattice problems: the lattice shape and the lattice node (C-order
        index) of each variable; enables the red-black and comb partitions.
    """

    def __init__(self, Q, c, *, l1=0.0, nonneg: bool = False, grid=None, x0=None, name: str = "quadratic"):
        Q = sp.csr_matrix(Q, dtype=float) if sp.issparse(Q) else sp.csr_matrix(as_float_array(Q, "Q", ndim=2))
        check_finite(Q, "Q")
        check_symmetric(Q, "Q")
        Q.sum_duplicates()
        Q.sort_indices()
        self.n = Q.shape[0]
        self.Q = Q
        self.c = as_float_array(c, "c", shape=(self.n,))
        if np.any(Q.diagonal() <= 0):
            raise ValueError("Q must be positive definite; it has a non-positive diagonal entry.")
        self.l1 = _penalty(l1, self.n, "l1")
        self.nonneg = bool(nonneg)
        self.grid = grid
        self.x0 = np.zeros(self.n) if x0 is None else as_float_array(x0, "x0", shape=(self.n,))
        self.name = name
        self._L = self._H = None

    def smooth(self, x):
        x = np.asarray(x, float)
        return float(0.5 * x @ (self.Q @ x) - self.c @ x)

    def grad(self, x):
        """Gradient ``Q x - c``."""
        self._count("njev")
        return self.Q @ np.asarray(x, float) - self.c

    def _coord_lipschitz(self):
        return self.Q.diagonal().copy()

    def _hess_bound(self):
        return self.Q

    def hess_bound_matvec(self, v):
        return self.Q @ v

    def hess_bound_block(self, idx):
        self._count("nhev")
        return self.Q[idx][:, idx].toarray()

    def hess_block(self, state, idx):
        return self.hess_bound_block(idx)

    def init_state(self, x, *, backend=None, track_grad=True):
        """State at ``x``: the gradient Qx - c is always tracked (a block step costs nnz(Q[:, b]))."""
        st = SimpleNamespace(x=np.array(x, float), K=kernels(backend), track_grad=True)
        st.col_mark = np.zeros(self.n, np.int32)
        st.cols_buf = np.empty(self.n, np.int64)
        return self.refresh(st)

    def refresh(self, st):
        self._count("nfev")
        self._count("njev")
        st.g = self.Q @ st.x - self.c
        st.fsmooth = float(0.5 * st.x @ (st.g - self.c))
        return self._finish_state(st)

    def apply(self, st, idx, delta):
        idx = np.asarray(idx, np.int64)
        delta = np.ascontiguousarray(delta, dtype=float)
        self._count("nbev")
        gold = st.g[idx].copy()
        xold = st.x[idx]
        st.x[idx] = xold + delta
        Q = self.Q
        nc = st.K.quad_apply(Q.indptr, Q.indices, Q.data, st.g, idx, delta, st.col_mark, st.cols_buf)
        df = 0.5 * float(delta @ (gold + st.g[idx]))
        st.fsmooth += df
        st.f += df + float(self.l1[idx] @ (np.abs(st.x[idx]) - np.abs(xold)))
        return st.cols_buf[:nc].copy()

    def block_grad(self, st, idx):
        return st.g[np.asarray(idx, np.int64)].copy()

    def full_grad(self, st):
        return st.g


def least_squares(A, b, *, l1=0.0, l2=0.0, nonneg=False, name=None):
    """``1/2 ||A x - b||^2 (+ l2/2 ||x||^2 + l1 ||x||_1)``, optionally with x >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.bcd import least_squares
    >>> p = least_squares(np.eye(3), np.ones(3))
    >>> p.fun(np.ones(3)), p.coord_lipschitz()
    (0.0, array([1., 1., 1.]))
    """
    return GLMProblem(A, b, "squared", l1=l1, l2=l2, nonneg=nonneg, name=name)


def logistic(A, y, *, l1=0.0, l2=0.0, name=None):
    """Binary logistic loss ``sum_i log(1 + exp(-y_i a_i^T x))`` (+ penalties), y in {-1, +1}.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.bcd import logistic
    >>> p = logistic(np.eye(2), [1.0, -1.0])
    >>> round(p.fun(np.zeros(2)), 4)
    1.3863
    """
    return GLMProblem(A, y, "logistic", l1=l1, l2=l2, name=name)


def softmax(A, labels, n_classes, *, l1=0.0, l2=0.0, name=None):
    """Multi-class logistic loss; variables ``x.reshape(d, n_classes)``, labels 0..n_classes-1.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.bcd import softmax
    >>> p = softmax(np.eye(2), [0, 2], 3)
    >>> p.n, round(p.fun(np.zeros(6)), 4)
    (6, 2.1972)
    """
    return GLMProblem(A, labels, "softmax", n_classes=n_classes, l1=l1, l2=l2, name=name)


def as_block_problem(problem):
    """The block-structured form of ``problem`` and the factor its objective is multiplied by.

    A :class:`BlockProblem` is returned as it is (factor 1). A problem with the
    capability ``'glm'`` (the LIBSVM builders :func:`numopt.problems.libsvm.logistic_regression`,
    :func:`~numopt.problems.libsvm.least_squares` and their
    :func:`~numopt.problems.libsvm.l1_regularized` forms) becomes a :class:`GLMProblem`
    on the same data whose objective is ``factor`` times the original (``factor`` is the
    number of samples for a mean loss), so both have the same minimizers.

    Raises
    ------
    MissingCapabilityError
        For any other problem, naming what block coordinate descent needs.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import libsvm
    >>> p = libsvm.l1_regularized(libsvm.least_squares(np.eye(2), np.array([3.0, 0.5])), lam=0.5)
    >>> block, factor = as_block_problem(p)
    >>> factor, block.l1, block.fun(np.ones(2)) / factor == p.fun(np.ones(2))
    (2.0, array([1., 1.]), True)
    """
    if isinstance(problem, BlockProblem):
        return problem, 1.0
    if "glm" not in getattr(problem, "capabilities", ()):
        name = getattr(problem, "name", type(problem).__name__)
        raise MissingCapabilityError(
            f"method='bcd' needs a block-structured problem (block gradients, coordinate Lipschitz constants, "
            f"Hessian-bound blocks), e.g. numopt.bcd.least_squares, logistic, softmax, label_propagation, a "
            f"BlockProblem subclass, or a LIBSVM data-fitting problem (numopt.problems.libsvm); got "
            f"{type(problem).__name__} '{name}'.")
    glm = problem.glm
    factor = float(glm.n_samples) if glm.reduction == "mean" else 1.0
    lam = float(getattr(problem, "lam", 0.0))
    return GLMProblem(glm.X, glm.y, glm.loss, n_classes=glm.C, l1=lam * factor, l2=glm.l2 * factor,
                      x0=problem.x0, name=problem.name), factor


def label_propagation(W, labels, labelled, *, grid_shape=None, name="label propagation"):
    """Quadratic labelling criterion ``1/2 sum_ij w_ij (x_i - x_j)^2`` over the unlabelled nodes.

    The labelled nodes are fixed at ``labels``; the variables are the others,
    in increasing node order. This gives ``Q = (D - W)[U, U]`` (``D`` the
    weighted degrees over all nodes) and ``c = W[U, L] labels[L]``.

    Parameters
    ----------
    W : (N, N) sparse symmetric nonnegative weights with zero diagonal
    labels : (N,) array (only the labelled entries are read)
    labelled : (N,) bool array
    grid_shape : (rows, cols), optional
        Lattice shape when the nodes are a lattice in C order (red-black and comb partitions).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from numopt.bcd import label_propagation
    >>> W = sp.diags([np.ones(2), np.ones(2)], [-1, 1], shape=(3, 3))
    >>> p = label_propagation(W, np.array([0.0, 0.0, 2.0]), np.array([True, False, True]))
    >>> p.Q.toarray(), p.c
    (array([[2.]]), array([2.]))
    """
    W = sp.csr_matrix(W, dtype=float)
    check_finite(W, "W")
    if W.nnz and W.data.min() < 0:
        raise ValueError("W must hold nonnegative weights.")
    labelled = np.asarray(labelled, bool)
    labels = as_float_array(labels, "labels", shape=(W.shape[0],), finite=False)
    if not np.all(np.isfinite(labels[labelled])):
        raise ValueError("labels contains NaN or inf on labelled nodes; expected finite values.")
    U = np.flatnonzero(~labelled)
    Lb = np.flatnonzero(labelled)
    deg = np.asarray(W.sum(axis=1)).reshape(-1)
    Q = (sp.diags(deg) - W)[U][:, U].tocsr()
    c = W[U][:, Lb] @ labels[Lb]
    grid = None if grid_shape is None else (tuple(grid_shape), U)
    return QuadraticProblem(Q, c, grid=grid, name=name)
