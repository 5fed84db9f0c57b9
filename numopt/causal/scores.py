"""Decomposable scores ``sum_j loss_j(x_j | predecessors of j)`` fitted on a topological order.

Given an order, each node is fitted on all the nodes before it (the inner
problem of TOPO). A score is a :class:`numopt.oracles.Problem`: it declares its
capabilities and counts its evaluations (``nfit``: node fits, a node regressed
on a set of predecessors; ``nmove``: moves scored; ``nfev``: evaluations of the
score at a weight matrix). It exposes what the TOPO outer search needs:

``start(order)``
    fit every node, return an :class:`OrderFit` (``order``, ``pos``, ``total``);
``deltas(fit, P, Q, modes)``
    change of the total score for each move (see :mod:`numopt.causal._kernels`
    for the move codes), refitting only the nodes between the two positions;
``apply(fit, p, q, mode)``
    commit one move;
``weights(fit)``
    the fitted weighted adjacency ``W`` (``W[i, j]`` for ``i -> j``);
``loss_grad(fit)``
    gradient of the smooth loss with respect to ``W`` (for the candidate filter),
    or ``None`` when the score has none.

Scores: :class:`LinearScore` (least squares, optional L1 / L2 penalties;
incremental Cholesky updates when there is no L1 term), :class:`LogisticScore`
(L1-logistic for binary data) and :class:`MLPScore` (one small MLP per node, JAX).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.optimize as sopt

from .._core.backend import resolve_backend
from .._core.validate import as_float_array, check_positive
from ..oracles import Problem
from . import _kernels

__all__ = ["LinearScore", "LogisticScore", "MLPScore", "OrderFit", "greedy_order", "moved_order"]


class OrderFit(SimpleNamespace):
    """A score fitted on one order: ``order``, ``pos`` (inverse permutation), ``total`` and score data."""


def moved_order(order, p: int, q: int, mode: int) -> np.ndarray:
    """The order after the move ``(p, q, mode)``.

    Examples
    --------
    >>> from numopt.causal.scores import moved_order
    >>> moved_order([0, 1, 2, 3], 0, 2, 0), moved_order([0, 1, 2, 3], 0, 2, 1)
    (array([2, 1, 0, 3]), array([2, 0, 1, 3]))
    """
    order = np.array(order)
    rows = _kernels._rows_reference(q - p + 1, mode)
    order[p:q + 1] = order[p + rows]
    return order


def greedy_order(C) -> np.ndarray:
    """Order that repeatedly takes the node of least variance given the nodes already taken.

    A Cholesky factorization of the covariance ``C`` pivoted on the smallest
    Schur-complement diagonal, ``O(d^3)``. It greedily minimizes the least-squares
    score over orders and recovers the true order of an equal-noise-variance linear
    SEM in the population limit. TOPO's default start.

    Examples
    --------
    >>> from numopt.causal.scores import greedy_order
    >>> C = np.array([[1.0, 2.0], [2.0, 5.0]])   # x1 = 2 x0 + e, var(e) = 1
    >>> greedy_order(C)
    array([0, 1])
    """
    S = np.array(C, dtype=float)
    d = S.shape[0]
    free = np.ones(d, dtype=bool)
    order = np.empty(d, dtype=int)
    for k in range(d):
        diag = np.where(free, np.diag(S), np.inf)
        j = int(np.argmin(diag))
        order[k] = j
        free[j] = False
        if S[j, j] > 0:
            S -= np.outer(S[:, j], S[j, :]) / S[j, j]
    return order


def _check_data(X, *, min_rows: int = 2):
    X = as_float_array(X, "X", ndim=2)
    n, d = X.shape
    if d < 2:
        raise ValueError(f"X must have at least 2 columns (variables) to learn a graph; got d={d}.")
    if n < min_rows:
        raise ValueError(f"X must have at least {min_rows} rows (samples) for this score; got n={n}.")
    const = np.flatnonzero(np.ptp(X, axis=0) == 0)
    if const.size:
        raise ValueError(f"X has constant columns {const.tolist()[:10]}; drop them (they carry no information).")
    return X


def _check_full_rank(Xc, C):
    """Unpenalized least squares needs a nonsingular covariance: name duplicated or dependent columns."""
    d = C.shape[0]
    first = {}
    for j in range(d):
        first.setdefault(Xc[:, j].tobytes(), j)
    dup = [(first[Xc[:, j].tobytes()], j) for j in range(d) if first[Xc[:, j].tobytes()] != j]
    if dup:
        pairs = ", ".join(f"{j} repeats {i}" for i, j in dup[:5])
        raise ValueError(
            f"X has duplicated columns ({pairs}): their covariance is singular, so the unpenalized "
            "least-squares score is undefined. Drop the duplicates or pass lambda2 > 0 (ridge)."
        )
    scale = np.sqrt(np.diag(C))
    eig_min = np.linalg.eigvalsh(C / np.outer(scale, scale))[0]
    if eig_min < 1e-10 * d:
        raise ValueError(
            f"X has linearly dependent columns (smallest eigenvalue of its correlation matrix "
            f"{eig_min:.2e}): the unpenalized least-squares score is undefined. Drop a dependent "
            "column or pass lambda2 > 0 (ridge)."
        )


class _Score(Problem):
    """Shared machinery: evaluation counting and the refit-the-block path for nodewise fits."""

    #: smallest score decrease the outer search trusts (the inner solver's accuracy)
    resolution = 1e-12
    count_names = ("nfit", "nmove", "nfev")
    _CORE = frozenset({"start", "deltas", "apply", "weights"})

    @property
    def n(self) -> int:
        """Number of variables ordered (the nodes)."""
        return self.d

    @property
    def capabilities(self) -> frozenset[str]:
        """The move interface, plus ``value``, ``loss_grad`` and ``refit_support`` where defined."""
        extra = {name for name in ("value", "refit_support") if hasattr(self, name)}
        if type(self).loss_grad is not _Score.loss_grad:
            extra.add("loss_grad")
        return self._CORE | extra

    def loss_grad(self, fit, W=None):
        """Gradient of the smooth loss with respect to ``W``; ``None`` when the score has none."""
        return None

    def default_order(self) -> np.ndarray:
        """TOPO's default start: :func:`greedy_order` on the covariance of the data."""
        return greedy_order(self.C)

    # Nodewise path: each node refitted on its predecessors ----------------------------
    def fit_node(self, j, parents, warm):  # pragma: no cover - abstract
        raise NotImplementedError

    def _new_fit(self, order):
        order = np.asarray(order)
        pos = np.empty_like(order)
        pos[order] = np.arange(self.d)
        return OrderFit(order=order, pos=pos)

    def _fit(self, j, parents, warm):
        """:meth:`fit_node`, counted."""
        self._count("nfit")
        return self.fit_node(j, parents, warm)

    def start(self, order) -> OrderFit:
        """Fit every node on its predecessors in ``order``."""
        fit = self._new_fit(order)
        fit.params = [None] * self.d
        fit.losses = np.empty(self.d)
        for k, j in enumerate(fit.order):
            fit.params[j], fit.losses[j] = self._fit(j, fit.order[:k], None)
        fit.total = float(fit.losses.sum())
        return fit

    def _refit_block(self, fit, p, q, mode):
        new = moved_order(fit.order, p, q, mode)
        out = []
        for k in range(p, q + 1):
            j = new[k]
            out.append((j, *self._fit(j, new[:k], fit.params[j])))
        return new, out

    def deltas(self, fit, P, Q, modes) -> np.ndarray:
        """Change of the total score for each move ``(P[t], Q[t], modes[t])``."""
        self._count("nmove", len(P))
        res = np.empty(len(P))
        for t, (p, q, mode) in enumerate(zip(P, Q, modes, strict=True)):
            _, out = self._refit_block(fit, p, q, mode)
            res[t] = sum(loss - fit.losses[j] for j, _, loss in out)
        return res

    def apply(self, fit, p, q, mode) -> None:
        """Commit the move ``(p, q, mode)`` to ``fit``."""
        new, out = self._refit_block(fit, p, q, mode)
        for j, params, loss in out:
            fit.params[j], fit.losses[j] = params, loss
        fit.order = new
        fit.pos[new] = np.arange(self.d)
        fit.total = float(fit.losses.sum())


