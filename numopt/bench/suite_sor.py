"""Benchmarks of SOR with learned relaxation (Khodak et al., ICLR 2024) and of the SOR sweep kernel.

- ``sor-shifted``: Tsallis-INF vs the best fixed omega in hindsight and ChebCB /
  Tsallis-INF with context bins vs the instance-optimal omega on shifted
  Laplacian sequences (both Beta settings), several seeds.
- ``sor-heat``: 2-D heat equation with time-varying diffusion (Crank-Nicolson):
  total iterations and wall time of SSOR-PCG with omega = 1, omega*,
  Tsallis-INF and ChebCB next to plain CG and pyamg smoothed-aggregation PCG.
- ``sor-sweep``: one SOR sweep of the Numba kernel vs pyamg's compiled ``sor``
  on a grid Laplacian, and the memory-bandwidth rate of the sweep.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..linalg.sor import optimal_omega
from ..problems.linear_sequences import shifted_laplacians
from ..tuning import ChebCB, TsallisINF, TsallisINFBins, best_fixed, cost_table, instance_optimal, replay
from . import suite

GRID = np.linspace(1.0, 1.95, 20)
CONTEXT_RANGE = (-0.15, 0.45)


def shifted_tables(T: int, variance: str, seeds, cache: Path, progress: bool = False) -> list:
    """Cost tables (``T x 20`` SOR iterations) of shifted-Laplacian sequences, one per seed, cached as npz."""
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for seed in seeds:
        path = cache / f"shifted_{variance}_T{T}_seed{seed}.npz"
        if not path.exists():
            seq = shifted_laplacians(T, variance=variance, seed=seed)
            table = cost_table(seq, GRID, "sor", warm_start=False, progress=progress)
            partial = path.with_suffix(".partial.npz")
            np.savez(partial, costs=table.costs, contexts=table.contexts)
            partial.replace(path)  # atomic: a concurrent run never reads half a file
        data = np.load(path)
        out.append((data["costs"], data["contexts"]))
    return out


def _learners(seed: int) -> dict:
    low, high = CONTEXT_RANGE
    return {
        "Tsallis-INF": TsallisINF(GRID, seed=seed),
        "Tsallis-INF (plain IW)": TsallisINF(GRID, baseline=0.0, seed=seed),
        "ChebCB": ChebCB(GRID, low=low, high=high, seed=seed),
        "ChebCB (log-cost)": ChebCB(GRID, low=low, high=high, target="log", seed=seed),
        "Tsallis-INF bins": TsallisINFBins(GRID, low=low, high=high, seed=seed),
    }


@suite("sor-shifted", family="sor")
def bench_shifted(ctx):
    """Learned omega on shifted 2-D Laplacian sequences: learners vs best fixed and instance-optimal omega."""
    import matplotlib.pyplot as plt

    T, nseeds = (200, 2) if ctx.quick else (5000, 10)
    seeds = [ctx.seed + s for s in range(nseeds)]
    rows = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, variance in zip(axes, ("high", "low")):
        tables = shifted_tables(T, variance, seeds, ctx.outdir / "tables", ctx.progress)
        ratios: dict[str, list] = {}
        curves: dict[str, list] = {}
        for (costs, contexts), seed in zip(tables, seeds):
            bf, io = best_fixed(costs), instance_optimal(costs)
            curves.setdefault("best fixed (hindsight)", []).append(bf.cumulative)
            curves.setdefault("instance-optimal", []).append(io.cumulative)
            ratios.setdefault("best fixed omega", []).append(GRID[bf.index])
            ratios.setdefault("best fixed / instance-optimal", []).append(bf.total / io.total)
            for name, learner in _learners(seed).items():
                r = replay(learner, costs, contexts)
                curves.setdefault(name, []).append(r.cumulative)
                ratios.setdefault(f"{name} / best fixed", []).append(r.total / bf.total)
                ratios.setdefault(f"{name} / instance-optimal", []).append(r.total / io.total)
        for name, values in ratios.items():
            v = np.asarray(values)
            rows.append({"variance": variance, "T": T, "seeds": len(seeds), "quantity": name, "mean": v.mean(),
                         "min": v.min(), "max": v.max()})
        for name, cs in curves.items():
            ax.plot(np.mean(cs, axis=0), np.arange(T, 0, -1), label=name)
        ax.set(title=f"{variance} variance (mean of {len(seeds)} seeds)", xlabel="total SOR iterations",
               ylabel="instances remaining")
        ax.legend(fontsize=7)
    ctx.table("Cumulative SOR iterations relative to the hindsight comparators", rows)
    ctx.figure("Cumulative iterations vs instances", fig, "shifted_cumulative")


#: tolerance of every solver in the heat-equation table (the paper's, on the true residual)
HEAT_RTOL = 1e-8


def _heat_runs(nx: int, steps: int, stoptime: float, seed: int, repeats: int) -> list[dict]:
    """One heat-equation trajectory per method: total iterations and the best wall time of ``repeats`` runs.

    Every method (numopt's and the peers') gets the same tolerance (``HEAT_RTOL``), the same warm-up
    (a 3-step run of the same grid before any timing, which also compiles the Numba kernels), the same
    starting guesses (the previous state) and the same number of timed repeats.
    """
    from ..linalg import cg, jacobi_spectral_radius, ssor_pcg
    from ..problems.linear_sequences import HeatEquation
    from ..tuning import solve_sequence

    dt = stoptime / steps
    probe = HeatEquation(nx=nx, steps=steps, stoptime=stoptime)
    kappas = probe.contexts
    low, high = float(kappas.min()), float(kappas.max())
    beta_K = jacobi_spectral_radius(probe.K)

    def omega_star(system):  # A = I + s K: the Jacobi radius rescales exactly
        s = 0.5 * dt * system.context * probe.K.diagonal()[0]
        return optimal_omega(rho=beta_K * s / (1 + s))

    def per_system(solve):
        def run(heat):
            total, ok = 0, True
            for system in heat:
                res = solve(system)
                total += res.nit
                ok &= res.info == 0
                system.on_solution(res.x)
            return total, bool(ok)
        return run

    def with_learner(make_learner):
        def run(heat):
            res = solve_sequence(heat, "ssor-pcg", make_learner(), rtol=HEAT_RTOL)
            return res.total_nit, res.success
        return run

    methods = {"CG": per_system(lambda s: cg(s.A, s.b, s.x0, rtol=HEAT_RTOL))}
    try:
        import pyamg

        def amg(s):
            ml = pyamg.smoothed_aggregation_solver(s.A)
            return cg(s.A, s.b, s.x0, rtol=HEAT_RTOL, M=ml.aspreconditioner())

        methods["pyamg SA-PCG"] = per_system(amg)
    except ImportError:
        pass
    methods["SSOR-PCG omega=1"] = with_learner(lambda: 1.0)
    methods["SSOR-PCG omega*"] = per_system(
        lambda s: ssor_pcg(s.A, s.b, s.x0, omega=omega_star(s), rtol=HEAT_RTOL))
    methods["SSOR-PCG Tsallis-INF"] = with_learner(lambda: TsallisINF(GRID, seed=seed))
    methods["SSOR-PCG ChebCB"] = with_learner(lambda: ChebCB(GRID, low=low, high=high, seed=seed))
    rows = []
    for name, run in methods.items():
        run(HeatEquation(nx=nx, steps=3, stoptime=3 * dt))  # warm-up
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            total, ok = run(HeatEquation(nx=nx, steps=steps, stoptime=stoptime))
            best = min(best, time.perf_counter() - t0)
        rows.append({"nx": nx, "n": (nx - 1) ** 2, "steps": steps, "t_end": stoptime, "method": name,
                     "rtol": HEAT_RTOL, "iterations": total, "seconds (best of repeats)": best,
                     "repeats": repeats, "converged": ok})
    if "pyamg SA-PCG" not in methods:
        rows.append({"nx": nx, "method": "pyamg SA-PCG", "converged": "skipped: pyamg not installed"})
    return rows


@suite("sor-heat", family="sor")
def bench_heat(ctx):
    """2-D heat equation (Crank-Nicolson, varying diffusion): SSOR-PCG with learned omega vs CG and AMG-PCG."""
    # (nx, steps, final time): the paper's 5000 steps to t = 5 on the coarsest grid; one period of the
    # diffusion coefficient (a slow and a fast phase) with fewer, longer steps on the finer grids
    if ctx.quick:
        sizes = [(25, 150, 0.15), (50, 50, 0.5)]
    else:
        sizes = [(25, 5000, 5.0), (50, 1000, 1.0), (100, 500, 1.0), (200, 200, 1.0), (400, 100, 1.0)]
    rows = []
    repeats = 1 if ctx.quick else 3
    for nx, steps, stoptime in sizes:
        rows += _heat_runs(nx, steps, stoptime, ctx.seed, repeats)
    for row in rows:
        base = next(r for r in rows if r["nx"] == row["nx"] and r["method"] == "CG")
        if "seconds (best of repeats)" in row:
            row["time / CG"] = row["seconds (best of repeats)"] / base["seconds (best of repeats)"]
    ctx.table("Heat equation: total iterations and wall time per grid (whole simulation)", rows)


def _stream_bandwidth(nbytes: int = 400_000_000) -> float:
    """Copy bandwidth (bytes read + written per second) of a large NumPy array copy, best of 5."""
    a = np.ones(nbytes // 16)
    b = np.empty_like(a)
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.nbytes / best


@suite("sor-sweep", family="sor")
def bench_sweep(ctx):
    """One SOR sweep: Numba kernel (natural and red-black) vs pyamg's compiled sor, and bytes moved per second."""
    from ..linalg.sor import SweepMatrix
    from ..problems.pde import poisson

    N = 300 if ctx.quick else 1000
    A = poisson((N, N))
    n, nnz = A.shape[0], A.nnz
    b = np.random.default_rng(ctx.seed).standard_normal(n)
    # CSR values and column indices, row pointers, b read, x read and written once
    bytes_moved = nnz * (A.data.itemsize + A.indices.itemsize) + (n + 1) * A.indptr.itemsize + 3 * 8 * n
    reps = 5 if ctx.quick else 10

    def best_time(fn):
        fn()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    import numba

    x = np.zeros(n)
    timings = {}
    S = SweepMatrix(A)
    timings["numopt Numba (natural)"] = best_time(lambda: S.sweep(b, x, 1.5))
    S = SweepMatrix(A, "red-black", parallel=False)
    timings["numopt Numba (red-black, serial)"] = best_time(lambda: S.sweep(b, x, 1.5))
    S = SweepMatrix(A, "red-black", parallel=True)
    threads = numba.get_num_threads()
    for t in sorted({1, threads}):
        numba.set_num_threads(t)
        timings[f"numopt Numba (red-black, {t} thread{'s' * (t > 1)})"] = best_time(lambda: S.sweep(b, x, 1.5))
    numba.set_num_threads(threads)
    try:
        from pyamg.relaxation.relaxation import sor as pyamg_sor

        timings["pyamg sor (C++)"] = best_time(lambda: pyamg_sor(A, x, b, 1.5, iterations=1))
    except ImportError:
        ctx.text("pyamg is not installed: no peer timing.")
    peak = _stream_bandwidth()
    ref = timings.get("pyamg sor (C++)")
    rows = [{"kernel": name, "grid": f"{N} x {N}", "seconds per sweep": t, "GB/s": bytes_moved / t / 1e9,
             "fraction of copy bandwidth": bytes_moved / t / peak,
             "speed vs pyamg": None if ref is None else ref / t}
            for name, t in timings.items()]
    ctx.table("SOR sweep speed (best of repeats)", rows)
    ctx.text(f"Bytes moved per sweep (lower bound): {bytes_moved / 1e6:.1f} MB; NumPy copy bandwidth on this "
             f"machine: {peak / 1e9:.2f} GB/s, so a sweep cannot take less than "
             f"{bytes_moved / peak * 1e3:.2f} ms.")


