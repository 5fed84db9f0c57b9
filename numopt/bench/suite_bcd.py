"""Block coordinate descent benchmarks (Nutini, Laradji and Schmidt, JMLR 2022).

* ``bcd-rules``: iterations to ``f - f* <= 1e-8 max(1, |f*|)`` for every
  selection rule and update on datasets A-E (fixed blocks of 5), plus forest
  partitions on D and E, with the paper's orderings checked.
* ``bcd-l1``: L1 least squares and L1 logistic regression on LIBSVM data,
  time to a relative duality gap of 1e-6 next to scikit-learn and skglm
  measured in the same run (all single-threaded), as ratios.
* ``bcd-kernels``: Numba kernels against their NumPy references, and the
  time of the tree-elimination solve against the block size (linear-time claim).

Quick mode uses small versions of A-E and only ``mushrooms``; the full mode
uses the paper's sizes and a9a, w8a, mushrooms.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from . import suite
from .report import convergence_plot

RULES = ("cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gsq")
MATCHED = {"gsd": "diag", "gsq": "matrix"}
REL_TARGET = 1e-8
GAP_TARGET = 1e-6


def _single_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


# ----------------------------------------------------------------------------------- rules
def problem_for(name, quick, seed=0):
    """Dataset ``name`` as benchmarked: B and C get an L2 term of 1 so that f* is attained."""
    from ..bcd import logistic, softmax
    from ..bcd.datasets import dataset

    p = dataset(name, quick=quick, seed=seed)
    if name == "B":
        return logistic(p.A, p.y, l2=1.0, name=p.name + " + l2")
    if name == "C":
        return softmax(p.A, p.y, p.C, l2=1.0, name=p.name + " + l2")
    return p


def optimal_value(p):
    """f* by a direct solve (quadratics) or a long high-accuracy run (GLMs)."""
    import scipy.optimize as so
    import scipy.sparse.linalg as spla

    from .. import minimize

    if hasattr(p, "Q"):
        return p.fun(spla.spsolve(p.Q.tocsc(), p.c))
    if p.loss == "squared":
        x = spla.lsqr(p.A, p.y, atol=1e-15, btol=1e-15, iter_lim=100000)[0]
        return p.fun(x)
    ref = so.minimize(p.fun, np.zeros(p.n), jac=p.grad, method="L-BFGS-B",
                      options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 20000})
    res = minimize(p, ref.x, method="bcd", options={"rule": "gsl", "update": "newton", "block_size": 50,
                                                    "tol": 1e-13, "maxiter": 300})
    return min(ref.fun, res.fun)


def iterations_to_target(p, fstar, maxiter, **options):
    """BCD iterations until f - f* <= 1e-8 max(1, |f*|); None when maxiter is reached first."""
    from .. import minimize

    target = fstar + REL_TARGET * max(1.0, abs(fstar))
    res = minimize(p, method="bcd", options={"tol": 0.0, "target": target, "maxiter": maxiter, "seed": 0,
                                             "record_history": True, **options})
    return (res.nit if res.success else None), res


def _configs(name):
    """Every rule with Lipschitz updates, matched and matrix updates, forest partitions on D and E."""
    configs = [(rule, "contiguous", "lipschitz") for rule in RULES]
    configs += [(rule, "contiguous", MATCHED[rule]) for rule in MATCHED]
    configs += [(rule, "contiguous", "matrix") for rule in ("cyclic", "random", "gs", "gsl")]
    if name in "DE":
        if name == "D":
            configs += [("cyclic", "red-black", "matrix"), ("cyclic", "comb", "matrix")]
        configs += [("gsl", "tree", "matrix")]
    return configs


CAPS_FULL = {"A": 5000, "B": 3000, "C": 1000, "D": 5000, "E": 5000}


def run_rules(name, quick, seed=0, maxiter=None, configs=None):
    """Rows (one per rule/partition/update), suboptimality curves and an ordering summary for one dataset."""
    p = problem_for(name, quick, seed=seed)
    fstar = optimal_value(p)
    maxiter = maxiter or (500 if quick else CAPS_FULL[name])
    rows, curves, results = [], {}, {}
    for rule, partition, update in configs or _configs(name):
        block = p.n if partition == "tree" else 5
        t0 = time.perf_counter()
        nit, res = iterations_to_target(p, fstar, maxiter, rule=rule, partition=partition, update=update,
                                        block_size=block)
        gap = np.asarray(res.history["fun"]) - fstar
        results[(rule, partition, update)] = (maxiter + 1 if nit is None else nit, float(res.fun - fstar))
        curves[f"{rule}/{partition}/{update}"] = (np.arange(gap.size), np.maximum(gap, 1e-16))
        rows.append({"rule": rule, "partition": partition, "update": update, "iterations": nit,
                     "f - f* at stop": res.fun - fstar, "time (s)": time.perf_counter() - t0})
    return p, rows, curves, _orderings(name, results), maxiter


@suite("bcd-rules", family="bcd")
def rules_suite(ctx):
    """Iterations to f - f* < 1e-8 per rule and update on datasets A-E; the paper's orderings."""
    names = "ADE" if ctx.quick else "ABCDE"
    summary = []
    for name in names:
        configs = None
        if ctx.quick:
            configs = [(r, "contiguous", "lipschitz") for r in ("cyclic", "random", "gs", "gsl")]
            configs += [(r, "contiguous", "matrix") for r in ("gs", "gsq")]
            if name in "DE":
                configs += [("gsl", "tree", "matrix")] + ([("cyclic", "comb", "matrix")] if name == "D" else [])
        p, rows, curves, order, cap = run_rules(name, ctx.quick, ctx.seed, configs=configs)
        ctx.table(f"Dataset {p.name}: iterations to f - f* <= 1e-8 max(1, |f*|) (blocks of 5, cap {cap})", rows)
        fig = convergence_plot(curves, xlabel="iteration", ylabel="f - f*", title=f"Dataset {name}")
        ctx.figure(f"Dataset {name}: suboptimality per iteration", fig, f"rules_{name}")
        summary.extend(order)
    ctx.table("Paper's orderings: compared by iterations to the target (cap + 1 when not reached), then by "
              "f - f* at the cap", summary)


