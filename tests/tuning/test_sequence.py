import numpy as np
import pytest
import scipy.sparse as sp

from numopt.linalg import sor, ssor_pcg
from numopt.problems.linear_sequences import HeatEquation, LinearSystem, shifted_laplacians, variable_diffusion
from numopt.tuning import ChebCB, TsallisINF, cost_table, solve_sequence

GRID = np.linspace(1.0, 1.95, 5)


@pytest.fixture(scope="module")
def seq():
    return shifted_laplacians(12, variance="low", seed=3)


def test_solve_sequence_records_match_direct_solves(seq):
    res = solve_sequence(seq, "sor", TsallisINF(GRID, seed=0), warm_start=False)
    assert res.success and res.nit.shape == (12,)
    assert set(res.params) <= set(GRID)
    np.testing.assert_allclose(res.contexts, [s.context for s in seq])
    for t in (0, 5, 11):
        assert res.nit[t] == sor(seq[t].A, seq[t].b, omega=res.params[t], rtol=1e-8).nit
    assert res.total_nit == res.nit.sum() and res.learner.t == 12


def test_cost_table_columns_equal_fixed_runs(seq):
    table = cost_table(seq, GRID, warm_start=False)  # one kernel call per instance
    for k in (0, 3):
        fixed = solve_sequence(seq, "sor", GRID[k], warm_start=False)
        np.testing.assert_array_equal(table.costs[:, k], fixed.nit)
    general = cost_table(seq, GRID, warm_start=False, ordering="natural", sweep="forward", maxiter=10000,
                         solver=lambda A, b, x0, **kw: sor(A, b, x0, **kw))
    np.testing.assert_array_equal(general.costs, table.costs)
    assert np.all(table.info == 0)


def test_ssor_pcg_cost_table_in_one_kernel_call_equals_the_solver_runs(seq):
    table = cost_table(seq[:6], GRID, "ssor-pcg", warm_start=False)  # one kernel call per instance
    general = cost_table(seq[:6], GRID, "ssor-pcg", warm_start=False, assume_symmetric=True)  # one run per value
    np.testing.assert_array_equal(table.costs, general.costs)
    np.testing.assert_array_equal(table.info, general.info)
    # the condition numbers the models read
    np.testing.assert_allclose(table.feedback, general.feedback, rtol=1e-12)
    assert np.all(table.info == 0) and np.all(table.feedback > 1)


def test_warm_start_helps_on_a_slowly_varying_sequence():
    A = sp.csr_matrix(shifted_laplacians(1, seed=0)[0].A)
    b = np.ones(A.shape[0])
    systems = [(A, b * (1 + 1e-4 * t)) for t in range(4)]
    cold = solve_sequence(systems, "sor", 1.5, warm_start=False)
    warm = solve_sequence(systems, "sor", 1.5, warm_start=True)
    assert warm.nit[0] == cold.nit[0] and np.all(warm.nit[1:] < cold.nit[1:])


def test_heat_equation_with_ssor_pcg_follows_exact_steps():
    steps = 6
    res = solve_sequence(HeatEquation(nx=10, steps=steps, stoptime=0.3), "ssor-pcg",
                         ChebCB(GRID, low=0.0, high=10.0, seed=0), rtol=1e-10)
    assert res.success and len(res.nit) == steps
    ref = HeatEquation(nx=10, steps=steps, stoptime=0.3)
    for system in ref:
        system.on_solution(sp.linalg.spsolve(system.A.tocsc(), system.b))
    np.testing.assert_allclose(res.x, ref.u, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(res.contexts, ref.contexts)


def test_heat_equation_requires_solutions():
    it = iter(HeatEquation(nx=5, steps=3))
    next(it)
    with pytest.raises(RuntimeError, match="on_solution"):
        next(it)


def test_variable_diffusion_sequence_and_custom_context():
    seq = variable_diffusion(4, shape=(6, 6), seed=1)
    res = solve_sequence(seq, "ssor-pcg", 1.2, context=lambda s: s.context ** 2)
    np.testing.assert_allclose(res.contexts, [s.context ** 2 for s in seq])
    assert res.success
    res2 = solve_sequence(seq, ssor_pcg, 1.2)
    np.testing.assert_array_equal(res.nit, res2.nit)


def test_time_cost_and_tuple_input(seq):
    systems = [(s.A, s.b, s.context) for s in seq[:3]]
    res = solve_sequence(systems, "sor", TsallisINF(GRID, seed=0), cost="time")
    np.testing.assert_allclose(res.costs, res.times)


def test_non_convergence_is_reported_not_raised(seq):
    res = solve_sequence(seq[:2], "sor", 1.0, maxiter=5, warm_start=False)
    assert not res.success and np.all(res.info == 5)


def test_bad_input(seq):
    with pytest.raises(ValueError, match="solver="):
        solve_sequence(seq, "jacobi")
    with pytest.raises(TypeError, match="Item 0"):
        solve_sequence([np.eye(2)], "sor")
    with pytest.raises(ValueError, match="cost must be"):
        solve_sequence(seq, "sor", cost="flops")
    with pytest.raises(ValueError, match="omega must lie"):
        solve_sequence(seq, "sor", TsallisINF([1.0, 2.5]))
    with pytest.raises(ValueError, match="grid"):
        cost_table(seq, [])
    with pytest.raises(ValueError, match="variance="):
        shifted_laplacians(3, variance="medium")
    with pytest.raises(ValueError, match="zero or negative diagonal"):
        solve_sequence([LinearSystem(sp.csr_matrix(np.diag([1.0, 0.0])), np.ones(2))], "sor")


def test_empty_sequence_is_an_error():
    from numopt.testing import assert_names_argument

    assert_names_argument(solve_sequence, [], "sor", names="systems", seen="empty")
    assert_names_argument(cost_table, [], GRID, names="systems", seen="empty")


def test_context_list_shorter_than_the_sequence_is_named(seq):
    from numopt.testing import assert_names_argument

    assert_names_argument(solve_sequence, seq[:3], "sor", ChebCB(GRID, low=-0.2, high=0.5, seed=0),
                          context=[0.1, 0.2], names="context", seen="2 entries")


def test_learner_is_usable_after_a_failed_solve(seq):
    learner = TsallisINF(GRID, seed=0)
    bad = LinearSystem(sp.csr_matrix(np.diag([1.0, 0.0])), np.ones(2))
    with pytest.raises(ValueError, match="zero or negative diagonal"):
        solve_sequence([seq[0], bad, seq[1]], "sor", learner)
    assert learner.t == 1  # the failed round was not counted
    res = solve_sequence(seq[:3], "sor", learner, warm_start=False)
    assert res.success and learner.t == 4