def model_families() -> dict:
    """Sequence families of the model-feedback study: ``name -> (builder(T, seed), grid-based?)``."""
    from ..problems.linear_sequences import (
        anisotropic_laplacians,
        graph_laplacians,
        porous_diffusion_3d,
        variable_diffusion,
    )

    return {
        "shifted (high variance)": lambda T, seed: shifted_laplacians(T, variance="high", seed=seed),
        "shifted (low variance)": lambda T, seed: shifted_laplacians(T, variance="low", seed=seed),
        "variable diffusion 16x16": lambda T, seed: variable_diffusion(T, seed=seed),
        "anisotropic 40x12": lambda T, seed: anisotropic_laplacians(T, seed=seed),
        "graph Laplacian (non-grid)": lambda T, seed: graph_laplacians(T, seed=seed),
        HELD_OUT_FAMILY: lambda T, seed: porous_diffusion_3d(T, seed=seed),
    }


#: a family never used to choose any default (reported separately, as held out)
HELD_OUT_FAMILY = "porous 3-D 10x10x10 (held out)"
#: families of the SSOR-PCG study
SSOR_FAMILIES = ("shifted (high variance)", "variable diffusion 16x16", "graph Laplacian (non-grid)",
                 HELD_OUT_FAMILY)


def model_learners(seed: int, model: str) -> dict:
    """The learners compared: the paper's bandits, the model-informed ones (ChebCB learns its interval), the
    recommended safety net (:class:`~numopt.tuning.SafeCombination`'s defaults, worst-case sublinear bound)
    and the same net without a share (a data-dependent bound only)."""
    from ..tuning import ModelHedge, ModelLeader, SafeCombination

    return {
        "Tsallis-INF": TsallisINF(GRID, seed=seed),
        "ChebCB (learned range)": ChebCB(GRID, seed=seed),
        "ModelHedge": ModelHedge(GRID, model, seed=seed),
        "ModelLeader": ModelLeader(GRID, model, seed=seed),
        "SafeCombination(ModelLeader, Tsallis-INF), recommended": SafeCombination(
            [ModelLeader(GRID, model, seed=seed), TsallisINF(GRID, baseline=0.0, seed=seed + 1000)], seed=seed),
        "SafeCombination(ModelLeader, Tsallis-INF), share 0, baseline 1": SafeCombination(
            [ModelLeader(GRID, model, seed=seed), TsallisINF(GRID, seed=seed + 1000)], prior=200.0, share=0.0,
            baseline=1.0, seed=seed),
    }


