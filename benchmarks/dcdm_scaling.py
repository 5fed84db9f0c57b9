"""Iterations and CPU time vs grid size: DCDM (multilevel network) against CG, IC(0)-PCG and AMG-PCG.

Run single-threaded for every method, e.g.::

    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/dcdm_scaling.py 64 128 256

(sizes ending in ``x3`` are 3-D grids, e.g. ``32x3``). Every method solves the same system to
relative residual 1e-6 after one untimed warm-up solve; times are the best of ``--repeats`` solves
(set-up apart). Prints one Markdown row per grid. ``--system`` picks the system (default the
Poisson problem): a piecewise-constant coefficient of contrast 1e2 or 1e4 on 8-cell blocks
(``contrast1e2``, ``contrast1e4``), a lognormal coefficient (``lognormal``), or Poisson on a domain
with a disk-shaped hole (``disk``) or with random box-shaped holes (``boxes``), all seeded.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from numopt.linalg import IncompleteCholesky, cg, pcg
from numopt.linalg.dcdm import dcdm
from numopt.linalg.dcdm_model import load_pretrained
from numopt.problems.pde import diffusion, obstacle_mask, poisson

RTOL = 1e-6


def _best(solve, repeats):
    res = solve()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = solve()
        best = min(best, time.perf_counter() - t0)
    return res, best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--system", default="poisson", choices=SYSTEMS)
    args = parser.parse_args(argv)
    import pyamg

    print("| grid | CG it | IC(0) it | AMG it | DCDM it | DCDM/CG time | DCDM/IC(0) time | DCDM/AMG time "
          "| network ms | CG iteration ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        dim = 3 if size.endswith("x3") else 2
        print(_row((int(size.removesuffix("x3")),) * dim, args.repeats, pyamg, args.system), flush=True)


SYSTEMS = ("poisson", "contrast1e2", "contrast1e4", "lognormal", "disk", "boxes")


def build(system, shape):
    """``(A, mask)`` of one of :data:`SYSTEMS` on a grid (seed 0)."""
    from numopt.bench.suite_dcdm import contrast_field

    if system.startswith("contrast"):
        return diffusion(contrast_field(shape, float(system.removeprefix("contrast")), seed=0)), None
    if system == "lognormal":
        return diffusion(np.exp(np.random.default_rng(0).standard_normal(shape))), None
    if system in ("disk", "boxes"):
        mask = obstacle_mask(shape, kind=system, fraction=0.15, seed=0)
        return poisson(shape, mask=mask), mask
    return poisson(shape), None


def _row(shape, repeats, pyamg, system="poisson"):
    A, mask = build(system, shape)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    model = load_pretrained(f"poisson{len(shape)}d-multilevel").on_grid(shape, mask)
    ic = IncompleteCholesky(A)
    amg = pyamg.smoothed_aggregation_solver(A).aspreconditioner(cycle="V")
    runs = {"CG": lambda: cg(A, b, rtol=RTOL), "IC(0)": lambda: pcg(A, b, M=ic, rtol=RTOL),
            "AMG": lambda: pcg(A, b, M=amg, rtol=RTOL), "DCDM": lambda: dcdm(A, b, model=model, rtol=RTOL)}
    out = {name: _best(run, repeats) for name, run in runs.items()}
    for name, (res, _) in out.items():
        assert res.success, (shape, name, res.message)
    _, net_seconds = _best(lambda: model(b), repeats)
    t = {name: seconds for name, (_, seconds) in out.items()}
    it = {name: res.nit for name, (res, _) in out.items()}
    stalled_at = out["DCDM"][0].stalled_at
    dcdm_it = it["DCDM"] if stalled_at is None else f"{it['DCDM']} (stalled at {stalled_at})"
    return (f"| {'x'.join(map(str, shape))} | {it['CG']} | {it['IC(0)']} | {it['AMG']} | {dcdm_it} "
            f"| {t['DCDM'] / t['CG']:.2f} | {t['DCDM'] / t['IC(0)']:.2f} | {t['DCDM'] / t['AMG']:.2f} "
            f"| {1e3 * net_seconds:.2f} | {1e3 * t['CG'] / it['CG']:.3f} |")


if __name__ == "__main__":
    main()
