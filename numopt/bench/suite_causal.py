"""DAG learning benchmarks: TOPO against NOTEARS (gcastle), DAGMA, and numopt's own NOTEARS.

Every method runs on the same data in one process, after a warm-up (imports and Numba
compilation are not timed), with BLAS limited to one thread for all of them
(``threadpoolctl``). ``NOTEARS (gcastle)`` is the peer library's implementation and runs when
``gcastle`` is installed; ``NOTEARS (numopt)`` is numopt's re-implementation
(:func:`numopt.causal.notears_linear`), labelled as such. Missing peers are listed in the
report. ``score`` is the least-squares score of the returned graph (each node refitted on its
parents in the graph, ``1/(2n) ||X - X W||^2``; lower is better), so methods with and without
penalties compare on the same footing; ``true score`` is that of the true graph.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from . import suite

METHODS = ("TOPO", "NOTEARS (gcastle)", "NOTEARS (numopt)", "DAGMA", "TOPO after NOTEARS (numopt)")
PEER_OF = {"NOTEARS (gcastle)": "gcastle", "DAGMA": "dagma"}


def one_thread():
    """Context that limits BLAS/OpenMP pools to one thread for every solver run inside it."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def skipped_peers(methods=METHODS) -> list[str]:
    """One line per requested peer method that cannot run here (its package is missing)."""
    from ..causal.peers import available_peers

    have = available_peers()
    return [f"{m}: skipped, the {PEER_OF[m]!r} package is not installed here (available_peers())"
            for m in methods if m in PEER_OF and not have[PEER_OF[m]]]


def warm_up(methods=METHODS) -> None:
    """Import the peers and compile numopt's kernels on a tiny problem, outside every timer."""
    from ..causal import notears_linear, simulate_dag, simulate_linear_sem, simulate_parameter, topo
    from ..causal.peers import available_peers, dagma_linear, gcastle_notears

    B = simulate_dag(5, 5, "ER", seed=0)
    X = simulate_linear_sem(simulate_parameter(B, seed=0), 100, seed=0)
    topo(X)
    topo(X, init="random")
    have = available_peers()
    if any(m.startswith("NOTEARS (numopt)") or m.startswith("TOPO after") for m in methods):
        notears_linear(X, maxiter=2)
    if "DAGMA" in methods and have["dagma"]:
        dagma_linear(X, T=1, warm_iter=10, max_iter=20)
    if "NOTEARS (gcastle)" in methods and have["gcastle"]:
        gcastle_notears(X, max_iter=1)


def _methods(X, maxtime, methods):
    from ..causal import notears_linear, topo
    from ..causal.peers import available_peers, dagma_linear, gcastle_notears

    have = available_peers()
    if "TOPO" in methods:
        t0 = time.perf_counter()
        yield "TOPO", topo(X), time.perf_counter() - t0
    if "NOTEARS (gcastle)" in methods and have["gcastle"]:
        t0 = time.perf_counter()
        yield "NOTEARS (gcastle)", gcastle_notears(X), time.perf_counter() - t0
    if "NOTEARS (numopt)" in methods or "TOPO after NOTEARS (numopt)" in methods:
        t0 = time.perf_counter()
        nt = notears_linear(X, maxtime=maxtime)
        t_nt = time.perf_counter() - t0
        if "NOTEARS (numopt)" in methods:
            yield "NOTEARS (numopt)", nt, t_nt
    if "DAGMA" in methods and have["dagma"]:
        t0 = time.perf_counter()
        yield "DAGMA", dagma_linear(X), time.perf_counter() - t0
    if "TOPO after NOTEARS (numopt)" in methods:
        t0 = time.perf_counter()
        yield "TOPO after NOTEARS (numopt)", topo(X, init=nt.x), t_nt + time.perf_counter() - t0