def model_table(family: str, T: int, seed: int, solver: str, cache: Path):
    """Cold-start cost table (rtol 1e-8) of one family, seed and solver, with the models' feedback; cached."""
    cache.mkdir(parents=True, exist_ok=True)
    tag = "".join(ch if ch.isalnum() else "_" for ch in family)
    path = cache / f"model_{tag}_{solver}_T{T}_seed{seed}.npz"
    if not path.exists():
        table = cost_table(model_families()[family](T, seed), GRID, solver, warm_start=False, rtol=1e-8)
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, costs=table.costs, contexts=table.contexts, feedback=table.feedback, info=table.info)
        partial.replace(path)
    data = np.load(path)
    return data["costs"], data["contexts"], data["feedback"]


def prediction_error(costs, feedback, solver: str, every: int = 5) -> float:
    """Median relative error of the one-run model predictions (every ``every``-th instance, every value run,
    every value predicted)."""
    from ..tuning.models import predict_sor_counts, predict_ssor_pcg_counts

    errors = []
    for row, measured in zip(costs[::every], feedback[::every]):
        for k in range(len(GRID)):
            if not np.isfinite(measured[k]):
                continue
            if solver == "sor":
                if not 0 < measured[k] < 1:
                    continue
                pred = predict_sor_counts(GRID, GRID[k], row[k], measured[k], transient=False)
            else:
                pred = predict_ssor_pcg_counts(GRID, GRID[k], row[k], measured[k])
            errors.append(np.abs(pred - row) / row)
    return float(np.median(np.concatenate(errors))) if errors else float("nan")


