"""The common frame of the decentralized solvers: options, time windows, error history, accounting.

A decentralized solver advances a network of local iterates ``x_i`` in time. Time is measured so
that every node computes about one local gradient per unit of time for every method (DADAO's
gradient clocks have rate 1; a synchronous round of ADOM+, MSDA or gradient tracking takes one
unit). The driver (:func:`numopt._core.driver.run`) calls :meth:`GossipSolver.step` once per
recording window of ``record_every`` time units; the history holds, per window, the simulated
time ``t``, the error ``(1/n) sum_i ||x_i - x*||^2`` (absolute and relative to ``||x*||^2``), the
consensus spread ``(1/n) sum_i ||x_i - mean(x)||^2`` and the numbers of local gradients and of
edge communications used so far.
"""

from __future__ import annotations

import numpy as np

from .._core.driver import IterativeSolver, SolverState
from .._core.result import OptimizeResult, Status
from .._core.validate import as_float_array, check_positive
from .graphs import TimeVaryingGraph, as_graph
from .problem import SeparableProblem

__all__ = ["GossipSolver"]


class GossipSolver(IterativeSolver):
    """Base class of the decentralized solvers (see the module notes).

    Subclasses implement ``setup(state)`` (everything beyond the common state) and
    ``advance(state, t_end)`` (run the method up to time ``t_end``, update ``state.X``,
    ``state.ngrad``, ``state.ncomm``; set ``state.bad = True`` on a non-finite local gradient).
    """

    requires = ("local_grad", "x_star")
    # One iteration is one recording interval; the run ends at simulated time t_max (status MAXITER)
    # or after maxiter intervals, whichever comes first.
    default_options = {"graph": None, "t_max": 100.0, "tol": 1e-6, "record_every": None, "seed": None,
                       "maxiter": 100_000}

    def __init__(self, **options):
        super().__init__(**options)
        o = self.options
        if o["graph"] is None:
            raise ValueError(f"{self.name} needs a communication graph: pass graph=networkx.Graph.")
        if isinstance(o["graph"], TimeVaryingGraph):
            self.graphs, self.period = o["graph"].graphs, o["graph"].period
        else:
            self.graphs, self.period = [as_graph(o["graph"])], np.inf
        check_positive("t_max", o["t_max"])
        check_positive("tol", o["tol"], strict=False)
        every = o["record_every"] if o["record_every"] is not None else o["t_max"] / 500
        self.record_every = check_positive("record_every", every)

    def check_problem(self, problem) -> None:
        if not isinstance(problem, SeparableProblem):
            raise TypeError(f"{self.name} needs a numopt.decentralized.SeparableProblem; got "
                            f"{type(problem).__name__}.")
        super().check_problem(problem)
        n = self.graphs[0].number_of_nodes()
        if n != problem.n_nodes:
            raise ValueError(f"node count mismatch: the graph has {n} nodes but the problem has "
                             f"n_nodes={problem.n_nodes}.")

    # -- protocol ---------------------------------------------------------------------------------
    def init(self, problem, x0):
        n, d = problem.n_nodes, problem.dim
        if x0 is None:
            X0 = np.zeros((n, d))
        else:
            x0 = as_float_array(x0, "x0")
            if x0.shape not in ((d,), (n, d)):
                raise ValueError(f"x0 must have shape ({d},) or ({n}, {d}); got {x0.shape}.")
            X0 = np.broadcast_to(x0, (n, d)).copy()
        xs = problem.x_star()
        state = SolverState(problem=problem, X=X0, x=X0, t=0.0, ngrad=0, ncomm=0, bad=False, x_star=xs,
                            scale=max(float(xs @ xs), np.finfo(float).tiny), n=n, d=d)
        self.setup(state)
        state.x = state.X
        self._measure(state)
        return state

    def step(self, state):
        t_end = min(state.t + self.record_every, self.options["t_max"])
        self.advance(state, t_end)
        state.t = t_end
        state.x = state.X
        self._measure(state)
        return state

    def terminate(self, state):
        if state.bad:
            return Status.NONFINITE
        if state.rel_error <= self.options["tol"]:
            return Status.SUCCESS
        if state.t >= self.options["t_max"]:
            return Status.MAXITER
        return None

    def _measure(self, state):
        diff = state.X - state.x_star
        state.error = float(np.mean(np.einsum("ij,ij->i", diff, diff)))
        state.rel_error = state.error / state.scale
        dev = state.X - state.X.mean(axis=0)
        state.consensus = float(np.mean(np.einsum("ij,ij->i", dev, dev)))

    def history_record(self, state):
        return {"t": state.t, "error": state.error, "rel_error": state.rel_error, "consensus": state.consensus,
                "ngrad": state.ngrad, "ncomm": state.ncomm}

    def intermediate_result(self, state):
        return OptimizeResult(x=state.X.copy(), t=state.t, error=state.error, nit=getattr(state, "nit", 0))

    def postprocess(self, state, status):
        res = OptimizeResult(x=state.X, x_mean=state.X.mean(axis=0), t=state.t, error=state.error,
                             rel_error=state.rel_error, consensus=state.consensus, ngrad=state.ngrad,
                             ncomm=state.ncomm, method=self.name)
        res.update(self.extra_result(state))
        if status is Status.NONFINITE and state.bad:
            res["message_detail"] = "a local gradient returned NaN or inf"
        return res

    def extra_result(self, state) -> dict:
        return {}

    # -- hooks ------------------------------------------------------------------------------------
    def setup(self, state) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def advance(self, state, t_end: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

