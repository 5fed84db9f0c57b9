"""Bilevel benchmarks: O(sigma) closeness on quadratics, hyperparameter optimization, data hyper-cleaning.

The three penalty variants run side by side with the in-house baselines
(exact implicit differentiation, F2SA) on the same problem, each with the
same wall-clock budget. Curves are upper objective / test accuracy against
per-sample oracle evaluations (in passes over the training set) and against
time (diagnostics excluded); speed is reported as the ratio of the time to
reach a common target to that of implicit differentiation.
"""

from __future__ import annotations

import numpy as np

from . import suite
from .report import convergence_plot

METHODS = ("penalty", "penalty-stochastic", "penalty-single-loop", "implicit", "f2sa")


def _quadratic(ctx):
    from ..bilevel import minimize_bilevel
    from ..bilevel.apps import quadratic_bilevel

    qp = quadratic_bilevel(n=5, m=8, seed=ctx.seed)
    rng = np.random.default_rng(ctx.seed)
    points = [qp.x_star] + [qp.x_star + rng.standard_normal(qp.n) for _ in range(4)]
    sigmas = np.logspace(0, -4, 9)
    rows, verr, gerr = [], [], []
    for s in sigmas:
        dv = max(abs(qp.psi_sigma(x, s) - qp.hyper_objective(x)) for x in points)
        dg = max(np.linalg.norm(qp.grad_psi_sigma(x, s) - qp.hypergradient(x)) for x in points)
        verr.append(dv)
        gerr.append(dg)
        rows.append({"sigma": s, "max abs(psi_sigma - psi)": dv, "ratio value / sigma": dv / s,
                     "max norm(grad psi_sigma - grad psi)": dg, "ratio grad / sigma": dg / s})
    ctx.table("Quadratic (n=5, m=8): closed-form penalty surrogate vs hyper-objective at 5 points", rows)
    slope_v = np.polyfit(np.log(sigmas[3:]), np.log(verr[3:]), 1)[0]
    slope_g = np.polyfit(np.log(sigmas[3:]), np.log(gerr[3:]), 1)[0]
    ctx.text(f"Log-log slopes for sigma <= 1e-1.5: value {slope_v:.3f}, gradient {slope_g:.3f} (1 = O(sigma)).")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(sigmas, verr, "o-", label="|psi_sigma - psi|")
    ax.loglog(sigmas, gerr, "s-", label="|grad psi_sigma - grad psi|")
    ax.loglog(sigmas, sigmas, "k--", label="sigma")
    ax.set_xlabel("sigma")
    ax.legend()
    ctx.figure("O(sigma) closeness on the quadratic problem", fig, "quadratic_closeness")

    F_star = qp.hyper_objective(qp.x_star)
    rows = []
    for s in (1e-1, 1e-2, 1e-3):
        res = minimize_bilevel(qp.problem, method="penalty", sigma=s, maxiter=500)
        rows.append({"method": "penalty", "sigma": s, "success": res.success, "nit": res.nit,
                     "ngrad": res.ngrad, "norm(x - x*)": np.linalg.norm(res.x - qp.x_star),
                     "F(x) - F*": qp.hyper_objective(res.x) - F_star, "stationarity": res.stationarity,
                     "lower_gap": res.lower_gap})
    res = minimize_bilevel(qp.problem, method="implicit")
    rows.append({"method": "implicit", "sigma": None, "success": res.success, "nit": res.nit,
                 "ngrad": res.ngrad, "norm(x - x*)": np.linalg.norm(res.x - qp.x_star),
                 "F(x) - F*": qp.hyper_objective(res.x) - F_star, "stationarity": res.stationarity,
                 "lower_gap": res.lower_gap})
    ctx.table("Quadratic: solutions found by the deterministic penalty method vs the closed form", rows)


@suite("bilevel-quadratic", family="bilevel")
def bilevel_quadratic(ctx):
    """Quadratic bilevel problems: |psi_sigma - psi| and hypergradient error vs sigma (O(sigma))."""
    _quadratic(ctx)


