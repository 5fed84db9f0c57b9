"""The result contract of the causal solvers: counted score evaluations, one meaning of ``x``,
stateless solvers (same object twice gives bitwise-identical results), StopIteration."""

import numpy as np
import pytest

from numopt import Status, run
from numopt.causal import (
    TOPO,
    LinearScore,
    LogisticScore,
    MLPScore,
    NotearsLinear,
    simulate_dag,
    simulate_linear_sem,
    simulate_nonlinear_sem,
    simulate_parameter,
    topo,
)
from numopt.causal.scores import moved_order
from numopt.oracles import Problem

CONTRACT = ("x", "success", "status", "message", "nit", "time")


@pytest.fixture(scope="module")
def data():
    B = simulate_dag(8, 12, "ER", seed=3)
    return B, simulate_linear_sem(simulate_parameter(B, seed=3), 600, seed=3)


def _same(a, b):
    keys = set(a) - {"time"}
    assert keys == set(b) - {"time"}
    for k in keys:
        if isinstance(a[k], np.ndarray):
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k


def test_linear_score_is_a_problem_that_counts_its_evaluations(data):
    _, X = data
    S = LinearScore(X)
    assert isinstance(S, Problem) and S.n == 8
    assert {"start", "deltas", "apply", "weights", "value", "loss_grad"} <= S.capabilities
    fit = S.start(np.arange(8))
    S.deltas(fit, [0, 1, 2], [3, 4, 5], [0, 0, 1])
    S.apply(fit, 2, 5, 0)
    S.value(np.zeros((8, 8)))
    assert S.counts() == {"nfit": 8 + 4, "nmove": 3, "nfev": 1}
    S.reset_counts()
    assert S.counts() == {"nfit": 0, "nmove": 0, "nfev": 0}


def test_nodewise_scores_count_node_fits():
    X = simulate_linear_sem(np.array([[0, 3.0, 0], [0, 0, 3.0], [0, 0, 0]]), 300, "logistic", seed=0)
    S = LogisticScore(X)
    fit = S.start([0, 1, 2])
    S.deltas(fit, [0], [2], [0])           # refits the three nodes of the block
    assert S.counts()["nfit"] == 3 + 3 and S.counts()["nmove"] == 1
    assert "loss_grad" in S.capabilities


def test_mlp_score_of_an_order_does_not_depend_on_the_search_path():
    B = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    X = simulate_nonlinear_sem(B, 200, "mim", seed=1)
    S = MLPScore(X, hidden=6, steps=80)
    assert "loss_grad" not in S.capabilities
    fit = S.start([2, 1, 0])
    delta = S.deltas(fit, [0], [2], [0])[0]
    S.apply(fit, 0, 2, 0)
    fresh = S.start(moved_order([2, 1, 0], 0, 2, 0))
    assert delta == pytest.approx(fresh.total - S.start([2, 1, 0]).total, abs=1e-6)
    assert fit.total == pytest.approx(fresh.total, abs=1e-6)


def test_topo_result_contract_and_honest_status(data):
    _, X = data
    res = topo(X)
    for key in CONTRACT + ("order", "fun", "score", "W_raw", "n_moves", "nfit", "nmove", "nfev"):
        assert key in res, key
    assert res.status == Status.NO_IMPROVEMENT.code and res.success
    assert "local optimum" in res.message.lower() and "not a certificate" in res.message
    assert res.nmove > 0 and res.nfit >= 8 and isinstance(res.status, int)


def test_x_means_the_same_in_callbacks_and_in_the_result(data):
    _, X = data
    seen = []
    res = topo(X, init="random", seed=2, refit=False,
               callback=lambda intermediate_result: seen.append(intermediate_result))
    last = seen[-1]
    assert last.x.shape == res.x.shape == (8, 8)
    assert np.array_equal(last.order, res.order)
    assert np.array_equal(last.x, res.x)          # without the refit the final x is the last iterate's
    refit = topo(X, init="random", seed=2)
    assert np.array_equal(refit.x != 0, res.x != 0)  # the refit keeps the support
    # a graph works as a start too (x0 and x live in the same space)
    again = run(TOPO(), LinearScore(X), res.x)
    assert np.array_equal(again.x != 0, res.x != 0) and again.n_moves == 0


BINARY = simulate_linear_sem(3.0 * np.triu(np.ones((4, 4)), 1), 200, "logistic", seed=0)


@pytest.mark.parametrize("make_score", [lambda X: LinearScore(X), lambda X: LinearScore(X, lambda1=0.02),
                                        lambda X: LogisticScore(BINARY)])
def test_same_solver_object_twice_is_bitwise_identical(data, make_score):
    _, X = data
    solver = TOPO(maxiter=5)
    options = dict(solver.options)
    S = make_score(X)
    start = np.random.default_rng(5).permutation(S.d)
    first = run(solver, make_score(X), start)
    second = run(solver, make_score(X), start)
    _same(first, second)
    assert dict(solver.options) == options
    _same(run(solver, S, start), run(solver, S, start))   # the score's counters restart with each run


def test_random_start_is_reproducible_by_default(data):
    _, X = data
    _same(topo(X, init="random"), topo(X, init="random"))
    _same(topo(X, init="random", seed=4), topo(X, init="random", seed=4))


def test_stop_iteration_from_the_callback_stops_with_status_callback(data):
    _, X = data

    def stop(intermediate_result):
        raise StopIteration

    res = topo(X, init="random", seed=1, callback=stop)
    assert res.status == Status.CALLBACK.code and not res.success and res.nit == 1
    assert res.message == Status.CALLBACK.value
    nt = run(NotearsLinear(), LinearScore(X), np.zeros((8, 8)), callback=stop)
    assert nt.status == Status.CALLBACK.code and nt.nit == 1


def test_notears_contract_and_determinism(data):
    _, X = data
    solver = NotearsLinear(maxiter=5)
    S = LinearScore(X, lambda1=0.1)
    first, second = run(solver, S, np.zeros((8, 8))), run(solver, S, np.zeros((8, 8)))
    for key in CONTRACT + ("nfev", "h", "score"):
        assert key in first, key
    _same(first, second)
    assert first.nfev > 5
