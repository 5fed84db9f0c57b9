"""Online learners that pick a solver parameter from a grid using only the incurred cost.

Every learner follows one protocol: ``value = learner.select(context)`` picks a
grid value for the next instance and ``learner.update(cost)`` reports what it
cost (for example the iteration count). Nothing else about the instance is
seen, so the same learners tune any parameter of any solver.

- :class:`TsallisINF`: the 1/2-Tsallis-entropy bandit of Zimmert and Seldin
  (2021): ``p_i = 4 / (eta_t (L_i - x))^2`` with ``x`` found by Newton's
  method so that the ``p_i`` sum to one, ``eta_t = 2 / sqrt(t)`` and
  importance-weighted cumulative loss estimates ``L_i`` (with Zimmert and
  Seldin's reduced-variance baseline). Khodak et al.
  (ICLR 2024) show its total cost approaches that of the best fixed grid value.
- :class:`ChebCB`: a contextual bandit for a scalar context in a known interval:
  the context is mapped to [-1, 1], each arm's cost is regressed by least
  squares on Chebyshev polynomials of the context up to degree 5, and arms are
  drawn by inverse-gap weighting (SquareCB, Foster and Rakhlin 2020) with
  ``p_i = 1 / (K + gamma_t (yhat_i - yhat_min))``. Its cost approaches that of
  the instance-optimal policy when the cost is smooth in the context.
- :class:`TsallisINFBins`: one :class:`TsallisINF` per bin of the context interval.
- :class:`Fixed`: always the same value (a baseline).

Costs are normalized before learning: by default they are divided by the
running mean of the costs seen so far (as the paper authors' code does, which
makes the learners indifferent to the units of the cost); passing ``scale``
divides by that constant instead, so costs in ``[0, scale]`` become losses in
[0, 1] as in the regret analysis.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import chebyshev

from .._core.validate import check_choice, check_in_range, check_positive, check_rng

__all__ = ["ChebCB", "Fixed", "Learner", "TsallisINF", "TsallisINFBins"]


def _check_grid(grid) -> np.ndarray:
    values = np.asarray(grid, dtype=float) if not isinstance(grid, np.ndarray) else grid
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"grid must be a non-empty 1-D sequence of parameter values; got shape {values.shape}.")
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise ValueError("grid contains NaN or inf; expected finite parameter values.")
    return values


def _check_cost(cost) -> float:
    cost = float(cost)
    if not np.isfinite(cost) or cost < 0:
        raise ValueError(f"cost must be a finite non-negative number; got {cost!r}.")
    return cost


class Learner:
    """Base of the online learners: a grid, ``select(context) -> value`` and ``update(cost)``.

    Attributes ``actions`` (grid indices chosen) and ``costs`` (costs reported)
    record the run.
    """

    def __init__(self, grid, *, scale: float | None = None, seed=None):
        self.grid = _check_grid(grid)
        self.K = len(self.grid)
        self.scale = None if scale is None else check_positive("scale", scale)
        self.rng = check_rng(seed)
        self.actions: list[int] = []
        self.costs: list[float] = []
        self._pending: int | None = None
        self._total = 0.0

    @property
    def t(self) -> int:
        """Number of completed rounds."""
        return len(self.costs)

    def _normalizer(self) -> float:
        if self.scale is not None:
            return self.scale
        return self._total / self.t if self.t and self._total > 0 else 1.0

    def probabilities(self, context=None) -> np.ndarray:
        """Distribution over the grid for the next round."""
        raise NotImplementedError

    def select(self, context=None):
        """Draw the grid value for the next instance (``context`` for contextual learners)."""
        if self._pending is not None:
            raise RuntimeError("select() called twice without update(cost) in between.")
        p = self.probabilities(context)
        i = int(self.rng.choice(self.K, p=p))
        self._pending = i
        self._prob = float(p[i])
        self._context = context
        return self.grid[i].item()

    def cancel(self) -> None:
        """Forget the last :meth:`select` (its solve failed): the next call may be :meth:`select` again."""
        self._pending = None

    def update(self, cost, result=None) -> None:
        """Report the cost of the value returned by the last :meth:`select`.

        ``result`` (the solver's result, optional) lets model-based learners
        read more than the cost, such as the residual history.
        """
        if self._pending is None:
            raise RuntimeError("update(cost) called before select().")
        cost = _check_cost(cost)
        self._observe(self._pending, cost, result)
        self._learn(self._pending, cost)
        self.actions.append(self._pending)
        self.costs.append(cost)
        self._total += cost
        self._pending = None

    def _learn(self, i: int, cost: float) -> None:
        raise NotImplementedError

    def _observe(self, i: int, cost: float, result) -> None:
        """Hook for learners that use more of the result than its cost (nothing by default)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(grid of {self.K} values in [{self.grid.min():g}, {self.grid.max():g}])"


class Fixed(Learner):
    """Always choose ``value`` (a baseline with the learner protocol).

    Examples
    --------
    >>> f = Fixed(1.5)
    >>> f.select(), f.update(10), f.t
    (1.5, None, 1)
    """

    def __init__(self, value):
        super().__init__([value])

    def probabilities(self, context=None):
        return np.ones(1)

    def _learn(self, i, cost):
        pass


def tsallis_probabilities(L: np.ndarray, eta: float, tol: float = 1e-12) -> np.ndarray:
    """``p_i = 4 / (eta (L_i - x))^2`` normalized by Newton's method on ``x < min L``.

    Starting at ``x = min L - 2 / eta`` (where the sum is at least one), the
    iteration decreases monotonically to the root since the sum is convex and
    increasing in ``x``.

    Examples
    --------
    >>> p = tsallis_probabilities(np.array([0.0, 1.0, 5.0]), eta=1.0)
    >>> round(float(p.sum()), 12), bool(p[0] > p[1] > p[2])
    (1.0, True)
    """
    x = L.min() - 2.0 / eta
    for _ in range(100):
        w = 4.0 / (eta * (L - x)) ** 2
        f = w.sum() - 1.0
        if abs(f) <= tol:
            break
        x -= f / (eta * np.sum(w**1.5))
    return w / w.sum()


class TsallisINF(Learner):
    """Tsallis-INF bandit over a parameter grid (feedback: the cost of the chosen value only).

    Parameters
    ----------
    grid : array_like
        Candidate values (for SOR: 20 points in [1, 1.95]).
    scale : float, optional
        Divide costs by this constant; default the running mean cost.
    baseline : float
        ``B`` of the reduced-variance importance-weighted estimator of Zimmert
        and Seldin, ``(loss - B) / p_i`` on the chosen arm (in normalized
        units; their choice 1/2 by default); 0 gives the plain
        importance-weighted estimator. On the shifted-Laplacian sequences
        ``B = 1/2`` lowers the total cost (``sor-shifted`` suite), while
        ``B = 1`` (the mean cost) sometimes locks onto a value that was cheap
        once when drawn with a small probability.
    seed : int or Generator, optional

    Examples
    --------
    >>> costs = np.array([3.0, 1.0, 2.0])  # arm 1 is best
    >>> learner = TsallisINF([0.5, 1.0, 1.5], seed=0)
    >>> for _ in range(300):
    ...     i = int(np.flatnonzero(learner.grid == learner.select())[0])
    ...     learner.update(costs[i])
    >>> int(np.bincount(learner.actions[-100:], minlength=3).argmax())
    1
    """

    def __init__(self, grid, *, scale: float | None = None, baseline: float = 0.5, seed=None):
        super().__init__(grid, scale=scale, seed=seed)
        self.baseline = check_in_range("baseline", baseline, 0.0, np.inf, closed="left")
        self.cumulative = np.zeros(self.K)  # importance-weighted (cost - baseline) sums, in cost units

    def probabilities(self, context=None):
        eta = 2.0 / np.sqrt(self.t + 1)
        return tsallis_probabilities(self.cumulative / self._normalizer(), eta)

    def _learn(self, i, cost):
        # reduced-variance estimator: (loss - B) / p on the chosen arm, plus B on every arm (a shift
        # that leaves the probabilities unchanged, so it is not stored)
        self.cumulative[i] += (cost - self.baseline * self._normalizer()) / self._prob


class TsallisINFBins(Learner):
    """Contextual Tsallis-INF: the context interval ``[low, high]`` is cut into ``bins`` equal bins.

    Each bin runs its own :class:`TsallisINF`; a context is assigned to the bin
    whose centre is nearest (contexts outside the interval go to the end bins).

    Examples
    --------
    >>> learner = TsallisINFBins([1.0, 1.5], low=0.0, high=1.0, bins=2, seed=0)
    >>> _ = learner.select(0.9); learner.update(3.0)
    >>> learner.learners[1].t, learner.learners[0].t
    (1, 0)
    """

    def __init__(self, grid, *, low: float, high: float, bins: int = 5, scale: float | None = None, seed=None):
        super().__init__(grid, scale=scale, seed=seed)
        if not high > low:
            raise ValueError(f"The context interval needs low < high; got low={low!r}, high={high!r}.")
        check_positive("bins", bins, integer=True)
        self.centers = low + (high - low) * (np.arange(bins) + 0.5) / bins
        self.learners = [TsallisINF(self.grid, scale=scale, seed=self.rng) for _ in range(bins)]

    def _bin(self, context) -> int:
        if context is None:
            raise ValueError("TsallisINFBins needs a scalar context in select(context).")
        return int(np.argmin(np.abs(self.centers - float(context))))

    def probabilities(self, context=None):
        return self.learners[self._bin(context)].probabilities()

    def _learn(self, i, cost):
        sub = self.learners[self._bin(self._context)]
        sub._pending, sub._prob = i, self._prob
        sub.update(cost)


class ChebCB(Learner):
    """ChebCB: SquareCB with per-arm Chebyshev least squares on a scalar context.

    Parameters
    ----------
    grid : array_like
        Candidate values.
    low, high : float, optional
        Interval of the contexts (mapped affinely to [-1, 1]; values outside
        are clipped). Leave both out to learn the interval online: it grows to
        cover every context seen (plus 10% of its width on each side), and
        each time it grows every arm's least squares is refitted from the
        stored observations in the new coordinates.
    degree : int
        Highest Chebyshev degree (features ``T_0 .. T_degree``); default 5.
    gamma : float
        Multiplier of the inverse-gap learning rate
        ``gamma_t = gamma * sqrt(K t / R_t)``, where ``R_t`` estimates the
        regret of the online regression: squared errors of the predictions
        made so far minus the least-squares residual of the same data in
        hindsight (both on normalized costs). ``gamma = 1`` is the SquareCB
        schedule; on solver costs its regression-regret estimate is dominated
        by the first predictions of each arm and it keeps exploring nearly
        uniformly for thousands of rounds, so the default 1000 (close to
        greedy once each arm has a fit) is what the benchmarks use.
    target : {'cost', 'log'}
        Regress the cost itself (the paper's choice) or ``log(1 + cost)``,
        which iteration counts that blow up near a singular context fit
        better; with ``'log'`` the gaps are measured in log-cost.
    ridge : float
        Ridge term of each arm's least squares: a slight pull towards cost 0,
        so an arm never tried looks cheap and is tried (the fit is linear in
        the costs, so this does not depend on their units).
    scale : float, optional
        Divide costs by this constant; default the running mean cost.
    seed : int or Generator, optional

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> grid = np.array([0.0, 1.0])
    >>> learner = ChebCB(grid, low=-1.0, high=1.0, seed=0)
    >>> for _ in range(400):  # arm 0 is best for c < 0, arm 1 for c > 0
    ...     c = rng.uniform(-1, 1)
    ...     v = learner.select(c)
    ...     learner.update(1.5 + (c if v == 0 else -c) + 0.01 * rng.standard_normal())
    >>> float(learner.select(-0.8)), float(learner.probabilities(0.8)[1]) > 0.9
    (0.0, True)
    """

    def __init__(self, grid, *, low: float | None = None, high: float | None = None, degree: int = 5,
                 gamma: float = 1000.0, ridge: float = 1e-3, target: str = "cost", scale: float | None = None,
                 seed=None):
        super().__init__(grid, scale=scale, seed=seed)
        self.learn_range = low is None and high is None
        if not self.learn_range and (low is None or high is None or not high > low):
            raise ValueError(f"The context interval needs low < high (or neither, to learn it online); "
                             f"got low={low!r}, high={high!r}.")
        check_positive("degree", degree, strict=False, integer=True)
        self.low, self.high = (np.nan, np.nan) if self.learn_range else (float(low), float(high))
        self.degree = degree
        self._observations: list[tuple[int, float, float]] = []  # (arm, context, target) for refits
        self.target = check_choice("target", target, ("cost", "log"))
        self.gamma = check_positive("gamma", gamma)
        self.ridge = check_in_range("ridge", ridge, 0.0, np.inf, closed="left")
        m = degree + 1
        self.gram = np.repeat(np.eye(m)[None] * ridge, self.K, axis=0)
        self.moment = np.zeros((self.K, m))
        self.sumsq = np.zeros(self.K)
        self.theta = np.zeros((self.K, m))
        self.online_error = 0.0  # sum of squared prediction errors of the target
        self._largest = 0.0
        self._pending_prediction = 0.0

    def _cover(self, context: float) -> None:
        """Grow a learned interval to cover ``context`` and refit every arm in the new coordinates."""
        if not self.learn_range or self.low <= context <= self.high:
            return
        lo = context if np.isnan(self.low) else min(self.low, context)
        hi = context if np.isnan(self.high) else max(self.high, context)
        margin = 0.1 * (hi - lo) if hi > lo else max(abs(context), 1.0) * 1e-3
        self.low, self.high = lo - margin, hi + margin
        m = self.degree + 1
        self.gram = np.repeat(np.eye(m)[None] * self.ridge, self.K, axis=0)
        self.moment = np.zeros((self.K, m))
        for arm, c, y in self._observations:
            phi = self.features(c)
            self.gram[arm] += np.outer(phi, phi)
            self.moment[arm] += y * phi
        for arm in range(self.K):
            self.theta[arm] = np.linalg.lstsq(self.gram[arm], self.moment[arm], rcond=None)[0]

    def features(self, context) -> np.ndarray:
        """Chebyshev features ``T_0(z) .. T_degree(z)`` of the context mapped to ``z`` in [-1, 1]."""
        if context is None:
            raise ValueError("ChebCB needs a scalar context in select(context).")
        self._cover(float(context))
        z = 2.0 * (float(context) - self.low) / (self.high - self.low) - 1.0
        return chebyshev.chebvander(np.clip([z], -1.0, 1.0), self.degree)[0]

    def _target(self, cost: float) -> float:
        return np.log1p(cost) if self.target == "log" else cost

    def _unit(self) -> float:
        """Scale of the regression target: the cost normalizer, or 1 for log-costs (already scale-free)."""
        return 1.0 if self.target == "log" else self._normalizer()

    def _fit(self, context) -> np.ndarray:
        """Regression predictions of the target for every arm, clipped to [0, largest target seen]."""
        return np.clip(self.theta @ self.features(context), 0.0, self._largest)

    def predict(self, context) -> np.ndarray:
        """Predicted cost of every grid value at ``context`` (in cost units)."""
        fit = self._fit(context)
        return np.expm1(fit) if self.target == "log" else fit

    def _rate(self) -> float:
        if self.t == 0:
            return 0.0
        hindsight = float(np.sum(self.sumsq - np.einsum("km,km->k", self.theta, self.moment)))
        regret = max(self.online_error - hindsight, 0.0) / self._unit() ** 2
        return self.gamma * np.sqrt(self.K * self.t / max(regret, 1e-12))

    def probabilities(self, context=None):
        yhat = self._fit(context) / self._unit()
        best = int(np.argmin(yhat))
        p = 1.0 / (self.K + self._rate() * (yhat - yhat[best]))
        p[best] = 0.0
        p[best] = 1.0 - p.sum()
        return p

    def select(self, context=None):
        value = super().select(context)
        self._pending_prediction = float(self._fit(context)[self._pending])
        return value

    def _learn(self, i, cost):
        phi = self.features(self._context)
        y = self._target(cost)
        self._largest = max(self._largest, y)
        self.online_error += (self._pending_prediction - y) ** 2
        self.gram[i] += np.outer(phi, phi)
        self.moment[i] += y * phi
        self.sumsq[i] += y**2
        if self.learn_range:
            self._observations.append((i, float(self._context), y))
        self.theta[i] = np.linalg.lstsq(self.gram[i], self.moment[i], rcond=None)[0]
