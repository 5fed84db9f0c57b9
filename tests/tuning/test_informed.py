import numpy as np
import pytest

from numopt.linalg import jacobi_spectral_radius, optimal_omega, sor, ssor_pcg
from numopt.problems.linear_sequences import anisotropic_laplacians, graph_laplacians
from numopt.problems.pde import poisson
from numopt.testing import assert_names_argument
from numopt.tuning import (
    ChebCB,
    ModelHedge,
    ModelLeader,
    SafeCombination,
    TsallisINF,
    best_fixed,
    cost_table,
    instance_optimal,
    replay,
    solve_sequence,
)
from numopt.tuning.informed import SORModel, SSORPCGModel
from numopt.tuning.learners import tsallis_probabilities
from numopt.tuning.models import (
    convergence_factor,
    predict_sor_counts,
    ritz_extremes,
    young_factor,
    young_jacobi_radius,
)

GRID = np.linspace(1.0, 1.95, 20)


@pytest.fixture(scope="module")
def laplacian():
    A = poisson((16, 16))  # 5-point stencil in natural order: consistently ordered, Young's theory is exact
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    return A, b


def test_young_factor_matches_the_sor_iteration_matrix_spectral_radius():
    A = poisson((6, 6)).toarray()
    beta = jacobi_spectral_radius(poisson((6, 6)))
    D, L = np.diag(np.diag(A)), np.tril(A, -1)
    for omega in (0.8, 1.0, 1.3, optimal_omega(rho=beta), 1.7, 1.9):
        G = np.eye(36) - np.linalg.solve(D / omega + L, A)
        assert young_factor(omega, beta) == pytest.approx(max(abs(np.linalg.eigvals(G))), rel=1e-6)


def test_measured_factor_recovers_the_jacobi_radius(laplacian):
    A, b = laplacian
    beta = jacobi_spectral_radius(A)
    for omega in (1.0, 1.3, 1.5):  # below omega* = 1.69: the factor identifies beta
        run = sor(A, b, omega=omega, rtol=1e-10, record_history=True)
        estimate, censored = young_jacobi_radius(omega, convergence_factor(run.history["residual"]))
        assert not censored and estimate == pytest.approx(beta, abs=2e-3)
    run = sor(A, b, omega=1.9, rtol=1e-10, record_history=True)
    bound, censored = young_jacobi_radius(1.9, convergence_factor(run.history["residual"]))
    assert censored and bound >= beta


def test_predicted_sor_counts_match_measured_counts_on_a_consistently_ordered_matrix(laplacian):
    A, b = laplacian
    measured = np.array([sor(A, b, omega=w, rtol=1e-8).nit for w in GRID])
    w_star = optimal_omega(A)
    for omega in (1.0, 1.25, 1.5):
        run = sor(A, b, omega=omega, rtol=1e-8, record_history=True)
        pred = predict_sor_counts(GRID, omega, run.nit, convergence_factor(run.history["residual"]))
        assert pred[np.flatnonzero(GRID == omega)[0]] == run.nit  # exact at the value that was run
        rel = np.abs(pred - measured) / measured
        below = GRID <= w_star - 0.1  # away from omega*, where the Jordan block makes counts polynomial
        assert np.max(rel[below]) < 0.1
        assert np.median(rel) < 0.06
        # the predicted best value is within one grid step of the measured one
        assert abs(GRID[np.argmin(pred)] - GRID[np.argmin(measured)]) <= 0.051


def test_ritz_values_of_cg_give_the_extreme_eigenvalues():
    A = poisson((8, 8))
    run = ssor_pcg(A, np.ones(64), omega=1.0, rtol=1e-12, record_history=True)
    low, high = ritz_extremes(run.history["alpha"], run.history["beta"])
    from numopt.linalg import ssor_preconditioner

    M = ssor_preconditioner(A, 1.0)
    MA = np.column_stack([M @ col for col in A.toarray().T])
    ev = np.sort(np.linalg.eigvals(MA).real)
    assert low == pytest.approx(ev[0], rel=1e-6) and high == pytest.approx(ev[-1], rel=1e-4)
    assert SSORPCGModel()(GRID, 1.0, run.nit, run)[0] == run.nit


