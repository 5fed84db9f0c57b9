"""Bad input to the causal entry points: each error names the argument and what was seen."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numopt.causal import (
    TOPO,
    LinearScore,
    TopoDAG,
    is_dag,
    simulate_dag,
    simulate_linear_sem,
    simulate_nonlinear_sem,
    simulate_parameter,
    topo,
)
from numopt.causal.simulate import max_edges
from numopt.testing import assert_names_argument


@pytest.fixture(scope="module")
def X():
    B = simulate_dag(5, 5, "ER", seed=0)
    return simulate_linear_sem(simulate_parameter(B, seed=0), 300, seed=0)


def test_duplicated_column_names_the_columns_and_the_remedy(X):
    Xd = np.c_[X, X[:, 1]]
    assert_names_argument(topo, Xd, names=["X", "lambda2"], seen=["duplicated columns", "5 repeats 1"])
    assert_names_argument(LinearScore, Xd, names="X", seen="duplicated")
    assert_names_argument(TopoDAG().fit, Xd, names="X", seen="duplicated")
    # a ridge or lasso penalty makes the score defined again
    assert topo(Xd, lambda2=0.05).x.shape == (6, 6)
    assert topo(Xd, lambda1=0.01).x.shape == (6, 6)


def test_linearly_dependent_columns_are_named(X):
    Xd = np.c_[X, X[:, 0] + 2 * X[:, 3]]
    assert_names_argument(topo, Xd, names=["X", "lambda2"], seen="linearly dependent")


@pytest.mark.parametrize("init, seen", [
    (["0", "1", "2", "3", "4"], "dtype <U1"),
    (np.array(["a", "b", "c", "d", "e"], dtype=object), "dtype object"),
    ("greedy", "'greedy'"),
    ([0, 1, 2], "shape (3,)"),
    ([0, 1, 2, 3, 3.5], "permutation"),
    ([0, 1, 2, 3, 3], "each node exactly once"),
    (np.zeros((4, 4)), "(4, 4)"),
    (np.full((5, 5), np.nan), "NaN"),
])
def test_bad_init_is_named(X, init, seen):
    assert_names_argument(topo, X, init=init, names="init", seen=seen)


def test_a_boolean_graph_is_a_valid_start(X):
    B = simulate_dag(5, 5, "ER", seed=0) != 0
    assert is_dag(topo(X, init=B).x)
    assert_names_argument(topo, X, init=[True, False, True, False, True], names="init", seen="bool")


def test_bad_start_given_to_the_solver_is_named_x0(X):
    from numopt import run

    assert_names_argument(run, TOPO(), LinearScore(X), ["a", "b", "c", "d", "e"], names="x0", seen="dtype")


def test_bad_score_type_is_named(X):
    assert_names_argument(topo, X, score_type="quadratic", names="score_type", seen="'quadratic'")
    assert_names_argument(topo, X, score_type=object(), names="score_type", seen="object")


@pytest.mark.parametrize("d, s0, graph", [(3, 100, "ER"), (3, 4, "SF"), (10, 17, "BP")])
def test_simulate_dag_refuses_more_edges_than_possible(d, s0, graph):
    most = max_edges(d, graph)
    assert s0 > most
    assert_names_argument(simulate_dag, d, s0, graph, names="s0", seen=[f"s0={s0}", f"at most {most}"])
    B = simulate_dag(d, most, graph, seed=0)     # the maximum itself is fine
    assert B.sum() <= most


def test_simulator_shapes_and_noise_scales_are_named():
    assert_names_argument(simulate_linear_sem, np.zeros((2, 3)), 10, names="W", seen="(2, 3)")
    assert_names_argument(simulate_nonlinear_sem, np.zeros((3, 2)), 10, names="B", seen="(3, 2)")
    assert_names_argument(simulate_linear_sem, np.zeros((3, 3)), 10, noise_scale=[1.0, 2.0],
                          names="noise_scale", seen="(2,)")
    assert_names_argument(simulate_linear_sem, np.zeros((2, 2)), 10, noise_scale=-1.0,
                          names="noise_scale", seen="-1")
    assert_names_argument(simulate_dag, 5, 5, seed="abc", names="seed", seen="'abc'")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(init=st.one_of(
    st.lists(st.integers(-2, 7), max_size=7),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=6),
    st.lists(st.text(max_size=2), max_size=6),
    st.permutations(range(5)),
    st.text(max_size=8),
))
def test_any_init_gives_a_dag_or_an_error_naming_init(X, init):
    try:
        res = topo(X, init=init)
    except (ValueError, TypeError) as exc:
        assert "init" in str(exc)
    else:
        assert is_dag(res.x) and sorted(res.order.tolist()) == list(range(5))


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 12), s0=st.integers(0, 80), graph=st.sampled_from(["ER", "SF", "BP"]))
def test_simulate_dag_gives_a_dag_or_names_s0(d, s0, graph):
    try:
        B = simulate_dag(d, s0, graph, seed=0)
    except ValueError as exc:
        assert s0 > max_edges(d, graph) and "s0" in str(exc)
    else:
        assert s0 <= max_edges(d, graph) and is_dag(B) and B.sum() <= max_edges(d, graph)
