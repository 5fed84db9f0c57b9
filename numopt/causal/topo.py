"""TOPO: NOTEARS objectives optimized by swaps in a topological order (Deng et al., ICML 2023).

Bi-level method. The inner level fits every node on all nodes before it in
the current order (a score from :mod:`numopt.causal.scores`); the outer level
improves the order. Each outer iteration

1. computes the weighted path counts ``G = grad_A h`` of the fitted ``W``
   (:func:`~numopt.causal.path_weights`); for a forbidden pair (``i`` after
   ``j``, so ``i -> j`` is not allowed) ``G[i, j]`` weighs the paths ``j ~> i``,
   small when moving ``i`` before ``j`` disturbs little;
2. keeps the forbidden pairs whose loss gradient says the edge would help,
   ``|grad F(W)[i, j]| > loss_grad_tol``, and ranks them by ``G[i, j]``: the
   first ``size_small`` form the small candidate set, the first ``size_large``
   the fallback large set;
3. scores the moves of each candidate (swap ``i`` and ``j``; optionally also
   move ``i`` just before ``j`` or ``j`` just after ``i``), refitting only the nodes
   between the two positions (incremental Cholesky updates for least squares);
4. accepts the best improving move and, greedily, every further improving move
   on positions disjoint from those accepted (their score changes add up exactly).

It stops when neither candidate set holds an improving move
(``Status.NO_IMPROVEMENT``): the order is then a local optimum of the move
neighbourhood searched (the candidate sets), not a certificate that no better
order exists. ``x`` is the same object everywhere (the callback's
``intermediate_result`` and the final result): the weighted adjacency fitted on
the current order with entries below ``threshold`` in absolute value set to
zero, a DAG by construction (the final one refitted on its support when
``refit``); the order itself is the ``order`` field.

Differences from the reference code: the default start is the greedy
minimum-conditional-variance order (:func:`~numopt.causal.scores.greedy_order`)
rather than a random order (from a random order the swap search stalls in
poor orders at ``d >= 50``), the two insertion moves are scored next to the
swap, and non-overlapping improving moves are accepted together.
"""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .._core.driver import IterativeSolver, SolverState, run
from .._core.result import OptimizeResult, Status
from .._core.validate import check_choice, check_positive, check_rng
from ..oracles import Problem
from .acyclic import path_weights
from .metrics import remove_cycles
from .scores import LinearScore, LogisticScore, MLPScore, greedy_order

__all__ = ["TOPO", "TopoDAG", "order_from_graph", "topo"]

MOVES = {"swap": 0, "move_up": 1, "move_down": 2}
SCORES = {"linear": LinearScore, "logistic": LogisticScore, "mlp": MLPScore}


def order_from_graph(W, tiebreak=None) -> np.ndarray:
    """A topological order of the support of ``W`` (post-processing start).

    Edges on cycles are dropped, weakest ``|W|`` first, until the graph is a DAG.
    Ties are broken by ``tiebreak`` (a preferred order; default ``0..d-1``).

    Examples
    --------
    >>> from numopt.causal import order_from_graph
    >>> order_from_graph(np.array([[0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]))
    array([2, 1, 0])
    """
    W, _ = remove_cycles(W)
    d = W.shape[0]
    G = nx.DiGraph(W != 0)
    G.add_nodes_from(range(d))
    rank = np.empty(d, dtype=int)
    rank[np.arange(d) if tiebreak is None else np.asarray(tiebreak)] = np.arange(d)
    return np.array(list(nx.lexicographical_topological_sort(G, key=lambda v: rank[v])))


INIT_EXPECTED = "None, 'auto', 'random', a permutation of range(d) or a (d, d) weighted adjacency"


