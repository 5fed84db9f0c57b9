"""pytest-benchmark: SOR sweep kernel vs pyamg, SSOR-PCG vs CG, and a learned-omega sequence."""

import numpy as np
import pytest

from numopt.linalg import SweepMatrix, cg, sor, ssor_pcg
from numopt.problems.linear_sequences import shifted_laplacians
from numopt.problems.pde import poisson
from numopt.tuning import TsallisINF, best_fixed, cost_table, replay

N = 200
A = poisson((N, N))
B = np.random.default_rng(0).standard_normal(N * N)
BYTES = A.nnz * 12 + (A.shape[0] + 1) * 4 + 24 * A.shape[0]


def _record_bandwidth(benchmark):
    benchmark.extra_info.update(grid=f"{N}x{N}", bytes_per_sweep=BYTES)
    if benchmark.stats is not None:  # absent under --benchmark-disable
        benchmark.extra_info["gb_per_s"] = BYTES / benchmark.stats.stats.min / 1e9


@pytest.mark.parametrize("ordering", ["natural", "red-black"])
def test_sweep_numba(benchmark, ordering):
    S = SweepMatrix(A, ordering)
    x = np.zeros(N * N)
    S.sweep(B, x, 1.5)
    benchmark(S.sweep, B, x, 1.5)
    _record_bandwidth(benchmark)


def test_sweep_pyamg(benchmark):
    relaxation = pytest.importorskip("pyamg.relaxation.relaxation")
    x = np.zeros(N * N)
    benchmark(relaxation.sor, A, x, B, 1.5, iterations=1)
    _record_bandwidth(benchmark)


@pytest.mark.parametrize("method", ["cg", "ssor-pcg"])
def test_krylov_solve(benchmark, method):
    A64 = poisson((64, 64))
    b = np.ones(A64.shape[0])
    rtol = 1e-8  # the same tolerance for both
    solve = (lambda: cg(A64, b, rtol=rtol)) if method == "cg" else (lambda: ssor_pcg(A64, b, omega=1.7, rtol=rtol))
    res = benchmark(solve)
    benchmark.extra_info.update(nit=res.nit, success=res.success,
                                residual=float(np.linalg.norm(b - A64 @ res.x) / np.linalg.norm(b)))


def test_sor_single_solve(benchmark):
    A10 = poisson((10, 10))
    b = np.ones(100)
    res = benchmark(sor, A10, b, omega=1.56)
    benchmark.extra_info.update(nit=res.nit, success=res.success)


def test_tsallis_inf_sequence(benchmark):
    grid = np.linspace(1.0, 1.95, 20)
    table = cost_table(shifted_laplacians(300, seed=0), grid, warm_start=False)
    r = benchmark(lambda: replay(TsallisINF(grid, seed=0), table.costs))
    benchmark.extra_info.update(T=300, total_iterations=r.total,
                                ratio_to_best_fixed=r.total / best_fixed(table.costs).total)