def test_censored_observations_are_imputed_from_exact_radii():
    grid = np.array([1.0, 1.3, 1.9])
    fresh = SORModel()
    bounded = fresh(grid, 1.9, 50, 0.9)  # factor at the floor omega - 1: only beta <= 0.9986 is known
    assert fresh.radii == [] and bounded[2] == 50 and np.all(bounded[:2] > 50)  # the bound: 1.9 looks best
    model = SORModel()
    beta = 0.9
    model(grid, 1.0, 100, beta**2)  # Gauss-Seidel: factor beta^2, exact
    imputed = model(grid, 1.9, 50, 0.9)
    assert model.radii == [pytest.approx(beta)]
    expected = 50 * np.log(0.9) / np.log(young_factor(grid[:2], beta))
    np.testing.assert_allclose(imputed[:2], expected)
    assert imputed[2] == 50 and np.all(imputed[:2] < 50)  # the exact radius says smaller values are cheaper



def test_censored_runs_are_imputed_from_runs_at_or_below_each_value_not_from_hard_instances_above():
    grid = np.array([1.0, 1.6, 1.8])
    model = SORModel()
    model(grid, 1.6, 40, 0.6)  # over-relaxed at 1.6: beta <= 2 sqrt(0.6) / 1.6
    model(grid, 1.8, 90, float(young_factor(1.8, 0.995)))  # a hard instance: exact at 1.8, beta = 0.995
    pred = model(grid, 1.8, 50, 0.8)  # over-relaxed at 1.8: beta <= 0.9938
    # at 1.6 the earlier run at 1.6 stands for a random instance, over-relaxed there: factor 0.6, not the hard
    # instance's (0.995 > the bound anyway) nor the bound's
    assert pred[1] == pytest.approx(50 * np.log(0.8) / np.log(0.6))
    # at 1.0 no run at or below it and no exact radius under the bound: the bound itself (an upper bound)
    bound = 2 * np.sqrt(0.8) / 1.8
    assert pred[0] == pytest.approx(50 * np.log(0.8) / np.log(young_factor(1.0, bound)), rel=1e-6)
    assert pred[2] == 50 and model.radii == [pytest.approx(0.995)]

def known_best_table(T=600, seed=0):
    rng = np.random.default_rng(seed)
    means = np.array([60.0, 45.0, 30.0, 38.0, 70.0])  # arm 2 is best
    return np.maximum(means + rng.normal(0, 5, (T, 5)), 1.0), 2


def test_combination_regret_bookkeeping_with_an_exact_model():
    costs, best = known_best_table()
    exact = lambda grid, value, cost, row: row  # noqa: E731 - full information: the true row
    combo = SafeCombination([ModelHedge(np.arange(5.0), exact, seed=0), TsallisINF(np.arange(5.0), seed=1)],
                            seed=2)
    feedback = [[row] * 5 for row in costs]
    r = replay(combo, costs, feedback=feedback)
    bf = best_fixed(costs)
    assert bf.index == best
    # bookkeeping: the record adds up and the costs are those of the chosen entries
    assert len(combo.choices) == combo.t == len(costs) == len(r.actions)
    np.testing.assert_array_equal(r.costs, costs[np.arange(len(costs)), r.actions])
    assert r.total == pytest.approx(sum(combo.costs))
    # the informed base learner leads and the total is within 3% of the best arm's
    assert np.mean(np.array(combo.choices) == 0) > 0.9
    assert r.total <= 1.03 * bf.total
    # regret bound of the combination: Tsallis-INF's 4 sqrt(m T) + 1 over the base learners plus the
    # prior head start, in units of the mean cost
    mean = costs.mean()
    assert r.total - bf.total <= (4 * np.sqrt(2 * len(costs)) + 1 + combo.prior) * mean


