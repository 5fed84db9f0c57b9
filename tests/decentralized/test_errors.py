"""Bad input to the decentralized family: each error names the argument and what was seen."""
import networkx as nx
import numpy as np
import pytest

from numopt.decentralized import (
    LocalDataProblem,
    SeparableProblem,
    make_graph,
    minimize,
    ridge_problem,
)
from numopt.decentralized.graphs import edge_resistances
from numopt.decentralized.problem import logistic_problem
from numopt.testing import assert_names_argument


@pytest.mark.parametrize("builder", [ridge_problem, logistic_problem])
@pytest.mark.parametrize("name, value", [("n_nodes", 0), ("m_per_node", 0), ("dim", -1)])
def test_problem_sizes_name_the_argument(builder, name, value):
    kwargs = {"n_nodes": 3, name: value}
    assert_names_argument(builder, **kwargs, names=name, seen=str(value))


def test_negative_noise_is_refused():
    assert_names_argument(ridge_problem, n_nodes=3, noise=-1.0, names="noise", seen="-1")


def test_one_node_graph_names_graph_and_node_count():
    G = nx.Graph()
    G.add_node(0)
    assert_names_argument(minimize, ridge_problem(n_nodes=1, seed=0), G, names="graph", seen=["2 nodes", "1 node"])


def test_disconnected_graph_names_graph_and_component_count():
    assert_names_argument(minimize, ridge_problem(n_nodes=4, seed=0), nx.Graph([(0, 1), (2, 3)]),
                          names="graph", seen="2 connected components")


def test_bad_rates_name_rates():
    assert_names_argument(edge_resistances, make_graph("path", 3), rates=[1.0, -1.0], names="rates",
                          seen="(2,)")
    assert_names_argument(edge_resistances, make_graph("path", 3), rates=[1.0, 0.0], names="rates",
                          seen="do not connect")


def test_local_gradient_of_the_wrong_length_names_grad():
    p = SeparableProblem(lambda i, x: np.zeros(3), n_nodes=2, dim=2, L=1.0, mu=1.0, x_star=[0.0, 0.0])
    assert_names_argument(p.local_grad, 0, np.zeros(2), names="grad", seen=["dim=2", "(3,)"])


def test_node_split_names_node_ptr():
    assert_names_argument(LocalDataProblem, np.eye(3), np.ones(3), node_ptr=[0, 3, 3], names="node_ptr",
                          seen="[0, 3, 3]")


def test_x0_of_the_wrong_shape_names_x0():
    p = ridge_problem(n_nodes=4, dim=3, seed=0)
    assert_names_argument(minimize, p, make_graph("cycle", 4), x0=np.zeros(5), names="x0", seen="(5,)")


def test_local_gradients_are_counted_through_the_oracle_layer():
    p = ridge_problem(n_nodes=4, dim=3, seed=0)
    assert p.count_names == ("ngrad",) and p.counts() == {"ngrad": 0}
    p.local_grad(0, np.zeros(3))
    p.grad_all(np.zeros((4, 3)))
    assert p.counts() == {"ngrad": 5}
    res = minimize(p, make_graph("cycle", 4), t_max=20.0, seed=0)
    assert res.ngrad > 0
    p.reset_counts()
    assert p.counts() == {"ngrad": 0}


@pytest.mark.parametrize("name, value", [("t_max", 0.0), ("speed", -1.0), ("record_every", 0.0)])
def test_mpi_options_name_the_option(name, value):
    pytest.importorskip("mpi4py")
    from numopt.decentralized.mpi import _options

    assert_names_argument(_options, {name: value}, names=name, seen=str(value))
    assert_names_argument(_options, {"t-max": 3.0}, names=["args", "t-max", "t_max"])