def _orderings(name, results):
    def key(rule, partition="contiguous", update="lipschitz"):
        return results.get((rule, partition, update))

    def show(k):
        return f"{k[0]} it, f - f* = {k[1]:.1e}"

    def better(a, b):
        return a is not None and b is not None and a < b

    rows = []
    best_greedy = min((k for k in (key("gs"), key("gsl"), key("gsq")) if k), default=None)
    best_base = min((k for k in (key("cyclic"), key("random")) if k), default=None)
    claims = [("greedy (best of GS/GSL/GSQ) beats cyclic and random (Lipschitz updates)", best_greedy, best_base),
              ("GSL beats GS (Lipschitz updates)", key("gsl"), key("gs")),
              ("GSQ with matrix updates beats GS with matrix updates", key("gsq", update="matrix"),
               key("gs", update="matrix"))]
    if name in "DE":
        fixed = min((k for k in (key(r, update="matrix") for r in ("cyclic", "random", "gs", "gsl", "gsq")) if k),
                    default=None)
        trees = [k for k in (key("gsl", "tree", "matrix"), key("cyclic", "red-black", "matrix"),
                             key("cyclic", "comb", "matrix")) if k]
        claims.append(("tree blocks beat fixed blocks (matrix updates)", min(trees, default=None), fixed))
    for claim, a, b in claims:
        if a is None or b is None:
            continue
        rows.append({"dataset": name, "claim": claim, "values": f"{show(a)} vs {show(b)}", "holds": better(a, b)})
    return rows


# -------------------------------------------------------------------------------------- L1
def _objective(X, y, w, lam, loss):
    z = X @ w
    if loss == "squared":
        return 0.5 * float(np.sum((y - z) ** 2)) + lam * float(np.abs(w).sum())
    return float(np.logaddexp(0, -y * z).sum()) + lam * float(np.abs(w).sum())


def relative_gap(X, y, w, lam, loss):
    """Duality gap of the L1 problem at ``w`` divided by the objective at 0."""
    from ..bcd import GLMProblem

    p = GLMProblem(X, y, loss, l1=lam)
    st = p.init_state(np.asarray(w, float), backend="numpy", track_grad=False)
    p0 = 0.5 * float(y @ y) if loss == "squared" else X.shape[0] * np.log(2.0)
    return p.duality_gap(st) / p0