def run_case(d, graph, noise, seed, n=1000, maxtime=np.inf, methods=METHODS):
    """One data set, every method; a list of records (dicts)."""
    from ..causal import LinearScore, count_accuracy, is_dag, simulate_dag, simulate_linear_sem, simulate_parameter

    B = simulate_dag(d, 2 * d, graph, seed=seed)
    W = simulate_parameter(B, seed=seed)
    X = simulate_linear_sem(W, n, noise, seed=seed)
    S = LinearScore(X)
    true = S.value(S.refit_support(B))
    rows = []
    with one_thread():
        runs = list(_methods(X, maxtime, methods))
    for name, res, seconds in runs:
        acc = count_accuracy(B, res.x)
        rows.append({"d": d, "graph": f"{graph}2", "noise": noise, "seed": seed, "method": name,
                     "shd": acc["shd"], "tpr": round(acc["tpr"], 3), "fdr": round(acc["fdr"], 3),
                     "nnz": acc["nnz"],
                     "score": S.value(S.refit_support(res.x != 0)), "true score": true, "time": seconds,
                     "dag": bool(is_dag(res.x)), "success": bool(res.success)})
    return rows


def summarize(records):
    """Mean over seeds per (d, graph, noise, method); the time ratio to DAGMA is taken per data set."""
    groups = {}
    for r in records:
        groups.setdefault((r["d"], r["graph"], r["noise"], r["method"]), []).append(r)
    dagma_time = {(r["d"], r["graph"], r["noise"], r["seed"]): r["time"]
                  for r in records if r["method"] == "DAGMA"}
    rows = []
    for (d, graph, noise, method), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2],
                                                                                METHODS.index(kv[0][3]))):
        ratios = [r["time"] / dagma_time[key] for r in rs
                  if (key := (d, graph, noise, r["seed"])) in dagma_time]
        rows.append({"d": d, "graph": graph, "noise": noise, "method": method, "seeds": len(rs),
                     "SHD": np.mean([r["shd"] for r in rs]), "score": np.mean([r["score"] for r in rs]),
                     "score - true": np.mean([r["score"] - r["true score"] for r in rs]),
                     "time (s)": np.mean([r["time"] for r in rs]),
                     "time / DAGMA": np.mean(ratios) if ratios else float("nan"),
                     "all DAGs": all(r["dag"] for r in rs)})
    return rows


def run_grid(ds, graphs, noises, seeds, out: Path | None = None, maxtime=np.inf, methods=METHODS, echo=False):
    """Run the grid; with ``out``, append each record to ``out`` (JSON lines) as it finishes."""
    with one_thread():
        warm_up(methods)
    records = []
    for d in ds:
        for graph in graphs:
            for noise in noises:
                for seed in seeds:
                    rows = run_case(d, graph, noise, seed, maxtime=maxtime, methods=methods)
                    records += rows
                    if out is not None:
                        with open(out, "a") as fh:
                            for r in rows:
                                fh.write(json.dumps(r) + "\n")
                    if echo:
                        print(" | ".join(f"{r['method']} shd={r['shd']} t={r['time']:.1f}" for r in rows),
                              d, graph, noise, seed, flush=True)
    return records


@suite("causal-linear", family="causal")
def linear_sems(ctx):
    """Linear SEMs (n = 1000): SHD, score, time of TOPO, NOTEARS (gcastle, numopt), DAGMA, TOPO after NOTEARS."""
    if ctx.quick:
        ds, graphs, noises, seeds, maxtime = (10,), ("ER",), ("gauss",), (0,), np.inf
    else:
        ds, graphs, noises = (10, 20, 50, 100), ("ER", "SF"), ("gauss", "exp", "gumbel")
        seeds, maxtime = range(5), 600
    ctx.outdir.mkdir(parents=True, exist_ok=True)
    records = run_grid(ds, graphs, noises, [ctx.seed + s for s in seeds], out=ctx.outdir / "records.jsonl",
                       maxtime=maxtime)
    ctx.table("Linear SEM, n = 1000, mean over seeds (one BLAS thread, warmed up)", summarize(records))
    for line in skipped_peers():
        ctx.skip_part(line)