def model_study(T: int, seeds, solver: str, cache: Path, families=None) -> list[dict]:
    """Ratios of every learner's total cost to the best fixed and the instance-optimal value, per family
    (mean and largest over the seeds)."""
    rows = []
    for family in families or model_families():
        ratios: dict[str, list] = {}
        errors = []
        for seed in seeds:
            costs, contexts, feedback = model_table(family, T, seed, solver, cache)
            bf, io = best_fixed(costs), instance_optimal(costs)
            errors.append(prediction_error(costs, feedback, solver))
            ratios.setdefault("best fixed / instance-optimal", []).append((bf.total / io.total, np.nan))
            for name, learner in model_learners(seed, solver).items():
                total = replay(learner, costs, contexts, feedback).total
                ratios.setdefault(name, []).append((total / bf.total, total / io.total))
        for name, values in ratios.items():
            v = np.asarray(values)
            rows.append({"family": family, "solver": solver, "T": T, "seeds": f"{min(seeds)}-{max(seeds)}",
                         "learner": name,
                         "/ best fixed (mean)": v[:, 0].mean(), "/ best fixed (max)": v[:, 0].max(),
                         "/ instance-optimal (mean)": v[:, 1].mean(), "/ instance-optimal (max)": v[:, 1].max(),
                         "model median rel. error": float(np.median(errors))})
    return rows


@suite("sor-model", family="sor")
def bench_model(ctx):
    """Model-predicted full information (Young / Chebyshev) vs bandit feedback, on six sequence families.

    The defaults of the learners were chosen on seeds 0-5 of the first five families; the full suite
    also reports seeds 6-11 and the family :data:`HELD_OUT_FAMILY` (all seeds), never used for tuning.
    """
    T, nseeds = (100, 1) if ctx.quick else (200, 6)
    cache = ctx.outdir / "tables"
    rows = []
    for seeds in ([ctx.seed + s for s in range(nseeds)],) if ctx.quick else (range(0, 6), range(6, 12)):
        rows += model_study(T, list(seeds), "sor", cache)
        rows += model_study(T, list(seeds), "ssor-pcg", cache, SSOR_FAMILIES)
    ctx.table("Total cost relative to the best fixed omega and the instance-optimal omega (cold starts, "
              "rtol 1e-8)", rows)


