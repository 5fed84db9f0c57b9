"""Linear solvers: randomized sketching solvers, SOR/SSOR, Krylov baselines, deep conjugate directions.

Every solver follows scipy.sparse.linalg: ``solver(A, b, x0=None, *, rtol, atol, maxiter, callback)``
and returns a :class:`numopt.LinearSolveResult` that also unpacks as ``(x, info)``.
"""

__all__: list[str] = []

from .krylov import cg, pcg  # noqa: E402

__all__ += ["cg", "pcg"]
