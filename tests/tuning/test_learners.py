import numpy as np
import pytest
from scipy.optimize import brentq

from numopt.tuning import ChebCB, Fixed, TsallisINF, TsallisINFBins, best_fixed, instance_optimal, replay
from numopt.tuning.learners import tsallis_probabilities


def test_tsallis_probabilities_solve_normalization():
    L = np.array([0.0, 0.3, 2.0, 7.5])
    eta = 0.37
    p = tsallis_probabilities(L, eta)
    x = brentq(lambda x: np.sum(4 / (eta * (L - x)) ** 2) - 1, L.min() - 100, L.min() - 2 / eta)
    np.testing.assert_allclose(p, 4 / (eta * (L - x)) ** 2, rtol=1e-10)
    assert np.all(np.diff(p) < 0)


def bernoulli_bandit(learner, means, T, rng):
    regret = 0.0
    for _ in range(T):
        value = learner.select()
        i = int(np.flatnonzero(learner.grid == value)[0])
        learner.update(float(rng.random() < means[i]))
        regret += means[i] - min(means)
    return regret


def test_tsallis_inf_regret_on_bandit_with_known_best_arm():
    means = np.array([0.6, 0.5, 0.35, 0.55, 0.7])
    T = 3000
    regrets = [bernoulli_bandit(TsallisINF(np.arange(5.0), scale=1.0, seed=s), means, T,
                                np.random.default_rng(100 + s)) for s in range(3)]
    # the bound of Zimmert and Seldin: 4 sqrt(K T) + 1 for losses in [0, 1]
    assert np.mean(regrets) < 4 * np.sqrt(5 * T) + 1
    # and far below uniform play, whose regret is T * (mean gap) = 0.19 T
    assert np.mean(regrets) < 0.25 * 0.19 * T


def test_tsallis_inf_concentrates_on_best_arm():
    costs = np.tile([40.0, 25.0, 10.0, 30.0], (3000, 1))
    learner = TsallisINF([1.0, 1.2, 1.4, 1.6], seed=0)
    r = replay(learner, costs)
    assert np.mean(r.actions[-500:] == 2) > 0.9
    assert r.total < 1.1 * best_fixed(costs).total


def test_chebcb_tracks_context_dependent_best_arm():
    rng = np.random.default_rng(0)
    grid = np.linspace(0, 1, 5)
    T = 1500
    contexts = rng.uniform(0, 1, T)
    # cost of value g at context c: smallest at g = c
    costs = 10 + 50 * (grid[None, :] - contexts[:, None]) ** 2 + rng.normal(0, 0.2, (T, 5))
    for target in ("cost", "log"):
        learner = ChebCB(grid, low=0, high=1, seed=1, target=target)
        r = replay(learner, costs, contexts)
        io = instance_optimal(costs)
        bf = best_fixed(costs)
        assert r.total < 1.05 * io.total < bf.total
        assert learner.select(0.05) == 0.0
        learner.update(10.0)


def test_tsallis_bins_routes_contexts():
    learner = TsallisINFBins([1.0, 1.5], low=0.0, high=1.0, bins=4, seed=0)
    for c in (0.1, 0.12, 0.9):
        learner.select(c)
        learner.update(5.0)
    assert [sub.t for sub in learner.learners] == [2, 0, 0, 1]
    assert learner.t == 3


def test_fixed_and_protocol_errors():
    f = Fixed(1.3)
    assert f.select() == 1.3
    with pytest.raises(RuntimeError, match="twice"):
        f.select()
    f.update(4)
    with pytest.raises(RuntimeError, match="before select"):
        f.update(4)


@pytest.mark.parametrize("grid", [[], np.zeros((2, 2)), [1.0, np.nan]])
def test_bad_grid(grid):
    with pytest.raises(ValueError, match="grid"):
        TsallisINF(grid)


def test_bad_arguments():
    with pytest.raises(ValueError, match="cost must be"):
        learner = TsallisINF([1.0, 1.5])
        learner.select()
        learner.update(-1)
    with pytest.raises(ValueError, match="low < high"):
        ChebCB([1.0], low=1.0, high=0.0)
    with pytest.raises(ValueError, match="needs a scalar context"):
        ChebCB([1.0, 2.0], low=0.0, high=1.0).select()
    with pytest.raises(ValueError, match="target="):
        ChebCB([1.0], low=0.0, high=1.0, target="sqrt")
    with pytest.raises(ValueError, match="scale"):
        TsallisINF([1.0], scale=-2.0)


def test_oracles_and_replay_checks():
    costs = np.array([[3.0, 1.0], [3.0, 6.0]])
    assert best_fixed(costs).index == 0
    assert instance_optimal(costs).total == 4.0
    with pytest.raises(ValueError, match="columns"):
        replay(TsallisINF([1.0, 1.2, 1.4]), costs)
    with pytest.raises(ValueError, match="non-empty 2-D"):
        best_fixed(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="contexts has"):
        replay(ChebCB([1.0, 2.0], low=0, high=1), costs, [0.5])