def _as_start(init, d, C=None, name="init"):
    """The start order given by an order or a graph (``C``, a covariance, breaks ties in a graph)."""
    try:
        arr = np.asarray(init)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be {INIT_EXPECTED}; got {type(init).__name__}.") from exc
    if arr.dtype.kind not in "iufb" or (arr.dtype.kind == "b" and arr.ndim != 2):
        raise TypeError(
            f"{name} must be {INIT_EXPECTED} (numbers); got an array of dtype {arr.dtype}: "
            f"{np.array2string(arr, threshold=8)[:80]}."
        )
    if arr.ndim == 2:
        if arr.shape != (d, d):
            raise ValueError(f"{name} as a graph must have shape ({d}, {d}); got {arr.shape}.")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} as a graph must be finite; it contains NaN or inf.")
        return order_from_graph(arr.astype(float), tiebreak=None if C is None else greedy_order(C))
    text = np.array2string(arr, threshold=12)[:80]
    if arr.ndim != 1 or arr.size != d or not np.all(np.isfinite(arr)) or not np.all(np.mod(arr, 1) == 0):
        raise ValueError(f"{name} must be a permutation of range({d}) or a ({d}, {d}) graph; got {text} "
                         f"(shape {arr.shape}).")
    arr = arr.astype(int)
    if not np.array_equal(np.sort(arr), np.arange(d)):
        raise ValueError(f"{name} must be a permutation of range({d}) (each node exactly once); got {text}.")
    return arr


