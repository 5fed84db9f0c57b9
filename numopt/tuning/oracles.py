"""Hindsight comparators for online parameter tuning, and replay of learners on a cost table.

Given ``costs[t, k]``, the cost of instance ``t`` at grid value ``k`` (from
:func:`numopt.tuning.cost_table`):

- :func:`best_fixed` is the single grid value with the least total cost (the
  comparator of the Tsallis-INF guarantee);
- :func:`instance_optimal` takes the cheapest value of each instance (the
  comparator of the ChebCB guarantee);
- :func:`replay` runs a learner against the table. This equals an online run
  when an instance's cost does not depend on earlier choices (cold starts, or
  warm starts from solutions that agree to the solver tolerance).
"""

from __future__ import annotations

import numpy as np

from .._core.result import OptimizeResult
from .learners import Learner

__all__ = ["best_fixed", "instance_optimal", "replay"]


def _check_costs(costs) -> np.ndarray:
    costs = np.asarray(costs, dtype=float)
    if costs.ndim != 2 or 0 in costs.shape:
        raise ValueError("costs must be a non-empty 2-D table (instances x grid values); "
                         f"got shape {costs.shape}.")
    if not np.all(np.isfinite(costs)):
        raise ValueError("costs contains NaN or inf; expected finite costs.")
    return costs


def best_fixed(costs) -> OptimizeResult:
    """The grid index with the least total cost in hindsight.

    Returns ``index``, ``total`` and ``cumulative`` (running total per instance).

    Examples
    --------
    >>> r = best_fixed([[3, 1], [3, 4], [3, 1]])
    >>> int(r.index), float(r.total)
    (1, 6.0)
    """
    costs = _check_costs(costs)
    k = int(np.argmin(costs.sum(axis=0)))
    cumulative = np.cumsum(costs[:, k])
    return OptimizeResult(index=k, total=float(cumulative[-1]), cumulative=cumulative)


def instance_optimal(costs) -> OptimizeResult:
    """The cheapest grid index of every instance.

    Returns ``indices``, ``total`` and ``cumulative``.

    Examples
    --------
    >>> r = instance_optimal([[3, 1], [3, 4], [3, 1]])
    >>> r.indices.tolist(), float(r.total)
    ([1, 0, 1], 5.0)
    """
    costs = _check_costs(costs)
    idx = np.argmin(costs, axis=1)
    cumulative = np.cumsum(costs[np.arange(len(costs)), idx])
    return OptimizeResult(indices=idx, total=float(cumulative[-1]), cumulative=cumulative)


def replay(learner: Learner, costs, contexts=None, feedback=None) -> OptimizeResult:
    """Run ``learner`` on a cost table: each round it picks a column and sees that entry only.

    The learner's grid must have one value per column of ``costs``.
    ``feedback`` (same shape, e.g. ``cost_table(...).feedback``) gives the
    ``result`` passed to ``learner.update(cost, result)`` for the entry played,
    which model-based learners read instead of a residual history.

    Returns ``actions`` (indices), ``costs`` (incurred), ``cumulative`` and ``total``.

    Examples
    --------
    >>> from numopt.tuning import TsallisINF
    >>> table = np.tile([5.0, 1.0, 3.0], (200, 1))
    >>> r = replay(TsallisINF([1.0, 1.5, 1.9], seed=0), table)
    >>> bool(r.total < 1.5 * 200)
    True
    """
    costs = _check_costs(costs)
    if costs.shape[1] != learner.K:
        raise ValueError(f"costs has {costs.shape[1]} columns but the learner's grid has {learner.K} values.")
    if contexts is not None and len(contexts) != len(costs):
        raise ValueError(f"contexts has {len(contexts)} entries; expected one per instance ({len(costs)}).")
    if feedback is not None and np.shape(feedback)[:2] != costs.shape:
        raise ValueError(f"feedback has shape {np.shape(feedback)}; expected the shape of costs {costs.shape}.")
    start = learner.t
    for t, row in enumerate(costs):
        learner.select(None if contexts is None else contexts[t])
        k = learner._pending
        learner.update(row[k], None if feedback is None else feedback[t][k])
    actions = np.asarray(learner.actions[start:])
    incurred = costs[np.arange(len(costs)), actions]
    cumulative = np.cumsum(incurred)
    return OptimizeResult(actions=actions, costs=incurred, cumulative=cumulative, total=float(cumulative[-1]))
