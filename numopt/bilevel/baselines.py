"""In-house baselines: exact implicit differentiation and F2SA.

``ImplicitDifferentiation`` ('implicit')
    For a lower level that is smooth and strongly convex in y over the whole
    space, the hypergradient is

        grad F(x) = grad_x f(x, y*) - H_xy g(x, y*) v,   H_yy g(x, y*) v = grad_y f(x, y*).

    Each outer iteration solves the lower level by Newton-CG with Armijo
    backtracking (warm-started, gradient tolerance ``inner_tol``), solves the linear system by conjugate
    gradients with Hessian-vector products (``cg_tol``), and takes a projected
    step on x with a Barzilai-Borwein trial step and Armijo backtracking on
    F(x) (every trial point gets its own lower solve). Deterministic
    (full-batch) oracles.
``F2SA`` ('f2sa', Kwon, Kwon, Wright and Nowak, ICML 2023)
    Fully first-order stochastic approximation: the same penalty gradient as
    the penalty methods with a multiplier lam_k = lam0 + lam_growth k that
    grows linearly, ``inner_steps`` minibatch steps on z (step ``lr`` on
    grad_y g) and on y (step ``lr`` on grad_y f / lam_k + grad_y g, i.e. step
    lr / lam_k on grad_y f + lam_k grad_y g, which keeps the y step stable as
    lam_k grows), then one minibatch step ``lr`` on x. Defaults from the
    reference setting: lr 0.01, batch 64, lam0 1, growth 0.1, 10 inner steps.
    Iterates are projected on X and Y like the penalty methods.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg

from .._core.result import Status
from .._core.validate import check_positive
from ._common import COMMON_OPTIONS, BilevelSolver, penalty_grads

__all__ = ["F2SA", "ImplicitDifferentiation"]


class ImplicitDifferentiation(BilevelSolver):
    """Projected hypergradient descent with the exact implicit hypergradient (module docstring).

    Options: ``inner_tol``, ``inner_maxiter`` (lower Newton-CG), ``cg_tol``,
    ``cg_maxiter``, ``tol`` (on the projected hypergradient), plus the common ones.

    Examples
    --------
    >>> from numopt.bilevel.apps import quadratic_bilevel
    >>> from numopt import run
    >>> qp = quadratic_bilevel(n=3, m=4, seed=0)
    >>> res = run(ImplicitDifferentiation(maxiter=200), qp.problem, qp.problem.x0)
    >>> res.success, bool(np.allclose(res.x, qp.x_star, atol=1e-5))
    (True, True)
    """

    name = "implicit"
    requires = ("upper_grad", "lower_grad", "lower_hvp", "projection")
    default_options = {**COMMON_OPTIONS, "inner_tol": 1e-10, "inner_maxiter": 100, "cg_tol": 1e-10,
                       "cg_maxiter": 500, "tol": 1e-6}

    def validate_options(self, options):
        super().validate_options(options)
        for key in ("inner_tol", "cg_tol", "tol"):
            check_positive(key, options[key])
        for key in ("inner_maxiter", "cg_maxiter"):
            check_positive(key, options[key], integer=True)

    def start(self, state):
        p = state.problem
        if not p.Y.is_whole_space:
            raise ValueError("method='implicit' needs an unconstrained, strongly convex lower level "
                             f"(proj_y=None); got proj_y={p.Y!r}. Use a penalty method instead.")
        state.y = self._lower(p, state.x, state.y)
        state.F = p.f.value(state.x, state.y)
        state.hypergrad = self._hypergrad(state, state.x, state.y)
        state.alpha = 1.0 / max(1.0, np.linalg.norm(state.hypergrad))
        state.measure = self._measure(p, state.x, state.hypergrad)
        state.stalled = False

    def _lower(self, p, x, y):
        """Newton-CG with Armijo backtracking on g(x, .) (strongly convex), to ``inner_tol``."""
        o = self.options
        v, gy = p.g.value(x, y), p.g.grad(x, y)[1]
        for _ in range(o["inner_maxiter"]):
            gnorm = np.linalg.norm(gy)
            if gnorm <= o["inner_tol"]:
                break
            op = LinearOperator((p.m, p.m), matvec=lambda u, yk=y: p.g.hvp(x, yk, np.ravel(u))[1],
                                dtype=float)
            d, _ = cg(op, -gy, rtol=min(0.5, np.sqrt(gnorm)), atol=0.0, maxiter=o["cg_maxiter"])
            if not gy @ d < 0:
                d = -gy
            t = 1.0
            for _ in range(50):
                v_new = p.g.value(x, y + t * d)
                if v_new <= v + 1e-4 * t * (gy @ d):
                    break
                t *= 0.5
            y = y + t * d
            v, gy = v_new, p.g.grad(x, y)[1]
        return y

    def _hypergrad(self, state, x, y):
        p, o = state.problem, self.options
        fx, fy = p.f.grad(x, y)
        op = LinearOperator((p.m, p.m), matvec=lambda v: p.g.hvp(x, y, np.ravel(v))[1], dtype=float)
        v, info = cg(op, fy, rtol=o["cg_tol"], atol=0.0, maxiter=o["cg_maxiter"])
        state.cg_info = info
        return fx - p.g.hvp(x, y, v)[0]

    @staticmethod
    def _measure(p, x, d):
        return float(np.linalg.norm(x - p.proj_x(x - d)))

    def step(self, state):
        p = state.problem
        x, d = state.x, state.hypergrad
        alpha = state.alpha
        for _ in range(40):
            x_new = p.proj_x(x - alpha * d)
            s = x_new - x
            if not np.any(s):
                break
            y_new = self._lower(p, x_new, state.y)
            F_new = p.f.value(x_new, y_new)
            if F_new <= state.F - 1e-4 / alpha * (s @ s) + 1e-12 * (1.0 + abs(state.F)):
                d_new = self._hypergrad(state, x_new, y_new)
                dd = d_new - d
                curv = s @ dd
                state.alpha = float(np.clip((s @ s) / curv, 1e-10, 1e10)) if curv > 0 else 2 * alpha
                state.x, state.y, state.z, state.F, state.hypergrad = x_new, y_new, y_new, F_new, d_new
                state.measure = self._measure(p, x_new, d_new)
                return self.after_step(state)
            alpha *= 0.5
        state.stalled = True
        return self.after_step(state)

    def converged(self, state):
        if state.measure <= self.options["tol"]:
            return Status.SUCCESS
        if state.stalled:
            return Status.LINESEARCH
        return None


class F2SA(BilevelSolver):
    """F2SA: fully first-order stochastic approximation with a growing multiplier (module docstring).

    Options: ``lr`` (all steps), ``lr_x`` (None: ``lr``), ``batch_size``,
    ``lam0``, ``lam_growth``, ``inner_steps``, plus the common ones.

    Examples
    --------
    >>> from numopt.bilevel.apps import quadratic_bilevel
    >>> from numopt import run
    >>> qp = quadratic_bilevel(n=3, m=4, n_samples=200, noise=0.1, seed=0)
    >>> res = run(F2SA(lr=0.05, maxiter=300, seed=1), qp.problem, qp.problem.x0)
    >>> bool(np.linalg.norm(res.x - qp.x_star) < 0.5 * np.linalg.norm(qp.problem.x0 - qp.x_star))
    True
    """

    name = "f2sa"
    default_options = {**COMMON_OPTIONS, "lr": 0.01, "lr_x": None, "batch_size": 64, "lam0": 1.0,
                       "lam_growth": 0.1, "inner_steps": 10}

    def validate_options(self, options):
        super().validate_options(options)
        check_positive("lr", options["lr"])
        check_positive("lam0", options["lam0"])
        check_positive("lam_growth", options["lam_growth"], strict=False)

    def step(self, state):
        p, o, rng = state.problem, self.options, state.rng
        lam = o["lam0"] + o["lam_growth"] * state.k
        state.sigma = 1.0 / lam
        lr, B = o["lr"], o["batch_size"]
        x, y, z = state.x, state.y, state.z
        for _ in range(o["inner_steps"]):
            z = p.proj_y(z - lr * p.g.grad(x, z, p.batch("g", rng, B))[1])
            gy = p.f.grad(x, y, p.batch("f", rng, B))[1] / lam + p.g.grad(x, y, p.batch("g", rng, B))[1]
            y = p.proj_y(y - lr * gy)
        dx, _, _ = penalty_grads(p, x, y, z, lam, p.batch("f", rng, B), p.batch("g", rng, B))
        state.x = p.proj_x(x - (o["lr_x"] or lr) * dx)
        state.y, state.z = y, z
        return self.after_step(state)
