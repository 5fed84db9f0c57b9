"""Tune the solver and its parameter together: arms are (solver, omega) pairs such as CG, SSOR-PCG(1.4), SOR(1.8).

Iteration counts of different solvers are not comparable, so the cost of an
arm is its *work* in passes over the matrix: one product (CG), two sweeps and
one product (SSOR-PCG), one sweep and one residual (SOR) per iteration. A
learner over ``SolverArms(...).grid`` (the arm numbers) then picks CG on a
sequence where plain CG wins instead of being stuck with SSOR.

Examples
--------
>>> from numopt.problems.linear_sequences import shifted_laplacians
>>> from numopt.tuning import TsallisINF, solve_sequence
>>> arms = SolverArms([1.2, 1.6])
>>> arms.labels
['cg', 'ssor-pcg(1.2)', 'ssor-pcg(1.6)', 'sor(1.2)', 'sor(1.6)']
>>> res = solve_sequence(shifted_laplacians(5, seed=0), arms, TsallisINF(arms.grid, seed=0), parameter="arm",
...                      cost=arms.work, warm_start=False)
>>> res.success, bool(res.total_cost > 0)
(True, True)
"""

from __future__ import annotations

import numbers

import numpy as np

from ..linalg.krylov import cg
from ..linalg.sor import sor, ssor_pcg

__all__ = ["PASSES", "SolverArms"]

#: passes over the matrix per iteration of each solver
PASSES = {"cg": 1, "ssor-pcg": 3, "sor": 2}


class SolverArms:
    """The arms ``cg``, ``ssor-pcg(omega)`` and ``sor(omega)`` for each ``omega``, as one callable solver.

    Parameters
    ----------
    omegas : array_like
        Relaxation values of the SSOR-PCG and SOR arms.
    solvers : sequence of {'cg', 'ssor-pcg', 'sor'}
        Which solvers to include (CG has one arm).

    Attributes
    ----------
    grid : ndarray
        Arm numbers ``0 .. m-1`` (the learner's grid).
    arms : list of (str, float or None)
        ``(solver, omega)`` of each arm.
    labels : list of str
    passes : ndarray
        Passes over the matrix per iteration of each arm (a ``cost_table`` of
        iteration counts times ``passes`` is the work table).
    """

    def __init__(self, omegas, solvers=("cg", "ssor-pcg", "sor")):
        omegas = np.atleast_1d(np.asarray(omegas, dtype=float))
        unknown = [s for s in solvers if s not in PASSES]
        if unknown:
            raise ValueError(f"solvers contains {unknown!r}; expected names among {', '.join(PASSES)}.")
        self.arms: list[tuple[str, float | None]] = []
        for solver in solvers:
            if solver == "cg":
                self.arms.append(("cg", None))
            else:
                self.arms += [(solver, float(w)) for w in omegas]
        self.grid = np.arange(len(self.arms), dtype=float)
        self.passes = np.array([PASSES[s] for s, _ in self.arms], dtype=float)
        self.labels = [s if w is None else f"{s}({w:g})" for s, w in self.arms]

    def __call__(self, A, b, x0=None, *, arm, **options):
        """Solve with arm number ``arm``; the result carries ``work`` (passes over the matrix) and ``arm``."""
        if isinstance(arm, bool) or not isinstance(arm, numbers.Real) or not 0 <= arm < len(self.arms) \
                or arm != int(arm):
            raise ValueError(f"arm must be an arm number in 0..{len(self.arms) - 1}; got {arm!r}.")
        solver, omega = self.arms[int(arm)]
        if solver == "cg":
            result = cg(A, b, x0, **options)
        elif solver == "ssor-pcg":
            result = ssor_pcg(A, b, x0, omega=omega, **options)
        else:
            result = sor(A, b, x0, omega=omega, **options)
        result["work"] = PASSES[solver] * result["nit"]
        result["arm"] = self.labels[int(arm)]
        return result

    @staticmethod
    def work(result) -> float:
        """Cost of a solve in passes over the matrix (the ``cost=`` of :func:`~numopt.tuning.solve_sequence`)."""
        return float(result["work"])