def test_combination_falls_back_to_the_bandit_when_the_model_is_wrong():
    costs, best = known_best_table(T=2000, seed=1)
    misleading = lambda grid, value, cost, result: np.array([0.0, 1, 9, 9, 9])  # noqa: E731 - claims arm 0
    combo = SafeCombination([ModelHedge(np.arange(5.0), misleading, seed=0), TsallisINF(np.arange(5.0), seed=1)],
                            seed=2)
    r = replay(combo, costs)
    alone = replay(ModelHedge(np.arange(5.0), misleading, seed=0), costs)
    bf = best_fixed(costs)
    assert alone.total > 1.9 * bf.total  # the model alone is stuck on arm 0
    assert np.mean(np.array(combo.choices[-500:]) == 1) > 0.95  # the bandit took over
    assert np.mean(r.actions[-500:] == best) > 0.8
    mean = costs.mean()
    assert r.total - bf.total <= (4 * np.sqrt(2 * len(costs)) + 1 + combo.prior) * mean + \
        4 * np.sqrt(5 * len(costs)) * mean


def test_model_hedge_online_run_reads_residual_histories():
    seq = anisotropic_laplacians(40, shape=(20, 6), seed=0)
    learner = ModelHedge(GRID, "sor", seed=0)
    online = solve_sequence(seq, "sor", learner, warm_start=False)
    table = cost_table(seq, GRID, warm_start=False)
    assert learner.informed == 40 and online.success
    # every online count equals the table's count at the value chosen
    np.testing.assert_array_equal(online.nit, table.costs[np.arange(40), np.searchsorted(GRID, online.params)])
    assert online.total_nit <= 1.1 * best_fixed(table.costs).total


def test_new_families_are_spd_and_the_graph_is_not_consistently_ordered():
    from numopt.linalg import color_rows

    seq = graph_laplacians(2, n=80, seed=3)
    A = seq[0].A.toarray()
    assert np.allclose(A, A.T) and np.linalg.eigvalsh(A).min() > 0
    # triangles in the graph: no property A, so no ordering is consistent and Young's theory is only a model
    with pytest.raises(ValueError, match="odd cycle"):
        color_rows(seq[0].A, "red-black")
    aniso = anisotropic_laplacians(2, shape=(10, 4), seed=0)[0].A.toarray()
    assert np.allclose(aniso, aniso.T) and np.linalg.eigvalsh(aniso).min() > 0


def test_chebcb_learns_its_context_interval():
    rng = np.random.default_rng(0)
    contexts = rng.uniform(3.0, 7.0, 800)
    grid = np.linspace(0, 1, 5)
    costs = 10 + 50 * (grid[None, :] - (contexts[:, None] - 3) / 4) ** 2
    learned = replay(ChebCB(grid, seed=1), costs, contexts)
    given = replay(ChebCB(grid, low=3.0, high=7.0, seed=1), costs, contexts)
    io = instance_optimal(costs)
    assert learned.total < 1.05 * io.total and given.total < 1.05 * io.total


def test_bad_arguments_are_named():
    assert_names_argument(ModelHedge, GRID, "jacobi", names="model", seen="jacobi")
    assert_names_argument(SafeCombination, [TsallisINF(GRID), TsallisINF(GRID[:3])], names="learners[1]")
    assert_names_argument(SafeCombination, [TsallisINF(GRID)], share_decay=1.5, names="share_decay", seen="1.5")
    assert_names_argument(replay, TsallisINF([1.0, 2.0]), np.ones((3, 2)), feedback=np.ones((2, 2)),
                          names="feedback", seen="(2, 2)")


def test_solver_arms_pick_cg_where_cg_needs_the_least_work():
    from numopt.tuning import SolverArms

    arms = SolverArms([1.2, 1.5, 1.8])
    seq = graph_laplacians(12, n=120, seed=0)
    table = cost_table(seq, arms.grid, arms, parameter="arm", warm_start=False, rtol=1e-8)
    work = table.costs * arms.passes
    assert arms.labels[best_fixed(work).index] == "cg"
    rows = np.random.default_rng(0).integers(0, len(work), 600)  # resample the instances: 600 rounds
    r = replay(TsallisINF(arms.grid, seed=0), work[rows])
    assert np.mean(r.actions[-150:] == 0) > 0.7
    assert r.total < 1.3 * best_fixed(work[rows]).total
    # online: the work charged is the iteration count times the passes of the arm
    online = solve_sequence(seq[:4], arms, TsallisINF(arms.grid, seed=1), parameter="arm", cost=arms.work,
                            warm_start=False)
    np.testing.assert_array_equal(online.costs, online.nit * arms.passes[online.params.astype(int)])
    assert_names_argument(arms, seq[0].A, seq[0].b, arm=7, names="arm", seen="7")
    assert_names_argument(SolverArms, [1.5], solvers=("cg", "gmres"), names="solvers", seen="gmres")