class LinearScore(_Score):
    """Least squares ``1/(2n) ||X - X W||_F^2 + lambda1 |W|_1 + lambda2 ||W||_F^2`` (linear SEMs).

    Columns are centered (an intercept per node). Without an L1 term the fit on an
    order is the Cholesky factor of the permuted covariance and a move is scored by
    the Givens update of :mod:`numopt.causal._kernels` in ``O((q - p)^2)``; with an
    L1 term each node between the moved positions is refitted by coordinate descent
    on the Gram matrix, warm-started.

    Parameters
    ----------
    X : (n, d) array_like
        Data, finite, no constant column; ``n > d`` when both penalties are zero.
    lambda1, lambda2 : float
        L1 and squared-L2 penalty weights.
    backend : {'numba', 'numpy', 'cupy'}, optional
        Where move scores are computed (default: Numba when it imports).

    Examples
    --------
    >>> from numopt.causal import LinearScore
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=500); X = np.c_[x0, 2 * x0 + rng.normal(size=500)]
    >>> S = LinearScore(X)
    >>> bool(S.start([0, 1]).total < S.start([1, 0]).total)
    True
    >>> round(float(S.weights(S.start([0, 1]))[0, 1]), 1)
    2.0
    """

    def __init__(self, X, lambda1: float = 0.0, lambda2: float = 0.0, backend: str | None = None):
        X = _check_data(X)
        n, d = X.shape
        check_positive("lambda1", lambda1, strict=False)
        check_positive("lambda2", lambda2, strict=False)
        if lambda1 == 0 and lambda2 == 0 and n <= d:
            raise ValueError(
                f"Unpenalized least squares on all predecessors needs more samples than variables: got "
                f"n={n} <= d={d}. Pass lambda2 > 0 (ridge) or lambda1 > 0, or collect more samples."
            )
        self.d = d
        self.n_samples = n
        self.name = "linear score"
        self.lambda1, self.lambda2 = float(lambda1), float(lambda2)
        self.backend = resolve_backend(X, backend=backend)
        Xc = X - X.mean(axis=0)
        self.X = Xc
        self.C = Xc.T @ Xc / n
        self.shift = 2.0 * self.lambda2
        self.cholesky = self.lambda1 == 0.0
        if self.lambda1 == 0.0 and self.lambda2 == 0.0:
            _check_full_rank(Xc, self.C)

    def value(self, W) -> float:
        """Score of an arbitrary ``W`` (the NOTEARS objective without the constraint)."""
        W = as_float_array(W, "W", shape=(self.d, self.d))
        self._count("nfev")
        R = np.eye(self.d) - W
        return float(0.5 * np.sum(R * (self.C @ R)) + self.lambda1 * np.abs(W).sum()
                     + self.lambda2 * np.sum(W * W))

    def loss_grad(self, fit, W=None):
        """Gradient of the smooth part at ``W`` (default: the fit's weights): ``-C (I - W) + 2 lambda2 W``."""
        W = self.weights(fit) if W is None else W
        return -self.C @ (np.eye(self.d) - W) + 2.0 * self.lambda2 * W

    def refit_support(self, B) -> np.ndarray:
        """Weights fitted on the support ``B`` (each node on its parents in ``B``), same penalties.

        Examples
        --------
        >>> from numopt.causal import LinearScore
        >>> rng = np.random.default_rng(0)
        >>> x0 = rng.normal(size=500); X = np.c_[x0, 2 * x0 + rng.normal(size=500)]
        >>> round(float(LinearScore(X).refit_support(np.array([[0, 1], [0, 0]]))[0, 1]), 1)
        2.0
        """
        B = np.asarray(B) != 0
        W = np.zeros((self.d, self.d))
        for j in range(self.d):
            idx = np.flatnonzero(B[:, j])
            if idx.size:
                W[idx, j] = self._fit(j, idx, None)[0][1]
        return W

    # Lasso path -------------------------------------------------------------------------
    def fit_node(self, j, parents, warm):
        idx = np.asarray(parents, dtype=np.int64)
        w = np.zeros(idx.size)
        if warm is not None and idx.size:
            widx, wval = warm
            lookup = dict(zip(widx.tolist(), wval.tolist(), strict=True))
            w = np.array([lookup.get(i, 0.0) for i in idx.tolist()])
        if self.lambda1 == 0.0:
            A = self.C[np.ix_(idx, idx)] + self.shift * np.eye(idx.size)
            w = np.linalg.solve(A, self.C[idx, j]) if idx.size else w
            loss = 0.5 * (self.C[j, j] - w @ self.C[idx, j]) if idx.size else 0.5 * self.C[j, j]
            return (idx, w), float(loss)
        loss = _kernels.lasso_gram(self.C, int(j), idx, w, self.lambda1, self.lambda2, 1000, 1e-10)
        return (idx, w), float(loss)

    # Cholesky path ----------------------------------------------------------------------
    def start(self, order) -> OrderFit:
        """Fit every node on its predecessors in ``order`` (one Cholesky factorization without L1)."""
        if not self.cholesky:
            return super().start(order)
        self._count("nfit", self.d)
        fit = self._new_fit(order)
        Cp = self.C[np.ix_(fit.order, fit.order)] + self.shift * np.eye(self.d)
        fit.L = np.linalg.cholesky(Cp)
        fit.total = self._total(fit.L)
        return fit

    def _total(self, L):
        return float(0.5 * np.sum(np.diag(L) ** 2) - self.d * self.lambda2)

    def deltas(self, fit, P, Q, modes) -> np.ndarray:
        """Change of the total score for each move (Givens updates of the block without L1)."""
        if not self.cholesky:
            return super().deltas(fit, P, Q, modes)
        self._count("nmove", len(P))
        P, Q, modes = (np.asarray(a, dtype=np.int64) for a in (P, Q, modes))
        if self.backend == "numba":
            return _kernels.move_deltas(fit.L, P, Q, modes)
        if self.backend == "cupy":
            from . import _gpu

            return _gpu.move_deltas(fit.L, P, Q, modes)
        return _kernels.move_deltas_reference(fit.L, P, Q, modes)

    def apply(self, fit, p, q, mode) -> None:
        """Commit the move ``(p, q, mode)`` to ``fit``."""
        if not self.cholesky:
            return super().apply(fit, p, q, mode)
        self._count("nfit", int(q) - int(p) + 1)
        if self.backend == "numba":
            _kernels.apply_move(fit.L, int(p), int(q), int(mode))
        else:
            fit.L = _kernels.apply_move_reference(fit.L, p, q, mode)
        fit.order = moved_order(fit.order, p, q, mode)
        fit.pos[fit.order] = np.arange(self.d)
        fit.total = self._total(fit.L)

    def refactor(self, fit) -> None:
        """Recompute the Cholesky factor from scratch (clears rounding drift of many updates)."""
        if self.cholesky:
            fit.L = self.start(fit.order).L
            fit.total = self._total(fit.L)

    def weights(self, fit) -> np.ndarray:
        """Fitted weighted adjacency ``W`` of ``fit`` (``W[i, j]`` for ``i -> j``)."""
        d = self.d
        W = np.zeros((d, d))
        if self.cholesky:
            Lt = fit.L / np.diag(fit.L)
            Binv = _kernels.unit_lower_inverse(Lt)
            Wp = -np.tril(Binv, -1).T  # Wp[l, k]: weight of position l on position k
            W[np.ix_(fit.order, fit.order)] = Wp
        else:
            for j, (idx, w) in enumerate(fit.params):
                W[idx, j] = w
        return W


