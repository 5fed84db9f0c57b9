"""The shared contracts on the decentralized solvers: result fields, stateless solvers, callbacks."""
import numpy as np
import pytest

from numopt import Status, run
from numopt.decentralized import make_graph, ridge_problem
from numopt.decentralized.baselines import MSDA, ADOMPlus, Continuized, GradientTracking
from numopt.decentralized.dadao import DADAO

SOLVERS = [DADAO, ADOMPlus, MSDA, Continuized, GradientTracking]
PROBLEM = ridge_problem(5, m_per_node=8, dim=3, seed=0)
GRAPH = make_graph("cycle", 5)


def _solver(cls, **extra):
    return cls(graph=GRAPH, t_max=2000.0, tol=1e-8, seed=3, record_every=5.0, **extra)


@pytest.mark.parametrize("cls", SOLVERS, ids=lambda c: c.name)
def test_result_contract_and_known_answer(cls):
    res = run(_solver(cls), PROBLEM, None)
    for field in ("x", "success", "status", "message", "nit", "time", "ngrad", "ncomm", "rel_error"):
        assert field in res, field
    assert res.success and res.status == Status.SUCCESS.code
    np.testing.assert_allclose(res.x_mean, PROBLEM.x_star(), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("cls", SOLVERS, ids=lambda c: c.name)
def test_same_solver_object_twice_is_bitwise_identical_and_keeps_no_run_state(cls):
    solver = _solver(cls)
    attributes = set(vars(solver))
    options = dict(solver.options)
    first = run(solver, PROBLEM, None)
    second = run(solver, PROBLEM, None)
    assert np.array_equal(first.x, second.x)
    assert (first.nit, first.ngrad, first.ncomm) == (second.nit, second.ngrad, second.ncomm)
    assert set(vars(solver)) == attributes  # everything a run creates lives in its state
    assert dict(solver.options) == options


@pytest.mark.parametrize("cls", SOLVERS, ids=lambda c: c.name)
def test_stop_iteration_from_callback_is_callback_status(cls):
    calls = []

    def callback(intermediate_result):
        calls.append(intermediate_result.t)
        if len(calls) == 3:
            raise StopIteration

    res = run(_solver(cls), PROBLEM, None, callback=callback)
    assert res.status == Status.CALLBACK.code and not res.success
    assert res.nit == 3 and res.t == pytest.approx(15.0)