class TOPO(IterativeSolver):
    """The TOPO outer search over orders, driven by :func:`numopt.run` (``problem`` is a score).

    ``x0`` is the start: a permutation of the nodes or a ``(d, d)`` weighted
    adjacency (its topological order is used). ``x``, in callbacks and in the
    result, is the weighted adjacency fitted on the current order and thresholded;
    ``order`` is the order. The solver holds only its options; everything a run
    creates lives in its state, and the score's evaluation counters (``nfit``,
    ``nmove``, ``nfev``) are reset at the start of each run.

    Options
    -------
    size_small, size_large : int
        Sizes of the small and the fallback large candidate sets (100, 400).
    loss_grad_tol : float
        Keep forbidden pairs with ``|grad F(W)[i, j]| > loss_grad_tol`` (scores without a loss
        gradient keep all).
    moves : tuple of str
        Moves scored per candidate: ``'swap'`` (the paper's), ``'move_up'`` (``i`` just before
        ``j``), ``'move_down'`` (``j`` just after ``i``).
    h : {'logdet', 'expm'}
        Acyclicity function whose path weights rank the candidates.
    threshold : float
        Output threshold on ``|W|`` (0.3).
    tol : float
        A move improves when it lowers the score by more than ``tol * max(1, |score|)``.
    refactor_every : int
        Recompute the Cholesky factor from scratch every this many iterations.
    refit : bool
        Refit the weights on the thresholded support when the score can (the graph is
        unchanged; the reference code returns the thresholded weights as they are).

    Examples
    --------
    >>> from numopt import run
    >>> from numopt.causal import TOPO, LinearScore, simulate_dag, simulate_parameter, simulate_linear_sem
    >>> B = simulate_dag(6, 6, "ER", seed=0)
    >>> X = simulate_linear_sem(simulate_parameter(B, seed=0), 500, seed=0)
    >>> res = run(TOPO(), LinearScore(X), np.arange(6))
    >>> res.success, res.x.shape, sorted(res.order) == list(range(6))
    (True, (6, 6), True)
    """

    name = "topo"
    requires = ("start", "deltas", "apply", "weights")
    default_options = {
        "size_small": 100,
        "size_large": 400,
        "loss_grad_tol": 1e-4,
        "moves": ("swap", "move_up", "move_down"),
        "h": "logdet",
        "threshold": 0.3,
        "tol": 1e-10,
        "refactor_every": 20,
        "refit": True,
    }

    def validate_options(self, options):
        check_positive("size_small", options["size_small"], integer=True)
        check_positive("size_large", options["size_large"], integer=True)
        check_positive("loss_grad_tol", options["loss_grad_tol"], strict=False)
        check_positive("threshold", options["threshold"], strict=False)
        check_positive("tol", options["tol"], strict=False)
        check_positive("refactor_every", options["refactor_every"], integer=True)
        check_choice("h", options["h"], ("logdet", "expm"))
        moves = options["moves"]
        if isinstance(moves, str) or not len(moves):
            raise ValueError(f"moves must be a non-empty tuple of {tuple(MOVES)}; got {moves!r}.")
        for m in moves:
            check_choice("moves", m, MOVES)

    def init(self, problem, x0):
        order = problem.default_order() if x0 is None else _as_start(x0, problem.d, getattr(problem, "C", None),
                                                                       name="x0")
        state = SolverState(fit=problem.start(order), score=problem, done=False, n_moves=0, used_large=0)
        return self._observe(state)

    def _threshold(self, W):
        return np.where(np.abs(W) > self.options["threshold"], W, 0.0)

    def _observe(self, state):
        """Refresh ``x`` (thresholded fitted weights), ``W_raw`` and ``fun`` from the fit."""
        state.W_raw = state.score.weights(state.fit)
        state.x = self._threshold(state.W_raw)
        state.fun = state.fit.total
        return state

    def _candidates(self, state):
        score, fit = state.score, state.fit
        W = state.W_raw
        G = path_weights(W, self.options["h"], order=fit.order)
        pos = fit.pos
        forbidden = pos[:, None] > pos[None, :]
        grad = score.loss_grad(fit, W)
        if grad is not None:
            forbidden &= np.abs(grad) > self.options["loss_grad_tol"]
        src, dst = np.nonzero(forbidden)
        rank = np.argsort(G[src, dst], kind="stable")
        return src[rank], dst[rank]

    def _evaluate(self, state, src, dst):
        pos = state.fit.pos
        modes = [MOVES[m] for m in self.options["moves"]]
        P = np.repeat(pos[dst], len(modes))
        Q = np.repeat(pos[src], len(modes))
        M = np.tile(modes, len(src))
        return P, Q, M, state.score.deltas(state.fit, P, Q, M)

    def step(self, state):
        src, dst = self._candidates(state)
        o = self.options
        tol = max(o["tol"] * max(1.0, abs(state.fit.total)), state.score.resolution)
        accepted = []
        for lo, hi in ((0, o["size_small"]), (o["size_small"], max(o["size_large"], o["size_small"]))):
            if lo >= len(src):
                break
            P, Q, M, deltas = self._evaluate(state, src[lo:hi], dst[lo:hi])
            taken = np.zeros(state.score.d, dtype=bool)
            for t in np.argsort(deltas, kind="stable"):
                if deltas[t] >= -tol:
                    break
                if not taken[P[t]:Q[t] + 1].any():
                    taken[P[t]:Q[t] + 1] = True
                    accepted.append((P[t], Q[t], M[t]))
            if accepted:
                state.used_large += lo > 0
                break
        for p, q, mode in accepted:
            state.score.apply(state.fit, p, q, mode)
        state.n_moves += len(accepted)
        state.done = not accepted
        if hasattr(state.score, "refactor") and (state.nit + 1) % o["refactor_every"] == 0:
            state.score.refactor(state.fit)
        return self._observe(state)

    def terminate(self, state):
        return Status.NO_IMPROVEMENT if state.done else None

    def postprocess(self, state, status):
        score, fit = state.score, state.fit
        W = state.x
        if self.options["refit"] and hasattr(score, "refit_support"):
            W = score.refit_support(W != 0)
        res = OptimizeResult(x=W, fun=fit.total, order=np.array(fit.order), W_raw=state.W_raw,
                             n_moves=state.n_moves, used_large=state.used_large)
        if hasattr(score, "value"):
            res["score"] = score.value(W)
        return res

    def intermediate_result(self, state):
        """``x`` (thresholded fitted weights, as in the result), ``order``, ``fun``, ``nit``."""
        return OptimizeResult(x=np.copy(state.x), order=np.array(state.fit.order), fun=state.fit.total,
                              nit=state.nit)


