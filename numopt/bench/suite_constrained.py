"""Benchmarks of AdaSketch-Newton (:mod:`numopt.constrained`) and the sketching solvers.

Suites:

``constrained-cutest-paper`` (full)
    The 41 CUTEst problems of Hong et al. (ICML 2023) in S2MPJ: how many reach
    KKT <= 1e-6 and the median number of Newton iterations, for the default
    (the cost model's choice of inner solve), the randomized Kaczmarz and
    Gaussian-vector sketches forced, and exact inner solves. The
    side-by-side comparison with SLSQP, trust-constr and IPOPT on the 41 (quick)
    and all 197 (full) problems is the ``cutest-baseline`` suite, where
    ``'adasketch-newton'`` is registered in :data:`numopt.bench.cutest_runner.SOLVERS`.
``constrained-logistic``
    Constrained logistic regression (quick: sonar_scale, ionosphere_scale;
    full: the paper's 7 LIBSVM sets, a9a and w8a included) next to IPOPT and
    trust-constr. Every solver runs through the CUTEst runner's adapters:
    the same requested tolerance (1e-8), the same CPU time limit (stopped at
    the first evaluation past it), the same external judge (KKT <= 1e-6) and
    a warm-up run first.
``constrained-pde``
    The PDE control problem, N = 32, 64 (quick) up to 256 (full): time and
    peak memory of the sparse path.
``sketch-kernels``
    Randomized Kaczmarz steps on a sparse 20k x 20k system (5k in quick mode):
    Numba kernel with incremental residual vs the NumPy reference loop.
"""

from __future__ import annotations

import resource
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

from . import suite

KKT_TOL = 1e-6


#: numopt variants compared on the paper's problems (registered in the CUTEst runner while the suite runs).
VARIANTS = {"adasketch-newton-default": {}, "adasketch-newton-rk": {"inner": "sketch"},
            "adasketch-newton-gaussian": {"inner": "sketch", "sketch": "gaussian"},
            "adasketch-newton-exact": {"inner": "exact"}}


@suite("constrained-cutest-paper", family="constrained", quick=False)
def cutest_paper(ctx):
    """AdaSketch-Newton on the paper's 41 CUTEst problems: solved at KKT <= 1e-6, median Newton iterations."""
    try:
        from ..problems import cutest
        from .cutest_runner import run_all
    except ImportError as exc:
        ctx.skip(f"CUTEst problems unavailable: {exc}")
    from .cutest_runner import SOLVERS, numopt_method

    solvers = list(VARIANTS)
    added = [s for s in solvers if s not in SOLVERS]
    for s in added:
        SOLVERS[s] = numopt_method("adasketch-newton", **VARIANTS[s])
    try:
        rows, _ = run_all(cutest.PAPER_PROBLEMS, solvers, time_limit=20.0, tol=KKT_TOL, progress=ctx.progress)
    finally:
        for s in added:
            del SOLVERS[s]
    summary = []
    for s in solvers:
        mine = [r for r in rows if r["solver"] == s]
        ok = [r for r in mine if r["success"]]
        nits = [r["nit"] for r in ok if r["nit"] is not None]
        summary.append({"solver": s, "solved": f"{len(ok)}/{len(mine)}",
                        "median Newton it": float(np.median(nits)) if nits else None,
                        "mean Newton it": float(np.mean(nits)) if nits else None,
                        "total time (s)": float(sum(r["time"] for r in mine))})
    ctx.table("41 CUTEst problems of the paper (S2MPJ), KKT <= 1e-6 (measured here)", summary)
    ctx.table("Quoted from the paper, not measured here (the reference Julia code on its 47 CUTEst problems)",
              [{"source": "quoted: Hong et al. (ICML 2023)", "solved": "45/47", "median Newton it": 5,
                "mean Newton it": 6.4}])
    failed = [{"solver": r["solver"], "problem": r["problem"], "kkt": r["kkt"], "feas": r["feas"],
               "message": r["message"][:60]} for r in rows if not r["success"]]
    ctx.table("Failures", failed)


#: Tolerance every solver of the logistic table is asked for (IPOPT ``tol``, trust-constr ``gtol``,
#: numopt ``tol``).
REQUESTED_TOL = 1e-8

#: Solvers of the logistic table: numopt's variants are added to the runner's SOLVERS while the suite runs.
LOGISTIC_SOLVERS = {"adasketch-newton (default)": {"tol": REQUESTED_TOL},
                    "adasketch-newton (rk sketch)": {"tol": REQUESTED_TOL, "inner": "sketch"},
                    "ipopt": None, "trust-constr": None}


def _run_logistic(problem, solver, time_limit, seed):
    """One solver on one problem through the runner's adapter; a row judged by the shared KKT measure."""
    from .cutest_runner import SOLVERS, kkt_residual, numopt_method

    options = LOGISTIC_SOLVERS[solver]
    run = SOLVERS[solver] if options is None else numopt_method(
        "adasketch-newton", **options, seed=seed, record_history=True)
    problem.reset_counts()
    t0 = time.process_time()
    out = run(problem, time_limit)
    elapsed = time.process_time() - t0
    kkt, feas = kkt_residual(problem, out["x"])
    ok = bool(kkt <= KKT_TOL and feas <= KKT_TOL and not out.get("timed_out"))
    return {"solver": solver, "nit": out["nit"], "cpu (s)": elapsed, "kkt": kkt, "feas": feas,
            "fun": problem.fun(out["x"]), "success": ok, "path": out.get("path", ""),
            "message": out["message"][:40]}, out.get("history")


