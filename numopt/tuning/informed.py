"""Learners that use more than the cost: model-predicted full information, with a bandit as a safety net.

:class:`ModelHedge` turns every solve into a predicted cost at *every* grid
value (a convergence model of :mod:`numopt.tuning.models`, read from the
solve's residual history or CG coefficients) and runs exponential weights
(Hedge) on the cumulative predicted costs: full-information feedback instead
of one number per round. When the model is right, its regret to the best fixed
value grows like ``sqrt(T log K)`` instead of the bandit's ``sqrt(K T)``; when
the model is wrong, nothing bounds it.

:class:`SafeCombination` adds a bandit's guarantee: a Tsallis-INF bandit
over the base learners (for example ``[ModelLeader(...), TsallisINF(...,
baseline=0)]``) chooses which one sets the value of each round, and every
base learner learns from every round (the bandit from importance-weighted
costs). Its total cost is at most that of each base learner plus
``O(sqrt(m T))`` for ``m`` base learners, the share's ``O(T^(3/4))`` and
the ``prior`` head start given to the first one, and within a worst-case sublinear bound,
``O(T^(3/4))``, of the best fixed value whatever the model predicts: with
the default share ``0.01 t^(-1/4)`` of the rounds kept for the base
learners evenly (see its notes for the constants, and for why no
combination can be within ``O(1)`` of the leader and ``O(sqrt(K T))`` of
the best value at once with bandit feedback).

Both follow the protocol of :class:`numopt.tuning.Learner`
(``select(context)``, ``update(cost, result)``); :func:`numopt.tuning.solve_sequence`
passes each solve's result (with its residual history) to ``update``.

Warm starts: an online comparison with the hindsight oracles is exact only for
cold starts (``warm_start=False``); that is the convention of every ratio the
benchmarks report.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._core.validate import check_in_range, check_positive
from .learners import Learner, tsallis_probabilities
from .models import (
    convergence_factor,
    predict_sor_counts,
    predict_ssor_pcg_counts,
    ritz_condition_number,
    young_factor,
    young_jacobi_radius,
)

__all__ = ["MODELS", "ModelHedge", "ModelLeader", "SORModel", "SSORPCGModel", "SafeCombination"]


def _history(result, key):
    history = result.get("history") if hasattr(result, "get") else None
    return None if history is None else history.get(key)


class SORModel:
    """Predicted cost at every grid value from one SOR solve (Young's theory; see :mod:`numopt.tuning.models`).

    ``result`` is the solve's result with a residual history, or the measured
    convergence factor as a number (what :func:`numopt.tuning.cost_table`
    stores as ``feedback``); without either the call returns None.

    An over-relaxed run (factor at the floor ``omega - 1``) only bounds the
    Jacobi radius from above: its costs at larger values are exact, those at
    a smaller value ``w'`` are imputed from the earlier runs *at or below*
    ``w'`` whose radius (or bound, for an over-relaxed one) is consistent
    with this run's bound: their mean predicted cost. Which value a learner
    ran did not depend on the instance, so these runs are a fair sample of
    instances, and each fixes the factor at ``w'`` (exactly: a run over-relaxed
    at ``w_s <= w'`` is over-relaxed at ``w'`` too). Runs at larger values are
    not: they are exact only on the hardest instances (those not
    over-relaxed there), and imputing from them overstates the cost below a
    value the learner keeps running (2.3 times on one shifted-Laplacian
    sequence). Without such runs, the mean over the exact radii below the
    bound is used, or the bound itself (an upper bound) before any exists.
    Keeping the bound alone would make an over-relaxed value confirm itself.

    ``transient`` is passed to :func:`~numopt.tuning.models.predict_sor_counts`.
    Off by default: the envelope model predicts single counts better (median
    error 2.2% vs 4.4% on variable diffusion, 5.7% vs 6.9% on the anisotropic
    family) but steers the learner no better (``sor-model`` suite).

    Examples
    --------
    >>> model = SORModel()
    >>> pred = model(np.array([1.0, 1.5]), 1.0, 100, 0.9)
    >>> float(pred[0]), bool(pred[1] < 100), model.radii
    (100.0, True, [0.9486832980505138])
    """

    #: where a learner should make its first run (0 the smallest grid value, 1 the largest): a run below
    #: the best value measures the Jacobi radius, one at the smallest value costs the most
    first_run = 0.5

    def __init__(self, transient: bool = False):
        self.transient = bool(transient)
        self.radii: list[float] = []  # Jacobi radii measured exactly (uncensored runs)
        self._runs: list[tuple[float, float]] = []  # (value run, its radius or, if censored, its bound)

    def __call__(self, grid, value, cost, result):
        if isinstance(result, numbers.Real):
            factor = float(result)
        else:
            residuals = _history(result, "residual")
            if residuals is None:
                return None
            factor = convergence_factor(residuals)
        if not 0 < factor < 1 or cost <= 0:
            return None
        grid = np.asarray(grid, dtype=float)
        beta, censored = young_jacobi_radius(value, factor)
        predicted = predict_sor_counts(grid, value, cost, factor, transient=self.transient)  # exact above value
        if censored:
            predicted = self._impute_below(grid, value, cost, beta, predicted)
        else:
            self.radii.append(beta)
        self._runs.append((float(value), beta))
        return predicted

    def _impute_below(self, grid, value, cost, bound, predicted):
        """Counts below an over-relaxed run (Jacobi radius at most ``bound``); see the class notes."""
        log_used = np.log(max(value - 1.0, 1e-12))

        def counts(values, radii):  # one row per radius
            rates = young_factor(values[None, :], np.asarray(radii, dtype=float)[:, None])
            return cost * log_used / np.log(np.minimum(rates, 1 - 1e-12))

        below = np.flatnonzero(grid < value)
        if self._runs and below.size:
            runs = np.array(self._runs)
            usable = (runs[:, 1:2] <= bound) & (runs[:, 0:1] <= grid[below][None, :])
            n = usable.sum(axis=0)
            paired = np.where(usable, counts(grid[below], runs[:, 1]), 0.0).sum(axis=0) / np.maximum(n, 1)
            predicted[below[n > 0]] = paired[n > 0]
            below = below[n == 0]
        plausible = [r for r in self.radii if r < bound]
        if plausible and below.size:
            predicted[below] = counts(grid[below], plausible).mean(axis=0)
        return predicted


class SSORPCGModel:
    """Predicted cost at every grid value from one SSOR-PCG solve (the Chebyshev bound with a learned ``delta``).

    ``result`` is the solve's result with a history of CG coefficients, or the
    measured condition number as a number; without either the call returns None.

    The bound's second constant ``delta`` depends on the matrix family (about
    0 for shifted Laplacians, 1 for variable diffusion, above 2 for graph
    Laplacians in the ``sor-model`` suite). It is chosen online among
    ``deltas``: each run's measured count is compared with what every candidate
    predicts for it from the latest run at a *different* value (squared log
    error; a run at the same value would be predicted exactly by every
    candidate), and the candidate with the smallest accumulated error is used.
    :meth:`predict_each` gives the last run's predictions under every
    candidate, so a learner can keep one cumulative estimate per candidate and
    switch between them when the choice changes.

    Examples
    --------
    >>> model = SSORPCGModel()
    >>> pred = model(np.array([1.0, 1.5]), 1.5, 20, 30.0)
    >>> float(pred[1]), bool(pred[0] > 20)
    (20.0, True)
    """

    #: where a learner should make its first run (0 the smallest grid value, 1 the largest)
    first_run = 0.0

    def __init__(self, deltas=(0.0, 0.25, 0.5, 1.0, 2.0, 4.0)):
        self.deltas = np.asarray(deltas, dtype=float)
        self.errors = np.zeros(len(self.deltas))
        self._recent: list[tuple[float, float, float]] = []  # (omega, nit, kappa): latest runs at two values
        self.last: tuple[float, float, float] | None = None

    @property
    def choice(self) -> int:
        """Index of :attr:`delta` in ``deltas``."""
        return int(np.argmin(self.errors))

    @property
    def delta(self) -> float:
        """The candidate with the least accumulated next-round prediction error so far."""
        return float(self.deltas[self.choice])

    def __call__(self, grid, value, cost, result):
        if isinstance(result, numbers.Real):
            kappa = float(result)
        else:
            alphas, betas = _history(result, "alpha"), _history(result, "beta")
            if alphas is None or len(alphas) < 3:
                return None
            kappa = ritz_condition_number(alphas, betas)
        if not np.isfinite(kappa) or kappa < 1 or cost <= 0:
            return None
        value = float(value)
        reference = next((run for run in self._recent if run[0] != value), None)
        if reference is not None:
            w, n, k = reference
            guesses = [float(predict_ssor_pcg_counts([value], w, n, k, d)[0]) for d in self.deltas]
            self.errors += np.log(np.asarray(guesses) / cost) ** 2
        self.last = (value, float(cost), kappa)
        self._recent = [self.last] + [run for run in self._recent if run[0] != value][:1]
        return predict_ssor_pcg_counts(grid, value, cost, kappa, self.delta)

    def predict_each(self, grid) -> np.ndarray:
        """Predictions of the last run under every candidate ``delta`` (one row each)."""
        if self.last is None:
            raise RuntimeError("predict_each() needs a run first: call the model on a solve's result.")
        return np.array([predict_ssor_pcg_counts(grid, *self.last, d) for d in self.deltas])


#: built-in convergence models by solver name (factories: a model may keep what it learned)
MODELS = {"sor": SORModel, "ssor-pcg": SSORPCGModel}


class _ModelInformed(Learner):
    """A learner that learns from :meth:`observe` (the result's model predictions), one call per update."""

    def _observe(self, i, cost, result):
        self.observe(self.grid[i].item(), cost, result)

    def _learn(self, i, cost):
        pass


class ModelHedge(_ModelInformed):
    """Exponential weights on model-predicted costs of every grid value (full-information feedback).

    Parameters
    ----------
    grid : array_like
        Candidate values.
    model : {'sor', 'ssor-pcg'} or callable
        ``model(grid, value, cost, result) -> predicted costs`` (one per grid
        value) or None when the result carries no usable information; the
        built-in models read the residual history (SOR) or the CG coefficients
        (SSOR-PCG) of ``result``, so the solves must record their history
        (:func:`~numopt.tuning.solve_sequence` does this for learners with
        ``needs_history``).
    eta : float
        Learning rate multiplier: weights ``exp(-eta sqrt(log K / t) P_i)``
        on the cumulative predicted costs ``P_i`` (in units of the mean cost).
    start : float, optional
        Value of the first round (default: drawn uniformly).
    scale : float, optional
        Divide costs by this constant; default the running mean cost.
    seed : int or Generator, optional

    Examples
    --------
    >>> from numopt.problems.linear_sequences import shifted_laplacians
    >>> from numopt.tuning import solve_sequence
    >>> grid = np.linspace(1.0, 1.95, 20)
    >>> res = solve_sequence(shifted_laplacians(30, variance="low", seed=0), "sor",
    ...                      ModelHedge(grid, "sor", seed=0), warm_start=False)
    >>> res.success, bool(np.all(res.params[-10:] > 1.5))
    (True, True)
    """

    needs_history = True

    def __init__(self, grid, model="sor", *, eta: float = 4.0, start=None, scale: float | None = None,
                 seed=None):
        super().__init__(grid, scale=scale, seed=seed)
        self.model = self._resolve_model(model)
        self.eta = check_positive("eta", eta)
        self.start = None if start is None else float(start)
        self.predicted = np.zeros(self.K)  # cumulative predicted costs, in units of the normalizer
        self.informed = 0  # rounds with a prediction

    @staticmethod
    def _resolve_model(model):
        if isinstance(model, str):
            if model not in MODELS:
                raise ValueError(f"model={model!r} is not valid; expected one of {', '.join(map(repr, MODELS))} "
                                 "or a callable model(grid, value, cost, result).")
            return MODELS[model]()
        if not callable(model):
            raise TypeError(f"model must be a name or a callable; got {type(model).__name__}.")
        return model

    def probabilities(self, context=None):
        if self.informed == 0:
            if self.start is not None:
                p = np.zeros(self.K)
                p[int(np.argmin(np.abs(self.grid - self.start)))] = 1.0
                return p
            return np.full(self.K, 1.0 / self.K)
        rate = self.eta * np.sqrt(np.log(max(self.K, 2)) / self.informed)
        z = -rate * (self.predicted - self.predicted.min())
        w = np.exp(z)
        return w / w.sum()

    def observe(self, value, cost, result) -> None:
        """Learn from a round that another learner chose (its value, cost and result)."""
        predicted = self.model(self.grid, value, cost, result)
        if predicted is None:
            return
        predicted = np.asarray(predicted, dtype=float)
        if predicted.shape != (self.K,) or not np.all(np.isfinite(predicted)):
            return
        # normalize by the running mean of the costs seen so far (this round included)
        seen = self._total + cost
        unit = self.scale or (seen / (self.t + 1) if seen > 0 else 1.0)
        self.predicted += predicted / unit
        self.informed += 1


class ModelLeader(_ModelInformed):
    """Follow the leader on calibrated model predictions, measured costs where measured.

    Every value's cumulative estimate is the sum of its measured costs (the
    rounds that ran it) plus its model predictions on the other rounds times
    a per-value *correction factor*; the factor is recomputed from all
    measurements so far and applied to every past prediction. The next value
    is the one with the least cumulative estimate (the leader), except that
    with probability ``explore / sqrt(t)`` its lower neighbour is run instead
    (the upper one when the leader is the smallest value): a measurement where
    the models are least certain, costs rising slowly below the best SOR value
    and sharply above it.

    The correction factor of value ``i`` is ``exp(c_i)`` with the log-bias
    of its own measurements pooled with its neighbours' as a prior,

    ``c_i = (n_i b_i + pool m_i) / (n_i + pool)``,
    ``m_i = sum_{j != i} k_ij n_j b_j / (sum_{j != i} k_ij n_j + shrink)``,  ``k_ij = exp(-|i - j| / width)``:

    ``b_j`` is the mean log measured cost of the ``n_j`` rounds that ran
    value ``j`` minus the mean log prediction for ``j`` of the rounds that did
    not. A model that predicts every cost at value ``i`` too high by a factor
    ``f`` is corrected by about ``1 / f`` once ``i`` has been run a few times
    more than ``pool``; before that, ``width > 0`` lets the bias measured at
    the neighbouring values stand in (a model whose predicted minimum is
    shifted is pulled back before every value on the way has been run),
    ``width = 0`` shrinks the value's own bias towards 0 instead. A value's
    own measurements outweigh its neighbours' once it has ``pool`` of them,
    so a bias confined to one value is corrected there (averaging the two, as
    a kernel over all values including ``i`` would, left a leader on a
    heavy-tailed sequence next to the best value for 180 of 200 rounds).

    Models with alternative parameter settings (:class:`SSORPCGModel`'s
    ``delta`` candidates, exposing ``predict_each`` and ``choice``) get one
    set of sums per setting, so switching to a better ``delta`` re-weighs
    every past round.

    No guarantee holds when the model is wrong; :class:`SafeCombination` with
    a bandit among its bases adds one.

    Parameters
    ----------
    grid : array_like
        Candidate values.
    model : {'sor', 'ssor-pcg'} or callable
        As for :class:`ModelHedge`.
    shrink : float
        Rounds of measurement at which the neighbours' bias ``m_i`` is half trusted.
    width : float
        Reach of a measured bias along the grid, in grid steps (0: none).
    pool : float
        Rounds of a value's own measurement that weigh as much as its neighbours' bias.
    explore : float
        Exploration multiplier (0: pure follow the leader).
    start : float, optional
        Value of the first round. Default: the model's ``first_run`` position
        in the grid (0 the smallest value, 1 the largest) when it has one
        (:class:`SORModel` 0.5, an under-relaxed but not needlessly slow run;
        :class:`SSORPCGModel` 0), else the smallest value.
    scale : float, optional
        Divide costs by this constant; default the running mean cost.
    seed : int or Generator, optional

    Examples
    --------
    >>> from numopt.tuning import replay
    >>> costs = np.tile([40.0, 30.0, 20.0, 25.0], (300, 1))  # value 1.4 is best
    >>> def biased(grid, value, cost, result):  # 1.4 predicted twice too costly when not run
    ...     return np.where(grid == value, cost, costs[0] * np.where(grid == 1.4, 2.0, 1.0))
    >>> learner = ModelLeader([1.0, 1.2, 1.4, 1.6], biased, width=0, seed=0)
    >>> r = replay(learner, costs)
    >>> int(np.bincount(r.actions).argmax()), bool(r.total < 1.05 * 20 * 300)
    (2, True)
    >>> learner.correction()[[0, 2]].round(1).tolist()  # about 1/2 where run often, 1 where never run
    [1.0, 0.5]
    """

    needs_history = True

    def __init__(self, grid, model="sor", *, shrink: float = 1.0, width: float = 2.0, pool: float = 5.0,
                 explore: float = 1.0, start=None, scale: float | None = None, seed=None):
        super().__init__(grid, scale=scale, seed=seed)
        self.model = ModelHedge._resolve_model(model)
        self.shrink = check_in_range("shrink", shrink, 0.0, np.inf, closed="left")
        self.width = check_in_range("width", width, 0.0, np.inf, closed="left")
        self.pool = check_positive("pool", pool)
        self.explore = check_in_range("explore", explore, 0.0, np.inf, closed="left")
        if start is None:
            position = float(getattr(self.model, "first_run", 0.0))
            start = np.min(self.grid) + position * (np.max(self.grid) - np.min(self.grid))
        self.start = float(start)
        self.variants = hasattr(self.model, "predict_each") and hasattr(self.model, "choice")
        settings = len(self.model.deltas) if self.variants else 1
        self.informed = 0  # rounds with a prediction
        self._measured_sum = np.zeros(self.K)  # measured costs of the rounds that ran each value (normalized)
        self._predicted_sum = np.zeros((settings, self.K))  # predictions on the rounds that did not (normalized)
        self._measured_log = np.zeros(self.K)  # sum of log measured costs of the rounds that ran each value
        self._measured = np.zeros(self.K)
        self._predicted_log = np.zeros((settings, self.K))  # sum of log predictions of the rounds that did not
        self._predicted = np.zeros(self.K)

    def _setting(self) -> int:
        return self.model.choice if self.variants else 0

    def correction(self) -> np.ndarray:
        """Per-value factor applied to the model's predictions (1 far from every value run)."""
        both = (self._measured > 0) & (self._predicted > 0)
        bias = np.zeros(self.K)
        bias[both] = (self._measured_log[both] / self._measured[both]
                      - self._predicted_log[self._setting(), both] / self._predicted[both])
        n = np.where(both, self._measured, 0.0)
        kernel = np.zeros((self.K, self.K))
        if self.width > 0:
            steps = np.arange(self.K)
            kernel = np.exp(-np.abs(steps[:, None] - steps[None, :]) / self.width)
            np.fill_diagonal(kernel, 0.0)
        neighbours = (kernel @ (n * bias)) / np.maximum(kernel @ n + self.shrink, 1e-300)
        return np.exp((n * bias + self.pool * neighbours) / (n + self.pool))

    @property
    def estimate(self) -> np.ndarray:
        """Cumulative estimated cost of every value (units of the running mean cost), under the model's
        current setting and the current correction."""
        return self._measured_sum + self.correction() * self._predicted_sum[self._setting()]

    def probabilities(self, context=None):
        p = np.zeros(self.K)
        if self.informed == 0:
            p[int(np.argmin(np.abs(self.grid - self.start)))] = 1.0
            return p
        leader = int(np.argmin(self.estimate))
        eps = min(1.0, self.explore / np.sqrt(self.t + 1)) if self.K > 1 else 0.0
        p[leader] = 1.0 - eps
        p[leader - 1 if leader > 0 else min(leader + 1, self.K - 1)] += eps
        return p

    def observe(self, value, cost, result) -> None:
        """Learn from a round that another learner chose (its value, cost and result)."""
        i = int(np.argmin(np.abs(self.grid - value)))
        predicted = self.model(self.grid, value, cost, result)
        if predicted is None:
            return
        rows = self.model.predict_each(self.grid) if self.variants else np.asarray(predicted, dtype=float)[None]
        if rows.shape[1:] != (self.K,) or not np.all(np.isfinite(rows)) or np.any(rows <= 0):
            return
        others = np.arange(self.K) != i
        seen = self._total + cost  # normalize by the running mean of the costs seen so far (this round included)
        unit = self.scale or (seen / (self.t + 1) if seen > 0 else 1.0)
        self._predicted_log[:, others] += np.log(rows[:, others])
        self._predicted[others] += 1
        self._predicted_sum[:, others] += rows[:, others] / unit
        self._measured_sum[i] += cost / unit
        if cost > 0:
            self._measured_log[i] += np.log(cost)
            self._measured[i] += 1
        self.informed += 1


class SafeCombination(Learner):
    """A Tsallis-INF bandit over base learners, every base learning from every round.

    Each round the meta bandit draws a base learner (``q_j``) and that learner
    draws the value; the value played has probability
    ``p(i) = sum_j q_j beta_j(i)``, with ``beta_j`` base learner ``j``'s
    distribution. Every base learner is then updated with the cost and the
    result, and told ``p(i)``: a bandit base (:class:`~numopt.tuning.TsallisINF`)
    learns from the importance-weighted cost ``c / p(i)`` whichever base drew
    the value, model learners read the result. The meta bandit charges base
    ``j`` the estimate ``c beta_j(i) / p(i)`` of its expected cost (the
    conditional mean, given the value played, of the usual ``c [j drawn] /
    q_j``: unbiased, never of larger variance).

    The defaults are the recommended safety net for a model learner:
    ``SafeCombination([ModelLeader(grid, model), TsallisINF(grid, baseline=0)])``
    has the worst-case sublinear bound of the notes below (the bandit base
    needs ``baseline=0`` for it).

    Parameters
    ----------
    learners : sequence of Learner
        Base learners over the same grid (for example ``[ModelLeader(grid),
        TsallisINF(grid, baseline=0)]``); their ``probabilities`` must not
        draw at random.
    prior : float
        Head start of the first learner, in rounds of the cost normalizer
        (the initial cumulative loss of every other learner).
    share : float in [0, 1)
        Fraction ``g_1`` of the meta distribution spread evenly over the base
        learners in the first round: in round ``t`` each is drawn with
        probability at least ``g_t / m``, ``g_t = share * t^(-share_decay)``,
        so a bandit base sees every value with probability at least ``g_t / m``
        times its own. This is what makes the worst-case bound below finite;
        0 leaves it data-dependent (:attr:`stability`).
    share_decay : float in [0, 1]
        Exponent ``alpha`` of the decay of the share; 0 keeps it fixed at
        ``share``. For ``0 < alpha < 1/2`` the bound below against the best
        fixed value is sublinear, ``O(T^(1/2 + alpha) + T^(1 - alpha))``;
        the default 1/4 balances the two terms.
    baseline : float
        Reduced-variance baseline of the meta bandit's estimates (as in
        :class:`~numopt.tuning.TsallisINF`); the bound below is for 0 (the
        default).
    scale : float, optional
        Costs are divided by this constant (costs in ``[0, scale]``);
        default the running mean cost. The bound below covers both.
    seed : int or Generator, optional
        Seeds the draws of the combination (the base learners keep their own).

    Notes
    -----
    Regret bound. Costs in ``[0, s]``, ``baseline=0`` and a
    :class:`~numopt.tuning.TsallisINF` base with ``baseline=0`` over ``K``
    values; ``m`` base learners, head start ``h`` (``prior``), share
    ``g_t = g_1 t^(-alpha)`` in round ``t`` (``g_1`` = ``share``, ``alpha`` =
    ``share_decay``), ``eta_t = 2 / sqrt(t)`` at both levels. Costs are
    divided by the normalizer ``n_t`` of round ``t``: ``scale`` if given, else
    the mean cost of the earlier rounds (1 in round 1). Let
    ``N = max_{t>=2} n_t`` and ``rho = s / min_{t>=2} n_t``: ``N = s`` and
    ``rho = 1`` with ``scale=s``; with the running mean ``N <= s``, and
    ``rho <= s / c_min`` when every cost is at least ``c_min > 0`` (an
    iteration count is at least 1). The meta distribution is
    ``q_t = (1 - g_t) w_t + g_t / m`` with ``w_t`` the Tsallis-INF weights.

    Each level is follow-the-regularized-leader on costs with the regularizer
    ``a_t phi``, ``phi(w) = 4 (sqrt(n) - sum_i sqrt(w_i)) >= 0`` on ``n``
    arms, ``a_t = n_t sqrt(t) / 2`` (plus ``h n_t`` on every base learner but
    the first, at the meta level). Round 1 costs at most ``s`` whatever its
    normalizer; from round 2 on, the FTRL regret lemma (Orabona 2019, Lemma
    7.1) with the Tsallis-INF stability bound (Zimmert and Seldin 2021:
    ``(1 / (2 a_t)) sum_i w_i^{3/2} E[lhat_i^2]`` for non-negative estimates)
    gives, in expectation, with ``c_0 = 1`` for a fixed scale and 2 for the
    running mean:

    * a penalty ``P_n <= (4 sqrt(n) - 4) A`` with ``A = a_T + sum_{2<=t<T}
      (a_t - a_{t+1})^+`` (the lemma's ``(T+1)``-th regularizer taken equal
      to the ``T``-th): ``A = s sqrt(T) / 2`` with a fixed scale (the
      paper's ``2 sqrt(nT)``); with the running mean
      ``n_{t+1} >= (t-1) n_t / t`` bounds each decrease of ``a_t`` by
      ``n_t / (2 sqrt(t))``, so ``A <= 3 N sqrt(T) / 2``. The head start
      adds ``h H_j`` with ``H_j = s [j > 0]`` (fixed scale) or
      ``H_j <= N ([j > 0] + ln T)`` (running mean);
    * against base learner ``j``'s proposals (its expected cost each round,
      its state following the rounds as played):
      ``R_j <= P_m + h H_j + s (2 rho sqrt(mT) / (1 - g_1) + G_T + c_0)``,
      ``G_T = sum_t g_t``. The mixing costs at most ``s g_t`` in round ``t``;
      the meta estimate of base ``j`` has second moment at most
      ``s^2 / q_t(j)``, and ``q_t(j) >= (1 - g_t) w_t(j) >= (1 - g_1) w_t(j)``
      bounds the meta stability by ``2 rho s sqrt(mT) / (1 - g_1)``. With a
      fixed share ``G_T = g T``, with ``0 < alpha < 1``
      ``G_T <= g_1 T^(1 - alpha) / (1 - alpha)``;
    * against the best fixed value, through a bandit base ``j``:
      ``R* <= R_j + P_K + s (c_0 + rho V)``, where
      ``V = sum_t t^{-1/2} sum_i pi_t(i)^{3/2} / p_t(i)`` is the bandit's
      stability (``pi_t`` its distribution); :attr:`stability` accumulates
      ``V``. Since ``p_t >= q_t(j) pi_t``, ``q_t(j) >= g_t / m`` and
      ``sum_i pi_t(i)^{1/2} <= sqrt(K)``,
      ``V <= sqrt(K) sum_t t^{-1/2} / q_t(j) <= (m sqrt(K) / g_1) sum_t t^(alpha - 1/2)``:
      ``V = 2 sqrt(KT)`` when the bandit plays alone (the paper's
      ``4 sqrt(KT) + 1``), ``V <= 2 (m / g) sqrt(KT)`` with a fixed share
      (``alpha = 0``), and ``V <= (m sqrt(K) / g_1) T^(1/2 + alpha) / (1/2 + alpha)``
      for ``0 <= alpha <= 1/2``.

    So with ``0 < alpha < 1/2`` the bound against the best fixed value,
    ``R* <= P_m + P_K + h H_j + s (2 rho sqrt(mT) / (1 - g_1) + G_T + 2 c_0 +
    rho (m sqrt(K) / g_1) sum_t t^(alpha - 1/2))``, is worst-case and
    sublinear, ``O(T^(1 - alpha) + T^(1/2 + alpha))``, ``O(T^(3/4))`` for the
    default ``alpha = 1/4``, with a fixed scale or the running mean; a fixed
    share leaves the linear ``g T`` in it, ``alpha = 1/2`` makes the ``V``
    term linear, and ``share=0`` leaves ``V`` data-dependent.

    No choice of ``g`` and ``h`` makes both small: a bandit algorithm whose
    worst-case regret to one value is ``B`` has a value with worst-case
    regret ``Omega(K T / B)`` (Lattimore 2015), so "within ``O(1)`` of the
    leader and within ``O(sqrt(KT))`` of the best fixed value" is out of
    reach with bandit feedback.

    Attributes
    ----------
    choices : list of int
        Which base learner set each round's value.
    stability : ndarray
        ``V`` of each base learner (its stability sum, as above).

    Examples
    --------
    >>> from numopt.tuning import TsallisINF, replay
    >>> costs = np.tile([4.0, 1.0, 3.0], (1000, 1))
    >>> wrong = lambda grid, value, cost, result: np.array([0.0, 9.0, 9.0])  # a model that misleads
    >>> combo = SafeCombination([ModelHedge([1.0, 1.5, 1.9], wrong, seed=0),
    ...                          TsallisINF([1.0, 1.5, 1.9], baseline=0, seed=1)], prior=20, seed=2)
    >>> r = replay(combo, costs)
    >>> bool(r.total < 1.5 * 1000), bool(np.mean(np.array(combo.choices[-100:]) == 1) > 0.9)
    (True, True)
    """

    def __init__(self, learners, *, prior: float = 400.0, share: float = 0.01, share_decay: float = 0.25,
                 baseline: float = 0.0, scale: float | None = None, seed=None):
        learners = list(learners)
        if not learners or not all(isinstance(lr, Learner) for lr in learners):
            raise TypeError("learners must be a non-empty sequence of Learner objects.")
        grid = learners[0].grid
        for k, lr in enumerate(learners[1:], 1):
            if lr.K != len(grid) or not np.array_equal(lr.grid, grid):
                raise ValueError(f"learners[{k}] has a different grid than learners[0]; every base learner "
                                 "must choose from the same values.")
        super().__init__(grid, scale=scale, seed=seed)
        self.learners = learners
        self.prior = check_in_range("prior", prior, 0.0, np.inf, closed="left")
        self.share = check_in_range("share", share, 0.0, 1.0, closed="left")
        self.share_decay = check_in_range("share_decay", share_decay, 0.0, 1.0, closed="both")
        self.baseline = check_in_range("baseline", baseline, 0.0, np.inf, closed="left")
        self.needs_history = any(getattr(lr, "needs_history", False) for lr in learners)
        self.cumulative = np.zeros(len(learners))  # estimated costs of each base learner, in cost units
        self.stability = np.zeros(len(learners))
        self.choices: list[int] = []

    def current_share(self) -> float:
        """The share ``g_t = share * t^(-share_decay)`` of the next round ``t``."""
        return self.share * (self.t + 1) ** -self.share_decay

    def meta_probabilities(self) -> np.ndarray:
        """Probability of each base learner setting the next value."""
        m = len(self.learners)
        if m == 1:
            return np.ones(1)
        head = np.full(m, self.prior)
        head[0] = 0.0
        eta = 2.0 / np.sqrt(self.t + 1)
        q = tsallis_probabilities(self.cumulative / self._normalizer() + head, eta)
        g = self.current_share()
        return (1.0 - g) * q + g / m

    def _mixture(self, context):
        q = self.meta_probabilities()
        bases = np.array([lr.probabilities(context) for lr in self.learners])
        return q, bases, q @ bases

    def probabilities(self, context=None):
        return self._mixture(context)[2]

    def select(self, context=None):
        if self._pending is not None:
            raise RuntimeError("select() called twice without update(cost) in between.")
        q, bases, mixed = self._mixture(context)
        j = int(self.rng.choice(len(self.learners), p=q))
        value = self.learners[j].select(context)
        i = int(np.flatnonzero(self.grid == value)[0])
        self._chosen, self._bases = j, bases
        self._pending, self._prob, self._context = i, float(mixed[i]), context
        self._mixed = mixed
        return value

    def cancel(self) -> None:
        if self._pending is not None:
            self.learners[self._chosen].cancel()
        super().cancel()

    def _observe(self, i, cost, result):
        # every base learner learns from the round, told the probability of the value that was played
        for lr in self.learners:
            lr._pending, lr._prob, lr._context = i, self._prob, self._context
            lr.update(cost, result)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self._bases > 0, self._bases**1.5 / self._mixed, 0.0)
        self.stability += ratio.sum(axis=1) / np.sqrt(self.t + 1)
        self.choices.append(self._chosen)

    def _learn(self, i, cost):
        self.cumulative += (cost - self.baseline * self._normalizer()) * self._bases[:, i] / self._prob