def _run_all(ctx, task, configs, budget, n_train, label, metric):
    """Run every method with the same time budget; tables and curves of ``metric`` and the upper value."""
    from ..bilevel import minimize_bilevel

    problem = task.problem
    # warm-up: two iterations of every method first, so that no timed run pays for compiling kernels
    for method in METHODS:
        cfg = {k: v for k, v in configs[method].items() if k != "record_every"}
        minimize_bilevel(problem, method=method, maxiter=2, seed=ctx.seed, **cfg)
    runs = {}
    for method in METHODS:
        cfg = dict(configs[method])
        every = cfg.pop("record_every")
        res = minimize_bilevel(problem, method=method, maxiter=10**7, maxtime=budget, seed=ctx.seed,
                               record_every=every, monitor=task.evaluate, **cfg)
        runs[method] = res
    best = min(min(r.trace["upper"]) for r in runs.values() if "trace" in r)
    target = best + 0.05 * abs(best)
    t_ref = _time_to(runs["implicit"], target)
    rows = []
    for method, res in runs.items():
        tr = res.trace
        ev = task.evaluate(res.x, res.y)
        exact_F = problem.f.value(res.x, task.fit_lower(res.x))
        t_hit = _time_to(res, target)
        rows.append({"method": method, "status": res.message[:32], "nit": res.nit, "ngrad": res.ngrad,
                     "passes": res.nsamples / n_train, "time [s]": tr["time"][-1],
                     "upper f(x, y)": res.upper_value, "F(x) (refit)": exact_F, "lower_gap": res.lower_gap,
                     metric: ev[metric], "time to target": t_hit,
                     "time ratio vs implicit": t_hit / t_ref if np.isfinite(t_ref) else np.nan})
    ctx.table(f"{label}: same {budget:g} s budget per method (target = best upper value + 5%)", rows)
    for key, ylabel in (("upper", "upper objective f(x, y)"), (metric, metric)):
        for xkey, xlabel in (("nsamples", "per-sample oracle evaluations / n_train"), ("time", "time [s]")):
            curves = {}
            for method, res in runs.items():
                tr = res.trace
                xs = np.asarray(tr[xkey], float) / (n_train if xkey == "nsamples" else 1.0)
                keep = xs > 0  # log axis: the record at the start (no oracle call yet) is left out
                curves[method] = (xs[keep], np.asarray(tr[key], float)[keep])
            fig = convergence_plot(curves, xlabel=xlabel, ylabel=ylabel, title=label, logy=key == "upper")
            fig.axes[0].set_xscale("log")
            ctx.figure(f"{label}: {ylabel} vs {xlabel}", fig, f"{_slug(label)}_{key}_vs_{xkey}")
    return runs


def _slug(text):
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def _time_to(res, target):
    tr = res.get("trace")
    if not tr:
        return np.nan
    hit = np.flatnonzero(np.asarray(tr["upper"]) <= target)
    return float(tr["time"][hit[0]]) if hit.size else np.inf


def _configs(quick, lr_x, **penalty):
    """Solver options of the data tasks: the same rules for both, with the task's x step scale."""
    scale = 1 if quick else 4
    return {
        "penalty": dict(sigma=1e-2, sigma0=1e-2, lr_x=lr_x, inner_steps=20, record_every=1, **penalty),
        "penalty-stochastic": dict(sigma=1e-2, sigma0=1e-2, batch_size=64, lr_x=lr_x, inner_steps=10,
                                   step_power=0.0, record_every=5 * scale),
        "penalty-single-loop": dict(sigma=1e-2, sigma0=1e-2, batch_size=32, lr_x=lr_x, k0=1000.0,
                                    record_every=50 * scale),
        "implicit": dict(record_every=1),
        "f2sa": dict(record_every=5 * scale),
    }


@suite("bilevel-hyperparameter", family="bilevel")
def bilevel_hyperparameter(ctx):
    """Per-feature L2 hyperparameters of logistic / ridge regression on LIBSVM data (validation split)."""
    from ..bilevel.apps import hyperparameter_task, libsvm_split

    cases = [("australian_scale", "logistic", None)] if ctx.quick else \
        [("a9a", "logistic", 4000), ("australian_scale", "squared", None)]
    budget = 2.0 if ctx.quick else 20.0
    for name, loss, rows in cases:
        try:
            train, val, test = libsvm_split(name, seed=ctx.seed, max_rows=rows)
        except (FileNotFoundError, OSError) as exc:
            ctx.skip(f"LIBSVM data {name!r} unavailable ({exc}); set NUMOPT_DATA")
        task = hyperparameter_task(train, val, test, loss=loss)
        ctx.text(f"**{name}** ({loss}): {task.info['n_train']} train / {task.info['n_val']} validation / "
                 f"{task.info['n_test']} test rows, {task.info['features']} features; x = log weights in "
                 "[-8, 2], started at 0.")
        _run_all(ctx, task, _configs(ctx.quick, 1000.0, tol=1e-5), budget, task.info["n_train"],
                 f"{name} {loss}", "test_accuracy")


@suite("bilevel-hypercleaning", family="bilevel")
def bilevel_hypercleaning(ctx):
    """Data hyper-cleaning on digits with 30% corrupted labels: test accuracy vs oracle calls and time."""
    from ..bilevel.apps import hyper_cleaning_task

    n_train, n_val = (300, 200) if ctx.quick else (800, 400)
    budget = 2.0 if ctx.quick else 20.0
    task = hyper_cleaning_task(n_train=n_train, n_val=n_val, corruption=0.3, seed=ctx.seed)
    bad = task.info["corrupted"]
    acc, fit = task.info["accuracy"], task.info["fit_weighted"]
    ref_rows = [
        {"training": "all samples, corrupted labels (weights 1)", "test accuracy": acc(fit(np.ones(n_train)))},
        {"training": "clean samples only (oracle weights)", "test accuracy": acc(fit((~bad).astype(float)))},
    ]
    runs = _run_all(ctx, task, _configs(ctx.quick, 2e4), budget, n_train,
                    f"hyper-cleaning digits {n_train}+{n_val}", "test_accuracy")
    for method, res in runs.items():
        ref_rows.append({"training": f"bilevel weights sigmoid(x) from {method}",
                         "test accuracy": acc(task.fit_lower(res.x)),
                         "corrupted flagged (x < 0) F1": task.evaluate(res.x, res.y)["flagged_f1"]})
    ctx.table("Hyper-cleaning: test accuracy of the lower-level fit with the learned weights vs references",
              ref_rows)
