"""Block coordinate descent benchmarks (Nutini, Laradji and Schmidt, JMLR 2022).

* ``bcd-rules``: iterations to ``f - f* <= 1e-8 max(1, |f*|)`` for every
  selection rule and update on datasets A-E (fixed blocks of 5), plus forest
  partitions on D and E, with the paper's orderings checked.
* ``bcd-l1``: L1 least squares and L1 logistic regression on LIBSVM data
  (and, in full mode, a seeded synthetic 1e5 x 1e5 problem with 1e7
  nonzeros), time to a relative duality gap of 1e-6 next to scikit-learn and
  skglm measured in the same run: one thread, the same iteration caps, a
  warm-up and a tolerance sweep per solver, then 5 timed fits of every solver
  taken in turns (one of each per round), one gap function for every solver,
  ratios (median of the pairwise ratios) with their range.
* ``bcd-kernels``: Numba kernels against their NumPy references, and the
  time of the tree-elimination solve against the block size (linear-time claim).

Quick mode uses small versions of A-E and only ``mushrooms`` at one
regularization strength; the full mode uses the paper's sizes and mushrooms,
a9a, w8a and phishing over a path of 5 strengths.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .._core.validate import check_choice
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
        results[(rule, partition, update)] = (nit, float(res.fun - fstar))
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
    ctx.table("Paper's orderings: 'yes' only when both compared runs reached the target and the claimed winner "
              "took fewer iterations (margin = relative saving; 'tie' under 1%, 'undecided' when a run did not "
              "reach the target)", summary)


def _orderings(name, results):
    """The paper's claims, each judged only when both compared runs reached the target.

    ``results`` maps (rule, partition, update) to (iterations or None, f - f* at stop). A claim
    "a beats b" holds when both reached the target and a took fewer iterations; the margin is
    the relative saving ``1 - it_a / it_b``, and under 1% it is reported as a tie.
    """

    def key(rule, partition="contiguous", update="lipschitz"):
        return results.get((rule, partition, update))

    def show(k):
        return f"{k[0]} it" if k[0] is not None else f"target not reached (f - f* = {k[1]:.1e})"

    def best(keys):
        reached = [k for k in keys if k is not None and k[0] is not None]
        if reached:
            return min(reached)
        return min((k for k in keys if k is not None), key=lambda k: k[1], default=None)

    rows = []
    claims = [("greedy (best of GS/GSL/GSQ) beats cyclic and random (Lipschitz updates)",
               best([key("gs"), key("gsl"), key("gsq")]), best([key("cyclic"), key("random")])),
              ("GSL beats GS (Lipschitz updates)", key("gsl"), key("gs")),
              ("GSQ with matrix updates beats GS with matrix updates", key("gsq", update="matrix"),
               key("gs", update="matrix"))]
    if name in "DE":
        fixed = best([key(r, update="matrix") for r in ("cyclic", "random", "gs", "gsl", "gsq")])
        trees = best([key("gsl", "tree", "matrix"), key("cyclic", "red-black", "matrix"),
                      key("cyclic", "comb", "matrix")])
        claims.append(("tree blocks beat fixed blocks (matrix updates)", trees, fixed))
    for claim, a, b in claims:
        if a is None or b is None:
            continue
        verdict, margin = claim_verdict(a[0], b[0])
        rows.append({"dataset": name, "claim": claim, "values": f"{show(a)} vs {show(b)}", "margin": margin,
                     "holds": verdict})
    return rows


def claim_verdict(it_a, it_b, tie=0.01):
    """('yes' | 'no' | 'tie' | 'undecided', margin) for the claim "a needs fewer iterations than b".

    ``it_a``/``it_b`` are the iterations to the target, None when the target was not reached.

    Examples
    --------
    >>> claim_verdict(50, 100), claim_verdict(100, 50), claim_verdict(995, 1000), claim_verdict(None, 10)
    (('yes', '50.0% fewer'), ('no', '100.0% more'), ('tie', '0.5% fewer'), ('undecided', None))
    """
    if it_a is None or it_b is None:
        return "undecided", None
    saving = 1.0 - it_a / it_b
    margin = f"{100 * abs(saving):.1f}% {'fewer' if saving >= 0 else 'more'}"
    if abs(saving) < tie:
        return "tie", margin
    return ("yes" if saving > 0 else "no"), margin


# -------------------------------------------------------------------------------------- L1
#: Iteration caps given to every solver alike (outer iterations; skglm also gets them as max_epochs).
MAX_ITER = 100_000


def relative_gap(X, y, w, lam, loss):
    """Duality gap of the sum-scaled L1 problem at ``w`` (:func:`numopt.bcd.gap.l1_duality_gap`) over P(0)."""
    from ..bcd.gap import l1_duality_gap

    p0 = 0.5 * float(y @ y) if loss == "squared" else X.shape[0] * np.log(2.0)
    return l1_duality_gap(X, y, np.ravel(w), loss=loss, lam=lam) / p0


def l1_solvers(loss, lam, m):
    """Factories ``tol -> estimator`` of numopt and its peers for ``sum loss + lam ||w||_1``, same caps for all."""
    from sklearn.linear_model import Lasso as SkLasso
    from sklearn.linear_model import LogisticRegression

    from ..bcd import L1LogisticRegression, Lasso

    out = {}
    if loss == "squared":
        out["numopt"] = lambda tol: Lasso(alpha=lam / m, fit_intercept=False, tol=tol, max_iter=MAX_ITER)
        out["sklearn cd"] = lambda tol: SkLasso(alpha=lam / m, fit_intercept=False, tol=tol, max_iter=MAX_ITER)
    else:
        out["numopt"] = lambda tol: L1LogisticRegression(C=1 / lam, fit_intercept=False, tol=tol,
                                                         max_iter=MAX_ITER)
        out["sklearn liblinear"] = lambda tol: LogisticRegression(C=1 / lam, l1_ratio=1.0, solver="liblinear",
                                                                  fit_intercept=False, tol=tol, max_iter=MAX_ITER)
    try:
        import skglm
    except ImportError:
        return out
    if loss == "squared":
        out["skglm"] = lambda tol: skglm.Lasso(alpha=lam / m, fit_intercept=False, tol=tol, max_iter=MAX_ITER,
                                               max_epochs=MAX_ITER)
    else:
        out["skglm"] = lambda tol: skglm.SparseLogisticRegression(alpha=lam / m, fit_intercept=False, tol=tol,
                                                                  max_iter=MAX_ITER, max_epochs=MAX_ITER)
    return out


TOLS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12)


#: The clocks a timing can be read from: wall time, or the CPU time of this process (all solvers run on
#: one thread, so it is their wall time on an idle machine, without the preemptions of a loaded one).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _fit_timed(make, tol, X, y, clock="wall"):
    import warnings

    now = CLOCKS[clock]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = now()
        model = make(tol).fit(X, y)
        return now() - t0, model


def tolerance_for_gap(make, X, y, lam, loss, tols=TOLS, curve_floor=None):
    """The loosest tolerance of ``make`` whose solution has relative gap <= 1e-6 (benchopt style).

    The solver's own tolerance is swept from loose to tight after a warm-up fit (compilation and
    caches out of the timing); each fit is judged by :func:`relative_gap`, the same function for every
    solver. With ``curve_floor`` the sweep goes on until the gap is below it, for gap-vs-time curves.
    Returns ``(tol or None, seconds of the first successful fit, gap reached, curve)``, ``curve`` the
    (seconds, gap) of every swept fit.
    """
    tol_used, first, reached, curve = None, None, np.inf, []
    _fit_timed(make, tols[0], X, y)  # warm-up: compilation, caches
    for tol in tols:
        seconds, model = _fit_timed(make, tol, X, y)
        gap = relative_gap(X, y, model.coef_, lam, loss)
        curve.append((seconds, gap))
        if tol_used is None:
            reached = gap
            if gap <= GAP_TARGET:
                tol_used, first = tol, seconds
        if tol_used is not None and (curve_floor is None or gap <= curve_floor):
            break
    return tol_used, first, reached, curve


def interleaved_times(makes, tols, X, y, repeats, clock="wall"):
    """``repeats`` timed fits of every solver at its tolerance, one fit of each per round (load shared alike).

    ``makes`` and ``tols`` map a label to a factory and its tolerance (None: not timed); ``clock`` is a
    key of :data:`CLOCKS`. Returns ``label -> array of seconds``.
    """
    check_choice("clock", clock, tuple(CLOCKS))
    labels = [k for k in makes if tols.get(k) is not None]
    times = {k: [] for k in labels}
    for _ in range(repeats):
        for k in labels:
            times[k].append(_fit_timed(makes[k], tols[k], X, y, clock)[0])
    return {k: np.array(v) for k, v in times.items()}


def ratio_summary(peer, ours):
    """Median and range of the pairwise ratios peer / numopt of two timing samples ("> 1: numopt faster").

    Examples
    --------
    >>> ratio_summary(np.array([2.0, 2.2, 1.8]), np.array([1.0, 1.0, 1.1]))
    (2.0, 1.6363636363636362, 2.2)
    """
    r = np.sort(np.asarray(peer)[:, None] / np.asarray(ours)[None, :], axis=None)
    return float(np.median(r)), float(r[0]), float(r[-1])


def l1_rows(name, X, y, loss, lam_fractions, repeats=5, curves=None, peers=None, clock="wall"):
    """Rows of the time-to-gap table for one data set and loss over a path of ``lam_max`` fractions.

    Per strength, every solver's tolerance is found first (:func:`tolerance_for_gap`), then the
    ``repeats`` timed fits alternate between the solvers (:func:`interleaved_times`, on ``clock``:
    'wall' or 'cpu', this process's CPU time), so that a
    shared machine's load falls on all alike. With a dict ``curves``, the (seconds, gap) sweeps of
    every solver at the first strength go into it; ``peers`` restricts the peers (labels of
    :func:`l1_solvers`) timed next to numopt.
    """
    X = sp.csc_matrix(X)
    m = X.shape[0]
    rows = []
    lam_max = float(np.abs(X.T @ y).max()) * (1.0 if loss == "squared" else 0.5)
    for k, frac in enumerate(lam_fractions):
        lam = lam_max * frac
        solvers = {label: make for label, make in l1_solvers(loss, lam, m).items()
                   if peers is None or label == "numopt" or label in peers}
        floor = 1e-10 if (curves is not None and k == 0) else None
        sweeps = {label: tolerance_for_gap(make, X, y, lam, loss, curve_floor=floor)
                  for label, make in solvers.items()}
        times = interleaved_times(solvers, {k_: v[0] for k_, v in sweeps.items()}, X, y, repeats, clock)
        ours = times.get("numopt")
        for label, (tol, _, gap, curve) in sweeps.items():
            if floor is not None:
                curves[label] = tuple(np.array(v) for v in zip(*curve))  # in sweep (tolerance) order
            t = times.get(label)
            row = {"data": name, "problem": f"L1 {loss}", "lambda / lambda_max": frac, "solver": label,
                   "tol used": tol, "best time (s)": None if t is None else float(t.min()),
                   "median time (s)": None if t is None else float(np.median(t)), "relative gap": gap}
            if t is not None and ours is not None:
                med, lo, hi = ratio_summary(t, ours)
                row.update({"time / numopt (median)": med, "range": f"{lo:.2f}-{hi:.2f}"})
            rows.append(row)
    return rows


def gap_time_curves(X, y, loss, lam, repeats=3, floor=1e-10):
    """Gap-vs-time curves of numopt and its peers: per tolerance of the sweep, the best of ``repeats`` fits.

    Every solver is warmed up once, then fitted at each tolerance of ``TOLS`` (loosest first) until
    its relative gap (:func:`relative_gap`) is at most ``floor``. Returns ``label -> (seconds, gap)``
    in tolerance order, ready for :func:`numopt.bench.report.convergence_plot`.
    """
    X = sp.csc_matrix(X)
    curves = {}
    for label, make in l1_solvers(loss, lam, X.shape[0]).items():
        _fit_timed(make, TOLS[0], X, y)
        points = []
        for tol in TOLS:
            fits = [_fit_timed(make, tol, X, y) for _ in range(repeats)]
            points.append((min(f[0] for f in fits), relative_gap(X, y, fits[0][1].coef_, lam, loss)))
            if points[-1][1] <= floor:
                break
        curves[label] = tuple(np.array(v) for v in zip(*points))
    return curves


@suite("bcd-l1", family="bcd")
def l1_suite(ctx):
    """L1 least squares and L1 logistic: time to relative duality gap 1e-6 vs scikit-learn and skglm."""
    from ..problems.libsvm import load

    names = ("mushrooms",) if ctx.quick else ("mushrooms", "a9a", "w8a", "phishing")
    fractions = (0.1,) if ctx.quick else (0.5, 0.2, 0.1, 0.05, 0.02)
    rows, missing = [], []
    with _single_thread():
        for name in names:
            try:
                X, y = load(name, download=False)
            except FileNotFoundError as exc:
                missing.append(f"{name} ({exc})")
                continue
            for loss in ("squared", "logistic"):
                curves = {}
                rows += l1_rows(name, X, y, loss, fractions, repeats=5, curves=curves)
                fig = convergence_plot(curves, xlabel="seconds", ylabel="relative duality gap",
                                       title=f"{name}, L1 {loss}, lambda_max * {fractions[0]}")
                ctx.figure(f"{name}, L1 {loss}: relative duality gap against time (one fit per tolerance)", fig,
                           f"l1_gap_{name}_{loss}")
        if not ctx.quick:
            from ..bcd.datasets import synthetic_sparse

            for loss in ("squared", "logistic"):
                X, y = synthetic_sparse(loss=loss, seed=ctx.seed)
                rows += l1_rows("synthetic 1e5 x 1e5, 1e7 nnz", X, y, loss, fractions, repeats=5)
    if not rows:
        ctx.skip("no LIBSVM data set found: " + "; ".join(missing))
    if missing:
        ctx.text("skipped: " + "; ".join(missing))
    ctx.table("Time to a relative duality gap of 1e-6 (gap by numopt.bcd.gap.l1_duality_gap for every solver; "
              f"no intercept; one thread; caps {MAX_ITER} for all; warm-up, then 5 timed fits per solver in "
              "turns). 'time / numopt' > 1 means numopt is faster: median of the pairwise ratios and their range",
              rows)


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
