"""Applications: oracles of the hyperparameter and hyper-cleaning tasks, and short solver runs."""
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from numopt.bilevel import minimize_bilevel
from numopt.bilevel.apps import hyper_cleaning_task, hyperparameter_task


def _fd_grads(fn, x, y, h=1e-6):
    gx = np.array([(fn.value(x + h * e, y) - fn.value(x - h * e, y)) / (2 * h) for e in np.eye(x.size)])
    gy = np.array([(fn.value(x, y + h * e) - fn.value(x, y - h * e)) / (2 * h) for e in np.eye(y.size)])
    return gx, gy


def _check_oracles(problem, x, y, rng):
    for fn in (problem.f, problem.g):
        for got, want in zip(fn.grad(x, y), _fd_grads(fn, x, y)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    v = rng.standard_normal(y.size)
    h = 1e-6
    gp, gm = problem.g.grad(x, y + h * v), problem.g.grad(x, y - h * v)
    for got, plus, minus in zip(problem.g.hvp(x, y, v), gp, gm):
        np.testing.assert_allclose(got, (plus - minus) / (2 * h), rtol=1e-5, atol=1e-7)
    # minibatch gradient = mean of single-sample gradients
    idx = np.array([0, 3, 3, 5])
    single = [problem.g.grad(x, y, np.array([i])) for i in idx]
    for k in range(2):
        np.testing.assert_allclose(problem.g.grad(x, y, idx)[k], np.mean([s[k] for s in single], axis=0),
                                   rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    y = np.where(y == 1, 1.0, -1.0)
    rng = np.random.default_rng(0)
    p = rng.permutation(len(y))
    X, y = X[p][:, :8], y[p]
    return (X[:200], y[:200]), (X[200:350], y[200:350]), (X[350:], y[350:])


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_hyperparameter_oracles(cancer, loss):
    task = hyperparameter_task(*cancer, loss=loss)
    rng = np.random.default_rng(1)
    _check_oracles(task.problem, rng.standard_normal(8) * 0.5, rng.standard_normal(8) * 0.3, rng)


def test_hyperparameter_penalty_and_implicit_beat_the_best_shared_weight_on_a_grid(cancer):
    task = hyperparameter_task(*cancer, loss="logistic", x0=0.0)
    ref = minimize_bilevel(task.problem, method="implicit", maxiter=20)
    res = minimize_bilevel(task.problem, method="penalty", sigma=0.05, sigma0=0.05, tol=1e-3, maxiter=20)
    assert res.stationarity < 0.02

    def validation_loss(x):  # of the exact lower-level fit at the hyperparameters x
        return task.problem.f.value(x, task.fit_lower(x))

    start = validation_loss(task.problem.x0)
    # the classical baseline: one weight exp(c) for every feature, c on a grid over the same bounds
    grid_best = min(validation_loss(np.full(8, c)) for c in np.linspace(-8.0, 2.0, 21))  # 0.1545 at c = -6.5
    F_ref, F_pen = validation_loss(ref.x), validation_loss(res.x)  # 0.130 and 0.145
    assert F_ref < start - 0.2 and F_pen < start - 0.2
    # one weight per feature can only help: both methods do better than the tuned shared weight
    assert F_ref < grid_best - 0.01
    assert F_pen < grid_best
    assert 0 <= res.lower_gap < 1e-2


def test_hyper_cleaning_oracles_and_references():
    task = hyper_cleaning_task(n_train=40, n_val=30, seed=0)
    p = task.problem
    assert task.info["n_corrupted"] == 12 and task.info["corrupted"].sum() == 12
    rng = np.random.default_rng(2)
    x = rng.standard_normal(p.n)
    y = 0.1 * rng.standard_normal(p.m)
    # finite differences over all 650 weights are slow: check a random subspace instead
    for fn in (p.f, p.g):
        gx, gy = fn.grad(x, y)
        for _ in range(3):
            u, v = rng.standard_normal(p.n), rng.standard_normal(p.m)
            h = 1e-6
            dfx = (fn.value(x + h * u, y) - fn.value(x - h * u, y)) / (2 * h)
            dfy = (fn.value(x, y + h * v) - fn.value(x, y - h * v)) / (2 * h)
            assert np.isclose(gx @ u, dfx, rtol=1e-5, atol=1e-8)
            assert np.isclose(gy @ v, dfy, rtol=1e-5, atol=1e-8)
    v = rng.standard_normal(p.m)
    hx, hy = p.g.hvp(x, y, v)
    (gxp, gyp), (gxm, gym) = p.g.grad(x, y + 1e-6 * v), p.g.grad(x, y - 1e-6 * v)
    np.testing.assert_allclose(hy, (gyp - gym) / 2e-6, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(hx, (gxp - gxm) / 2e-6, rtol=1e-5, atol=1e-8)
    idx = np.array([1, 1, 7])
    single = [p.g.grad(x, y, np.array([i])) for i in idx]
    np.testing.assert_allclose(p.g.grad(x, y, idx)[0], np.mean([s[0] for s in single], axis=0), atol=1e-14)


def test_hyper_cleaning_downweights_corrupted_samples():
    task = hyper_cleaning_task(n_train=150, n_val=100, seed=0)
    res = minimize_bilevel(task.problem, method="penalty", sigma=1e-2, sigma0=1e-2, lr_x=3000.0, inner_steps=10,
                           maxiter=15)
    bad = task.info["corrupted"]
    assert res.x[bad].mean() < res.x[~bad].mean() - 0.1
    metrics = task.evaluate(res.x, res.y)
    accuracy, fit_weighted = task.info["accuracy"], task.info["fit_weighted"]
    uniform = accuracy(fit_weighted(np.ones(task.problem.n)))  # trained on every (corrupted) label: 0.710
    clean = accuracy(fit_weighted((~bad).astype(float)))  # the oracle that knows the clean samples: 0.910
    # cleaning recovers a good part of the accuracy lost to the corrupted labels (0.818 here)
    assert uniform + 0.03 < metrics["test_accuracy"] < clean
    # flagging x_i < 0 finds corrupted samples better than flagging every sample (F1 0.46 at 30%)
    flag_all = 2 * bad.mean() / (1 + bad.mean())
    assert metrics["flagged_f1"] > flag_all


def test_default_penalty_switches_to_barzilai_borwein_on_ill_conditioned_lower_level():
    task = hyper_cleaning_task(n_train=100, n_val=60, seed=1)
    res = minimize_bilevel(task.problem, method="penalty", sigma=1e-2, sigma0=1e-2, inner_steps=20,
                           inner_restarts=0, maxiter=6)
    assert res.x_step_rule == "barzilai-borwein"
    assert np.isfinite(res.upper_value) and res.upper_value < task.problem.f.value(task.problem.x0,
                                                                                      np.zeros(task.problem.m))


def test_hyperparameter_minibatch_hvp_differentiates_the_minibatch_gradient(cancer):
    task = hyperparameter_task(*cancer, loss="logistic")
    g = task.problem.g
    rng = np.random.default_rng(3)
    x, y, v = rng.standard_normal(8) * 0.5, rng.standard_normal(8) * 0.3, rng.standard_normal(8)
    idx, h = np.array([2, 9, 9, 40]), 1e-6
    (gxp, gyp), (gxm, gym) = g.grad(x, y + h * v, idx), g.grad(x, y - h * v, idx)
    hx, hy = g.hvp(x, y, v, idx)
    np.testing.assert_allclose(hy, (gyp - gym) / (2 * h), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hx, (gxp - gxm) / (2 * h), rtol=1e-6, atol=1e-8)
