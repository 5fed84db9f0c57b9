"""Separable problems over a network: min_x sum_i f_i(x), node i holding f_i and its data.

:class:`SeparableProblem` takes any local gradient ``grad(i, x)``; :class:`LocalDataProblem`
holds local datasets for distributed ridge or L2-regularized logistic regression (rows of a
CSR matrix split across the nodes), which the Numba event kernels evaluate directly. The
builders :func:`ridge_problem`, :func:`logistic_problem`, :func:`from_dataset` and
:func:`libsvm_problem` split a dataset by rows.

Every local function is assumed ``L``-smooth and ``mu``-strongly convex; the data problems
compute both constants (largest and smallest over the nodes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from .._core.validate import as_float_array, check_choice, check_positive, check_rng
from ..losses import check_loss, loss_code
from ..oracles import Problem

__all__ = ["LocalDataProblem", "SeparableProblem", "from_dataset", "libsvm_problem", "logistic_problem",
           "ridge_problem"]

LOSSES = ("squared", "logistic")


def check_constants(L, mu) -> tuple[float, float]:
    """Validate the smoothness ``L`` and strong convexity ``mu`` (0 < mu <= L).

    Examples
    --------
    >>> check_constants(2, 1)
    (2.0, 1.0)
    >>> check_constants(1.0, 0.0)
    Traceback (most recent call last):
    ...
    ValueError: mu must be > 0 (every f_i strongly convex); got mu=0.0.
    """
    for name, v in (("L", L), ("mu", mu)):
        if isinstance(v, bool) or not np.isscalar(v) or not np.isfinite(float(v)):
            raise ValueError(f"{name} must be a finite real number; got {v!r}.")
    L, mu = float(L), float(mu)
    if mu <= 0:
        raise ValueError(f"mu must be > 0 (every f_i strongly convex); got mu={mu!r}.")
    if L < mu:
        raise ValueError(f"L must be >= mu (smoothness at least strong convexity); got L={L!r} < mu={mu!r}.")
    return L, mu


class SeparableProblem(Problem):
    """min_x sum_{i<n_nodes} f_i(x) with f_i known only to node i.

    Parameters
    ----------
    grad : callable
        ``grad(i, x) -> (dim,)``: gradient of f_i at x.
    n_nodes, dim : int
        Number of nodes and of variables.
    L, mu : float
        Every f_i is L-smooth and mu-strongly convex (0 < mu <= L).
    x_star : array, optional
        The minimizer of the sum, used to measure (1/n) sum ||x_i - x*||^2.
    conj_grad : callable, optional
        ``conj_grad(i, y) -> (dim,)``: gradient of the conjugate f_i^* (dual methods).

    Notes
    -----
    ``n`` is the number of variables (``dim``), as for every numopt problem.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[1.0], [3.0]])
    >>> p = SeparableProblem(lambda i, x: x - c[i], n_nodes=2, dim=1, L=1.0, mu=1.0, x_star=[2.0])
    >>> p.local_grad(1, np.zeros(1)), p.counts()
    (array([-3.]), {'ngrad': 1})
    """

    def __init__(self, grad: Callable, n_nodes: int, dim: int, L: float, mu: float, x_star=None,
                 conj_grad: Callable | None = None, name: str = "separable"):
        if not callable(grad):
            raise TypeError(f"grad must be callable grad(i, x); got {type(grad).__name__}.")
        self._grad = grad
        self._conj = conj_grad
        self.n_nodes = check_positive("n_nodes", n_nodes, integer=True)
        self.dim = check_positive("dim", dim, integer=True)
        self.n = self.dim
        self.L, self.mu = check_constants(L, mu)
        self._x_star = None if x_star is None else as_float_array(x_star, "x_star", shape=(self.dim,))
        self.name = name
        self.ngrad = 0

    @property
    def capabilities(self):
        caps = {"local_grad"}
        if self._conj is not None:
            caps.add("local_conj_grad")
        if self._x_star is not None:
            caps.add("x_star")
        return frozenset(caps)

    @property
    def kappa(self) -> float:
        """Condition number L / mu."""
        return self.L / self.mu

    def local_grad(self, i: int, x) -> np.ndarray:
        """Gradient of f_i at x (counted in ``ngrad``)."""
        self.ngrad += 1
        return np.asarray(self._grad(int(i), x), dtype=float).reshape(self.dim)

    def grad_all(self, X) -> np.ndarray:
        """Row i: gradient of f_i at X[i] (counts n_nodes gradients)."""
        return np.stack([self.local_grad(i, X[i]) for i in range(self.n_nodes)])

    def local_conj_grad(self, i: int, y) -> np.ndarray:
        """Gradient of the conjugate f_i^* at y (counted in ``ngrad``)."""
        self.require("local_conj_grad", solver="this dual method")
        self.ngrad += 1
        return np.asarray(self._conj(int(i), y), float).reshape(self.dim)

    def conj_grad_all(self, Y) -> np.ndarray:
        """Row i: gradient of the conjugate f_i^* at Y[i]."""
        self.require("local_conj_grad", solver="this dual method")
        self.ngrad += self.n_nodes
        return np.stack([np.asarray(self._conj(i, Y[i]), float).reshape(self.dim) for i in range(self.n_nodes)])

    def x_star(self) -> np.ndarray:
        """The minimizer of sum_i f_i."""
        self.require("x_star", solver="the error measurement")
        return self._x_star

    def kernel_data(self):
        """Arrays for the Numba kernels, or ``None`` when gradients are only available from Python."""
        return None

    def counts(self):
        return {"ngrad": self.ngrad}

    def reset_counts(self):
        self.ngrad = 0


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


class LocalDataProblem(SeparableProblem):
    """Distributed ridge or L2-logistic regression: rows of ``A`` split across the nodes.

    Node i holds rows ``node_ptr[i]:node_ptr[i+1]`` (m_i rows) and
    ``f_i(x) = (1/m_i) sum_rows loss(a^T x, b) + (reg/2) ||x||^2`` with
    ``loss = (s - b)^2 / 2`` ('squared'; 'ridge' is its deprecated alias) or
    ``log(1 + exp(-b s))`` ('logistic', b in {-1, +1}).

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
    >>> p = LocalDataProblem(A, np.array([1.0, 2.0, 3.0, 0.0]), node_ptr=[0, 2, 4], loss="squared", reg=0.1)
    >>> p.n_nodes, p.dim, round(p.L, 3), round(p.mu, 3)
    (2, 2, 1.1, 0.6)
    >>> g = sum(p.local_grad(i, p.x_star()) for i in range(2))
    >>> bool(np.abs(g).max() < 1e-10)
    True
    """

    def __init__(self, A, b, node_ptr, loss: str = "squared", reg: float = 0.1, name: str | None = None):
        loss = check_loss(loss)
        check_choice("loss", loss, LOSSES)
        check_positive("reg", reg, strict=loss == "logistic")
        A = sp.csr_matrix(A, dtype=float)
        A.sort_indices()
        b = as_float_array(b, "b", shape=(A.shape[0],))
        node_ptr = np.asarray(node_ptr, dtype=np.int64)
        if node_ptr.ndim != 1 or node_ptr[0] != 0 or node_ptr[-1] != A.shape[0] or np.any(np.diff(node_ptr) < 1):
            raise ValueError("node_ptr must increase from 0 to the number of rows, each node holding >= 1 row.")
        if loss == "logistic" and not np.all(np.isin(b, (-1.0, 1.0))):
            raise ValueError("logistic labels b must lie in {-1, +1}.")
        self.A, self.b, self.node_ptr, self.loss, self.reg = A, b, node_ptr, loss, float(reg)
        n_nodes = node_ptr.size - 1
        self.m = np.diff(node_ptr).astype(float)
        self._owner = np.repeat(np.arange(n_nodes), np.diff(node_ptr))
        self._S = sp.csr_matrix((1.0 / self.m[self._owner], (self._owner, np.arange(A.shape[0]))),
                                shape=(n_nodes, A.shape[0]))
        L, mu = self._constants()
        conj = self._make_conj() if loss == "squared" else None
        super().__init__(self._grad_i, n_nodes, A.shape[1], L, mu, x_star=None, conj_grad=conj,
                         name=name or f"{loss}-{n_nodes}-nodes")
        self._x_star = self._solve()

    def block(self, i: int):
        """(A_i, b_i): the rows of node i."""
        r0, r1 = self.node_ptr[i], self.node_ptr[i + 1]
        return self.A[r0:r1], self.b[r0:r1]

    def _constants(self):
        scale = 0.25 if self.loss == "logistic" else 1.0
        lmax, lmin = [], []
        for i in range(self.node_ptr.size - 1):
            Ai, _ = self.block(i)
            if Ai.shape[1] <= 1500:
                ev = np.linalg.eigvalsh((Ai.T @ Ai).toarray() / self.m[i])
                lmax.append(ev[-1])
                lmin.append(ev[0] if self.loss == "squared" else 0.0)
            else:
                from scipy.sparse.linalg import svds

                s = svds(Ai, k=1, return_singular_vectors=False)[0] if min(Ai.shape) > 1 else abs(Ai).sum()
                lmax.append(s**2 / self.m[i])
                lmin.append(0.0)
        L = scale * max(lmax) + self.reg
        mu = (max(min(lmin), 0.0) if self.loss == "squared" else 0.0) + self.reg
        if mu <= 0:
            raise ValueError("the local ridge objectives are not strongly convex: give reg > 0.")
        return L, mu

    def _coef(self, s, b):
        if self.loss == "squared":
            return s - b
        return -b * _sigmoid(-b * s)

    def _grad_i(self, i, x):
        Ai, bi = self.block(i)
        x = np.asarray(x, dtype=float)
        return Ai.T @ self._coef(Ai @ x, bi) / self.m[i] + self.reg * x

    def grad_all(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        s = np.asarray(self.A.multiply(X[self._owner]).sum(axis=1)).ravel()
        coef = self._coef(s, self.b)
        rows = self.A.multiply(coef[:, None]).tocsr()
        G = np.asarray((self._S @ rows).todense()) + self.reg * X
        self.ngrad += self.n_nodes
        return G

    def _make_conj(self):
        d = self.A.shape[1]
        chol, rhs = [], []
        for i in range(self.node_ptr.size - 1):
            Ai, bi = self.block(i)
            H = (Ai.T @ Ai).toarray() / self.m[i] + self.reg * np.eye(d)
            chol.append(np.linalg.inv(H))
            rhs.append(Ai.T @ bi / self.m[i])
        self.Hinv = np.ascontiguousarray(np.stack(chol))
        self.c = np.ascontiguousarray(np.stack(rhs))

        def conj(i, y):
            return self.Hinv[i] @ (np.asarray(y, float) + self.c[i])

        return conj

    def conj_grad_all(self, Y) -> np.ndarray:
        self.require("local_conj_grad", solver="this dual method")
        self.ngrad += self.n_nodes
        return np.einsum("ijk,ik->ij", self.Hinv, np.asarray(Y, float) + self.c)

    def fun(self, x) -> float:
        """Global objective sum_i f_i(x)."""
        s = self.A @ x
        if self.loss == "squared":
            per_row = 0.5 * (s - self.b) ** 2
        else:
            per_row = np.logaddexp(0.0, -self.b * s)
        return float((self._S @ per_row).sum() + 0.5 * self.n_nodes * self.reg * x @ x)

    def _global_grad(self, x):
        coef = self._coef(self.A @ x, self.b)
        w = np.asarray(self._S.sum(axis=0)).ravel()
        return self.A.T @ (w * coef) + self.n_nodes * self.reg * x

    def _solve(self) -> np.ndarray:
        d = self.dim
        w = np.asarray(self._S.sum(axis=0)).ravel()  # 1/m_i on each row of node i
        if self.loss == "squared":
            H = self.A.T @ self.A.multiply(w[:, None]) + self.n_nodes * self.reg * sp.eye(d)
            rhs = self.A.T @ (w * self.b)
            if d <= 3000:
                return np.linalg.solve(H.toarray(), rhs)
            from scipy.sparse.linalg import spsolve

            return spsolve(H.tocsc(), rhs)
        x = np.zeros(d)
        for _ in range(100):
            s = self.A @ x
            g = self._global_grad(x)
            if np.linalg.norm(g) <= 1e-13 * max(1.0, np.linalg.norm(self.A.T @ (w * self.b))):
                break
            p = _sigmoid(self.b * s)
            curv = w * p * (1 - p)
            H = self.A.T @ self.A.multiply(curv[:, None]) + self.n_nodes * self.reg * sp.eye(d)
            if d <= 3000:
                step = np.linalg.solve(H.toarray(), g)
            else:
                from scipy.sparse.linalg import cg

                step = cg(H, g, rtol=1e-12, maxiter=10 * d)[0]
            t, f0 = 1.0, self.fun(x)
            while self.fun(x - t * step) > f0 - 0.25 * t * g @ step and t > 1e-10:
                t *= 0.5
            x = x - t * step
        return x

    def kernel_data(self):
        """(kind, data, indices, indptr, node_ptr, b, reg) for the Numba kernels (kind 0 squared, 1 logistic)."""
        return (loss_code(self.loss), self.A.data, self.A.indices.astype(np.int64),
                self.A.indptr.astype(np.int64), self.node_ptr, self.b, self.reg)


def _split(n_rows: int, n_nodes: int) -> np.ndarray:
    if n_rows < n_nodes:
        raise ValueError(f"cannot split {n_rows} rows over n_nodes={n_nodes} nodes (need >= 1 row per node).")
    return np.linspace(0, n_rows, n_nodes + 1).round().astype(np.int64)


def from_dataset(X, y, n_nodes: int, loss: str = "squared", reg: float = 0.1, shuffle: bool = True, seed=None,
                 name: str | None = None) -> LocalDataProblem:
    """Split the rows of ``(X, y)`` into ``n_nodes`` nearly equal local datasets.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> p = from_dataset(X, X @ [1.0, -2.0, 0.5], n_nodes=4, reg=1e-3, seed=0)
    >>> np.round(p.x_star(), 2)
    array([ 1. , -2. ,  0.5])
    """
    check_positive("n_nodes", n_nodes, integer=True)
    X = sp.csr_matrix(X, dtype=float) if sp.issparse(X) else as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", shape=(X.shape[0],))
    if shuffle:
        perm = check_rng(seed).permutation(X.shape[0])
        X, y = X[perm], y[perm]
    return LocalDataProblem(X, y, _split(X.shape[0], n_nodes), loss=loss, reg=reg, name=name)


def ridge_problem(n_nodes: int, m_per_node: int = 20, dim: int = 10, reg: float = 0.1, noise: float = 1.0,
                  seed=None) -> LocalDataProblem:
    """Distributed ridge regression on scikit-learn's ``make_regression`` split over ``n_nodes``.

    Features are standardized and targets scaled to unit variance so that L is of order one.

    Examples
    --------
    >>> p = ridge_problem(n_nodes=5, seed=0)
    >>> p.n_nodes, p.dim, p.loss
    (5, 10, 'squared')
    """
    from sklearn.datasets import make_regression

    rs = int(check_rng(seed).integers(2**31 - 1))
    X, y = make_regression(n_nodes * m_per_node, dim, noise=noise, random_state=rs)
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    return from_dataset(X, y, n_nodes, loss="squared", reg=reg, shuffle=False, name=f"ridge-{n_nodes}-nodes")


def logistic_problem(n_nodes: int, m_per_node: int = 20, dim: int = 10, reg: float = 0.1,
                     seed=None) -> LocalDataProblem:
    """Distributed L2-logistic regression on ``make_classification`` split over ``n_nodes``.

    Examples
    --------
    >>> p = logistic_problem(n_nodes=4, seed=0)
    >>> p.loss, p.mu
    ('logistic', 0.1)
    """
    from sklearn.datasets import make_classification

    rs = int(check_rng(seed).integers(2**31 - 1))
    X, y = make_classification(n_nodes * m_per_node, dim, n_informative=max(2, dim // 2), n_redundant=0,
                               random_state=rs)
    X = (X - X.mean(0)) / X.std(0)
    return from_dataset(X, 2.0 * y - 1.0, n_nodes, loss="logistic", reg=reg, shuffle=False,
                        name=f"logistic-{n_nodes}-nodes")


def libsvm_problem(name: str, n_nodes: int, loss: str = "logistic", reg: float = 0.1, seed=None,
                   max_rows: int | None = None) -> LocalDataProblem:
    """A LIBSVM dataset (``numopt.problems.libsvm.load``) split by rows over ``n_nodes``.

    Rows are shuffled with ``seed``; ``max_rows`` keeps only the first rows after shuffling.
    Each row is scaled to unit Euclidean norm so that L <= 1/4 + reg (logistic).

    Examples
    --------
    >>> p = libsvm_problem("heart_scale", n_nodes=10, seed=0)
    >>> p.n_nodes, p.dim
    (10, 13)
    """
    from ..problems.libsvm import load

    X, y = load(name)
    X = sp.csr_matrix(X, dtype=float)
    perm = check_rng(seed).permutation(X.shape[0])[: max_rows or X.shape[0]]
    X, y = X[perm], np.asarray(y, float)[perm]
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(1.0 / np.maximum(norms, 1e-300)) @ X
    return from_dataset(X, y, n_nodes, loss=loss, reg=reg, shuffle=False, name=f"{name}-{n_nodes}-nodes")
