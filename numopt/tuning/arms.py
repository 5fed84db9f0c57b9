"""Tune the solver and its parameter together: arms are (solver, omega) pairs such as CG, SSOR-PCG(1.4), SOR(1.8).

Iteration counts of different solvers are not comparable, so the cost of an
arm is its *work* in passes over the matrix: one product (CG), two sweeps and
one product (SSOR-PCG), one sweep and one residual (SOR) per iteration. A
learner over ``SolverArms(...).grid`` (the arm numbers) then picks CG on a
sequence where plain CG wins instead of being stuck with SSOR.

A bandit over many arms pays to try each of them; :class:`ArmsModel` turns
every solve, of whichever arm, into a predicted work of *every* arm (each
solver's run estimates ``lambda_min(D^{-1} A)``, which sets all their
counts), so :class:`~numopt.tuning.ModelLeader` (alone, or in the safety net
:class:`~numopt.tuning.SafeCombination`) learns the solver and ``omega`` from
full-information feedback.

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

The model-informed learner over the same arms, run online and replayed on the cost table (equal, with
cold starts):

>>> from numopt.tuning import ModelLeader, cost_table, replay
>>> seq = shifted_laplacians(20, seed=0)
>>> online = solve_sequence(seq, arms, ModelLeader(arms.grid, ArmsModel(arms), seed=0), parameter="arm",
...                         cost=arms.work, warm_start=False)
>>> table = cost_table(seq, arms.grid, arms, parameter="arm", warm_start=False)
>>> offline = replay(ModelLeader(arms.grid, ArmsModel(arms), seed=0), table.costs * arms.passes, None,
...                  table.feedback)
>>> bool(offline.total == online.total_cost), arms.labels[int(np.bincount(offline.actions).argmax())]
(True, 'cg')
"""

from __future__ import annotations

import numbers

import numpy as np

from .._core.validate import check_choice, check_positive
from ..linalg.krylov import cg
from ..linalg.sor import sor, ssor_pcg
from ..linalg.system import DEFAULT_RTOL
from .informed import SORModel, SSORPCGModel
from .models import convergence_factor, ritz_extremes, ssor_kappa, ssor_mu, young_factor, young_jacobi_radius

__all__ = ["FEEDBACK_FIELDS", "PASSES", "ArmsModel", "SolverArms"]

#: passes over the matrix per iteration of each solver
PASSES = {"cg": 1, "ssor-pcg": 3, "sor": 2}

#: what a solve of :class:`SolverArms` reports in ``result["feedback"]`` (one number each, NaN where it does
#: not apply): the arm, its iteration count, the relative tolerance, SOR's asymptotic convergence factor, the
#: extreme Ritz values of CG's Lanczos matrix (of ``A`` for CG, of the preconditioned operator for SSOR-PCG)
#: and the smallest, mean and largest diagonal entry of ``A``
FEEDBACK_FIELDS = ("arm", "nit", "rtol", "factor", "ritz_low", "ritz_high", "diag_min", "diag_mean", "diag_max")


def _diagonal_summary(A) -> tuple[float, float, float]:
    diagonal = getattr(A, "diagonal", None)
    d = np.asarray(diagonal(), dtype=float) if diagonal is not None else np.empty(0)
    return (float(d.min()), float(d.mean()), float(d.max())) if d.size else (float("nan"),) * 3