def _make_score(X, score_type, lambda1, lambda2, backend):
    if not isinstance(score_type, str):
        if not isinstance(score_type, Problem):
            raise TypeError(
                f"score_type must be one of {tuple(SCORES)} or a score object (a numopt.oracles.Problem such as "
                f"LinearScore(X)); got {type(score_type).__name__}."
            )
        score_type.require(*TOPO.requires, solver="topo")
        return score_type
    check_choice("score_type", score_type, SCORES)
    if score_type == "linear":
        return LinearScore(X, lambda1=0.0 if lambda1 is None else lambda1, lambda2=lambda2, backend=backend)
    if score_type == "logistic":
        return LogisticScore(X, lambda1=0.01 if lambda1 is None else lambda1)
    kwargs = {} if lambda1 is None else {"lambda1": lambda1}
    return MLPScore(X, **kwargs)


def _initial_order(sc, init, seed):
    if init is None or isinstance(init, str):
        check_choice("init", "auto" if init is None else init, ("auto", "random"))
        if init == "random":
            return check_rng(seed).permutation(sc.d)
        return sc.default_order()
    return _as_start(init, sc.d, sc.C)


def _pop_deprecated_score(score_type, kwargs, owner):
    """The old keyword ``score`` (renamed ``score_type``): accepted with a FutureWarning for one release."""
    if "score" not in kwargs:
        return score_type
    warnings.warn(f"{owner}: the argument 'score' is deprecated and will be removed in the next release; "
                  "use 'score_type' (same values).", FutureWarning, stacklevel=3)
    return kwargs.pop("score")


def topo(X, score_type="linear", *, init=None, lambda1=None, lambda2: float = 0.0, threshold: float = 0.3,
         seed=0, backend: str | None = None, callback=None, **options) -> OptimizeResult:
    """Learn a DAG from data ``X`` with TOPO.

    Parameters
    ----------
    X : (n, d) array_like
        Samples in rows.
    score_type : {'linear', 'logistic', 'mlp'} or score object
        Least squares (linear SEM), L1-logistic (binary data) or one MLP per node, or a
        score built beforehand (e.g. ``MLPScore(X, hidden=8)``). The old name ``score``
        is still accepted for one release, with a FutureWarning.
    init : None, 'auto', 'random', (d,) permutation or (d, d) graph
        Start: the greedy order (default), a random order (``seed``), a given
        order, or the order of another method's graph (post-processing).
    lambda1, lambda2 : float
        L1 / squared-L2 penalties (``lambda1`` defaults to 0 for 'linear' and 0.01 otherwise).
    threshold : float
        Output threshold on ``|W|``.
    seed : None, int or numpy.random.Generator, default 0
        Seeds the random start (``init='random'``); ``None`` draws fresh entropy.
    backend : {'numba', 'numpy', 'cupy'}, optional
        Where the linear score's move evaluations run.
    callback : callable, optional
        ``callback(intermediate_result)`` each iteration (``x``: the thresholded weights of
        the current order, ``order``, ``fun``, ``nit``); ``StopIteration`` stops the run
        with ``Status.CALLBACK``.
    **options
        :class:`TOPO` and driver options (``size_small``, ``moves``, ``maxiter``, ``maxtime``, ...).

    Returns
    -------
    OptimizeResult
        ``x`` (thresholded weighted adjacency, a DAG), ``order``, ``fun`` (score of the
        order), ``score`` (score of ``x``), ``W_raw``, ``n_moves``, ``nit``, ``success``,
        ``status``, ``message``, ``time`` and the score's counts ``nfit``, ``nmove``, ``nfev``.
        ``Status.NO_IMPROVEMENT`` (``success=True``) means no candidate move improves the
        score: a local optimum of the move neighbourhood, not a global guarantee.

    Examples
    --------
    >>> from numopt.causal import topo, simulate_dag, simulate_parameter, simulate_linear_sem, shd
    >>> B = simulate_dag(8, 8, "ER", seed=1)
    >>> X = simulate_linear_sem(simulate_parameter(B, seed=1), 1000, seed=1)
    >>> res = topo(X)
    >>> res.success, shd(B, res.x)
    (True, 0)
    """
    score_type = _pop_deprecated_score(score_type, options, "topo")
    sc = _make_score(X, score_type, lambda1, lambda2, backend)
    order0 = _initial_order(sc, init, seed)
    solver = TOPO(threshold=threshold, **options)
    return run(solver, sc, order0, callback=callback)