def _l1_solvers(loss, lam, m):
    from sklearn.linear_model import Lasso as SkLasso
    from sklearn.linear_model import LogisticRegression

    from ..bcd import L1LogisticRegression, Lasso

    out = {}
    if loss == "squared":
        out["numopt"] = lambda tol: Lasso(alpha=lam / m, fit_intercept=False, tol=tol, max_iter=100000)
        out["sklearn cd"] = lambda tol: SkLasso(alpha=lam / m, fit_intercept=False, tol=tol, max_iter=100000)
    else:
        out["numopt"] = lambda tol: L1LogisticRegression(C=1 / lam, fit_intercept=False, tol=tol, max_iter=100000)
        out["sklearn liblinear"] = lambda tol: LogisticRegression(C=1 / lam, l1_ratio=1.0, solver="liblinear",
                                                                  fit_intercept=False, tol=tol, max_iter=100000)
        out["sklearn saga"] = lambda tol: LogisticRegression(C=1 / lam, l1_ratio=1.0, solver="saga",
                                                             fit_intercept=False, tol=tol, max_iter=100000)
    try:
        import skglm

        if loss == "squared":
            out["skglm"] = lambda tol: skglm.Lasso(alpha=lam / m, fit_intercept=False, tol=tol)
        else:
            out["skglm"] = lambda tol: skglm.SparseLogisticRegression(alpha=lam / m, fit_intercept=False, tol=tol)
    except ImportError:
        pass
    return out


def time_to_gap(make, X, y, lam, loss, tols, repeat=1):
    """Fastest fit whose solution has a relative duality gap <= 1e-6 (benchopt style: a sweep of tolerances)."""
    import warnings

    best, gaps = None, []
    for tol in tols:
        times = []
        for _ in range(repeat):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                model = make(tol).fit(X, y)
                times.append(time.perf_counter() - t0)
        w = np.asarray(model.coef_, float).reshape(-1)
        gap = relative_gap(X, y, w, lam, loss)
        gaps.append(gap)
        if gap <= GAP_TARGET:
            best = min(times) if best is None else min(best, min(times))
            break
    return best, gaps


@suite("bcd-l1", family="bcd")
def l1_suite(ctx):
    """L1 least squares and L1 logistic on LIBSVM data: time to relative duality gap 1e-6 vs sklearn, skglm."""
    from ..problems.libsvm import load

    names = ("mushrooms",) if ctx.quick else ("mushrooms", "a9a", "w8a")
    tols = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12]
    rows = []
    with _single_thread():
        for name in names:
            try:
                X, y = load(name, download=False)
            except FileNotFoundError as exc:
                ctx.skip(str(exc))
            X = sp.csc_matrix(X)
            m = X.shape[0]
            for loss in ("squared", "logistic"):
                lam_max = float(np.abs(X.T @ y).max()) * (1.0 if loss == "squared" else 0.5)
                lam = lam_max / 10
                solvers = _l1_solvers(loss, lam, m)
                warm = np.r_[np.flatnonzero(y > 0)[:20], np.flatnonzero(y < 0)[:20]]
                solvers["numopt"](1e-2).fit(X[warm], y[warm])  # load the compiled kernels outside the timing
                times = {}
                for label, make in solvers.items():
                    t, gaps = time_to_gap(make, X, y, lam, loss, tols)
                    times[label] = t
                    rows.append({"data": name, "problem": f"L1 {loss}", "solver": label,
                                 "time to gap 1e-6 (s)": t, "final relative gap": gaps[-1]})
                base = times.get("numopt")
                for row in rows[-len(solvers):]:
                    t = times[row["solver"]]
                    row["time / numopt"] = (t / base) if (t and base) else None
    ctx.table("Time to a relative duality gap of 1e-6 (lambda = lambda_max / 10, no intercept, one thread); "
              "'time / numopt' > 1 means numopt is faster", rows)


