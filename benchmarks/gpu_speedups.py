"""GPU speedups: every CuPy path of numopt next to the CPU path of the same operation, in one run.

For each operation and size the CPU path (Numba kernels, NumPy/LAPACK where no
kernel exists, JAX on the CPU for the DCDM network) and the GPU path run on the
same data. Every timing follows one untimed warm-up call (JIT and CUDA kernel
compilation excluded); the GPU clock stops after ``cupy.cuda.Device().synchronize()``
(``block_until_ready`` for JAX). Each side is timed over at least 3 repeats (up
to ``--repeats`` within ``--cap`` seconds); the table gives medians and the
speedup's spread (slowest CPU / fastest GPU down to fastest CPU / slowest GPU).
A check column compares the two results. Without a usable GPU the GPU columns
are left empty.

Usage::

    python benchmarks/gpu_speedups.py --out gpu-speedups          # issue sizes
    python benchmarks/gpu_speedups.py --out /tmp/dry --tiny       # seconds, any machine

Writes ``gpu_speedups.json`` and ``gpu_speedups.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

# JAX would otherwise take most of the GPU memory at its first use, starving CuPy
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

# (quick-suite size, larger size) per operation; --tiny shrinks everything for a dry run
SIZES = {
    "sor": (300, 2000),
    "sketch": (5000, 100_000),
    "completion": ((800, 200_000), (20_000, 10_000_000)),
    "topo": (100, 500),
    "dcdm": (128, 256),
}
TINY_SIZES = {
    "sor": (30, 60),
    "sketch": (400, 2000),
    "completion": ((200, 5000), (400, 20_000)),
    "topo": (20, 40),
    "dcdm": (32, 64),
}
RANK = 10  # completion rank; the robust options are AltMin's defaults
SKETCH_ROWS, SKETCH_NNZ, INNER_RTOL, INNER_MAXITER = 2 * RANK, 2, 0.1, 10


def usable_cupy():
    """CuPy when it imports and sees a CUDA device, else None."""
    try:
        import cupy

        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:
        return None


def measure(fn, *, sync=None, repeats=10, cap=8.0):
    """Seconds of up to ``repeats`` calls of ``fn`` after one untimed warm-up call.

    Parameters
    ----------
    fn : callable
        The operation.
    sync : callable, optional
        Called after ``fn`` inside the timed region (waits for the device).
    repeats : int
        Most timed calls.
    cap : float
        Seconds after which no further call starts once 3 have been timed.

    Returns
    -------
    list of float
    """
    def call():
        fn()
        if sync is not None:
            sync()

    call()
    times, start = [], time.perf_counter()
    while len(times) < repeats:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        if len(times) >= 3 and time.perf_counter() - start > cap:
            break
    return times


def relative_difference(a, b) -> float:
    """``max |a - b| / max |b|`` of two host arrays."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


class Bench:
    """Runs the cases, collects rows and prints progress.

    Parameters
    ----------
    cp : module or None
        CuPy, when a GPU is usable.
    repeats : int
        Most timed calls per side.
    cap : float
        Seconds per side after which repeating stops (3 calls at least).
    """

    def __init__(self, cp, repeats, cap):
        self.cp, self.repeats, self.cap = cp, repeats, cap
        self.rows = []

    def gpu_sync(self):
        self.cp.cuda.Device().synchronize()

    def record(self, operation, size, cpu_path, gpu_path, cpu_times, gpu_times=None, check=""):
        """Store one row (times in seconds, GPU times None without a GPU) and print it."""
        row = {"operation": operation, "size": size, "cpu path": cpu_path,
               "gpu path": gpu_path if gpu_times else "",
               "cpu s": list(cpu_times), "gpu s": list(gpu_times or []), "check": check}
        self.rows.append(row)
        summary = summarize(row)
        speed = summary["speedup"]
        print(f"  {operation} [{size}]: cpu {summary['cpu median s']:.3g} s"
              + (f", gpu {summary['gpu median s']:.3g} s, x{speed:.1f}" if speed else "")
              + (f" ({check})" if check else ""), flush=True)

    def timed(self, fn, *, gpu=False):
        return measure(fn, sync=self.gpu_sync if gpu else None, repeats=self.repeats, cap=self.cap)


