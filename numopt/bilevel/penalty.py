"""Penalty methods for nonconvex bilevel optimization (Kwon, Kwon, Wright and Nowak, ICLR 2024).

The bilevel problem min_{x in X} f(x, y*(x)), y*(x) in argmin_{y in Y} g(x, y)
is replaced by the penalty formulation

    min_{x in X, y in Y} h_sigma(x, y) = f(x, y) + (1/sigma) (g(x, y) - min_{z in Y} g(x, z)),

whose value psi_sigma(x) = min_y h_sigma(x, y) is O(sigma)-close to the
hyper-objective, with O(sigma)-close gradients under the proximal error-bound
condition. The value function is tracked by an auxiliary ``z`` that descends
on ``g(x, .)``; ``(x, y)`` descend on ``h_sigma`` with the Danskin gradient
``grad_x f + (grad_x g(x, y) - grad_x g(x, z)) / sigma``. Three algorithms:

``PenaltyMethod`` ('penalty', deterministic oracles)
    Outer iteration k: sigma_k = max(sigma, sigma0 * sigma_decay^k) (a
    continuation toward the target sigma = O(eps)), then projected-gradient
    steps on y (objective f + g/sigma_k) and on z (objective g), warm-started,
    each with a backtracking Lipschitz estimate (descent-lemma test), until
    both gradient mappings (the z one weighted by 1/sigma_k, as it enters the
    x gradient) are below ``inner_rtol`` times the last stationarity measure,
    or ``inner_steps`` steps (under the error-bound condition the inner loops
    converge linearly, so this is O(log(1/eps)) steps); then one projected
    step on x. The x step is ``lr_x * sigma`` when ``lr_x`` is given (the
    paper's fixed O(sigma) step: O(eps^-3) gradient calls with
    sigma = O(eps)); by default it is chosen by an Armijo backtracking on the surrogate
    psi_sigma(x), evaluated by the inner loop the step needs anyway (our
    choice, it removes the unknown smoothness constant). An unconverged z
    makes psi_sigma look too small, so the search needs inner loops that
    reach their accuracy; when they cannot for three trial steps in a row
    (each with ``inner_restarts`` more loops, e.g. an ill-conditioned lower
    level), the method switches to Barzilai-Borwein steps (safeguarded to a
    factor 10 per iteration) and reports ``x_step_rule='barzilai-borwein'``.
    Stops when sigma reached its target and the stationarity measure is
    below ``tol``.
``PenaltyStochastic`` ('penalty-stochastic', minibatch oracles, double loop)
    Same loops (``inner_steps`` each) with minibatches of ``batch_size``
    samples, sigma_k = max(sigma, sigma0 (1 + k/k0)^(-sigma_power)) and fixed
    step rules: y step ``lr_y c_k / (L_f + L_g / sigma_k)``, z step ``lr_z c_k / L_g``,
    x step ``lr_x c_k / (L_f + L_g / sigma_k)`` (so O(sigma_k)), with
    c_k = (1 + k/k0)^(-step_power) and L_f, L_g the y-curvatures of f and g
    (largest eigenvalues of the y-Hessians by Lanczos on Hessian-vector products, on a
    minibatch of 16 * batch_size samples, counted), refreshed every ``curvature_every``
    iterations because the curvature of g(x, .) may change with x.
``PenaltySingleLoop`` ('penalty-single-loop', O(1) samples per iteration)
    One minibatch step for each of y, z and x per iteration, all from the
    same point. With stochastic oracles the directions are momentum-assisted
    (STORM-type recursive estimators: d_k = G(w_k) + (1 - eta_k)(d_{k-1} - G(w_{k-1}))
    on the same minibatch, eta_k = (1 + k/k0)^(-2b)), which is what the paper's
    improved O(eps^-5) rate needs; the step multipliers decay as (1 + k/k0)^(-a)
    for x and (1 + k/k0)^(-b) for y, z and sigma_k as (1 + k/k0)^(-c), with
    (a, b, c) = (3/5, 2/5, 1/5) with momentum and (5/7, 4/7, 1/7) without,
    the exponents that balance the bias O(sigma) against the variance in the
    O(eps^-5) and O(eps^-7) analyses. With deterministic oracles the steps are
    constant and sigma_k decays with power ``sigma_power`` (default 1/2).

The paper's text gives the rates, not code; the step rules above are our
reading of its assumptions (step sizes O(sigma) in x, O(1/L) in y and z).
"""

from __future__ import annotations

import numpy as np

from .._core.result import Status
from .._core.validate import check_in_range, check_positive
from ._common import COMMON_OPTIONS, BilevelSolver, penalty_grads, power_schedule, projected_step

