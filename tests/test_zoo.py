"""Problems x solvers: every solver class of every family on a small problem with a known answer.

For each class the zoo checks the shared result contract, that the same solver object run twice gives
bitwise-identical results (all run state lives in the state object; options are never rewritten), and
that a callback raising ``StopIteration`` stops the run with the ``CALLBACK`` status. A solver class
that is added without a case here makes :func:`test_every_solver_class_has_a_case` fail.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import numopt
from numopt import IterativeSolver, Status, run

CONTRACT = ("x", "success", "status", "message", "nit", "time")


@dataclass
class Case:
    """``build()`` returns (solver, problem, x0); ``check(result, problem)`` asserts the known answer."""

    build: Callable
    check: Callable


def _all_solver_classes() -> set[type]:
    for info in pkgutil.walk_packages(numopt.__path__, "numopt."):
        leaf = info.name.split(".")[-1]
        if leaf != "__main__" and not leaf.endswith("_gpu"):
            importlib.import_module(info.name)
    found, todo = set(), [IterativeSolver]
    while todo:
        cls = todo.pop()
        subclasses = cls.__subclasses__()
        todo.extend(subclasses)
        is_base = any(not sub.__name__.startswith("_") for sub in subclasses)
        if cls.__module__.startswith("numopt.") and not cls.__name__.startswith("_") and not is_base:
            found.add(cls)
    return found


# --- linear systems ---------------------------------------------------------------------------------

def _poisson_system():
    from numopt.problems.pde import poisson

    A = poisson((8, 8))
    b = np.linspace(1.0, 2.0, A.shape[0])
    return A, b


def _linear_check(res, problem):
    A, b = problem
    A = getattr(A, "A", A)
    assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b)


def _cg():
    from numopt.linalg.krylov import ConjugateGradient

    A, b = _poisson_system()
    return ConjugateGradient(rtol=1e-10), (A, b), np.zeros_like(b)


def _sor():
    from numopt.linalg.sor import SOR, SweepMatrix

    A, b = _poisson_system()
    return SOR(omega=1.5, rtol=1e-10, maxiter=2000), (SweepMatrix(A), b), np.zeros_like(b)


# --- bilevel ----------------------------------------------------------------------------------------

def _bilevel(cls_name, stochastic, **options):
    def build():
        from numopt import bilevel
        from numopt.bilevel.apps import quadratic_bilevel

        qp = quadratic_bilevel(n=3, m=4, seed=0, **({"n_samples": 100, "noise": 0.5} if stochastic else {}))
        build.qp = qp
        return getattr(bilevel, cls_name)(**options), qp.problem, qp.problem.x0

    def check(res, problem):
        qp = build.qp
        start = np.linalg.norm(qp.problem.x0 - qp.x_star)
        assert np.linalg.norm(res.x - qp.x_star) < (0.5 if stochastic else 0.05) * start

    return Case(build, check)


# --- decentralized ----------------------------------------------------------------------------------

def _gossip(module, cls_name):
    def build():
        from numopt.decentralized import make_graph, ridge_problem

        cls = getattr(importlib.import_module(f"numopt.decentralized.{module}"), cls_name)
        solver = cls(graph=make_graph("cycle", 5), t_max=2000.0, tol=1e-8, seed=3, record_every=5.0)
        return solver, ridge_problem(5, m_per_node=8, dim=3, seed=0), None

    def check(res, problem):
        np.testing.assert_allclose(res.x_mean, problem.x_star(), rtol=1e-3, atol=1e-4)

    return Case(build, check)


# --- matrix completion ------------------------------------------------------------------------------

def _altmin():
    from numopt.completion import AltMin, observations
    from numopt.problems.completion_data import synthetic_completion

    d = synthetic_completion(200, 150, 2, factor=4.0, seed=0)
    _altmin.truth = d.U_true @ d.V_true.T
    return AltMin(rank=2, seed=0, maxiter=200), observations(d.rows, d.cols, d.values, d.shape), None


def _altmin_check(res, problem):
    M = res.U @ res.V.T
    assert np.linalg.norm(M - _altmin.truth) <= 1e-6 * np.linalg.norm(_altmin.truth)


# --- DAG learning -----------------------------------------------------------------------------------

def _dag_data():
    from numopt.causal import simulate_dag, simulate_linear_sem, simulate_parameter

    B = simulate_dag(5, 5, "ER", seed=1)
    return B, simulate_linear_sem(simulate_parameter(B, seed=1), 500, seed=1)


def _topo():
    from numopt.causal import TOPO, LinearScore

    B, X = _dag_data()
    _topo.truth = B
    import networkx as nx

    reversed_order = np.array(list(nx.topological_sort(nx.DiGraph(B))))[::-1]  # every edge points backwards
    return TOPO(), LinearScore(X), reversed_order


def _notears():
    from numopt.causal import LinearScore, NotearsLinear

    B, X = _dag_data()
    _notears.truth = B
    return NotearsLinear(lambda1=0.05), LinearScore(X), np.zeros((5, 5))


def _dag_check(builder):
    def check(res, problem):
        from numopt.causal import shd

        assert shd(np.abs(res.x) > 0, builder.truth) <= 1

    return check


# --- block coordinate descent and composite L1 problems --------------------------------------------

def _bcd():
    from numopt.bcd import BlockCoordinateDescent, least_squares

    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((40, 12)), rng.standard_normal(40)
    _bcd.answer = np.linalg.lstsq(A, b, rcond=None)[0]
    return BlockCoordinateDescent(rule="gsl", block_size=3, tol=1e-10, maxiter=5000), least_squares(A, b), None


def _lasso_data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 10))
    y = X @ np.r_[2.0, -1.5, np.zeros(8)] + 0.1 * rng.standard_normal(60)
    return X, y


def _prox_epochs():
    from sklearn.linear_model import Lasso

    from numopt.bcd import least_squares
    from numopt.bcd.epochs import ProxCoordinateEpochs

    # wide enough that the working set grows over several outer iterations
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 300))
    coef = np.zeros(300)
    coef[:15] = 2 * rng.standard_normal(15)
    y = X @ coef + 0.1 * rng.standard_normal(100)
    alpha = 0.05
    _prox_epochs.answer = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100000).fit(X, y).coef_
    # sklearn minimizes 1/(2m)||y - Xw||^2 + alpha ||w||_1; the same minimizer as 1/2||.||^2 + m alpha ||w||_1
    return ProxCoordinateEpochs(tol=1e-10), least_squares(X, y, l1=alpha * len(y)), None


def _close_to(builder, atol):
    def check(res, problem):
        np.testing.assert_allclose(res.x, builder.answer, atol=atol)

    return check


# --- equality-constrained NLP ------------------------------------------------------------------------

def _adasketch():
    from numopt.constrained import AdaSketchNewton
    from numopt.oracles import from_scipy

    problem = from_scipy(lambda x: float(x @ x), np.array([2.0, -1.0, 0.5]), jac=lambda x: 2 * x,
                         constraints={"type": "eq", "fun": lambda x: np.array([x.sum() - 1.0]),
                                      "jac": lambda x: np.ones((1, 3))})
    _adasketch.answer = np.full(3, 1 / 3)
    return AdaSketchNewton(seed=0), problem, problem.x0


CASES: dict[str, Case] = {
    "BlockCoordinateDescent": Case(_bcd, _close_to(_bcd, 1e-6)),
    "ProxCoordinateEpochs": Case(_prox_epochs, _close_to(_prox_epochs, 1e-6)),
    "AdaSketchNewton": Case(_adasketch, _close_to(_adasketch, 1e-6)),
    "ConjugateGradient": Case(_cg, _linear_check),
    "SOR": Case(_sor, _linear_check),
    "PenaltyMethod": _bilevel("PenaltyMethod", False, sigma=1e-3, maxiter=300),
    "ImplicitDifferentiation": _bilevel("ImplicitDifferentiation", False, maxiter=200),
    "PenaltyStochastic": _bilevel("PenaltyStochastic", True, sigma=1e-2, maxiter=60, seed=1, batch_size=16,
                                  inner_steps=5),
    "PenaltySingleLoop": _bilevel("PenaltySingleLoop", True, sigma0=0.1, maxiter=300, seed=1, batch_size=4),
    "F2SA": _bilevel("F2SA", True, lr=0.05, maxiter=60, seed=1, batch_size=16, inner_steps=5),
    "DADAO": _gossip("dadao", "DADAO"),
    "ADOMPlus": _gossip("baselines", "ADOMPlus"),
    "MSDA": _gossip("baselines", "MSDA"),
    "Continuized": _gossip("baselines", "Continuized"),
    "GradientTracking": _gossip("baselines", "GradientTracking"),
    "AltMin": Case(_altmin, _altmin_check),
    "TOPO": Case(_topo, _dag_check(_topo)),
    "NotearsLinear": Case(_notears, _dag_check(_notears)),
}


def test_every_solver_class_has_a_case():
    names = {cls.__name__ for cls in _all_solver_classes()}
    assert names - set(CASES) == set(), "solver classes without a zoo case"
    assert set(CASES) - names == set(), "zoo cases for classes that no longer exist"


def _same(a, b):
    assert set(a.keys()) == set(b.keys())
    for key in {k for k in a.keys() if k != "history" and not k.endswith("time")}:
        va, vb = a[key], b[key]
        if isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype and np.array_equal(va, vb, equal_nan=True), key
        elif isinstance(va, float) and np.isnan(va):
            assert np.isnan(vb), key
        elif not isinstance(va, dict | list):
            assert va == vb, key


@pytest.mark.parametrize("name", sorted(CASES))
def test_contract_known_answer_and_reproducibility(name):
    case = CASES[name]
    solver, problem, x0 = case.build()
    options = dict(solver.options)
    attributes = set(vars(solver))
    first = run(solver, problem, x0)
    for field in CONTRACT:
        assert field in first, field
    assert isinstance(first.status, int) and Status.from_code(first.status).success == first.success
    assert isinstance(first.time, float) and first.time >= 0 and first.nit >= 1
    case.check(first, problem)
    # a fresh problem: caches of evaluations belong to the problem, not to the solver
    _, fresh_problem, fresh_x0 = case.build()
    second = run(solver, fresh_problem, fresh_x0)
    _same(first, second)
    assert dict(solver.options) == options and set(vars(solver)) == attributes


@pytest.mark.parametrize("name", sorted(CASES))
def test_stop_iteration_from_a_callback_stops_with_callback_status(name):
    solver, problem, x0 = CASES[name].build()
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result)
        raise StopIteration

    res = run(solver, problem, x0, callback=callback)
    assert res.status == Status.CALLBACK.code and not res.success
    assert res.nit == 1 and len(seen) == 1 and "callback" in res.message.lower()
