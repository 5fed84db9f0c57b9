"""Matrix completion: exact vs robust alternating minimization, scaling in k and |Omega|, MovieLens.

All solvers run on one thread (Numba and BLAS) so that CPU seconds measure work
even on a shared machine; both CPU and wall-clock seconds are reported.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

from . import suite


@contextlib.contextmanager
def single_thread():
    """Run Numba kernels and BLAS on one thread inside the block."""
    import numba
    from threadpoolctl import threadpool_limits

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        numba.set_num_threads(before)


class Clock:
    """CPU (process) and wall seconds since creation."""

    def __init__(self):
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()

    def cpu(self) -> float:
        return time.process_time() - self.cpu0

    def wall(self) -> float:
        return time.perf_counter() - self.wall0


def numpy_als(train, shape, rank: int, reg: float, *, maxiter: int = 100, ftol: float = 1e-5, seed=0):
    """Plain NumPy alternating least squares (one ``np.linalg.solve`` per row), the baseline users write.

    Minimizes the same objective as :func:`numopt.completion.complete` with ``reg``.
    Returns ``(U, V, sweeps)``.
    """
    rows, cols, vals = (np.asarray(a) for a in train)
    m, n = shape

    def csr(major, minor, size):
        order = np.argsort(major, kind="stable")
        ptr = np.concatenate(([0], np.cumsum(np.bincount(major, minlength=size))))
        return ptr, minor[order], vals[order]

    by_row, by_col = csr(rows, cols, m), csr(cols, rows, n)
    rng = np.random.default_rng(seed)
    U = np.zeros((m, rank))
    V = 0.1 * rng.standard_normal((n, rank))
    eye = reg * np.eye(rank)

    def half(side, F, out):
        ptr, idx, b = side
        for i in range(out.shape[0]):
            A = F[idx[ptr[i]:ptr[i + 1]]]
            out[i] = np.linalg.solve(A.T @ A + eye, A.T @ b[ptr[i]:ptr[i + 1]]) if A.size else 0.0

    f_prev, sweep = np.inf, 0
    while sweep < maxiter:
        sweep += 1
        half(by_row, V, U)
        half(by_col, U, V)
        r = np.einsum("ij,ij->i", U[rows], V[cols]) - vals
        f = 0.5 * r @ r + 0.5 * reg * (np.sum(U * U) + np.sum(V * V))
        if np.isfinite(f_prev) and f_prev - f <= ftol * f_prev:
            break
        f_prev = f
    return U, V, sweep


def _warm_up():
    from numopt.completion import complete
    from numopt.problems.completion_data import synthetic_completion

    d = synthetic_completion(30, 30, 2, nnz=400, seed=0)
    for method in ("exact", "robust"):
        complete(d.rows, d.cols, d.values, d.shape, 2, method, seed=0, maxiter=2)


def _run_to_accuracy(d, rank, method, target, seed, maxiter=60):
    """Run until the recovery error reaches ``target``; per-sweep (cpu, wall, error) records."""
    from numopt.completion import complete, relative_error

    clock = Clock()
    recs = []

    def cb(intermediate_result):
        cpu, wall = clock.cpu(), clock.wall()
        err = relative_error(intermediate_result.U, intermediate_result.V, d.U_true, d.V_true)
        recs.append((cpu, wall, err))
        if err <= target:
            raise StopIteration

    res = complete(d.rows, d.cols, d.values, d.shape, rank, method, seed=seed, callback=cb, tol=0.0,
                   ftol=0.0, maxiter=maxiter)
    return res, recs


def synthetic_recovery(ctx, n: int, rank: int, factor: float = 20.0, target: float = 1e-8):
    """Relative recovery error reaching ``target``: exact vs robust, ``|Omega| = factor n k log n``."""
    from numopt.bench.report import convergence_plot
    from numopt.problems.completion_data import synthetic_completion

    d = synthetic_completion(n, n, rank, factor=factor, seed=ctx.seed)
    rows, curves = [], {}
    for method in ("exact", "robust"):
        res, recs = _run_to_accuracy(d, rank, method, target, ctx.seed)
        reached = recs[-1][2] <= target
        rows.append({"method": method, "m=n": n, "k": rank, "|Omega|": d.nnz, "sweeps": len(recs),
                     "reached": reached, "final error": recs[-1][2], "cpu s": recs[-1][0],
                     "wall s": recs[-1][1], "init s": res.init_time,
                     "cpu s / sweep": (recs[-1][0] - recs[0][0]) / max(len(recs) - 1, 1),
                     "inner its / solve": res.mean_inner_iterations})
        curves[method] = (np.arange(1, len(recs) + 1), [r[2] for r in recs])
    ratio = rows[0]["cpu s"] / rows[1]["cpu s"]
    ctx.table(f"Recovery to {target:g}, m = n = {n}, k = {rank}, |Omega| = {factor:g} n k log n "
              f"(exact / robust CPU time = {ratio:.2f})", rows)
    ctx.figure("Recovery error vs sweeps",
               convergence_plot(curves, xlabel="sweep", ylabel="relative recovery error",
                                title=f"m = n = {n}, k = {rank}"), "recovery")
    return rows


def _sweep_cost(d, rank, method, seed, sweeps=3):
    """Median CPU and wall seconds per sweep (kernels are compiled beforehand)."""
    from numopt.completion import complete

    marks = []

    def cb(intermediate_result):
        marks.append((time.process_time(), time.perf_counter()))

    marks.append((time.process_time(), time.perf_counter()))
    complete(d.rows, d.cols, d.values, d.shape, rank, method, seed=seed, callback=cb, tol=0.0, ftol=0.0,
             maxiter=sweeps)
    marks = np.array(marks)
    per = np.diff(marks, axis=0)[1:]  # the first interval holds the spectral start
    return float(np.median(per[:, 0])), float(np.median(per[:, 1]))


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def sweep_scaling(ctx, n: int, ranks, nnz_fixed: int, rank_fixed: int, nnzs):
    """Time per sweep vs k (fixed |Omega|) and vs |Omega| (fixed k) with fitted log-log slopes."""
    import matplotlib.pyplot as plt

    from numopt.problems.completion_data import synthetic_completion

    out = {}
    for label, xs, make in (
        ("k", ranks, lambda k: (synthetic_completion(n, n, k, nnz=nnz_fixed, seed=ctx.seed), k)),
        ("|Omega|", nnzs, lambda z: (synthetic_completion(n, n, rank_fixed, nnz=z, seed=ctx.seed), rank_fixed)),
    ):
        rows, times = [], {"exact": [], "robust": []}
        for x in xs:
            d, k = make(x)
            row = {label: x}
            for method in ("exact", "robust"):
                cpu, wall = _sweep_cost(d, k, method, ctx.seed)
                times[method].append(cpu)
                row[f"{method} cpu s"] = cpu
                row[f"{method} wall s"] = wall
            row["exact / robust"] = row["exact cpu s"] / row["robust cpu s"]
            rows.append(row)
            del d
        slopes = {m: _slope(xs, t) for m, t in times.items()}
        fixed = f"|Omega| = {nnz_fixed}" if label == "k" else f"k = {rank_fixed}"
        ctx.table(f"CPU seconds per sweep vs {label} (m = n = {n}, {fixed}); fitted slopes: "
                  f"exact {slopes['exact']:.2f}, robust {slopes['robust']:.2f}", rows)
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for method, t in times.items():
            ax.loglog(xs, t, "o-", label=f"{method} (slope {slopes[method]:.2f})")
        ax.set_xlabel(label)
        ax.set_ylabel("CPU s per sweep")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        ctx.figure(f"Time per sweep vs {label}", fig, "sweep_vs_k" if label == "k" else "sweep_vs_nnz")
        out[label] = (rows, slopes)
    return out


def _check_fancyimpute_runs() -> None:
    """fancyimpute (0.7) calls ``check_array(force_all_finite=...)``, which scikit-learn 1.8 removed."""
    import inspect

    import sklearn
    from sklearn.utils import check_array

    if "force_all_finite" not in inspect.signature(check_array).parameters:
        raise ImportError(f"fancyimpute cannot run with scikit-learn {sklearn.__version__}: it passes "
                          "check_array(force_all_finite=...), removed in scikit-learn 1.8")


def softimpute_peer(train, shape, rank: int, max_iters: int):
    """fancyimpute's SoftImpute with ``max_rank=rank`` on the ratings (missing entries NaN).

    Returns ``(filled matrix, iterations it ran, cpu s, wall s)``; the iteration count is read
    from SoftImpute's own verbose report ("Stopped after iteration N"). Raises ImportError when
    fancyimpute is not installed, or cannot run with the installed scikit-learn.
    """
    import io
    import re

    from fancyimpute import SoftImpute

    _check_fancyimpute_runs()
    rows, cols, vals = train
    X = np.full(shape, np.nan)
    X[rows, cols] = vals
    log = io.StringIO()
    clock = Clock()
    with contextlib.redirect_stdout(log):
        filled = SoftImpute(max_iters=max_iters, max_rank=rank, verbose=True).fit_transform(X)
    cpu, wall = clock.cpu(), clock.wall()
    stops = re.findall(r"Stopped after iteration (\d+)", log.getvalue())
    iterations = int(stops[-1]) if stops else None
    return filled, iterations, cpu, wall


def movielens_comparison(ctx, rank: int = 5, reg: float = 10.0, softimpute_iters: int = 100):
    """Held-out RMSE on MovieLens ml-latest-small: numopt (defaults and fixed rank) vs numpy ALS and SoftImpute.

    The fixed-rank rows all get the same rank, the same centering (training mean) and, for the two
    alternating solvers, the same objective and ridge; SoftImpute gets ``max_rank = rank``.
    Returns the rows and a list of parts that could not run (with the reason).
    """
    from numopt.completion import MatrixCompleter, complete, heldout_rmse
    from numopt.problems.completion_data import movielens

    try:
        d = movielens(seed=ctx.seed)
    except FileNotFoundError as exc:
        ctx.text(f"MovieLens comparison not run: {exc}")
        return None, [f"MovieLens data not found ({exc})"]
    (tr_r, tr_c, tr_v), (te_r, te_c, te_v) = (d.rows, d.cols, d.values), d.test
    mean = float(tr_v.mean())
    rows, skipped = [], []
    clock = Clock()
    model = MatrixCompleter(seed=ctx.seed).fit(np.column_stack([tr_r, tr_c]), tr_v)
    rows.append({"solver": "numopt MatrixCompleter() defaults", "rank": model.rank_, "ridge": model.reg_,
                 "rmse": model.rmse(np.column_stack([te_r, te_c]), te_v), "cpu s": clock.cpu(),
                 "wall s": clock.wall(), "iterations": model.n_iter_})
    for method in ("robust", "exact"):
        clock = Clock()
        res = complete(tr_r, tr_c, tr_v - mean, d.shape, rank, method, reg=reg, seed=ctx.seed, ftol=1e-5,
                       maxiter=200)
        rows.append({"solver": f"numopt complete({method!r}), centered", "rank": rank, "ridge": reg,
                     "rmse": heldout_rmse(res, te_r, te_c, te_v - mean), "cpu s": clock.cpu(),
                     "wall s": clock.wall(), "iterations": res.nit})
    clock = Clock()
    U, V, sweeps = numpy_als((tr_r, tr_c, tr_v - mean), d.shape, rank, reg, ftol=1e-5, seed=ctx.seed)
    rows.append({"solver": "numpy ALS, centered", "rank": rank, "ridge": reg,
                 "rmse": heldout_rmse((U, V), te_r, te_c, te_v - mean), "cpu s": clock.cpu(),
                 "wall s": clock.wall(), "iterations": sweeps})
    try:
        filled, iterations, cpu, wall = softimpute_peer((tr_r, tr_c, tr_v - mean), d.shape, rank,
                                                        softimpute_iters)
    except ImportError as exc:
        skipped.append(f"fancyimpute SoftImpute unavailable ({exc})")
        rows.append({"solver": "fancyimpute SoftImpute: skipped (unavailable)"})
    except Exception as exc:  # the peer's own failure is reported, not hidden
        skipped.append(f"fancyimpute SoftImpute failed ({type(exc).__name__}: {exc})")
        rows.append({"solver": f"fancyimpute SoftImpute: failed ({type(exc).__name__})"})
    else:
        rmse = float(np.sqrt(np.mean((filled[te_r, te_c] + mean - te_v) ** 2)))
        rows.append({"solver": "fancyimpute SoftImpute, centered", "rank": rank, "ridge": "own shrinkage",
                     "rmse": rmse, "cpu s": cpu, "wall s": wall, "iterations": iterations})
    base = rows[1]["cpu s"]
    for row in rows:
        if "cpu s" in row:
            row["cpu time / numopt robust"] = row["cpu s"] / base
    ctx.table(f"MovieLens ml-latest-small, 20% held out (seed {ctx.seed}), {d.nnz} train / {te_v.size} test "
              f"ratings. Row 1: the estimator's defaults (mean + row/column biases, validated ridge, clipped). "
              f"Other rows: rank {rank}, ridge {reg}, training mean subtracted.", rows)
    return rows, skipped


@suite("completion", family="completion")
def completion(ctx):
    """Exact vs robust alternating minimization: recovery, time per sweep vs k and |Omega|, MovieLens."""
    with single_thread():
        _warm_up()
        if ctx.quick:
            synthetic_recovery(ctx, n=1000, rank=5, factor=3.0)
            sweep_scaling(ctx, n=800, ranks=(5, 10, 20), nnz_fixed=150_000, rank_fixed=10,
                          nnzs=(50_000, 100_000, 200_000))
            _, skipped = movielens_comparison(ctx, softimpute_iters=20)
        else:
            synthetic_recovery(ctx, n=5000, rank=10)
            sweep_scaling(ctx, n=3000, ranks=(5, 10, 20, 40, 80), nnz_fixed=2_000_000, rank_fixed=20,
                          nnzs=(500_000, 1_000_000, 2_000_000, 4_000_000))
            _, skipped = movielens_comparison(ctx)
    if skipped:
        ctx.skip("; ".join(skipped))
