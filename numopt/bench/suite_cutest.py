"""CUTEst baseline: SLSQP, trust-constr, IPOPT (and numopt's own solver when present) on S2MPJ.

Quick mode runs the 41 problems of Hong et al. (ICML 2023) with a 5 s CPU limit per
run; full mode runs all 197 S2MPJ problems with only equality constraints and
no bounds (feasibility problems included) with a 60 s CPU limit. Success means
KKT <= 1e-6 from the problem's x0, measured the same way for every solver
(:func:`numopt.bench.cutest_runner.kkt_residual`).
"""

from __future__ import annotations

from . import suite


@suite("cutest-baseline", family="constrained")
def cutest_baseline(ctx):
    """SLSQP, trust-constr, IPOPT and adasketch-newton on CUTEst equality-constrained problems, KKT <= 1e-6."""
    try:
        from ..problems import cutest
        from .cutest_runner import BASELINE_SOLVERS, compare

        names = cutest.PAPER_PROBLEMS if ctx.quick else cutest.select("equality")
    except ImportError as exc:
        ctx.skip(f"CUTEst problems unavailable: {exc}")
    compare(ctx, names, BASELINE_SOLVERS, time_limit=5.0 if ctx.quick else 60.0)
