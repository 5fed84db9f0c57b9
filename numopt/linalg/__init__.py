"""Linear solvers: randomized sketching solvers, SOR/SSOR, Krylov baselines, deep conjugate directions.

Every solver follows scipy.sparse.linalg: ``solver(A, b, x0=None, *, rtol, atol, maxiter, callback)``
and returns a :class:`numopt.LinearSolveResult` that also unpacks as ``(x, info)``.
"""

__all__: list[str] = []

from .krylov import cg, pcg  # noqa: E402

__all__ += ["cg", "pcg"]

from .sketch import SKETCHES, sketch_solve  # noqa: E402

__all__ += ["SKETCHES", "sketch_solve"]

from .sor import (  # noqa: E402
    SweepMatrix,
    color_rows,
    jacobi_spectral_radius,
    optimal_omega,
    sor,
    sor_iterations,
    ssor_pcg,
    ssor_preconditioner,
)

__all__ += ["SweepMatrix", "color_rows", "jacobi_spectral_radius", "optimal_omega", "sor", "sor_iterations",
            "ssor_pcg", "ssor_preconditioner"]

from .ichol import IncompleteCholesky  # noqa: E402

__all__ += ["IncompleteCholesky"]