@pytest.mark.parametrize("learner", [ModelHedge, ModelLeader])
def test_ssor_pcg_model_learner_replay_equals_the_online_run(learner):
    from numopt.problems.linear_sequences import variable_diffusion

    seq = variable_diffusion(12, shape=(10, 10), seed=0)
    online = solve_sequence(seq, "ssor-pcg", learner(GRID, "ssor-pcg", seed=0), warm_start=False)
    table = cost_table(seq, GRID, "ssor-pcg", warm_start=False)
    replayed = replay(learner(GRID, "ssor-pcg", seed=0), table.costs, table.contexts, table.feedback)
    np.testing.assert_array_equal(replayed.costs, online.nit)  # the table's feedback is what the run read
    assert np.all(np.isfinite(table.feedback)) and np.all(table.feedback >= 1)  # condition numbers


def test_model_leader_converges_to_the_known_best_arm_with_an_exact_model():
    costs, best = known_best_table()
    exact = lambda grid, value, cost, row: row  # noqa: E731 - full information: the true row
    learner = ModelLeader(np.arange(5.0), exact, seed=0)
    r = replay(learner, costs, feedback=[[row] * 5 for row in costs])
    bf = best_fixed(costs)
    assert bf.index == best
    # bookkeeping: one record per round, the costs are the chosen entries, the estimate sums the rows
    assert learner.t == learner.informed == len(costs) == len(r.actions)
    np.testing.assert_array_equal(r.costs, costs[np.arange(len(costs)), r.actions])
    assert r.total == pytest.approx(sum(learner.costs))
    assert np.mean(r.actions[-200:] == best) > 0.9
    # exploration runs the lower neighbour with probability 1/sqrt(t): regret <= sum of gaps of those rounds
    # (about 2 sqrt(T) rounds) plus the first round, in units of the largest gap
    gap = costs.mean(axis=0).max() - costs.mean(axis=0).min()
    assert r.total - bf.total <= (2 * np.sqrt(len(costs)) + 1 + 5) * gap


def test_model_leader_corrects_a_model_biased_by_a_known_factor():
    costs, best = known_best_table(T=800, seed=2)
    factor = np.array([1.0, 1.0, 1.6, 1.0, 1.0])  # the best arm predicted 1.6 times too costly: 48 > 38
    biased = lambda grid, value, cost, row: row * np.where(grid == value, 1.0, factor)  # noqa: E731
    feedback = [[row] * 5 for row in costs]
    learner = ModelLeader(np.arange(5.0), biased, width=0, seed=0)
    r = replay(learner, costs, feedback=feedback)
    # the measurements at the best arm (its lower-neighbour explorations from arm 3) undo the bias
    assert learner.correction()[best] == pytest.approx(1 / 1.6, rel=0.05)
    assert np.mean(r.actions[-300:] == best) > 0.9
    assert r.total <= 1.05 * best_fixed(costs).total
    # with the default smoothing the neighbours' bias is only a prior: once the best arm has been run more
    # than `pool` times its own measurements undo the bias confined to it
    smoothed = ModelLeader(np.arange(5.0), biased, seed=0)
    rs = replay(smoothed, costs, feedback=feedback)
    assert smoothed.correction()[best] == pytest.approx(1 / 1.6, rel=0.05)
    assert np.mean(rs.actions[-300:] == best) > 0.9
    # without the correction the same model keeps following arm 3
    uncorrected = replay(ModelHedge(np.arange(5.0), biased, seed=0), costs, feedback=feedback)
    assert np.mean(uncorrected.actions[-300:] == 3) > 0.9 and uncorrected.total > 1.15 * r.total


