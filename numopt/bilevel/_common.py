"""Shared machinery of the bilevel solvers: state, schedules, steps, diagnostics, results.

Every bilevel solver keeps an upper iterate ``x``, a lower iterate ``y`` and
(for the penalty methods and F2SA) an auxiliary ``z`` tracking a minimizer of
``g(x, .)``, so that ``g(x, z)`` tracks the value function ``min_y g(x, y)``.
With ``lam = 1 / sigma`` the penalty function is

    h_sigma(x, y) = f(x, y) + lam * (g(x, y) - min_z g(x, z)),

and its partial gradients, by Danskin's theorem for the value function, are

    d_x = grad_x f(x, y) + lam * (grad_x g(x, y) - grad_x g(x, z)),
    d_y = grad_y f(x, y) + lam * grad_y g(x, y),     d_z = grad_y g(x, z).

The reported stationarity measure is the norm of the unit-step projected
gradient mapping of ``h_sigma`` in ``(x, y)`` at the final iterate, with ``z``
replaced by an accurate lower-level minimizer (the measure in which the paper
states its epsilon-stationarity of the penalty formulation).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._core.driver import IterativeSolver, SolverState
from .._core.result import OptimizeResult, Status
from .._core.validate import check_positive, check_rng
from ..linalg.eigen import largest_eigenvalue

COMMON_OPTIONS = {
    "seed": None,
    "monitor": None,
    "record_every": 0,
    "max_norm": 1e8,
}


def power_schedule(v0: float, k: int, k0: float, p: float) -> float:
    """``v0 * (1 + k / k0) ** (-p)``."""
    return v0 * (1.0 + k / k0) ** (-p)


def penalty_grads(problem, x, y, z, lam, idx_f=None, idx_g=None):
    """``(d_x, d_y, d_z)`` of the penalty function on the given minibatches (three gradient calls)."""
    fx, fy = problem.f.grad(x, y, idx_f)
    gx_y, gy_y = problem.g.grad(x, y, idx_g)
    gx_z, gy_z = problem.g.grad(x, z, idx_g)
    return fx + lam * (gx_y - gx_z), fy + lam * gy_y, gy_z


def projected_step(value, proj, w, v0, g0, L, *, max_trials: int = 60):
    """One projected-gradient step with backtracking on the Lipschitz estimate ``L``.

    Accepts ``w+ = P(w - g0 / L)`` when ``value(w+) <= v0 + <g0, w+ - w> + L/2 |w+ - w|^2``
    (the descent lemma), doubling ``L`` otherwise. Returns ``(w+, value(w+), L)``.
    """
    for _ in range(max_trials):
        w_new = proj(w - g0 / L)
        step = w_new - w
        v_new = value(w_new)
        if v_new <= v0 + g0 @ step + 0.5 * L * (step @ step) + 1e-12 * abs(v0):
            return w_new, v_new, L
        L *= 2.0
    return w, v0, L


def lower_minimizer(problem, x, z, *, iters: int = 500, tol: float = 1e-10):
    """Projected gradient with backtracking on ``g(x, .)`` from ``z`` (full batch)."""
    L = 1.0
    gz = problem.g.grad(x, z)[1]
    vz = problem.g.value(x, z)
    for _ in range(iters):
        z_new, v_new, L = projected_step(lambda w: problem.g.value(x, w), problem.proj_y, z, vz, gz, L)
        moved = np.linalg.norm(z_new - z)
        z, vz = z_new, v_new
        if moved * L <= tol * (1.0 + abs(vz)) or not np.isfinite(vz):
            break
        gz = problem.g.grad(x, z)[1]
        L *= 0.7
    return z


def curvature(fn, x, y, *, idx=None) -> float:
    """Largest eigenvalue of the y-Hessian of ``fn`` at ``(x, y)`` from Hessian-vector products.

    The products are ``fn.hvp`` (exact, JAX, or central differences of the gradient) on the
    samples ``idx``; the eigenvalue comes from :func:`numopt.linalg.eigen.largest_eigenvalue`
    (Lanczos, 1% accuracy), floored at 1e-12.
    """
    m = y.size

    def hessp(v):
        return fn.hvp(x, y, np.ravel(v), idx)[1]

    if m == 1:
        lam = float(hessp(np.ones(1))[0])
    else:
        lam = largest_eigenvalue(LinearOperator((m, m), matvec=hessp, dtype=float), tol=1e-2)
    return float(max(lam, 1e-12)) if np.isfinite(lam) else 1e-12


class BilevelSolver(IterativeSolver):
    """Base of the bilevel solvers: state, divergence checks, trace and the result fields.

    Subclasses implement ``start(state)`` (extra state) and ``step(state)``
    and may override ``terminate``. ``state.sigma`` is the current penalty
    parameter (``inf`` for implicit differentiation, which has none).
    """

    requires = ("upper_grad", "lower_grad", "projection")
    default_options: dict = {}

    def validate_options(self, options):
        check_positive("max_norm", options["max_norm"])
        check_positive("record_every", options["record_every"], strict=False, integer=True)
        if options["monitor"] is not None and not callable(options["monitor"]):
            raise TypeError("monitor must be callable(x, y) -> dict of numbers, or None.")
        for key in ("sigma", "sigma0"):
            if key in options and options[key] is not None:
                value = options[key]
                if not isinstance(value, (int, float)) or not value > 0 or not np.isfinite(value):
                    raise ValueError(f"{key} must be a finite number > 0 (the penalty parameter); got {value!r}.")
        if options.get("sigma0") is not None and options.get("sigma") is not None:
            if options["sigma0"] < options["sigma"]:
                raise ValueError(f"sigma0={options['sigma0']!r} must be >= sigma={options['sigma']!r} "
                                 "(sigma decreases from sigma0 toward sigma).")
        for key in ("lr_x", "lr_y", "lr_z", "sigma_power", "k0"):
            if options.get(key) is not None:
                check_positive(key, options[key])
        for key in ("inner_steps", "batch_size", "curvature_every"):
            if options.get(key) is not None:
                check_positive(key, options[key], integer=True)

    # ------------------------------------------------------------------ protocol
    def init(self, problem, x0):
        x = problem.proj_x(np.asarray(x0, dtype=float))
        y = problem.proj_y(problem.y0.copy())
        state = SolverState(problem=problem, x=x, y=y, z=y.copy(), k=0, sigma=np.inf, diverged=False,
                            rng=check_rng(self.options["seed"]), diag_time=0.0, t0=time.perf_counter(),
                            trace={}, bound=self.options["max_norm"] * (1.0 + np.linalg.norm(y) +
                                                                         np.linalg.norm(x)))
        self.start(state)
        self._record(state, force=True)
        return state

    def start(self, state):  # pragma: no cover - overridden
        pass

    def update_curvature(self, state):
        """Estimate the y-curvatures ``state.Lf``, ``state.Lg`` of f and g at the current point.

        Used by the fixed step rules; every ``curvature_every`` iterations the
        estimate is refreshed (the curvature of g(x, .) may change with x) on a
        minibatch of ``16 * batch_size`` samples (counted oracle calls).
        """
        p, o = state.problem, self.options
        if state.k % o["curvature_every"]:
            return
        size = 16 * o["batch_size"]
        state.Lf = curvature(p.f, state.x, state.y, idx=p.batch("f", state.rng, size))
        state.Lg = curvature(p.g, state.x, state.y, idx=p.batch("g", state.rng, size))

    def after_step(self, state):
        """Count the iteration, check for divergence and record the trace."""
        state.k += 1
        for w in (state.x, state.y, state.z):
            if not np.all(np.isfinite(w)) or np.linalg.norm(w) > state.bound:
                state.diverged = True
        self._record(state)
        return state

    def terminate(self, state):
        if state.diverged:
            return Status.DIVERGED
        return self.converged(state)

    def converged(self, state):
        return None

    def _record(self, state, force=False):
        every = self.options["record_every"]
        if not every or (state.k % every and not force):
            return
        t = time.perf_counter()
        problem = state.problem
        counts = problem.counts()
        rec = {"nit": state.k, "time": t - state.t0 - state.diag_time, "ngrad": counts["ngrad"],
               "noracle": counts["noracle"], "nsamples": counts["nsamples"], "sigma": state.sigma}
        with problem.uncounted():
            rec["upper"] = problem.f.value(state.x, state.y)
            monitor = self.options["monitor"]
            if monitor is not None:
                rec.update({k: float(v) for k, v in monitor(state.x, state.y).items()})
        for key, value in rec.items():
            state.trace.setdefault(key, []).append(value)
        state.diag_time += time.perf_counter() - t

    def intermediate_result(self, state):
        return OptimizeResult(x=np.copy(state.x), y=np.copy(state.y), sigma=state.sigma, nit=state.k)

    def postprocess(self, state, status):
        problem = state.problem
        x, y = state.x, state.y
        res = OptimizeResult(x=x, y=y, z=state.z, sigma=state.sigma)
        if status in (Status.NONFINITE, Status.DIVERGED):
            res["fun"] = np.nan
            res["lower_diverged"] = True
            res["lower_gap"] = np.nan
            res["stationarity"] = np.nan
            if state.trace:
                res["trace"] = state.trace
            return res
        with problem.uncounted():
            res["fun"] = res["upper_value"] = problem.f.value(x, y)
            res["lower_value"] = problem.g.value(x, y)
            zstar = lower_minimizer(problem, x, problem.proj_y(state.z))
            res["lower_gap"] = res["lower_value"] - problem.g.value(x, zstar)
            lam = 0.0 if not np.isfinite(state.sigma) else 1.0 / state.sigma
            dx, dy, _ = penalty_grads(problem, x, y, zstar, lam)
            if not np.isfinite(state.sigma):
                dx = getattr(state, "hypergrad", dx)
            gx = x - problem.proj_x(x - dx)
            gy = y - problem.proj_y(y - dy) if np.isfinite(state.sigma) else np.zeros_like(y)
            res["hypergrad_norm"] = float(np.linalg.norm(gx))
            res["stationarity"] = float(np.hypot(np.linalg.norm(gx), np.linalg.norm(gy)))
        res["lower_diverged"] = False
        if state.trace:
            res["trace"] = state.trace
        return res
