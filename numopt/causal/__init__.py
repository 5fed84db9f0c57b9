"""DAG structure learning: NOTEARS objectives optimized by topological swaps (TOPO), and baselines.

Scores (least squares, L1-logistic, per-node MLP), acyclicity functions,
the TOPO search (:func:`topo`, :class:`TopoDAG`), NOTEARS linear, adapters to
gcastle and dagma, simulators, structure metrics, the Sachs data and plots.
"""

from .acyclic import acyclicity, h_expm, h_logdet, path_weights
from .metrics import count_accuracy, is_dag, remove_cycles, shd, to_binary
from .notears import NotearsLinear, notears_linear
from .plot import draw_graphs
from .scores import LinearScore, LogisticScore, MLPScore, greedy_order
from .simulate import simulate_dag, simulate_linear_sem, simulate_nonlinear_sem, simulate_parameter
from .topo import TOPO, TopoDAG, order_from_graph, topo

__all__ = [
    "LinearScore",
    "LogisticScore",
    "MLPScore",
    "NotearsLinear",
    "TOPO",
    "TopoDAG",
    "acyclicity",
    "count_accuracy",
    "draw_graphs",
    "greedy_order",
    "h_expm",
    "h_logdet",
    "is_dag",
    "notears_linear",
    "order_from_graph",
    "path_weights",
    "remove_cycles",
    "shd",
    "simulate_dag",
    "simulate_linear_sem",
    "simulate_nonlinear_sem",
    "simulate_parameter",
    "to_binary",
    "topo",
]