def test_model_leader_pools_a_values_own_bias_with_its_neighbours_by_hand():
    grid = np.arange(3.0)
    flat = lambda grid, value, cost, result: np.where(grid == value, cost, 10.0)  # noqa: E731
    learner = ModelLeader(grid, flat, width=1.0, shrink=1.0, pool=2.0, scale=1.0, seed=0)
    for value, cost in [(1.0, 10.0), (0.0, 5.0), (0.0, 5.0)]:
        learner.observe(value, cost, None)
    # value 0: run twice at 5, predicted 10 once: b0 = -log 2, n0 = 2; value 1: b1 = 0, n1 = 1; value 2: never run
    b0, e = -np.log(2.0), np.exp(-1.0)
    m1 = e * 2 * b0 / (e * 2 + 1.0)  # neighbours of 1: value 0 (kernel e^-1), shrunk by 1
    m2 = e**2 * 2 * b0 / (e**2 * 2 + e * 1 + 1.0)  # neighbours of 2: values 0 (e^-2) and 1 (e^-1, bias 0)
    # m0 = 0: the only measured neighbour of value 0 has bias 0
    expected = [(2 * b0 + 2 * 0.0) / (2 + 2), (0.0 + 2 * m1) / (1 + 2), m2]
    np.testing.assert_allclose(learner.correction(), np.exp(expected))
    np.testing.assert_allclose(learner.correction()[0], 2 ** -0.5)
    # the estimate: measured costs where run, corrected predictions elsewhere
    measured, predicted = np.array([10.0, 10.0, 0.0]), np.array([10.0, 20.0, 30.0])
    np.testing.assert_allclose(learner.estimate, measured + predicted * np.exp(expected))


def test_combination_with_the_model_leader_keeps_the_bandit_guarantee():
    costs, best = known_best_table(T=3000, seed=3)
    pessimistic = lambda grid, value, cost, result: np.where(grid == value, cost, 3.0 * cost)  # noqa: E731
    alone = replay(ModelLeader(np.arange(5.0), pessimistic, explore=0.0, seed=0), costs)
    bf = best_fixed(costs)
    assert alone.total > 1.8 * bf.total  # every unmeasured arm looks 3 times worse: stuck on arm 0
    prior = 200.0
    combo = SafeCombination([ModelLeader(np.arange(5.0), pessimistic, explore=0.0, seed=0),
                             TsallisINF(np.arange(5.0), seed=1)], prior=prior, seed=2)
    r = replay(combo, costs)
    assert np.mean(r.actions[-500:] == best) > 0.8  # the bandit took over after the head start
    mean = costs.mean()
    assert r.total - bf.total <= (4 * np.sqrt(2 * len(costs)) + 1 + prior) * mean + \
        4 * np.sqrt(5 * len(costs)) * mean


def test_ssor_pcg_model_picks_the_delta_that_generated_the_counts():
    from numopt.tuning.models import ssor_kappa

    model = SSORPCGModel()
    for omega in [1.2, 1.2, 1.5, 1.5, 1.8, 1.3, 1.3, 1.7]:  # repeats carry no information about delta
        kappa = float(ssor_kappa(omega, mu=0.01, delta=1.0))
        model(GRID, omega, 5.0 * np.sqrt(kappa), kappa)
    assert model.delta == 1.0 and model.errors[model.choice] == pytest.approx(0.0, abs=1e-20)
    rows = model.predict_each(GRID)
    assert rows.shape == (len(model.deltas), len(GRID))
    np.testing.assert_allclose(rows[model.choice], 5.0 * np.sqrt(ssor_kappa(GRID, mu=0.01, delta=1.0)))


class _Constant(ModelLeader):
    """A base learner that always proposes one grid value (its cost sequence is known in advance)."""

    def __init__(self, grid, index, seed=None):
        super().__init__(grid, lambda *args: None, explore=0.0, seed=seed)
        self.index = index

    def probabilities(self, context=None):
        return np.eye(self.K)[self.index]