class TopoDAG(BaseEstimator):
    """Scikit-learn estimator front end of :func:`topo` (unsupervised: ``fit(X)``).

    Parameters
    ----------
    score_type : {'linear', 'logistic', 'mlp'} or score object, default 'linear'
        See :func:`topo`. (Renamed from ``score``: scikit-learn stores every parameter as an
        attribute of the same name, so a parameter ``score`` hid the :meth:`score` method. The
        function :func:`topo` still accepts ``score=`` for one release, with a FutureWarning.)
    init, lambda1, lambda2, threshold, seed, backend
        See :func:`topo`.
    maxiter : int, default 1000
        Outer iterations.
    options : dict, optional
        Further :class:`TOPO` options (``size_small``, ``moves``, ``h``, ``refit``, ...).

    Attributes
    ----------
    adjacency_ : (d, d) ndarray
        Thresholded weighted adjacency (``adjacency_[i, j]`` is the edge ``i -> j``).
    order_ : (d,) ndarray
        The topological order found.
    result_ : OptimizeResult
        The result of :func:`topo`.
    mean_ : (d,) ndarray
        Column means of the training data (used by :meth:`score`).
    n_features_in_ : int

    Examples
    --------
    >>> from numopt.causal import TopoDAG, simulate_dag, simulate_parameter, simulate_linear_sem
    >>> B = simulate_dag(6, 6, "ER", seed=2)
    >>> X = simulate_linear_sem(simulate_parameter(B, seed=2), 800, seed=2)
    >>> est = TopoDAG().fit(X)
    >>> bool(np.all((est.adjacency_ != 0) == (B != 0)))
    True
    >>> round(est.score(X), 2)    # minus the least-squares score of the learned SEM
    -2.99
    """

    def __init__(self, score_type="linear", *, init=None, lambda1=None, lambda2: float = 0.0,
                 threshold: float = 0.3, seed=0, backend=None, maxiter: int = 1000, options=None):
        self.score_type, self.init, self.lambda1, self.lambda2 = score_type, init, lambda1, lambda2
        self.threshold, self.seed, self.backend = threshold, seed, backend
        self.maxiter, self.options = maxiter, options

    def fit(self, X, y=None, init=None):
        """Learn the graph of ``X``; ``init`` overrides the constructor's start. ``y`` is ignored."""
        X = validate_data(self, X, ensure_min_samples=2, ensure_min_features=2, dtype=np.float64)
        options = dict(self.options or {})
        self.result_ = topo(X, self.score_type, init=self.init if init is None else init, lambda1=self.lambda1,
                            lambda2=self.lambda2, threshold=self.threshold, seed=self.seed,
                            backend=self.backend, maxiter=self.maxiter, **options)
        self.adjacency_ = self.result_.x
        self.order_ = self.result_.order
        self.mean_ = X.mean(axis=0)
        return self

    def score(self, X, y=None) -> float:
        """Minus the least-squares score of the learned linear SEM on ``X``: ``-1/(2n) ||Xc - Xc W||_F^2``.

        ``Xc`` is ``X`` centered with the training means and ``W`` is :attr:`adjacency_`, so
        higher is better (as scikit-learn expects). Defined for ``score_type='linear'``.
        """
        check_is_fitted(self, "adjacency_")
        if not (self.score_type == "linear" or isinstance(self.score_type, LinearScore)):
            raise NotImplementedError(
                f"TopoDAG.score is the least-squares fit of a linear SEM; it is not defined for "
                f"score_type={self.score_type!r}."
            )
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Xc = X - self.mean_
        R = Xc - Xc @ self.adjacency_
        return float(-0.5 * np.mean(np.sum(R * R, axis=1)))
