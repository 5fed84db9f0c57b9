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

from .._core.validate import as_float_array, check_positive, check_rng
from ..linalg.eigen import extreme_eigenvalues
from ..losses import GLM, check_loss
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
    ``n`` is the number of variables (``dim``), as for every numopt problem. Local gradients
    and local conjugate gradients are counted in ``ngrad`` (``count_names``).

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[1.0], [3.0]])
    >>> p = SeparableProblem(lambda i, x: x - c[i], n_nodes=2, dim=1, L=1.0, mu=1.0, x_star=[2.0])
    >>> p.local_grad(1, np.zeros(1)), p.counts()
    (array([-3.]), {'ngrad': 1})
    """

    count_names = ("ngrad",)

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
        self.reset_counts()

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
        self._count("ngrad")
        return self._checked("grad", self._grad(int(i), x), i)

    def grad_all(self, X) -> np.ndarray:
        """Row i: gradient of f_i at X[i] (counts n_nodes gradients)."""
        return np.stack([self.local_grad(i, X[i]) for i in range(self.n_nodes)])

    def local_conj_grad(self, i: int, y) -> np.ndarray:
        """Gradient of the conjugate f_i^* at y (counted in ``ngrad``)."""
        self.require("local_conj_grad", solver="this dual method")
        self._count("ngrad")
        return self._checked("conj_grad", self._conj(int(i), y), i)

    def conj_grad_all(self, Y) -> np.ndarray:
        """Row i: gradient of the conjugate f_i^* at Y[i]."""
        self.require("local_conj_grad", solver="this dual method")
        self._count("ngrad", self.n_nodes)
        return np.stack([self._checked("conj_grad", self._conj(i, Y[i]), i) for i in range(self.n_nodes)])

    def _checked(self, name, value, i) -> np.ndarray:
        out = np.asarray(value, dtype=float)
        if out.size != self.dim:
            raise ValueError(f"{name}({int(i)}, x) must return {self.dim} numbers (dim={self.dim}); got shape "
                             f"{out.shape}.")
        return out.reshape(self.dim)

    def x_star(self) -> np.ndarray:
        """The minimizer of sum_i f_i."""
        self.require("x_star", solver="the error measurement")
        return self._x_star

    def kernel_data(self):
        """Arrays for the Numba kernels, or ``None`` when gradients are only available from Python."""
        return None


class LocalDataProblem(SeparableProblem):
    """Distributed ridge or L2-logistic regression: rows of ``A`` split across the nodes.

    Node i holds rows ``node_ptr[i]:node_ptr[i+1]`` (m_i rows) and
    ``f_i(x) = (1/m_i) sum_rows loss(a^T x, b) + (reg/2) ||x||^2`` with
    ``loss = (s - b)^2 / 2`` ('squared'; 'ridge' is its deprecated alias) or
    ``log(1 + exp(-b s))`` ('logistic', b in {-1, +1}). The losses, gradients, Hessians and
    smoothness constants are those of :class:`numopt.losses.GLM` on the node's row range
    (attribute ``glm``); the strong convexity of a squared loss is the smallest eigenvalue of
    ``A_i^T A_i / m_i`` (:func:`numopt.linalg.eigen.extreme_eigenvalues`) plus ``reg``.

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
        if not isinstance(loss, str) or loss.lower() not in (*LOSSES, "ridge"):
            raise ValueError(f"loss={loss!r} is not valid here; expected one of {', '.join(map(repr, LOSSES))}.")
        loss = check_loss(loss)
        check_positive("reg", reg, strict=loss == "logistic")
        A = sp.csr_matrix(A, dtype=float)
        A.sort_indices()
        b = as_float_array(b, "b", shape=(A.shape[0],))
        node_ptr = np.asarray(node_ptr, dtype=np.int64)
        if node_ptr.ndim != 1 or node_ptr.size < 2 or node_ptr[0] != 0 or node_ptr[-1] != A.shape[0] \
                or np.any(np.diff(node_ptr) < 1):
            raise ValueError(f"node_ptr must increase from 0 to the number of rows ({A.shape[0]}), each node "
                             f"holding >= 1 row; got {node_ptr.tolist()[:12]}.")
        if loss == "logistic" and not np.all(np.isin(b, (-1.0, 1.0))):
            seen = np.unique(b[~np.isin(b, (-1.0, 1.0))])[:5].tolist()
            raise ValueError(f"b must hold labels in {{-1, +1}} for loss='logistic'; got other values such as "
                             f"{seen}.")
        self.A, self.b, self.node_ptr, self.loss, self.reg = A, b, node_ptr, loss, float(reg)
        self.glm = GLM(A, b, loss, l2=self.reg)
        n_nodes = node_ptr.size - 1
        L, mu = self._constants(n_nodes)
        conj = self._make_conj(n_nodes) if loss == "squared" else None
        super().__init__(self._grad_i, n_nodes, A.shape[1], L, mu, x_star=None, conj_grad=conj,
                         name=name or f"{loss}-{n_nodes}-nodes")
        self._x_star = self._solve()

    def rows(self, i: int) -> slice:
        """The row range of node i."""
        return slice(int(self.node_ptr[i]), int(self.node_ptr[i + 1]))

    def block(self, i: int):
        """(A_i, b_i): the rows of node i."""
        r = self.rows(i)
        return self.A[r], self.b[r]

    def _constants(self, n_nodes):
        lmax, mus = [], []
        for i in range(n_nodes):
            Ai, bi = self.block(i)
            lmax.append(GLM(Ai, bi, self.loss, l2=self.reg).lipschitz())
            smallest = 0.0
            if self.loss == "squared" and Ai.shape[0] >= Ai.shape[1]:  # else A_i^T A_i is singular
                gram = (Ai.T @ Ai).tocsc() / Ai.shape[0]
                shift = -1e-8 * max(float(gram.diagonal().max()), 1e-300)
                smallest = float(extreme_eigenvalues(gram, which="smallest", sigma=shift)[0][0])
            mus.append(max(smallest, 0.0) + self.reg)
        L, mu = max(lmax), min(mus)
        if mu <= 0:
            raise ValueError("the local ridge objectives are not strongly convex: give reg > 0.")
        return L, mu

    def _grad_i(self, i, x):
        return self.glm.grad(np.asarray(x, dtype=float), self.rows(i))

    def grad_all(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        G = np.stack([self.glm.grad(X[i], self.rows(i)) for i in range(self.n_nodes)])
        self._count("ngrad", self.n_nodes)
        return G

    def _make_conj(self, n_nodes):
        # f_i(x) = x^T H_i x / 2 - c_i^T x + const, so grad f_i^*(y) = H_i^{-1} (y + c_i)
        zero = np.zeros(self.A.shape[1])
        hessians, rhs = [], []
        for i in range(n_nodes):
            H = self.glm.hess(zero, self.rows(i))
            hessians.append(np.linalg.inv(H.toarray() if sp.issparse(H) else H))
            rhs.append(-self.glm.grad(zero, self.rows(i)))
        self.Hinv = np.ascontiguousarray(np.stack(hessians))
        self.c = np.ascontiguousarray(np.stack(rhs))

        def conj(i, y):
            return self.Hinv[i] @ (np.asarray(y, float) + self.c[i])

        return conj

    def conj_grad_all(self, Y) -> np.ndarray:
        self.require("local_conj_grad", solver="this dual method")
        self._count("ngrad", self.n_nodes)
        return np.einsum("ijk,ik->ij", self.Hinv, np.asarray(Y, float) + self.c)

    def fun(self, x) -> float:
        """Global objective sum_i f_i(x)."""
        x = np.asarray(x, dtype=float)
        return float(sum(self.glm.value(x, self.rows(i)) for i in range(self.n_nodes)))

    def _global_grad(self, x):
        return sum(self.glm.grad(x, self.rows(i)) for i in range(self.n_nodes))

    def _global_hess(self, x):
        return sum(self.glm.hess(x, self.rows(i)) for i in range(self.n_nodes))

    def _newton_step(self, H, g):
        d = self.dim
        if d <= 3000:
            return np.linalg.solve(H.toarray() if sp.issparse(H) else H, g)
        from scipy.sparse.linalg import cg

        return cg(H, g, rtol=1e-12, maxiter=10 * d)[0]

    def _solve(self) -> np.ndarray:
        x = np.zeros(self.dim)
        if self.loss == "squared":  # one Newton step from 0 solves the quadratic
            return x - self._newton_step(self._global_hess(x), self._global_grad(x))
        scale = max(1.0, float(np.linalg.norm(self._global_grad(x))))
        for _ in range(100):
            g = self._global_grad(x)
            if np.linalg.norm(g) <= 1e-13 * scale:
                break
            step = self._newton_step(self._global_hess(x), g)
            t, f0 = 1.0, self.fun(x)
            while self.fun(x - t * step) > f0 - 0.25 * t * g @ step and t > 1e-10:
                t *= 0.5
            x = x - t * step
        return x

    def kernel_data(self):
        """(kind, data, indices, indptr, node_ptr, b, reg) for the Numba kernels (kind: the GLM loss code)."""
        code, data, indices, indptr, y, _ = self.glm.kernel_arrays()
        return (code, data, indices.astype(np.int64), indptr.astype(np.int64), self.node_ptr, y, self.reg)


def _check_sizes(**sizes) -> None:
    for name, value in sizes.items():
        check_positive(name, value, integer=True)


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

    _check_sizes(n_nodes=n_nodes, m_per_node=m_per_node, dim=dim)
    check_positive("noise", noise, strict=False)
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

    _check_sizes(n_nodes=n_nodes, m_per_node=m_per_node, dim=dim)
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

    check_positive("n_nodes", n_nodes, integer=True)
    if max_rows is not None:
        check_positive("max_rows", max_rows, integer=True)
    X, y = load(name)
    X = sp.csr_matrix(X, dtype=float)
    perm = check_rng(seed).permutation(X.shape[0])[: max_rows or X.shape[0]]
    X, y = X[perm], np.asarray(y, float)[perm]
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(1.0 / np.maximum(norms, 1e-300)) @ X
    return from_dataset(X, y, n_nodes, loss=loss, reg=reg, shuffle=False, name=f"{name}-{n_nodes}-nodes")