def _feedback(arm: int, solver: str, result, rtol: float, A) -> np.ndarray:
    """The record of :data:`FEEDBACK_FIELDS` of one solve."""
    history = result.get("history") or {}
    factor = low = high = float("nan")
    if solver == "sor" and "residual" in history:
        factor = convergence_factor(history["residual"])
    elif "alpha" in history:
        low, high = ritz_extremes(history["alpha"], history["beta"])
    return np.array([arm, result["nit"], rtol, factor, low, high, *_diagonal_summary(A)], dtype=float)


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

    Notes
    -----
    Every solve records its history (residuals, CG coefficients) and returns,
    besides ``work`` and ``arm``, ``feedback``: the numbers of
    :data:`FEEDBACK_FIELDS`, what :class:`ArmsModel` reads. ``cost_table``
    stores them per entry, so a replay of a model-informed learner on the table
    equals its online run.
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
        arm = int(arm)
        solver, omega = self.arms[arm]
        options["record_history"] = True
        if solver == "cg":
            result = cg(A, b, x0, **options)
        elif solver == "ssor-pcg":
            result = ssor_pcg(A, b, x0, omega=omega, **options)
        else:
            result = sor(A, b, x0, omega=omega, **options)
        result["work"] = PASSES[solver] * result["nit"]
        result["arm"] = self.labels[arm]
        result["feedback"] = _feedback(arm, solver, result, float(options.get("rtol", DEFAULT_RTOL)), A)
        return result

    @staticmethod
    def work(result) -> float:
        """Cost of a solve in passes over the matrix (the ``cost=`` of :func:`~numopt.tuning.solve_sequence`)."""
        return float(result["work"])


#: prior exponent of each solver's calibration ``count = e^a predicted^p``: the Krylov bounds ``sqrt(kappa)``
#: overstate how the count grows with ``kappa`` (superlinear convergence; ``p`` about 0.15-0.45 measured on the
#: shifted and graph Laplacians), SOR's factor sets its count
PRIOR_EXPONENT = {"cg": 0.5, "ssor-pcg": 0.5, "sor": 1.0}


def _record(result) -> np.ndarray | None:
    """The :data:`FEEDBACK_FIELDS` record of a solve: from a result's ``feedback``, or the record itself."""
    if result is None:
        return None
    if hasattr(result, "get") and not isinstance(result, np.ndarray):
        result = result.get("feedback")
        if result is None:
            return None
    record = np.asarray(result, dtype=float)
    return record if record.shape == (len(FEEDBACK_FIELDS),) else None


