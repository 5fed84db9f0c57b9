"""Decentralized optimization over networks: DADAO, graph constants, SDP gossip rates, baselines, MPI runtime.

``minimize(problem, graph, method=...)`` runs DADAO or a baseline on a separable problem (one
local objective per node) over a communication graph and reports the error
(1/n) sum_i ||x_i - x*||^2 against time, local gradients and communications.
"""

from .base import GossipSolver
from .baselines import MSDA, ADOMPlus, Continuized, GradientTracking
from .dadao import DADAO, Propagator, dadao_constants, ode_matrix
from .events import EventStream
from .graphs import (
    GRAPHS,
    TimeVaryingGraph,
    as_graph,
    edge_array,
    edge_resistances,
    graph_constants,
    make_graph,
    rate_laplacian,
)
from .minimize import METHODS, minimize
from .problem import (
    LocalDataProblem,
    SeparableProblem,
    from_dataset,
    libsvm_problem,
    logistic_problem,
    ridge_problem,
)
from .rates import resolve_rates, sdp_rates, uniform_rates

__all__ = [
    "ADOMPlus",
    "Continuized",
    "DADAO",
    "GradientTracking",
    "METHODS",
    "MSDA",
    "edge_resistances",
    "minimize",
    "GRAPHS",
    "EventStream",
    "GossipSolver",
    "LocalDataProblem",
    "Propagator",
    "SeparableProblem",
    "TimeVaryingGraph",
    "as_graph",
    "dadao_constants",
    "edge_array",
    "from_dataset",
    "graph_constants",
    "libsvm_problem",
    "logistic_problem",
    "make_graph",
    "ode_matrix",
    "rate_laplacian",
    "resolve_rates",
    "ridge_problem",
    "sdp_rates",
    "uniform_rates",
]
