"""NOTEARS for linear SEMs (Zheng et al., NeurIPS 2018): augmented Lagrangian + L-BFGS-B.

Solves ``min_W 1/(2n) ||X - X W||_F^2 + lambda1 |W|_1  s.t.  h(W) = tr exp(W o W) - d = 0``.
``W = W+ - W-`` with ``W+, W- >= 0`` makes the L1 term smooth; each outer
iteration minimizes the augmented Lagrangian
``F(W) + rho/2 h(W)^2 + alpha h(W)`` with L-BFGS-B (multiplying ``rho`` by 10
until ``h`` drops below a quarter of its previous value), then updates
``alpha += rho h``. It stops when ``h <= h_tol`` or ``rho >= rho_max``; the
output is thresholded at ``w_threshold``, and if the thresholded graph still has a
cycle its weakest cycle edges are dropped (``n_removed`` in the result).
"""

from __future__ import annotations

import numpy as np
import scipy.optimize as sopt

from .._core.driver import IterativeSolver, SolverState, run
from .._core.result import OptimizeResult, Status
from .._core.validate import check_positive
from .acyclic import h_expm
from .metrics import remove_cycles
from .scores import LinearScore

__all__ = ["NotearsLinear", "notears_linear"]


class NotearsLinear(IterativeSolver):
    """NOTEARS outer (dual ascent) iterations; ``problem`` is a :class:`~numopt.causal.LinearScore`.

    Options: ``lambda1`` (0.1), ``h_tol`` (1e-8), ``rho_max`` (1e16), ``w_threshold`` (0.3),
    ``maxiter`` (100, outer iterations). ``nfev`` in the result counts evaluations of the
    score and of the augmented Lagrangian in this run (the score's counters are reset at the start).

    Examples
    --------
    >>> from numopt import run
    >>> from numopt.causal import NotearsLinear, LinearScore
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=300); X = np.c_[x0, 1.5 * x0 + rng.normal(size=300)]
    >>> res = run(NotearsLinear(), LinearScore(X), np.zeros((2, 2)))
    >>> res.success, (res.x != 0).astype(int).tolist()
    (True, [[0, 1], [0, 0]])
    """

    name = "notears"
    default_options = {"lambda1": 0.1, "h_tol": 1e-8, "rho_max": 1e16, "w_threshold": 0.3, "maxiter": 100}

    def validate_options(self, options):
        check_positive("lambda1", options["lambda1"], strict=False)
        check_positive("h_tol", options["h_tol"])
        check_positive("rho_max", options["rho_max"])
        check_positive("w_threshold", options["w_threshold"], strict=False)

    def init(self, problem, x0):
        d = problem.d
        W0 = np.asarray(x0, dtype=float).reshape(d, d)
        w = np.concatenate([np.maximum(W0, 0), np.maximum(-W0, 0)]).ravel()
        bounds = [(0, 0) if i == j else (0, None) for _ in range(2) for i in range(d) for j in range(d)]
        return SolverState(x=W0, w=w, score=problem, rho=1.0, alpha=0.0, h=np.inf, bounds=bounds,
                           fun=problem.value(W0))

    def _unpack(self, w, d):
        return (w[: d * d] - w[d * d:]).reshape(d, d)

    def step(self, state):
        score, d = state.score, state.score.d
        lam = self.options["lambda1"]
        C, eye = score.C, np.eye(d)

        def objective(w):
            W = self._unpack(w, d)
            R = eye - W
            loss = 0.5 * np.sum(R * (C @ R))
            h, gh = h_expm(W)
            g = -C @ R + (state.rho * h + state.alpha) * gh
            f = loss + 0.5 * state.rho * h * h + state.alpha * h + lam * w.sum()
            return f, np.concatenate([g + lam, -g + lam]).ravel()

        while state.rho < self.options["rho_max"]:
            sol = sopt.minimize(objective, state.w, jac=True, method="L-BFGS-B", bounds=state.bounds)
            score._count("nfev", sol.nfev)
            h_new = h_expm(self._unpack(sol.x, d))[0]
            if h_new > 0.25 * state.h:
                state.rho *= 10
            else:
                break
        state.w, state.h = sol.x, h_new
        state.alpha += state.rho * state.h
        state.x = self._unpack(state.w, d)
        state.fun = score.value(state.x)
        return state

    def terminate(self, state):
        if state.h <= self.options["h_tol"]:
            return Status.SUCCESS
        if state.rho >= self.options["rho_max"]:
            return Status.STAGNATION
        return None

    def postprocess(self, state, status):
        W_raw = state.x
        W = np.where(np.abs(W_raw) > self.options["w_threshold"], W_raw, 0.0)
        W, removed = remove_cycles(W)
        return OptimizeResult(x=W, W_raw=W_raw, fun=state.fun, h=state.h, rho=state.rho,
                              n_removed=removed, score=state.score.value(W))


def notears_linear(X, lambda1: float = 0.1, *, w_threshold: float = 0.3, callback=None,
                   **options) -> OptimizeResult:
    """Learn a linear SEM's DAG with NOTEARS (least squares loss, L1 penalty).

    Returns an OptimizeResult with ``x`` (thresholded weighted adjacency, a DAG),
    ``W_raw``, ``h``, ``rho``, ``score`` (least squares plus penalty of ``x``).

    Examples
    --------
    >>> from numopt.causal import notears_linear, simulate_dag, simulate_parameter, simulate_linear_sem, shd
    >>> B = simulate_dag(5, 5, "ER", seed=3)
    >>> X = simulate_linear_sem(simulate_parameter(B, seed=3), 500, seed=3)
    >>> res = notears_linear(X)
    >>> res.success, bool(shd(B, res.x) <= 1)
    (True, True)
    """
    score = LinearScore(X, lambda1=lambda1)
    solver = NotearsLinear(lambda1=lambda1, w_threshold=w_threshold, **options)
    return run(solver, score, np.zeros((score.d, score.d)), callback=callback)