@suite("constrained-logistic", family="constrained")
def logistic(ctx):
    """Constrained logistic regression on LIBSVM data: AdaSketch-Newton next to IPOPT and trust-constr."""
    from ..problems.constrained_logistic import PAPER_DATASETS, constrained_logistic, load
    from .cutest_runner import SolverUnavailable

    datasets = ("sonar_scale", "ionosphere_scale") if ctx.quick else PAPER_DATASETS
    time_limit = 60.0 if ctx.quick else 300.0
    rng = np.random.default_rng(ctx.seed)
    X = rng.standard_normal((60, 20))
    y = np.sign(X[:, 0] + 0.1)
    unavailable, missing = {}, {}
    for data in (X, sp.csr_matrix(X)):  # imports and JIT compilation (dense and CSR kernels), untimed
        warm = constrained_logistic(data, y, seed=ctx.seed)
        for solver in LOGISTIC_SOLVERS:
            try:
                _run_logistic(warm, solver, time_limit, ctx.seed)
            except SolverUnavailable as exc:
                unavailable[solver] = str(exc)
    rows, curves = [], {}
    for name in datasets:
        try:
            problem = load(name, seed=ctx.seed)
        except FileNotFoundError as exc:
            missing[name] = str(exc)
            continue
        for solver in LOGISTIC_SOLVERS:
            if solver in unavailable:
                reason = f"unavailable: {unavailable[solver]}"[:60]
                rows.append({"data": name, "solver": solver, "message": reason})
                continue
            row, history = _run_logistic(problem, solver, time_limit, ctx.seed)
            rows.append({"data": name, "d": problem.n, **row})
            if history is not None:
                curves[f"{name}, {solver}"] = (history["nit"], history["kkt"])
    if rows:
        ctx.table(f"Constrained logistic regression: requested tol {REQUESTED_TOL:g} for every solver, judged "
                  f"at KKT <= {KKT_TOL:g}, {time_limit:g} CPU s limit each, after a warm-up run", rows)
        ctx.table("Quoted from the paper, not measured here (the reference code's times)",
                  [{"source": "quoted: Hong et al. (ICML 2023)", "a9a (s)": 649, "w8a (s)": 4936}])
    if curves:
        from .report import convergence_plot

        fig = convergence_plot(curves, xlabel="Newton iteration", ylabel="||(grad L, c)||",
                               title="Constrained logistic regression")
        ctx.figure("KKT residual per Newton iteration", fig, "logistic_kkt")
    if missing:
        ctx.skip(f"data missing for {', '.join(missing)} (set NUMOPT_DATA or run `numopt data fetch`); "
                 f"ran {len(datasets) - len(missing)} of {len(datasets)} data sets")


@suite("constrained-pde", family="constrained")
def pde(ctx):
    """PDE-constrained control on N x N grids: time and peak memory of the sparse path (exact inner solves)."""
    import numopt

    from ..problems.pde_control import pde_control

    sizes = (32, 64) if ctx.quick else (32, 64, 128, 256)
    rows = []
    for N in sizes:
        tracemalloc.start()
        t0 = time.perf_counter()
        problem = pde_control(N)
        res = numopt.minimize(problem, method="adasketch-newton", options={"inner": "exact", "tol": 1e-8})
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append({"N": N, "n": problem.n, "m": problem.m_eq, "nit": res.nit, "kkt": res.kkt,
                     "success": res.success, "time (s)": elapsed, "peak MB (tracemalloc)": peak / 2**20,
                     "process peak RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                     "dense KKT would need (MB)": (problem.n + problem.m_eq) ** 2 * 8 / 2**20})
    ctx.table("PDE control: sparse KKT, exact inner solves (SuperLU), inertia-free regularization test "
              "(tracemalloc sees NumPy/SciPy arrays, not SuperLU's factors; RSS is the process maximum so far)",
              rows)


@suite("sketch-kernels", family="constrained")
def sketch_kernels(ctx):
    """Randomized Kaczmarz on a sparse system: Numba kernel (incremental residual) vs the NumPy reference."""
    from ..linalg import sketch_solve

    N = 5000 if ctx.quick else 20000
    rng = np.random.default_rng(ctx.seed)
    A = sp.random(N, N, density=10 / N, random_state=rng, format="csr") + 10 * sp.identity(N, format="csr")
    A = sp.csr_matrix(A)
    b = A @ rng.standard_normal(N)
    steps = 10 * N
    sketch_solve(A[:50, :50], b[:50], maxiter=10, seed=0)  # compile the kernels outside the timing
    rows = []
    times = {}
    for backend in ("numba", "numpy"):
        t0 = time.perf_counter()
        res = sketch_solve(A, b, sketch="rk", maxiter=steps, check_every=steps, rtol=0.0, seed=ctx.seed,
                           backend=backend)
        times[backend] = time.perf_counter() - t0
        rows.append({"backend": backend, "N": N, "nnz": A.nnz, "steps": res.nit,
                     "time (s)": times[backend], "us per step": 1e6 * times[backend] / res.nit,
                     "relative residual": res.residual / np.linalg.norm(b)})
    rows.append({"backend": "ratio numpy / numba", "time (s)": times["numpy"] / times["numba"]})
    ctx.table(f"Randomized Kaczmarz, {steps} steps on a {N} x {N} sparse system", rows)