@suite("causal-sachs", family="causal")
def sachs(ctx):
    """Sachs protein-signalling data: SHD and predicted edges against the consensus graph."""
    from ..causal import count_accuracy
    from ..problems.sachs import load_sachs

    try:
        X, B, names = load_sachs()
    except FileNotFoundError as exc:
        ctx.skip(str(exc))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with one_thread():
        warm_up()
        runs = {name: (res, seconds) for name, res, seconds in _methods(X, np.inf, METHODS)}
    rows = []
    for name, (res, seconds) in runs.items():
        acc = count_accuracy(B, res.x)
        rows.append({"method": name, "SHD": acc["shd"], "predicted edges": acc["nnz"],
                     "correct": int(np.sum((res.x != 0) & (B == 1))), "time (s)": seconds})
    ctx.table("Sachs (7466 samples, standardized; consensus graph: 18 edges; one BLAS thread)", rows)
    for line in skipped_peers():
        ctx.skip_part(line)


def swap_timing(d=100, n=1000, repeats=200, seed=0):
    """Seconds per move evaluation: incremental update vs refits, at ``d`` nodes (one row per method)."""
    from ..causal import LinearScore, _kernels, simulate_dag, simulate_linear_sem, simulate_parameter

    B = simulate_dag(d, 2 * d, "ER", seed=seed)
    X = simulate_linear_sem(simulate_parameter(B, seed=seed), n, seed=seed)
    S = LinearScore(X)
    rng = np.random.default_rng(seed)
    order = rng.permutation(d)
    fit = S.start(order)
    P = rng.integers(0, d // 2, size=repeats)
    Q = P + rng.integers(1, d // 2, size=repeats)
    M = rng.integers(0, 3, size=repeats)
    _kernels.move_deltas(fit.L, P[:2], Q[:2], M[:2])  # compile
    t0 = time.perf_counter()
    _kernels.move_deltas(fit.L, P, Q, M)
    t_inc = (time.perf_counter() - t0) / repeats
    t0 = time.perf_counter()
    _kernels.move_deltas_reference(fit.L, P, Q, M)
    t_block = (time.perf_counter() - t0) / repeats
    k = max(repeats // 20, 3)
    t0 = time.perf_counter()
    for t in range(k):
        S.start(order[::-1] if t % 2 else order)
    t_chol = (time.perf_counter() - t0) / k
    Xc = S.X
    t0 = time.perf_counter()
    for t in range(k):
        for pos in range(P[t], Q[t] + 1):
            pa = order[:pos]
            if pa.size:
                np.linalg.lstsq(Xc[:, pa], Xc[:, order[pos]], rcond=None)
    t_lstsq = (time.perf_counter() - t0) / k
    mean_block = float(np.mean(Q - P + 1))
    return [
        {"evaluation": "incremental Givens update of the block (Numba)", "seconds": t_inc, "x slower": 1.0},
        {"evaluation": "Cholesky of the block's Schur complement (NumPy)", "seconds": t_block,
         "x slower": t_block / t_inc},
        {"evaluation": "full refit: Cholesky of the permuted covariance", "seconds": t_chol,
         "x slower": t_chol / t_inc},
        {"evaluation": "refit the block's nodes from data (lstsq)", "seconds": t_lstsq,
         "x slower": t_lstsq / t_inc},
    ], mean_block


@suite("causal-swap-speed", family="causal")
def swap_speed(ctx):
    """Time per swap evaluation vs a full refit at d = 100."""
    with one_thread():
        rows, mean_block = swap_timing(d=100, repeats=200 if ctx.quick else 2000, seed=ctx.seed)
    ctx.table(f"Move evaluation at d = 100, n = 1000 (mean block length {mean_block:.0f})", rows)