__all__ = ["PenaltyMethod", "PenaltySingleLoop", "PenaltyStochastic"]


class PenaltyMethod(BilevelSolver):
    """Deterministic penalty method with inner loops (see the module docstring).

    Options: ``sigma`` (target, O(eps)), ``sigma0``, ``sigma_decay``,
    ``inner_steps`` (most inner steps per loop), ``inner_rtol``,
    ``inner_restarts`` (extra inner loops a trial x step may use), ``lr_x``
    (None: Armijo search on psi_sigma; a number c: fixed step c * sigma),
    ``tol`` (None: ``sigma``, the eps of an eps-stationary point found with
    sigma = O(eps)), plus ``seed``, ``monitor``, ``record_every``, ``max_norm`` and
    the driver's options.

    Examples
    --------
    >>> from numopt.bilevel.apps import quadratic_bilevel
    >>> from numopt import run
    >>> qp = quadratic_bilevel(n=3, m=4, seed=0)
    >>> res = run(PenaltyMethod(sigma=1e-3, maxiter=300), qp.problem, qp.problem.x0)
    >>> res.success, bool(abs(res.upper_value - qp.hyper_objective(res.x)) < 1e-2)
    (True, True)
    """

    name = "penalty"
    default_options = {**COMMON_OPTIONS, "sigma": 1e-2, "sigma0": 1.0, "sigma_decay": 0.8,
                       "inner_steps": 100, "inner_rtol": 0.01, "inner_restarts": 4, "lr_x": None,
                       "tol": None}

    def validate_options(self, options):
        super().validate_options(options)
        check_in_range("sigma_decay", options["sigma_decay"], 0.0, 1.0, closed="right")
        check_in_range("inner_rtol", options["inner_rtol"], 0.0, 1.0)
        check_positive("inner_restarts", options["inner_restarts"], strict=False, integer=True)
        if options["tol"] is not None:
            check_positive("tol", options["tol"])

    @property
    def tol(self) -> float:
        """The stationarity tolerance: ``tol``, or ``sigma`` when ``tol`` is None."""
        tol = self.options["tol"]
        return self.options["sigma"] if tol is None else tol

    def start(self, state):
        state.Ly = state.Lz = 1.0
        state.alpha = None
        state.psi = None
        state.psi_sigma = None
        state.stalled = False
        state.measure = np.inf
        state.x_rule = "armijo"
        state.bb_s = state.bb_d = None

    def _inner(self, state, x, y, z, lam):
        """Projected gradient on y (f + lam g) and z (g) until both gradient mappings are small."""
        p, o = state.problem, self.options
        target = max(0.1 * self.tol, o["inner_rtol"] * min(state.measure, 1.0))

        def hy(w):
            return p.f.value(x, w) + lam * p.g.value(x, w)

        def hz(w):
            return p.g.value(x, w)

        vy, vz = hy(y), hz(z)
        Ly, Lz = state.Ly, state.Lz
        drop = 0.0
        state.inner_done = done = False
        for _ in range(o["inner_steps"]):
            gy = p.f.grad(x, y)[1] + lam * p.g.grad(x, y)[1]
            vy_old, vz_old = vy, vz
            y_new, vy, Ly = projected_step(hy, p.proj_y, y, vy, gy, Ly)
            z_new, vz, Lz = projected_step(hz, p.proj_y, z, vz, p.g.grad(x, z)[1], Lz)
            drop = (vy_old - vy) + lam * (vz_old - vz)
            done = max(Ly * np.linalg.norm(y_new - y), lam * Lz * np.linalg.norm(z_new - z)) <= target
            y, z, Ly, Lz = y_new, z_new, 0.9 * Ly, 0.9 * Lz
            if done or not np.isfinite(vy + vz) or max(np.linalg.norm(y), np.linalg.norm(z)) > state.bound:
                break
        state.inner_done = done
        # inexactness of psi = vy - lam vz: rounding, plus the unfinished inner decrease
        state.psi_noise = 64 * np.finfo(float).eps * (abs(vy) + lam * abs(vz)) + 10.0 * abs(drop)
        return y, z, vy - lam * vz, Ly, Lz

    def sigma_at(self, k):
        o = self.options
        return max(o["sigma"], o["sigma0"] * o["sigma_decay"] ** k)

    def _refresh(self, state, lam):
        """Penalty gradient and stationarity measure at the current (x, y, z)."""
        p, x, y = state.problem, state.x, state.y
        state.dx, dy, _ = penalty_grads(p, x, y, state.z, lam)
        state.measure = float(np.hypot(np.linalg.norm(x - p.proj_x(x - state.dx)),
                                       np.linalg.norm(y - p.proj_y(y - dy))))

    def step(self, state):
        p, o = state.problem, self.options
        sigma = self.sigma_at(state.k)
        lam = 1.0 / sigma
        if np.isfinite(state.sigma):
            state.Ly *= state.sigma / sigma
        if state.psi is None or state.sigma != sigma:
            state.y, state.z, state.psi, state.Ly, state.Lz = self._inner(state, state.x, state.y, state.z, lam)
            self._refresh(state, lam)
        state.sigma = sigma
        x, dx = state.x, state.dx
        if o["lr_x"] is not None or state.x_rule == "barzilai-borwein":
            if o["lr_x"] is not None:
                alpha = o["lr_x"] * o["sigma"]
            else:
                alpha = state.alpha
                curv = state.bb_s @ state.bb_d if state.bb_s is not None else 0.0
                if curv > 0:
                    alpha = float(np.clip((state.bb_s @ state.bb_s) / curv, 0.1 * alpha, 10.0 * alpha))
                state.alpha = alpha
            state.x = p.proj_x(x - alpha * dx)
            state.y, state.z, state.psi, state.Ly, state.Lz = self._inner(state, state.x, state.y, state.z, lam)
            self._refresh(state, lam)
            state.bb_s, state.bb_d = state.x - x, state.dx - dx
            return self.after_step(state)
        alpha = 2.0 * state.alpha if state.alpha is not None else 1.0 / state.Ly
        unfinished = 0
        for _ in range(40):
            x_new = p.proj_x(x - alpha * dx)
            s = x_new - x
            if not np.any(s):
                break
            y, z, psi, Ly, Lz = self._inner(state, x_new, state.y, state.z, lam)
            for _ in range(o["inner_restarts"]):
                if state.inner_done:
                    break
                y, z, psi, Ly, Lz = self._inner(state, x_new, y, z, lam)
            unfinished = 0 if state.inner_done else unfinished + 1
            if unfinished == 3:
                # the inner loops cannot reach the accuracy the search needs (an unfinished loop
                # underestimates psi): take this step and continue with Barzilai-Borwein steps
                state.x_rule = "barzilai-borwein"
                state.x, state.y, state.z, state.psi, state.Ly, state.Lz = x_new, y, z, psi, Ly, Lz
                state.alpha = alpha
                self._refresh(state, lam)
                state.bb_s, state.bb_d = s, state.dx - dx
                return self.after_step(state)
            if state.inner_done and psi <= state.psi - 1e-4 / alpha * (s @ s) + state.psi_noise:
                state.x, state.y, state.z, state.psi, state.Ly, state.Lz = x_new, y, z, psi, Ly, Lz
                state.alpha = alpha
                self._refresh(state, lam)
                return self.after_step(state)
            alpha *= 0.5
        state.stalled = sigma == o["sigma"]
        state.alpha = alpha
        return self.after_step(state)

    def postprocess(self, state, status):
        res = super().postprocess(state, status)
        res["x_step_rule"] = "fixed" if self.options["lr_x"] is not None else state.x_rule
        return res

    def converged(self, state):
        at_target = state.sigma == self.options["sigma"]
        if at_target and state.measure <= self.tol:
            return Status.SUCCESS
        if state.stalled:
            return Status.LINESEARCH
        return None