def test_combination_importance_weighted_costs_are_unbiased_and_the_regret_to_the_better_base_is_bounded():
    costs, best = known_best_table(T=400, seed=4)
    grid = np.arange(5.0)
    proposals = costs[:, [3, best]].sum(axis=0)  # the two base learners' total costs, known in advance
    estimates, regrets = [], []
    for seed in range(60):
        combo = SafeCombination([_Constant(grid, 3), _Constant(grid, best)], prior=0.0, baseline=0.0,
                                scale=costs.max(), seed=seed)
        r = replay(combo, costs)
        estimates.append(combo.cumulative)
        regrets.append(r.total - proposals.min())
        assert set(np.unique(r.actions)) <= {3, best}
        np.testing.assert_array_equal(np.array(combo.choices) == 1, np.array(r.actions) == best)
    # the meta bandit's importance-weighted totals are unbiased for each base learner's total cost
    np.testing.assert_allclose(np.mean(estimates, axis=0), proposals, rtol=0.1)
    # Zimmert-Seldin bound for m = 2 base learners, in units of the largest cost: 4 sqrt(2 T) + 1
    assert np.mean(regrets) <= (4 * np.sqrt(2 * len(costs)) + 1) * costs.max()
    # and it learns: its regret is less than half of what always following the worse base learner costs
    assert np.mean(regrets) < 0.5 * (proposals.max() - proposals.min())


def test_combination_every_base_learns_from_the_played_value_with_its_mixture_probability():
    grid = np.array([1.0, 2.0, 3.0])
    leader, bandit = _Constant(grid, 0), TsallisINF(grid, scale=1.0, baseline=0.0, seed=0)
    combo = SafeCombination([leader, bandit], prior=0.0, baseline=0.0, scale=1.0, seed=0)
    # round 1 by hand: meta (1/2, 1/2); the leader plays value 0, the bandit is uniform, so p = (2/3, 1/6, 1/6)
    np.testing.assert_allclose(combo.meta_probabilities(), [0.5, 0.5])
    np.testing.assert_allclose(combo.probabilities(), [2 / 3, 1 / 6, 1 / 6])
    value = combo.select()
    i = int(np.flatnonzero(grid == value)[0])
    p = [2 / 3, 1 / 6, 1 / 6][i]
    combo.update(0.6)
    assert bandit.t == leader.t == 1  # both bases learned, whichever drew the value
    expected = np.zeros(3)
    expected[i] = 0.6 / p  # importance weight of the value played under the mixture
    np.testing.assert_allclose(bandit.cumulative, expected)
    # the meta estimates: each base's probability of the value played over p, times the cost
    np.testing.assert_allclose(combo.cumulative, [0.6 * (i == 0) / p, 0.6 * (1 / 3) / p])
    # stability sums after one round (t = 1): sum_i beta(i)^{3/2} / p(i)
    np.testing.assert_allclose(combo.stability, [1.5, 3 ** -1.5 * (1.5 + 6 + 6)])


def test_combination_bandit_learns_every_round_and_the_worst_case_bound_holds_with_a_share():
    costs, best = known_best_table(T=400, seed=5)
    grid, s, T, K, m, g = np.arange(5.0), costs.max(), 400, 5, 2, 0.2
    pessimistic = lambda grid, value, cost, result: np.where(grid == value, cost, 3.0 * cost)  # noqa: E731
    bf = best_fixed(costs)
    regrets, stabilities = [], []
    for seed in range(20):
        bandit = TsallisINF(grid, scale=s, baseline=0.0, seed=seed + 100)
        combo = SafeCombination([ModelLeader(grid, pessimistic, explore=0.0, seed=seed), bandit], prior=0.0,
                                share=g, share_decay=0.0, baseline=0.0, scale=s, seed=seed)
        r = replay(combo, costs)
        assert bandit.t == T  # the safety net learned on every round, not only on those it set
        assert np.min(np.bincount(r.actions, minlength=K)) > 0
        regrets.append(r.total - bf.total)
        stabilities.append(combo.stability[1])
    # V <= 2 (m / g) sqrt(K T), and the bound against the best fixed value:
    # R* <= s (2 sqrt(mT) (1 + 1/(1-g)) + g T + 1 + 2 sqrt(KT) + 1 + V)
    assert max(stabilities) <= 2 * (m / g) * np.sqrt(K * T)
    bound = s * (2 * np.sqrt(m * T) * (1 + 1 / (1 - g)) + g * T + 2 + 2 * np.sqrt(K * T) + np.mean(stabilities))
    assert np.mean(regrets) <= bound
    # and it is not only the bound: the combination beats the misled leader alone by a wide margin
    alone = replay(ModelLeader(grid, pessimistic, explore=0.0, seed=0), costs)
    assert np.mean(regrets) < 0.5 * (alone.total - bf.total)