def summarize(row) -> dict:
    """Medians and speedup (median ratio and its spread) of one row."""
    cpu, gpu = row["cpu s"], row["gpu s"]
    out = {"cpu median s": statistics.median(cpu), "gpu median s": None, "speedup": None,
           "speedup min": None, "speedup max": None}
    if gpu:
        out["gpu median s"] = statistics.median(gpu)
        out["speedup"] = out["cpu median s"] / out["gpu median s"]
        out["speedup min"] = min(cpu) / max(gpu)
        out["speedup max"] = max(cpu) / min(gpu)
    return out


def sor_sweep(bench, n):
    """One red-black SOR sweep on the 5-point Poisson matrix of an ``n x n`` grid."""
    from numopt.linalg.sor import SweepMatrix
    from numopt.problems.pde import poisson

    A = poisson((n, n))
    S = SweepMatrix(A, "red-black", parallel=True)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    x = np.zeros_like(b)
    cpu = bench.timed(lambda: S.sweep(b, x, 1.5))
    gpu, check = None, ""
    if bench.cp is not None:
        from numopt.linalg import _sor_gpu

        cp = bench.cp
        b_dev, x_dev = cp.asarray(b), cp.zeros(b.size)
        gpu = bench.timed(lambda: _sor_gpu.sweep(S, b_dev, x_dev, 1.5, 0), gpu=True)
        x_cpu, x_dev = S.sweep(b, np.zeros_like(b), 1.5), cp.zeros(b.size)
        _sor_gpu.sweep(S, b_dev, x_dev, 1.5, 0)
        check = f"one sweep from 0: rel. diff {relative_difference(x_dev.get(), x_cpu):.1e}"
    bench.record("SOR sweep (red-black, omega 1.5)", f"{n}^2 grid", "Numba colored sweep, all threads",
                 "CUDA kernel per color", cpu, gpu, check)


