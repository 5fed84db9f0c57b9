"""Linear solvers: randomized sketching solvers, SOR/SSOR, Krylov baselines, deep conjugate directions.

Every solver follows scipy.sparse.linalg: ``solver(A, b, x0=None, *, rtol, atol, maxiter, callback)``
and returns a :class:`numopt.LinearSolveResult` that also unpacks as ``(x, info)``. The deep
conjugate direction method lives in :mod:`numopt.linalg.dcdm` (its network needs the ``learn`` extra).
"""

from .eigen import extreme_eigenvalues, largest_eigenvalue, spectral_norm
from .ichol import IncompleteCholesky
from .krylov import cg, pcg
from .sketch import SKETCHES, sketch_precondition_solve, sketch_solve
from .sor import (
    SweepMatrix,
    color_rows,
    jacobi_spectral_radius,
    optimal_omega,
    sor,
    sor_iterations,
    ssor_pcg,
    ssor_pcg_iterations,
    ssor_preconditioner,
)
from .system import DEFAULT_RTOL, finish, prepare_system

__all__ = [
    "DEFAULT_RTOL",
    "SKETCHES",
    "IncompleteCholesky",
    "SweepMatrix",
    "cg",
    "extreme_eigenvalues",
    "finish",
    "largest_eigenvalue",
    "prepare_system",
    "spectral_norm",
    "color_rows",
    "jacobi_spectral_radius",
    "optimal_omega",
    "pcg",
    "sketch_precondition_solve",
    "sketch_solve",
    "sor",
    "sor_iterations",
    "ssor_pcg",
    "ssor_pcg_iterations",
    "ssor_preconditioner",
]
