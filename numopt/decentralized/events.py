"""Poisson event streams: gradient clocks on the nodes and communication clocks on the edges.

The superposition of independent Poisson processes is generated window by window: in a window of
length ``D`` a process of rate ``r`` has ``Poisson(r D)`` events at independent uniform times, which is
exact. Communication edges follow the graph active at each time (time-varying graphs).
"""

from __future__ import annotations

import numpy as np

from .._core.validate import check_rng

__all__ = ["EventStream"]


class EventStream:
    """Events of gradient clocks (rate ``grad_rate`` per node) and edge clocks (per-edge ``rates``).

    Parameters
    ----------
    n_nodes : int
    edge_sets : list of (edges, rates)
        One (|E_k|, 2) edge array and its per-edge rates per graph of the sequence.
    period : float
        Graph k is active on [k period, (k+1) period) modulo the sequence length.
    grad_rate : float
        Rate of every node's gradient clock (0: no gradient events).
    seed : int or Generator

    Examples
    --------
    >>> import numpy as np
    >>> s = EventStream(3, [(np.array([[0, 1], [1, 2]]), np.array([1.0, 1.0]))], grad_rate=1.0, seed=0)
    >>> t, kinds, ids = s.window(0.0, 100.0)
    >>> bool(np.all(np.diff(t) >= 0)), abs(int((kinds == 0).sum()) - 300) < 60
    (True, True)
    """

    def __init__(self, n_nodes: int, edge_sets, period: float = np.inf, grad_rate: float = 1.0, seed=None):
        self.n_nodes = int(n_nodes)
        self.rng = check_rng(seed)
        self.period = float(period)
        self.grad_rate = float(grad_rate)
        self.edges = np.ascontiguousarray(np.concatenate([np.asarray(e, np.int64) for e, _ in edge_sets]))
        sizes = [len(e) for e, _ in edge_sets]
        self.offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        self.rates = [np.asarray(r, float) for _, r in edge_sets]
        self.totals = np.array([r.sum() for r in self.rates])
        self.cdfs = [np.cumsum(r) / r.sum() for r in self.rates]

    def graph_at(self, t: float) -> int:
        if not np.isfinite(self.period):
            return 0
        return int(np.floor(t / self.period)) % len(self.rates)

    def _uniform_times(self, a, b, rate):
        k = self.rng.poisson(rate * (b - a))
        return np.sort(a + (b - a) * self.rng.random(k))

    def window(self, t0: float, t1: float):
        """(times, kinds, ids) of the events in [t0, t1), sorted by time."""
        parts_t, parts_k, parts_i = [], [], []
        if self.grad_rate > 0:
            t = self._uniform_times(t0, t1, self.grad_rate * self.n_nodes)
            parts_t.append(t)
            parts_k.append(np.zeros(t.size, np.int8))
            parts_i.append(self.rng.integers(self.n_nodes, size=t.size))
        a = t0
        while a < t1:
            b = t1 if not np.isfinite(self.period) else min(t1, (np.floor(a / self.period) + 1) * self.period)
            g = self.graph_at(a)
            t = self._uniform_times(a, b, self.totals[g])
            e = np.minimum(np.searchsorted(self.cdfs[g], self.rng.random(t.size), side="right"),
                           len(self.rates[g]) - 1)
            parts_t.append(t)
            parts_k.append(np.ones(t.size, np.int8))
            parts_i.append(self.offsets[g] + e)
            a = b
        times = np.concatenate(parts_t)
        order = np.argsort(times, kind="stable")
        return (np.ascontiguousarray(times[order]), np.ascontiguousarray(np.concatenate(parts_k)[order]),
                np.ascontiguousarray(np.concatenate(parts_i)[order].astype(np.int64)))