def arms_study(T: int, seed, cache: Path, families=("graph Laplacian (non-grid)", "shifted (high variance)"),
               omegas=None, solvers=("cg", "ssor-pcg", "sor")) -> list[dict]:
    """(solver, omega) arms in work units (passes over the matrix): the best arm and the learners' totals.

    One row per family and seed (``seed`` an int or a sequence): the best arm in hindsight, the best
    SSOR-PCG and SOR arms relative to it, and the work of the bandits and of the model-informed learners
    (:class:`~numopt.tuning.arms.ArmsModel`: every solve predicts every arm) relative to the best arm.
    Cold starts, ``rtol=1e-8``; the cost tables (with each solve's feedback record) are cached as npz.
    ``solvers`` selects the arms (:class:`~numopt.tuning.SolverArms`).
    """
    from ..tuning import ModelLeader, SafeCombination, SolverArms
    from ..tuning.arms import ArmsModel

    arms = SolverArms(np.linspace(1.0, 1.9, 10) if omegas is None else omegas, solvers=solvers)
    names = np.array([s for s, _ in arms.arms])
    rows = []
    cache.mkdir(parents=True, exist_ok=True)
    for family in families:
        tag = "".join(ch if ch.isalnum() else "_" for ch in family)
        for s in np.atleast_1d(seed).tolist():
            path = cache / f"arms_{tag}_{'_'.join(solvers)}_{len(arms.arms)}arms_T{T}_seed{s}.npz"
            if not path.exists():
                table = cost_table(model_families()[family](T, s), arms.grid, arms, parameter="arm",
                                   warm_start=False, rtol=1e-8)
                partial = path.with_suffix(".partial.npz")
                np.savez(partial, costs=table.costs, contexts=table.contexts, feedback=table.feedback)
                partial.replace(path)  # atomic: a concurrent run never reads half a file
            data = np.load(path)
            work, contexts, feedback = data["costs"] * arms.passes, data["contexts"], data["feedback"]
            bf, io = best_fixed(work), instance_optimal(work)
            totals = work.sum(axis=0)
            best_of = {n: totals[names == n].min() / bf.total if np.any(names == n) else np.nan
                       for n in ("ssor-pcg", "sor")}
            leader = ModelLeader(arms.grid, ArmsModel(arms), seed=s)
            net = SafeCombination([ModelLeader(arms.grid, ArmsModel(arms), seed=s),
                                   TsallisINF(arms.grid, baseline=0.0, seed=s + 1000)], seed=s)
            rows.append({
                "family": family, "arms": f"{' + '.join(solvers)} ({len(arms.arms)})", "T": T, "seed": s,
                "best arm": arms.labels[bf.index],
                "best SSOR-PCG / best arm": best_of["ssor-pcg"],
                "best SOR / best arm": best_of["sor"],
                "best arm / instance-optimal": bf.total / io.total,
                "Tsallis-INF / best arm": replay(TsallisINF(arms.grid, seed=s), work).total / bf.total,
                "ChebCB (learned range) / best arm":
                    replay(ChebCB(arms.grid, seed=s), work, contexts).total / bf.total,
                "ModelLeader(ArmsModel) / best arm": replay(leader, work, None, feedback).total / bf.total,
                "SafeCombination(ModelLeader(ArmsModel), Tsallis-INF) / best arm":
                    replay(net, work, None, feedback).total / bf.total,
            })
    return rows


@suite("sor-arms", family="sor")
def bench_arms(ctx):
    """Solver choice as part of the arm: CG, SSOR-PCG(omega), SOR(omega) compared in passes over the matrix.

    Quick: the two families where plain CG wins (T = 100, one seed). Full: every family of
    :func:`model_families` (CG wins on the graph and shifted Laplacians, SSOR-PCG on the others), T = 200,
    seeds 0-2, with all 21 arms and with the 11 CG and SSOR-PCG arms.
    """
    if ctx.quick:
        rows = arms_study(100, ctx.seed, ctx.outdir / "tables")
    else:  # every arm, and without the SOR arms (2.6-33 times the best arm here: the bandit's tries cost most)
        rows = [row for solvers in (("cg", "ssor-pcg", "sor"), ("cg", "ssor-pcg"))
                for row in arms_study(200, [0, 1, 2], ctx.outdir / "tables", families=tuple(model_families()),
                                      solvers=solvers)]
    ctx.table("Work (passes over the matrix) of learners over (solver, omega) arms, relative to the best arm",
              rows)