class PenaltyStochastic(BilevelSolver):
    """Stochastic penalty method with inner loops and minibatches (see the module docstring).

    Options: ``sigma``, ``sigma0``, ``sigma_power``, ``k0``, ``inner_steps``,
    ``batch_size``, ``lr_x``, ``lr_y``, ``lr_z``, ``step_power``, ``curvature_every``, plus the
    common ones. Runs for ``maxiter`` outer iterations.

    Examples
    --------
    >>> from numopt.bilevel.apps import quadratic_bilevel
    >>> from numopt import run
    >>> qp = quadratic_bilevel(n=3, m=4, n_samples=200, noise=0.1, seed=0)
    >>> res = run(PenaltyStochastic(sigma=1e-2, maxiter=300, seed=1), qp.problem, qp.problem.x0)
    >>> bool(np.linalg.norm(res.x - qp.x_star) < 0.5 * np.linalg.norm(qp.problem.x0 - qp.x_star))
    True
    """

    name = "penalty-stochastic"
    default_options = {**COMMON_OPTIONS, "sigma": 1e-2, "sigma0": 1.0, "sigma_power": 0.5, "k0": 10.0,
                       "inner_steps": 10, "batch_size": 64, "lr_x": 1.0, "lr_y": 0.5, "lr_z": 0.5,
                       "step_power": 0.5, "curvature_every": 50}

    def start(self, state):
        pass

    def step(self, state):
        p, o, rng = state.problem, self.options, state.rng
        self.update_curvature(state)
        sigma = state.sigma = max(o["sigma"], power_schedule(o["sigma0"], state.k, o["k0"], o["sigma_power"]))
        lam = 1.0 / sigma
        c = (1.0 + state.k / o["k0"]) ** (-o["step_power"])
        Ly = state.Lf + lam * state.Lg
        gam, beta = o["lr_y"] * c / Ly, o["lr_z"] * c / state.Lg
        x, y, z = state.x, state.y, state.z
        B = o["batch_size"]
        for _ in range(o["inner_steps"]):
            i_f, i_g, i_z = p.batch("f", rng, B), p.batch("g", rng, B), p.batch("g", rng, B)
            gy = p.f.grad(x, y, i_f)[1] + lam * p.g.grad(x, y, i_g)[1]
            y = p.proj_y(y - gam * gy)
            z = p.proj_y(z - beta * p.g.grad(x, z, i_z)[1])
        dx, _, _ = penalty_grads(p, x, y, z, lam, p.batch("f", rng, B), p.batch("g", rng, B))
        state.x = p.proj_x(x - o["lr_x"] * c / Ly * dx)
        state.y, state.z = y, z
        return self.after_step(state)