def block_sketch(bench, N, sketch):
    """Sketch-and-project iterations on a sparse ``N x N`` system (10 nonzeros per row plus 10 I)."""
    from numopt.linalg import sketch_solve

    rng = np.random.default_rng(0)
    A = sp.csr_matrix(sp.random(N, N, density=10 / N, random_state=rng, format="csr")
                      + 10 * sp.identity(N, format="csr"))
    b = A @ rng.standard_normal(N)
    q = math.ceil(math.sqrt(N))
    # the CPU step solves a dense q x N least-squares problem: few iterations on large systems
    cpu_iters = max(1, min(20, 2_000_000 // (q * N)))
    gpu_iters = 50

    def run(A, b, iters):
        return sketch_solve(A, b, sketch=sketch, maxiter=iters, rtol=0.0, seed=0)

    cpu = [t / cpu_iters for t in bench.timed(lambda: run(A, b, cpu_iters))]
    bnorm = float(np.linalg.norm(b))
    check = f"rel. residual after {cpu_iters} it: cpu {run(A, b, cpu_iters).residual / bnorm:.3f}"
    gpu = None
    if bench.cp is not None:
        import cupyx.scipy.sparse as csp

        cp = bench.cp
        A_dev, b_dev = csp.csr_matrix(A), cp.asarray(b)
        gpu = [t / gpu_iters for t in bench.timed(lambda: run(A_dev, b_dev, gpu_iters), gpu=True)]
        check += f", gpu {run(A_dev, b_dev, cpu_iters).residual / bnorm:.3f}"
    bench.record(f"block sketching ({sketch}), per iteration", f"N = {N:,}, q = {q}",
                 "NumPy/LAPACK lstsq on the dense sketched block", "CuPy/cuSPARSE, Gram eigensolve",
                 cpu, gpu, check)


@functools.lru_cache(maxsize=1)
def completion_data(m, nnz):
    """Observations of a rank-10 ``m x m`` matrix and factors near the truth (shared by both methods)."""
    from numopt.completion import observations
    from numopt.problems.completion_data import synthetic_completion

    d = synthetic_completion(m, m, RANK, nnz=nnz, seed=0)
    obs = observations(d.rows, d.cols, d.values, d.shape)
    rng = np.random.default_rng(1)
    return (obs, d.U_true + 0.1 * rng.standard_normal(d.U_true.shape),
            d.V_true + 0.1 * rng.standard_normal(d.V_true.shape))


def completion_sweep(bench, m, nnz, method):
    """One alternating-minimization sweep (both factors' regressions) at rank 10 on an ``m x m`` matrix."""
    from numopt.completion import _kernels

    obs, U0, V0 = completion_data(m, nnz)

    def sweep(kern, xp, rows_side, cols_side, U, V):
        V_new, U_new = xp.zeros(V.shape), xp.zeros(U.shape)
        iters = [xp.zeros(V.shape[0], dtype=xp.int64), xp.zeros(U.shape[0], dtype=xp.int64)]
        if method == "exact":
            kern.exact_solve(*cols_side, U, 0.0, V_new)
            kern.exact_solve(*rows_side, V_new, 0.0, U_new)
        else:
            for side, F, X0, out, it, seed in ((cols_side, U, V, V_new, iters[0], 11),
                                               (rows_side, V_new, U, U_new, iters[1], 12)):
                kern.robust_solve(*side, F, 0.0, X0, SKETCH_ROWS, SKETCH_NNZ, INNER_RTOL, INNER_MAXITER, seed,
                                  out, it)
        return U_new, V_new, iters

    rows_side = (obs.row_ptr, obs.row_idx, obs.row_val)
    cols_side = (obs.col_ptr, obs.col_idx, obs.col_val)
    cpu = bench.timed(lambda: sweep(_kernels, np, rows_side, cols_side, U0, V0))
    gpu, check = None, ""
    if bench.cp is not None:
        from numopt.completion import _gpu

        cp = bench.cp
        dev = [tuple(cp.asarray(a) for a in side) for side in (rows_side, cols_side)]
        U_dev, V_dev = cp.asarray(U0), cp.asarray(V0)
        gpu = bench.timed(lambda: sweep(_gpu, cp, *dev, U_dev, V_dev), gpu=True)
        U_c, V_c, it_c = sweep(_kernels, np, rows_side, cols_side, U0, V0)
        U_g, V_g, it_g = sweep(_gpu, cp, *dev, U_dev, V_dev)
        check = f"rel. diff U {relative_difference(U_g.get(), U_c):.1e}"
        if method == "robust":
            same = np.mean(np.concatenate([a.get() == b for a, b in zip(it_g, it_c, strict=True)]))
            check += f", CG iterations equal on {100 * same:.1f}% of rows"
    label = "robust (sketch-preconditioned CGLS)" if method == "robust" else "exact (Gram + solve)"
    bench.record(f"AltMin sweep, {label}", f"m = n = {m:,}, {nnz:,} observed, k = {RANK}",
                 "Numba kernels, all threads", "CuPy batched, cuSPARSE row sums", cpu, gpu, check)


def topo_moves(bench, d):
    """Score changes of 400 candidate pairs x 3 move kinds for TOPO's linear score at ``d`` nodes."""
    from numopt.causal import _kernels, simulate_dag, simulate_linear_sem, simulate_parameter

    X = simulate_linear_sem(simulate_parameter(simulate_dag(d, 2 * d, "ER", seed=0), seed=0), max(1000, 4 * d),
                            seed=0)
    X = X - X.mean(axis=0)
    rng = np.random.default_rng(0)
    order = rng.permutation(d)
    L = np.linalg.cholesky((X.T @ X / X.shape[0])[np.ix_(order, order)])
    pairs = rng.integers(0, d, size=(400, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    P, Q = np.repeat(pairs.min(axis=1), 3), np.repeat(pairs.max(axis=1), 3)
    M = np.tile([0, 1, 2], len(pairs))
    cpu = bench.timed(lambda: _kernels.move_deltas(L, P, Q, M))
    gpu, check = None, ""
    if bench.cp is not None:
        from numopt.causal import _gpu

        gpu = bench.timed(lambda: _gpu.move_deltas(L, P, Q, M), gpu=True)
        diff = np.max(np.abs(_gpu.move_deltas(L, P, Q, M) - _kernels.move_deltas(L, P, Q, M)))
        check = f"max abs diff {diff:.1e}"
    bench.record("TOPO move evaluation", f"d = {d}, {P.size} moves, mean block {np.mean(Q - P + 1):.0f}",
                 "Numba Givens updates", "CuPy batched Cholesky (host L in, deltas out)", cpu, gpu, check)


def dcdm_network(bench, n):
    """One application of the shipped 2-D DCDM network on an ``n x n`` grid."""
    try:
        import equinox as eqx
        import jax

        from numopt.linalg.dcdm_model import load_pretrained
    except ImportError as exc:
        print(f"  DCDM skipped: {exc}", flush=True)
        return
    model = load_pretrained("poisson2d-64").on_grid((n, n))
    forward = eqx.filter_jit(lambda net, u: net(u))
    u = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)

    def on(device):
        net, u_dev = jax.device_put(model.net, device), jax.device_put(u, device)
        return lambda: forward(net, u_dev).block_until_ready()

    cpu_device = jax.devices("cpu")[0]
    cpu = bench.timed(on(cpu_device))
    try:
        gpu_devices = jax.devices("gpu")
    except RuntimeError:
        gpu_devices = []
    gpu, check = None, ""
    if gpu_devices:
        gpu = bench.timed(on(gpu_devices[0]))
        check = f"float32 outputs: rel. diff {relative_difference(on(gpu_devices[0])(), on(cpu_device)()):.1e}"
    bench.record("DCDM network application", f"{n}^2 grid", "JAX on the CPU",
                 "JAX on the GPU", cpu, gpu, check)


def machine_info(cp) -> dict:
    import numba

    info = {"python": platform.python_version(), "cpu count": os.cpu_count(),
            "numba threads": numba.get_num_threads(), "numpy": np.__version__, "gpu": None,
            "command": " ".join([Path(sys.executable).name, *sys.argv])}
    if cp is not None:
        name = cp.cuda.runtime.getDeviceProperties(0)["name"]
        info["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
        info["cupy"] = cp.__version__
    return info


def markdown(rows, info) -> str:
    lines = [f"GPU: {info['gpu'] or 'none'}; CPU: {info['cpu count']} cores ({info['numba threads']} Numba "
             f"threads); command: `{info['command']}`", "",
             "| operation | size | CPU path | CPU s (median) | GPU path | GPU s (median) | speedup (median) | "
             "speedup range | check |",
             "| --- | --- | --- | ---: | --- | ---: | ---: | --- | --- |"]
    for row in rows:
        s = summarize(row)
        gpu = f"{s['gpu median s']:.3g}" if s["gpu median s"] else "-"
        speed = f"{s['speedup']:.1f}x" if s["speedup"] else "-"
        spread = f"{s['speedup min']:.1f}-{s['speedup max']:.1f}x" if s["speedup"] else "-"
        lines.append(f"| {row['operation']} | {row['size']} | {row['cpu path']} | {s['cpu median s']:.3g} | "
                     f"{row['gpu path'] or '-'} | {gpu} | {speed} | {spread} | {row['check'] or '-'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu-speedups", help="folder for gpu_speedups.json and .md")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (a dry run on any machine)")
    parser.add_argument("--repeats", type=int, default=10, help="most timed calls per side")
    parser.add_argument("--cap", type=float, default=8.0, help="seconds per side before repeats stop (>= 3)")
    args = parser.parse_args(argv)
    sizes = TINY_SIZES if args.tiny else SIZES
    cp = usable_cupy()
    bench = Bench(cp, args.repeats, args.cap)
    info = machine_info(cp)
    print(f"GPU: {info['gpu'] or 'none (GPU columns left empty)'}", flush=True)
    cases = [(sor_sweep, (n,)) for n in sizes["sor"]]
    cases += [(block_sketch, (N, sketch)) for N in sizes["sketch"] for sketch in ("block-kaczmarz", "countsketch")]
    cases += [(completion_sweep, (m, nnz, method)) for m, nnz in sizes["completion"]
              for method in ("robust", "exact")]
    cases += [(topo_moves, (d,)) for d in sizes["topo"]]
    cases += [(dcdm_network, (n,)) for n in sizes["dcdm"]]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    failed = []
    for case, case_args in cases:
        print(f"{case.__name__}{case_args} ...", flush=True)
        try:
            case(bench, *case_args)
        except Exception:  # report and go on: one broken path should not hide the others' timings
            traceback.print_exc()
            failed.append(f"{case.__name__}{case_args}")
        if cp is not None:
            cp.get_default_memory_pool().free_all_blocks()
        # written after every case, so an interrupted run keeps what it measured
        info["total s"], info["failed"] = time.perf_counter() - t0, failed
        rows = [{**row, **summarize(row)} for row in bench.rows]
        (out / "gpu_speedups.json").write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
        (out / "gpu_speedups.md").write_text(markdown(bench.rows, info))
    print(markdown(bench.rows, info), flush=True)
    if failed:
        print("failed: " + ", ".join(failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