# --------------------------------------------------------------------------------- kernels
def _comb_block(side):
    """Lattice Laplacian plus identity on a side x side grid, and its first comb (a tree on half the grid)."""
    from ..bcd import comb
    from ..problems.pde import poisson

    H = (poisson((side, side)) + sp.eye(side * side)).tocsr()
    H.sort_indices()
    ptr, idx = comb((side, side), np.arange(side * side))
    return H, idx[ptr[0]:ptr[1]]


def tree_scaling(sides, repeat=3):
    """Seconds of one tree-elimination solve on a comb block of a side x side lattice, per block size."""
    from ..bcd import _kernels as K

    rows = []
    for side in sides:
        H, block = _comb_block(side)
        n = block.size
        rhs = np.ones(n)
        pos = -np.ones(H.shape[0], np.int64)
        out = np.empty(n)
        args = (H.indptr, H.indices, H.data, block, rhs, pos, out)
        K.tree_solve(*args)
        t = min(_timed(K.tree_solve, *args) for _ in range(repeat))
        dense = None
        Hb = H[block][:, block]
        if n <= 3000:
            dense = min(_timed(np.linalg.solve, Hb.toarray(), rhs) for _ in range(repeat))
        resid = float(np.abs(Hb @ out - rhs).max())
        rows.append({"block size": n, "tree solve (s)": t, "tree solve per variable (ns)": 1e9 * t / n,
                     "dense solve (s)": dense, "residual": resid})
    return rows


def _timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def kernel_ratios(quick):
    """Whole BCD runs with backend='numba' against backend='numpy' (same iterates)."""
    from .. import minimize

    cases = [("A", dict(rule="gsl", block_size=5)), ("A", dict(rule="cyclic", block_size=5)),
             ("D", dict(rule="gsl", partition="tree", update="matrix", block_size=10**6)),
             ("E", dict(rule="gsq", block_size=5, update="matrix"))]
    rows = []
    for name, opts in cases:
        p = problem_for(name, quick=True)
        opts = {**opts, "block_size": min(opts["block_size"], p.n), "maxiter": 300 if quick else 2000,
                "tol": 0.0}
        times = {}
        for backend in ("numba", "numpy"):
            minimize(p, method="bcd", options={**opts, "backend": backend, "maxiter": 2})
            t0 = time.perf_counter()
            res = minimize(p, method="bcd", options={**opts, "backend": backend})
            times[backend] = (time.perf_counter() - t0, res.fun)
        rows.append({"dataset": name, "options": ", ".join(f"{k}={v}" for k, v in opts.items()
                                                           if k not in ("tol", "maxiter")),
                     "iterations": opts["maxiter"], "numba (s)": times["numba"][0], "numpy (s)": times["numpy"][0],
                     "numpy / numba": times["numpy"][0] / times["numba"][0],
                     "same objective": bool(np.isclose(times["numba"][1], times["numpy"][1], rtol=1e-8))})
    return rows


@suite("bcd-kernels", family="bcd")
def kernels_suite(ctx):
    """Numba vs NumPy kernel speed ratios; tree-elimination time against block size (linear time)."""
    ctx.table("Numba kernels vs their NumPy references inside whole BCD runs (quick-size datasets)",
              kernel_ratios(ctx.quick))
    sides = [40, 140, 450, 900] if ctx.quick else [40, 140, 450, 1400, 2800]
    rows = tree_scaling(sides)
    ctx.table("Tree elimination on the comb block of a lattice (Laplacian + I): time against block size", rows)
    x = np.log([r["block size"] for r in rows])
    y = np.log([r["tree solve (s)"] for r in rows])
    big = x >= np.log(1e5)
    slope = float(np.polyfit(x[big], y[big], 1)[0])
    ctx.text(f"Log-log slope of solve time against block size for blocks of 1e5 variables and more (out of "
             f"cache): {slope:.2f} (1 = linear time).")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog([r["block size"] for r in rows], [r["tree solve (s)"] for r in rows], "o-", label="tree solve")
    dense = [(r["block size"], r["dense solve (s)"]) for r in rows if r["dense solve (s)"]]
    if dense:
        ax.loglog(*zip(*dense), "s--", label="dense solve")
    ax.set_xlabel("block size")
    ax.set_ylabel("seconds")
    ax.legend()
    ctx.figure("Tree elimination time against block size", fig, "tree_scaling")