class ArmsModel:
    """Predicted work of every ``(solver, omega)`` arm of a :class:`SolverArms` from one solve of any arm.

    Every solve is turned into ``mu``, the smallest eigenvalue of ``D^{-1} A``
    (``D`` the diagonal of ``A``), and every arm's iteration count follows
    from it:

    - a **CG** run gives the smallest Ritz value of ``A`` itself; divided by
      the mean diagonal entry it is ``mu`` (exactly for a constant diagonal;
      the Rayleigh quotient of the constant vector for a shifted graph
      Laplacian);
    - an **SOR** run gives the Jacobi radius ``beta`` (Young's theory,
      :func:`~numopt.tuning.models.young_jacobi_radius`), and
      ``mu = 1 - beta`` (the Jacobi spectrum ``1 - lambda(D^{-1} A)`` is
      symmetric for a consistently ordered matrix); an over-relaxed run only
      bounds ``mu`` from below, and the mean of the earlier estimates above
      the bound stands in for it;
    - an **SSOR-PCG** run gives ``kappa(M^{-1} A)`` from its CG coefficients,
      hence ``mu`` through Axelsson's bound
      (:func:`~numopt.tuning.models.ssor_mu`) with the ``delta`` that
      :class:`~numopt.tuning.SSORPCGModel` learns.

    From ``mu``, with ``L = ln(2 / rtol) / 2``, the theory's counts are
    ``sqrt((2 - mu) / mu) L`` for CG (``kappa(D^{-1} A) = (1 + beta) / (1 - beta)``),
    ``sqrt(kappa(omega)) L`` for SSOR-PCG(``omega``)
    (:func:`~numopt.tuning.models.ssor_kappa`) and ``ln(rtol) / ln rho(omega)``
    for SOR(``omega``) (:func:`~numopt.tuning.models.young_factor`) (:meth:`counts`).
    Each solver's counts are calibrated on its own runs, ``count = e^a
    theory^p`` (:meth:`fit`: least squares in logs, ``p`` drawn towards
    :data:`PRIOR_EXPONENT`), so cross-solver predictions are on the scale that
    solver actually reaches, and grow with ``1 / mu`` as its counts do
    (on the shifted and graph Laplacians CG's counts grow like
    ``theory^0.15-0.3``, not like the ``sqrt(kappa)`` bound). The arms of the
    solver that was run are predicted by its own model
    (:class:`~numopt.tuning.SORModel`, :class:`~numopt.tuning.SSORPCGModel`),
    exact at the arm run. Predictions are in the unit of the cost fed in
    (per pass over the matrix: work, seconds, ...): the count of each arm times
    its passes per iteration times the cost of one pass of the run.

    Parameters
    ----------
    arms : SolverArms
        The arms (its grid is the learner's grid).
    deltas : sequence of float
        Candidate ``delta`` of the SSOR-PCG model.
    stiffness : float
        Weight of the prior exponent in :meth:`fit`, in units of the spread
        ``sum (x - mean x)^2`` of the log theory counts.

    Attributes
    ----------
    first_run : float
        Where :class:`~numopt.tuning.ModelLeader` starts (0 the first arm, 1
        the last): plain CG when it is an arm (cheap, and its Ritz values give
        ``mu`` for every other arm), else the middle ``omega`` of SSOR-PCG, else of SOR.
    mus : list of float
        The ``mu`` estimated by every run that gives one (not the over-relaxed SOR runs).

    Examples
    --------
    >>> from numopt.problems.pde import poisson
    >>> A, b = poisson((10, 10)), np.ones(100)
    >>> arms = SolverArms([1.0, 1.5])
    >>> model = ArmsModel(arms)
    >>> run = arms(A, b, arm=0, rtol=1e-8)  # plain CG
    >>> predicted = model(arms.grid, 0, arms.work(run), run)
    >>> measured = [arms.work(arms(A, b, arm=k, rtol=1e-8)) for k in range(len(arms.arms))]
    >>> bool(np.all(np.abs(np.log(predicted / measured)) < np.log(3)))  # within a factor 3 before calibration
    True
    >>> round(float(model.mus[0] / (1 - np.cos(np.pi / 11))), 6)  # mu = 1 - beta of the 10 x 10 Laplacian
    1.0
    """

    def __init__(self, arms: SolverArms, deltas=(0.0, 0.25, 0.5, 1.0, 2.0, 4.0), stiffness: float = 1.0):
        if not all(hasattr(arms, name) for name in ("arms", "grid", "passes")):
            raise TypeError(f"arms must be a SolverArms (with arms, grid and passes); got {type(arms).__name__}.")
        self.arms = arms
        self._columns = {s: np.array([k for k, (name, _) in enumerate(arms.arms) if name == s], dtype=int)
                         for s in PASSES}
        self._omegas = {s: np.array([arms.arms[k][1] for k in cols], dtype=float) if s != "cg" else None
                        for s, cols in self._columns.items()}
        self._sor = SORModel()
        self._ssor = SSORPCGModel(deltas)
        self.stiffness = check_positive("stiffness", stiffness)
        self._points = {s: [] for s in PASSES}  # (log predicted, log measured) count of each solver's own runs
        self.mus: list[float] = []  # mu estimated by every run that gives an estimate (not a bound)

    @property
    def first_run(self) -> float:
        m = len(self.arms.arms)
        for solver in ("cg", "ssor-pcg", "sor"):
            cols = self._columns[solver]
            if cols.size:
                return float(cols[len(cols) // 2]) / max(m - 1, 1)
        return 0.0

    def fit(self, solver: str) -> tuple[float, float]:
        """Calibration ``(a, p)`` of ``solver``: ``log count = a + p log(predicted count)`` over its own runs.

        Least squares with a ridge ``stiffness (p - p0)^2`` towards the prior
        exponent ``p0`` (:data:`PRIOR_EXPONENT`); one run gives ``p = p0``
        through its point; no run ``(0, 1)``, the theory.

        Examples
        --------
        >>> from numopt.problems.pde import poisson
        >>> arms = SolverArms([1.2])
        >>> model = ArmsModel(arms)
        >>> model.fit("cg")
        (0.0, 1.0)
        >>> run = arms(poisson((10, 10)), np.ones(100), arm=0, rtol=1e-8)
        >>> _ = model(arms.grid, 0, arms.work(run), run)
        >>> a, p = model.fit("cg")  # one run: the prior exponent, through the measured count
        >>> p, bool(np.isclose(np.exp(a + p * np.log(model.counts("cg", model.mus[0], 1e-8)[0])), run.nit))
        (0.5, True)
        """
        points = self._points[check_choice("solver", solver, PASSES)]
        if not points:
            return 0.0, 1.0
        x, y = np.array(points).T
        dx = x - x.mean()
        prior = PRIOR_EXPONENT[solver]
        p = (dx @ (y - y.mean()) + self.stiffness * prior) / (dx @ dx + self.stiffness)
        return float(y.mean() - p * x.mean()), float(p)

    def counts(self, solver: str, mu: float, rtol: float, omegas=None) -> np.ndarray:
        """Uncalibrated iteration counts of ``solver`` (at ``omegas``) for a matrix with ``mu``.

        Examples
        --------
        >>> model = ArmsModel(SolverArms([1.0, 1.5]))
        >>> model.counts("sor", 0.02, 1e-8, [1.0, 1.5]).round().tolist()  # Young: rho = (1 - mu)^2 at omega 1
        [456.0, 138.0]
        """
        check_choice("solver", solver, PASSES)
        mu = min(max(mu, 1e-12), 1.0)
        krylov = np.log(2.0 / rtol) / 2.0
        if solver == "cg":
            counts = np.array([np.sqrt((2.0 - mu) / mu) * krylov])
        elif solver == "ssor-pcg":
            counts = np.sqrt(ssor_kappa(omegas, mu, self._ssor.delta)) * krylov
        else:
            rates = np.clip(young_factor(omegas, 1.0 - mu), 1e-12, 1.0 - 1e-12)
            counts = np.log(rtol) / np.log(rates)
        return np.maximum(counts, 1.0)

    def _mu_below(self, bound: float) -> float:
        """``mu`` of an over-relaxed SOR run (known to be at least ``bound``): mean of the estimates above it."""
        plausible = [m for m in self.mus if np.isfinite(m) and m >= bound]
        return float(np.mean(plausible)) if plausible else bound

    def __call__(self, grid, value, cost, result):
        grid = np.asarray(grid, dtype=float)
        if grid.shape != self.arms.grid.shape:
            raise ValueError(f"grid has {grid.size} values but arms has {len(self.arms.arms)} arms; pass "
                             "the arms' grid.")
        record = _record(result)
        if record is None or cost <= 0:
            return None
        arm = int(round(value))
        solver, omega = self.arms.arms[arm]
        nit, rtol = record[1], record[2]
        if not nit >= 1 or not 0 < rtol < 1:
            return None
        mu, exact, own_counts = self._own(solver, omega, nit, record)
        if own_counts is None or not np.isfinite(mu) or mu <= 0:
            return None
        if exact:
            predicted = float(self.counts(solver, mu, rtol, None if omega is None else [omega])[0])
            self._points[solver].append((np.log(predicted), np.log(nit)))
            self.mus.append(mu)
        counts = np.empty(len(self.arms.arms))
        counts[self._columns[solver]] = own_counts
        for other, cols in self._columns.items():
            if other != solver and cols.size:
                a, p = self.fit(other)
                counts[cols] = np.exp(a + p * np.log(self.counts(other, mu, rtol, self._omegas[other])))
        per_pass = cost / (nit * self.arms.passes[arm])
        return counts * self.arms.passes * per_pass

    def _own(self, solver, omega, nit, record):
        """``mu`` of a run, whether it is an estimate (not a bound), and the counts of its solver's arms."""
        if solver == "cg":
            low, mean_diagonal = record[4], record[7]
            mu = low / mean_diagonal if low > 0 and mean_diagonal > 0 else float("nan")
            return mu, True, np.array([nit])
        omegas = self._omegas[solver]
        if solver == "ssor-pcg":
            kappa = record[5] / record[4] if record[4] > 0 else float("nan")
            own = self._ssor(omegas, omega, nit, kappa)
            return (ssor_mu(omega, kappa, self._ssor.delta) if own is not None else float("nan")), True, own
        own = self._sor(omegas, omega, nit, record[3])
        if own is None:
            return float("nan"), False, None
        beta, censored = young_jacobi_radius(omega, record[3])
        if censored:  # over-relaxed: mu is only known to be at least 1 - bound
            return self._mu_below(1.0 - beta), False, own
        return 1.0 - beta, True, own