class LogisticScore(_Score):
    """L1-logistic score for binary data: per node ``mean log-loss + lambda1 |w|_1`` (intercept free).

    Each node is a logistic regression on its predecessors, fitted by L-BFGS-B
    on the split ``w = w+ - w-`` (bounds ``w+-  >= 0``) with warm starts.

    Examples
    --------
    >>> from numopt.causal import LogisticScore, simulate_linear_sem
    >>> X = simulate_linear_sem(np.array([[0, 3.0], [0, 0]]), 400, "logistic", seed=1)
    >>> S = LogisticScore(X, lambda1=0.01)
    >>> fit = S.start([0, 1]); bool(S.weights(fit)[0, 1] > 1)
    True
    """

    resolution = 1e-7

    def __init__(self, X, lambda1: float = 0.01, maxiter: int = 1000, tol: float = 1e-9):
        X = _check_data(X)
        if not np.all((X == 0) | (X == 1)):
            raise ValueError("LogisticScore needs binary data: every entry of X must be 0 or 1.")
        check_positive("lambda1", lambda1, strict=False)
        self.X = X
        self.n_samples, self.d = X.shape
        self.name = "logistic score"
        self.lambda1 = float(lambda1)
        self.maxiter, self.tol = int(maxiter), float(tol)
        Xc = X - X.mean(axis=0)
        self.C = Xc.T @ Xc / self.n_samples

    def _node_loss(self, Z, y, b, w):
        eta = Z @ w + b
        return float(np.mean(np.logaddexp(0.0, eta) - y * eta) + self.lambda1 * np.abs(w).sum())

    def fit_node(self, j, parents, warm):
        idx = np.asarray(parents, dtype=np.int64)
        y = self.X[:, j]
        Z = self.X[:, idx]
        k = idx.size
        w = np.zeros(k)
        ybar = y.mean()
        b = np.log(ybar / (1 - ybar))
        if warm is not None and k:
            widx, wval, b = warm
            lookup = dict(zip(widx.tolist(), wval.tolist(), strict=True))
            w = np.array([lookup.get(i, 0.0) for i in idx.tolist()])
        if k:
            lam, n = self.lambda1, self.n_samples

            def fun(v):
                wv = v[:k] - v[k:2 * k]
                eta = Z @ wv + v[-1]
                r = 1.0 / (1.0 + np.exp(-eta)) - y
                g = Z.T @ r / n
                f = np.mean(np.logaddexp(0.0, eta) - y * eta) + lam * v[:2 * k].sum()
                return f, np.concatenate([g + lam, -g + lam, [r.mean()]])

            v0 = np.concatenate([np.maximum(w, 0), np.maximum(-w, 0), [b]])
            bounds = [(0, None)] * (2 * k) + [(None, None)]
            sol = sopt.minimize(fun, v0, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": self.maxiter, "ftol": 1e-14, "gtol": self.tol})
            w, b = sol.x[:k] - sol.x[k:2 * k], sol.x[-1]
        return (idx, w, b), self._node_loss(Z, y, b, w)

    def weights(self, fit) -> np.ndarray:
        """Fitted logistic weights ``W`` of ``fit`` (``W[i, j]`` for ``i -> j``)."""
        W = np.zeros((self.d, self.d))
        for j, (idx, w, _) in enumerate(fit.params):
            W[idx, j] = w
        return W

    def loss_grad(self, fit, W=None):
        """Gradient of the mean log-losses with respect to ``W`` at the fit."""
        W = self.weights(fit) if W is None else W
        b = np.array([fit.params[j][2] for j in range(self.d)])
        R = 1.0 / (1.0 + np.exp(-(self.X @ W + b))) - self.X
        return self.X.T @ R / self.n_samples


class MLPScore(_Score):
    """Nonlinear score: one MLP per node, ``1/(2n) ||x_j - f_j(x_pred)||^2`` plus penalties (JAX).

    ``f_j(x) = w2^T sigmoid(W1^T (m o x) + b1) + b2`` where the mask ``m`` keeps
    the predecessors of ``j``; trained with Adam for a fixed number of steps
    (compiled once) from an initialization fixed by ``(seed, j)``. A node's fit
    is therefore a function of the node and its parent set only, so the score of
    an order is well defined and a move's score change equals the difference of
    the two orders' scores. (Warm starts would make it depend on the search path;
    from a node fitted without parents they also start at a saddle point, all
    input weights zero, where Adam cannot recover the new parents' weights.)
    The weighted adjacency is ``W[i, j] = ||W1_j[i, :]||_2``. Needs the ``learn``
    extra (JAX, optax).

    Examples
    --------
    >>> from numopt.causal import MLPScore, simulate_nonlinear_sem
    >>> X = simulate_nonlinear_sem(np.array([[0, 1], [0, 0]]), 200, "mim", seed=0)
    >>> S = MLPScore(X, hidden=8, steps=200)
    >>> S.start([0, 1]).total <= S.start([1, 0]).total + 1e-3
    True
    """

    resolution = 1e-4

    def __init__(self, X, hidden: int = 10, lambda1: float = 0.01, lambda2: float = 0.01,
                 steps: int = 300, lr: float = 0.05, seed: int = 0):
        try:
            import jax
            import jax.numpy as jnp
            import optax
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("MLPScore needs JAX and optax: pip install 'numopt[learn]'.") from exc
        X = _check_data(X, min_rows=10)
        check_positive("hidden", hidden, integer=True)
        check_positive("steps", steps, integer=True)
        self.n_samples, self.d = X.shape
        self.name = "MLP score"
        self.X = (X - X.mean(axis=0)) / X.std(axis=0)
        self.C = self.X.T @ self.X / self.n_samples
        self.hidden, self.lambda1, self.lambda2 = int(hidden), float(lambda1), float(lambda2)
        self.seed = seed
        Xj = jnp.asarray(self.X)
        opt = optax.adam(lr)
        l1, l2 = self.lambda1, self.lambda2

        def objective(params, mask, y):
            W1, b1, w2, b2 = params
            H = jax.nn.sigmoid((Xj * mask) @ W1 + b1)
            r = y - H @ w2 - b2
            fit = 0.5 * jnp.mean(r * r)
            return fit + l1 * jnp.sum(jnp.abs(W1)) + l2 * (jnp.sum(W1 * W1) + jnp.sum(w2 * w2))

        def train(params, mask, y):
            params = (params[0] * mask[:, None], *params[1:])

            def body(carry, _):
                p, s = carry
                g = jax.grad(objective)(p, mask, y)
                upd, s = opt.update(g, s)
                p = optax.apply_updates(p, upd)
                return (p, s), None

            (params, _), _ = jax.lax.scan(body, (params, opt.init(params)), None, length=steps)
            return params, objective(params, mask, y)

        self._train = jax.jit(train)
        self._jnp = jnp

    def _init_params(self, j):
        rng = np.random.default_rng([self.seed, j])
        h = self.hidden
        return (rng.normal(scale=0.1, size=(self.d, h)), np.zeros(h), rng.normal(scale=0.1, size=h), 0.0)

    def fit_node(self, j, parents, warm):
        """Train node ``j``'s network on ``parents`` from its fixed initialization (``warm`` is unused)."""
        mask = np.zeros(self.d)
        mask[np.asarray(parents, dtype=int)] = 1.0
        params = self._init_params(j)
        params, loss = self._train(params, self._jnp.asarray(mask), self._jnp.asarray(self.X[:, j]))
        return tuple(np.asarray(a) for a in params), float(loss)

    def weights(self, fit) -> np.ndarray:
        """Input-weight norms ``W[i, j] = ||W1_j[i, :]||`` of ``fit`` (zero unless ``i`` precedes ``j``)."""
        W = np.zeros((self.d, self.d))
        for j in range(self.d):
            W[:, j] = np.linalg.norm(fit.params[j][0], axis=1)
            W[fit.pos >= fit.pos[j], j] = 0.0
        return W