def test_combination_decaying_share_keeps_the_bandit_drawn_and_the_sublinear_bound_holds():
    costs, best = known_best_table(T=400, seed=5)
    grid, s, T, K, m, g1, alpha = np.arange(5.0), costs.max(), 400, 5, 2, 0.2, 0.25
    pessimistic = lambda grid, value, cost, result: np.where(grid == value, cost, 3.0 * cost)  # noqa: E731
    t = np.arange(1, T + 1.0)
    shares = g1 * t**-alpha  # g_t
    bf = best_fixed(costs)
    regrets, stabilities = [], []
    for seed in range(20):
        bandit = TsallisINF(grid, scale=s, baseline=0.0, seed=seed + 100)
        combo = SafeCombination([ModelLeader(grid, pessimistic, explore=0.0, seed=seed), bandit], prior=0.0,
                                share=g1, share_decay=alpha, baseline=0.0, scale=s, seed=seed)
        meta = []
        for row in costs:  # replay, recording the meta probabilities of every round
            meta.append(combo.meta_probabilities())
            combo.select()
            combo.update(row[combo._pending])
        meta = np.array(meta)
        # the bandit base is drawn with probability at least g_t / m in every round
        assert np.all(meta[:, 1] >= shares / m * (1 - 1e-12))
        assert bandit.t == T
        regrets.append(costs[np.arange(T), combo.actions].sum() - bf.total)
        stabilities.append(combo.stability[1])
    # V <= (m sqrt(K) / g_1) sum_t t^(alpha - 1/2), and
    # R* <= s (2 sqrt(mT) (1 + 1/(1 - g_1)) + sum_t g_t + 1 + 2 sqrt(KT) + 1 + V)
    assert max(stabilities) <= m * np.sqrt(K) / g1 * np.sum(t ** (alpha - 0.5))
    bound = s * (2 * np.sqrt(m * T) * (1 + 1 / (1 - g1)) + shares.sum() + 2 + 2 * np.sqrt(K * T)
                 + np.mean(stabilities))
    assert np.mean(regrets) <= bound
    # the combination's total approaches the best arm's, far below the misled leader alone
    alone = replay(ModelLeader(grid, pessimistic, explore=0.0, seed=0), costs)
    assert alone.total > 1.3 * bf.total
    assert np.mean(regrets) < 0.5 * (alone.total - bf.total)


def test_combination_with_the_running_mean_keeps_the_bandit_stability_within_its_worst_case_bound():
    # the recommended configuration: no fixed scale (costs divided by their running mean), baselines 0.
    # The regret bound itself exceeds the largest possible regret at this T; what is checked is the
    # term that makes it worst-case (V), the normalizer it assumes, and that the net works.
    costs, best = known_best_table(T=400, seed=6)
    grid, T, K, m, g1, alpha = np.arange(5.0), 400, 5, 2, 0.2, 0.25
    pessimistic = lambda grid, value, cost, result: np.where(grid == value, cost, 3.0 * cost)  # noqa: E731
    t = np.arange(1, T + 1.0)
    bf = best_fixed(costs)
    regrets = []
    for seed in range(20):
        bandit = TsallisINF(grid, baseline=0.0, seed=seed + 100)
        combo = SafeCombination([ModelLeader(grid, pessimistic, explore=0.0, seed=seed), bandit], prior=0.0,
                                share=g1, share_decay=alpha, seed=seed)
        r = replay(combo, costs)
        regrets.append(r.total - bf.total)
        assert combo._normalizer() == pytest.approx(r.total / T) == pytest.approx(bandit._normalizer())
        assert combo.stability[1] <= m * np.sqrt(K) / g1 * np.sum(t ** (alpha - 0.5))
    alone = replay(ModelLeader(grid, pessimistic, explore=0.0, seed=0), costs)
    assert alone.total > 1.3 * bf.total
    assert np.mean(regrets) < 0.5 * (alone.total - bf.total)