class PenaltySingleLoop(BilevelSolver):
    """Single-loop penalty method, O(1) samples per iteration, momentum-assisted (module docstring).

    Options: ``sigma``, ``sigma0``, ``sigma_power`` (None: the rate-matched
    default), ``k0``, ``batch_size``, ``lr_x``, ``lr_y``, ``lr_z``,
    ``momentum`` (None: on for minibatch problems), ``curvature_every``, plus the common ones.

    Examples
    --------
    >>> from numopt.bilevel.apps import quadratic_bilevel
    >>> from numopt import run
    >>> qp = quadratic_bilevel(n=3, m=4, n_samples=200, noise=0.1, seed=0)
    >>> res = run(PenaltySingleLoop(sigma0=0.1, maxiter=3000, seed=1), qp.problem, qp.problem.x0)
    >>> bool(np.linalg.norm(res.x - qp.x_star) < 0.5 * np.linalg.norm(qp.problem.x0 - qp.x_star))
    True
    """

    name = "penalty-single-loop"
    default_options = {**COMMON_OPTIONS, "sigma": 1e-3, "sigma0": 1.0, "sigma_power": None, "k0": 100.0,
                       "batch_size": 8, "lr_x": 1.0, "lr_y": 0.5, "lr_z": 0.5, "momentum": None,
                       "curvature_every": 500}

    def start(self, state):
        p, o = state.problem, self.options
        momentum = o["momentum"]
        state.momentum = p.stochastic if momentum is None else bool(momentum)
        if not p.stochastic:
            state.a = state.b = 0.0
            state.c = 0.5
        elif state.momentum:
            state.a, state.b, state.c = 3 / 5, 2 / 5, 1 / 5
        else:
            state.a, state.b, state.c = 5 / 7, 4 / 7, 1 / 7
        if o["sigma_power"] is not None:
            state.c = o["sigma_power"]
        state.prev = None

    def step(self, state):
        p, o, rng = state.problem, self.options, state.rng
        self.update_curvature(state)
        k, k0 = state.k, o["k0"]
        sigma = state.sigma = max(o["sigma"], power_schedule(o["sigma0"], k, k0, state.c))
        lam = 1.0 / sigma
        Ly = state.Lf + lam * state.Lg
        cx, cy = (1.0 + k / k0) ** (-state.a), (1.0 + k / k0) ** (-state.b)
        i_f, i_g = p.batch("f", rng, o["batch_size"]), p.batch("g", rng, o["batch_size"])
        x, y, z = state.x, state.y, state.z
        d = penalty_grads(p, x, y, z, lam, i_f, i_g)
        if state.momentum and state.prev is not None:
            eta = min(1.0, cy * cy)
            old = penalty_grads(p, *state.prev, lam, i_f, i_g)
            d = tuple(dn + (1.0 - eta) * (dp - do) for dn, dp, do in zip(d, state.d, old))
        state.d, state.prev = d, (x, y, z)
        state.x = p.proj_x(x - o["lr_x"] * cx / Ly * d[0])
        state.y = p.proj_y(y - o["lr_y"] * cy / Ly * d[1])
        state.z = p.proj_y(z - o["lr_z"] * cy / state.Lg * d[2])
        return self.after_step(state)
