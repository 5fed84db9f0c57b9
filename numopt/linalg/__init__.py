"""Linear solvers: randomized sketching solvers, SOR/SSOR, Krylov baselines, deep conjugate directions.

Every solver follows scipy.sparse.linalg: ``solver(A, b, x0=None, *, rtol, atol, maxiter, callback)``
and returns a :class:`numopt.LinearSolveResult` that also unpacks as ``(x, info)``. The deep
conjugate direction method lives in :mod:`numopt.linalg.dcdm` (its network needs the ``learn`` extra).
"""

from .ichol import IncompleteCholesky
from .krylov import cg, pcg
from .sketch import SKETCHES, sketch_solve
from .sor import (
    SweepMatrix,
    color_rows,
    jacobi_spectral_radius,
    optimal_omega,
    sor,
    sor_iterations,
    ssor_pcg,
    ssor_preconditioner,
)

__all__ = [
    "SKETCHES",
    "IncompleteCholesky",
    "SweepMatrix",
    "cg",
    "color_rows",
    "jacobi_spectral_radius",
    "optimal_omega",
    "pcg",
    "sketch_solve",
    "sor",
    "sor_iterations",
    "ssor_pcg",
    "ssor_preconditioner",
]