def test_running_mean_normalizer_keeps_the_penalty_and_head_start_terms_of_the_bound():
    # the two facts the bound uses about the running mean n_t (round t >= 2), on cost sequences that make it
    # swing: A = a_T + sum (a_t - a_{t+1})^+ <= 3/2 N sqrt(T) with a_t = n_t sqrt(t) / 2, and
    # sum (n_t - n_{t+1})^+ <= N ln T
    rng = np.random.default_rng(0)
    T = 4000
    blocks = np.repeat(np.arange(12) % 2, 2 ** np.arange(12))[:T]  # doubling blocks of cheap and costly rounds
    for costs in (np.where(blocks == 0, 1.0, 500.0), rng.choice([1.0, 1000.0], size=T, p=[0.99, 0.01]),
                  np.linspace(1000.0, 1.0, T)):
        combo = SafeCombination([_Constant(GRID, 0), _Constant(GRID, 5)], seed=0)
        n = []
        for c in costs:
            n.append(combo._normalizer())
            combo.select()
            combo.update(c)
        n = np.array(n[1:])  # n_t for t = 2..T
        t = np.arange(2, T + 1)
        a = n * np.sqrt(t) / 2
        big_n = n.max()
        assert a[-1] + np.sum(np.maximum(a[:-1] - a[1:], 0.0)) <= 1.5 * big_n * np.sqrt(T)
        assert np.sum(np.maximum(n[:-1] - n[1:], 0.0)) <= big_n * np.log(T)
        assert np.any(np.diff(a) < 0)  # the normalizer does fall, so the lemma's monotone case would not apply


def test_combination_defaults_are_the_recommended_safety_net():
    combo = SafeCombination([ModelLeader(GRID), TsallisINF(GRID, baseline=0.0)])
    settings = (combo.prior, combo.share, combo.share_decay, combo.baseline, combo.scale)
    assert settings == (400.0, 0.01, 0.25, 0.0, None)
    # the share keeps the bandit drawn with probability at least g_t / m in every round
    assert combo.meta_probabilities()[1] >= 0.01 / 2


def test_combination_decaying_share_one_round_by_hand():
    grid = np.array([1.0, 2.0, 3.0])
    combo = SafeCombination([_Constant(grid, 0), _Constant(grid, 2)], prior=1.0, share=0.3, share_decay=0.5,
                            baseline=0.0, scale=1.0, seed=0)
    assert combo.current_share() == pytest.approx(0.3)  # g_1 = share
    for cost in (0.5, 0.2, 0.9):
        combo.select()
        combo.update(cost)
    # round 4: g_4 = 0.3 * 4^(-1/2) = 0.15, q = 0.85 w + 0.15 / 2 with w the Tsallis-INF weights (eta = 1)
    assert combo.current_share() == pytest.approx(0.15)
    w = tsallis_probabilities(combo.cumulative + np.array([0.0, 1.0]), 1.0)
    np.testing.assert_allclose(combo.meta_probabilities(), 0.85 * w + 0.075)
    assert min(combo.meta_probabilities()) >= 0.075
    # share_decay = 0 keeps the share fixed
    fixed = SafeCombination([_Constant(grid, 0), _Constant(grid, 2)], share=0.3, share_decay=0.0, seed=0)
    for _ in range(3):
        fixed.select()
        fixed.update(1.0)
    assert fixed.current_share() == 0.3
