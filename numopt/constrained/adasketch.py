"""AdaSketch-Newton: adaptive inexact Newton with an exact augmented Lagrangian merit.

Hong, Na, Mahoney, Kolar, "Constrained Optimization via Exact Augmented
Lagrangian and Randomized Iterative Sketching", ICML 2023.

Problem: ``min f(x) s.t. c(x) = 0`` (``m`` equality constraints). One iteration:

1. Newton-KKT system ``K [dx; dl] = -b``, ``b = [grad_x L; c]``,
   ``K = [[B + tI, G^T], [G, 0]]``, ``B`` the Hessian of the Lagrangian
   ``L = f + l^T c``, ``G`` the Jacobian of ``c``. The shift ``t`` makes the
   reduced Hessian positive definite (see *Regularization*).
2. Solve it inexactly with a randomized sketching solver
   (:func:`numopt.linalg.sketch_solve`) started at 0 and stopped when
   ``||K||_F psi ||r|| <= theta delta_t ||b||`` (``r`` the residual).
   The superlinear variant sharpens the accuracy as the iterates converge:
   ``delta_t = min(delta, ||b_t||^superlinear_power)``, so the inner
   residual is ``o(||b_t||)`` and the local rate superlinear.
3. Merit: the exact augmented Lagrangian
   ``L_eta = f + l^T c + eta1/2 ||c||^2 + eta2/2 ||grad_x L||^2`` with gradient
   ``[grad_x L + eta2 H_L grad_x L + eta1 G^T c;  c + eta2 G grad_x L]``,
   ``H_L`` the (unshifted) Hessian of the Lagrangian. (The reference code
   uses the Hessian of ``f`` here; numopt follows the paper.)
   If ``grad L_eta^T dz > -eta2/2 ||b||^2`` the penalties are updated
   (``eta1 <- nu^2 eta1``, ``eta2 <- eta2 / nu``), the accuracy tightened
   (``delta <- delta / nu``) and the system re-sketched; the sketching
   solver continues from its current iterate (same system, tighter test)
   instead of restarting at 0.
4. Armijo backtracking on ``L_eta`` from ``alpha = 1``; ``x`` and ``l`` both
   step. A trial point where ``f`` or ``c`` is not finite is backtracked from.

Regularization (``regularization=``): ``'eig'`` computes the smallest
eigenvalue of ``Z^T B Z`` from an SVD null-space basis of ``G`` (dense, small
problems) and shifts by ``t = xi_B - lambda_min`` when it is below
``eig_threshold``. ``'direction'`` is an inertia-free test that scales to
large sparse problems: after the solve it checks the curvature of ``B`` along
the tangential part ``u_t`` of ``dx`` (``u_t^T B u_t >= eig_threshold ||u_t||^2``;
``u_t`` from a sparse LU of ``G G^T``) and, when it fails, raises
``t`` (``min(xi_B, ||b||)`` with ``b`` the KKT residual, then tenfold) and solves again. ``'auto'`` picks
``'direction'``: on CUTEst it shifts only where a step needs it, while
``'eig'`` shifts the whole Hessian whenever the reduced Hessian is
indefinite, which on BT7 (large multipliers) keeps a shift near 1e3 and
steps near 1e-4 for hundreds of iterations.

Feasibility restoration: when the merit line search only accepts short steps
(``restoration_patience`` accepted steps in a row below ``restoration_step``)
or fails, while ``c != 0``, the iteration switches to Levenberg-Marquardt steps
on ``||c||^2 / 2`` until ``||c||`` has dropped tenfold, then resumes Newton
steps with least-squares multipliers and fresh penalties. Newton steps on the
merit stall where the penalties have grown large and the constraints are
strongly nonlinear (feasibility problems with ``f = 0`` such as HATFLDF, whose
steps stayed near 1.5e-5 with ``eta1`` near 1e7); the damped Gauss-Newton
steps of the restoration do not depend on the penalties.

Failures are reported, not raised: a rank-deficient ``G`` is detected (SVD
or sparse LU of ``G G^T``); when the linearized constraints ``G dx = -c``
are inconsistent the iteration takes a Gauss-Newton step on ``||c||^2``
(so inconsistent constraints end as ``INFEASIBLE``), else the system gets
a small dual regularization and the run continues; if it then cannot finish (or ``G`` stays rank deficient
for ``singular_patience`` iterations), the status is ``Status.SINGULAR``.
A stationary point of ``||c||^2`` with ``c != 0`` is ``Status.INFEASIBLE``.
A KKT point whose reduced Hessian has a negative eigenvalue (a saddle point,
checked on small dense problems) is left along that eigenvector
(``saddle_escapes``) rather than reported as a solution.
More constraints than variables (``m > n``): ``K`` is singular, so the
method minimizes ``||c||^2 / 2``: Newton steps with the full Hessian
``G^T G + sum_i c_i Hess c_i`` when it is positive definite (Armijo search),
else Levenberg-Marquardt steps, and reports ``SUCCESS`` when the system is consistent and the KKT
residual reaches ``tol`` (least-squares multipliers), else ``INFEASIBLE`` at
a stationary point of ``||c||^2``.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import BFGS, HessianUpdateStrategy
from scipy.sparse.linalg import LinearOperator

from .._core.driver import IterativeSolver, SolverState
from .._core.result import OptimizeResult, Status
from .._core.validate import as_float_array, check_choice, check_in_range, check_positive, check_rng
from ..linalg.sketch import SAMPLINGS, SKETCHES
from ..oracles import ConstrainedProblem, Problem, UnconstrainedProblem
from .kkt import (
    RCOND,
    NormalProjector,
    assemble_kkt,
    choose_inner,
    frobenius_norm,
    inner_path,
    null_space_min_eig,
    reduced_min_curvature,
    row_equilibrated,
    solve_kkt,
    tangential_curvature,
)

__all__ = ["AdaSketchNewton"]

INNER = ("auto", "sketch", "exact")
HESSIAN = ("auto", "explicit", "hessp", "fd")
REGULARIZATION = ("auto", "eig", "direction", "none")


class AdaSketchNewton(IterativeSolver):
    """Sketched inexact Newton method for equality-constrained problems (AdaSketch-Newton).

    Options
    -------
    tol : float
        Stop when the KKT residual ``||(grad_x L, c)||_2 <= tol`` (default 1e-8).
    inner : {'auto', 'sketch', 'exact'}
        How the Newton-KKT system is solved: randomized sketching (the
        paper's method), exact direct solves (dense LU, sparse LU, or MINRES
        for operator Hessians), or ``'auto'`` (default): the cheaper of the
        two by the cost model of :func:`numopt.constrained.kkt.choose_inner`
        (a direct solve for small or sparse-factorizable systems, sketching
        for large dense ones). ``result.inner_paths`` counts the paths taken.
    sketch_sweeps : float
        Cost model: passes over the rows of ``K`` a sketching solve is
        assumed to need (default 100).
    sketch : {'rk', 'block-kaczmarz', 'gaussian', 'countsketch', 'sparse-sign', 'precond-lsqr'}
        Sketching solver (default ``'rk'``, randomized Kaczmarz; ``'precond-lsqr'``
        is sketch-and-precondition, :func:`numopt.linalg.sketch.sketch_precondition_solve`).
    sampling : {'row-norm', 'uniform'}
        Row distribution of ``'rk'``.
    block_size : int or None
        Sketch size of the block sketches.
    inner_maxiter : int or None
        Limit of sketch iterations per solve (default ``max(1e5, 100 (n + m))``
        for ``'rk'`` and the Gaussian-vector sketch, ``max(1000, 200 (n + m) / q)``
        for block sketches of size ``q``, ``max(200, 2 (n + m))`` LSQR iterations for ``'precond-lsqr'``).
    hessian : {'auto', 'explicit', 'hessp', 'fd'}
        Explicit Hessian of the Lagrangian, Hessian-vector products, or
        finite differences of ``grad_x L`` (``'auto'``: the first available;
        when the gradient itself comes from finite differences, a BFGS
        approximation instead).
    hessian_update : scipy.optimize.HessianUpdateStrategy or None
        Quasi-Newton approximation of the Hessian of the Lagrangian (``BFGS()``,
        ``SR1()``), updated from changes of ``grad_x L``; overrides ``hessian``.
        ``numopt.minimize(..., hess=BFGS())`` sets it. Each run works on its
        own copy.
    regularization : {'auto', 'eig', 'direction', 'none'}
        Reduced-Hessian test (see the module docstring).
    eta1, eta2, delta, theta, psi, nu, xi_B, beta : float
        Penalties, inner accuracy, stopping-test constants, penalty growth,
        Hessian shift, Armijo constant (paper defaults 1, 0.1, 0.1, 1, 1, 1.5, 0.1, 0.1).
    eig_threshold : float
        Smallest acceptable reduced-Hessian eigenvalue (1e-6).
    superlinear : bool
        Sharpen the inner accuracy as the iterates converge (default True).
    superlinear_power : float
        ``delta_t = min(delta, ||b_t||^power)``.
    delta_min : float
        Floor of ``delta_t`` (below it the test asks for more than double precision gives).
    backtrack : float
        Step reduction factor of the line search (0.5).
    min_step : float
        Smallest step tried before the line search gives up.
    max_penalty_updates : int
        Penalty updates per iteration before giving up.
    singular_patience : int
        Consecutive iterations with a rank-deficient Jacobian, without a
        10% decrease of the KKT residual over them, after which the run
        stops with ``Status.SINGULAR`` (10).
    multipliers0 : {'lstsq', 'zeros'}
        Initial multipliers when the problem has no ``y0``.
    multiplier_reset : float
        After a step shorter than this (default 1: every damped step) the
        multipliers become the least-squares ones at the new point when
        those give a smaller ``||grad_x L||``: on nearly degenerate problems
        (LUKVLE11) the Newton multiplier update lags while ``x`` converges,
        and damped steps would fix it only over hundreds of iterations.
    dense_max : int
        KKT systems up to this size are dense.
    full_step_kkt : float
        The full step (``alpha = 1``) is also accepted when it cuts the KKT
        residual ``||(grad_x L, c)||`` by this factor (default 0.5; 0 turns the
        test off), even where the merit rises: Newton's full steps on
        nonlinear constraints are often rejected by the merit (the Maratos
        effect) although they are the fast way to the solution. Such steps
        shrink the residual geometrically, so they cannot cycle.
    watchdog : int
        Watchdog technique (Chamberlain et al.): a full step the merit rejects
        is taken anyway, and the merit must fall below its value at that point
        within ``watchdog`` more full steps, else the search restarts there
        with backtracking (default 0: off). Measured on the 128 regular CUTEst
        problems, ``watchdog=1`` solves HATFLDF, HATFLDFLNE and ELEC, which need
        a step that raises ``||c||`` (HATFLDF: from 0.28 to 81), but loses
        ORTHRDS2 and takes more iterations on 46 problems (9 fewer).
    restoration_step, restoration_patience, max_restorations : float, int, int
        Feasibility restoration (see the module docstring): entered after
        ``restoration_patience`` consecutive accepted steps shorter than
        ``restoration_step`` (1e-2, 3), or when the line search fails, while
        ``c != 0``; at most ``max_restorations`` times per run (20; 0 turns it off).
    stall_step, stall_patience : float, int
        The run stops (``Status.LINESEARCH``, or the rank-deficiency or
        infeasibility status that explains it) after ``stall_patience``
        accepted steps in a row shorter than ``stall_step`` (1e-8, 5) while
        no feasibility restoration can start (``c`` already zero to ``tol``,
        or the restorations used up): near points where the Jacobian is
        nearly rank deficient the penalty ``eta1`` grows to 1e18 and the
        merit accepts only steps near 1e-11, which left ORTHRGDM with 220
        iterations of about 36 trial points each and no change of the
        iterate.
    stall_window : int
        The run also stops (``Status.LINESEARCH``) when the best KKT residual
        has not fallen by 10% over the last ``stall_window`` iterations (50;
        counted from the last restoration or saddle escape) while no
        feasibility restoration can start: on LUKVLE18 (Jacobian
        singular values down to 1e-8) ``eta1`` reached 3e14 and the steps
        shrank from 1e-3 to 1e-5 while the residual stayed at 1e-6 for 900
        iterations, up to the iteration limit.
    saddle_escapes : int
        Second-order check at a KKT point (dense, ``n <= 500``, exact Hessian or
        Hessian-vector products): when the reduced Hessian ``Z^T H_L Z`` has an
        eigenvalue below ``-sqrt(eps) max(1, ||H_L||_F)``, the point is a saddle,
        not a minimizer; the run then steps along that eigenvector (a backtracking
        search on ``f + l^T c + eta1/2 ||c||^2``) and resumes Newton steps, at
        most ``saddle_escapes`` times per run (default 5; 0 turns the check off).
        The step-direction curvature test alone let ELEC end at ``f = 248.2``
        with reduced-Hessian eigenvalues down to -19; with the escape it reaches
        243.81, IPOPT's value.
    curvature_check_step : float
        With ``regularization='direction'`` (the default), after an accepted
        step shorter than this (default 0.5; 0 turns the check off) small
        problems (``n <= 500``, explicit Hessian) compute the smallest
        eigenvalue ``mu`` of the reduced Hessian and, when ``mu < -1e-2
        ||H_L||_F``, start the next solve with the shift ``xi_B - mu``. The
        step-direction test passes whenever the step's own curvature is
        positive, even where the reduced Hessian is indefinite; the Newton step
        then heads for a saddle of the quadratic model and is far too long: on
        ELEC (``mu`` near -50, ``||dx||`` near 20 on the unit sphere) the merit
        accepted steps of 1/64 to 1/8 for dozens of iterations (144 iterations,
        605 evaluations of ``f``; with the check 27 and 73).
    seed : None, int or Generator
        Randomness of the sketches and of the Frobenius-norm estimate (default
        0, so repeated runs are identical; ``None`` draws fresh entropy).

    With no constraints (``m = 0``) the method is a regularized Newton
    method with the merit ``f + eta2/2 ||grad f||^2``.

    Examples
    --------
    >>> import numpy as np
    >>> import numopt
    >>> res = numopt.minimize(lambda x: x[0] ** 2 + 2 * x[1] ** 2, [2.0, 1.0],
    ...                       method="adasketch-newton", jac=lambda x: np.array([2 * x[0], 4 * x[1]]),
    ...                       hess=lambda x: np.diag([2.0, 4.0]),
    ...                       constraints={"type": "eq", "fun": lambda x: x[0] + x[1] - 3,
    ...                                    "jac": lambda x: np.array([[1.0, 1.0]])},
    ...                       options={"seed": 0})
    >>> res.success, np.round(res.x, 6), bool(res.kkt <= 1e-8)
    (True, array([2., 1.]), True)
    """

    name = "adasketch-newton"
    requires = ("fun", "grad")
    default_options = {
        "tol": 1e-8,
        "inner": "auto",
        "sketch_sweeps": 100.0,
        "sketch": "rk",
        "sampling": "row-norm",
        "block_size": None,
        "inner_maxiter": None,
        "hessian": "auto",
        "hessian_update": None,
        "regularization": "auto",
        "eta1": 1.0,
        "eta2": 0.1,
        "delta": 0.1,
        "theta": 1.0,
        "psi": 1.0,
        "nu": 1.5,
        "xi_B": 0.1,
        "beta": 0.1,
        "eig_threshold": 1e-6,
        "superlinear": True,
        "superlinear_power": 1.0,
        "delta_min": 1e-10,
        "backtrack": 0.5,
        "min_step": 1e-12,
        "max_penalty_updates": 60,
        "singular_patience": 10,
        "multipliers0": "lstsq",
        "multiplier_reset": 1.0,
        "dense_max": 2000,
        "full_step_kkt": 0.5,
        "watchdog": 0,
        "restoration_step": 1e-2,
        "restoration_patience": 3,
        "max_restorations": 20,
        "stall_step": 1e-8,
        "stall_patience": 5,
        "stall_window": 50,
        "saddle_escapes": 5,
        "curvature_check_step": 0.5,
        "seed": 0,
    }

    def validate_options(self, o):
        check_positive("tol", o["tol"])
        check_choice("inner", o["inner"], INNER)
        check_choice("sketch", o["sketch"], SKETCHES)
        check_choice("sampling", o["sampling"], SAMPLINGS)
        check_choice("hessian", o["hessian"], HESSIAN)
        check_choice("regularization", o["regularization"], REGULARIZATION)
        check_choice("multipliers0", o["multipliers0"], ("lstsq", "zeros"))
        if o["hessian_update"] is not None and not isinstance(o["hessian_update"], HessianUpdateStrategy):
            raise TypeError("hessian_update must be a scipy.optimize.HessianUpdateStrategy (BFGS(), SR1()) or "
                            f"None; got {type(o['hessian_update']).__name__}.")
        check_rng(o["seed"])
        for key in ("eta1", "eta2", "psi", "xi_B", "eig_threshold", "superlinear_power", "min_step",
                    "delta_min", "sketch_sweeps"):
            check_positive(key, o[key])
        for key in ("delta", "theta", "beta", "backtrack"):
            check_in_range(key, o[key], 0.0, 1.0, closed="right" if key == "theta" else "neither")
        check_in_range("nu", o["nu"], 1.0, np.inf)
        check_positive("max_penalty_updates", o["max_penalty_updates"], integer=True)
        check_positive("singular_patience", o["singular_patience"], integer=True)
        check_positive("dense_max", o["dense_max"], integer=True)
        check_in_range("full_step_kkt", o["full_step_kkt"], 0.0, 1.0, closed="left")
        check_in_range("restoration_step", o["restoration_step"], 0.0, 1.0, closed="neither")
        check_in_range("curvature_check_step", o["curvature_check_step"], 0.0, 1.0, closed="both")
        check_positive("restoration_patience", o["restoration_patience"], integer=True)
        check_in_range("stall_step", o["stall_step"], 0.0, 1.0, closed="neither")
        check_positive("stall_patience", o["stall_patience"], integer=True)
        check_positive("stall_window", o["stall_window"], integer=True)
        check_positive("watchdog", o["watchdog"], integer=True, strict=False)
        check_positive("max_restorations", o["max_restorations"], integer=True, strict=False)
        check_positive("saddle_escapes", o["saddle_escapes"], integer=True, strict=False)
        for key in ("block_size", "inner_maxiter"):
            if o[key] is not None:
                check_positive(key, o[key], integer=True)

    # ---------------------------------------------------------------------------------- setup
    def check_problem(self, problem):
        if isinstance(problem, UnconstrainedProblem):
            problem.require("fun", "grad", solver=self.name)
            if self.options["hessian"] == "explicit" and self.options["hessian_update"] is None:
                problem.require("hess", solver=self.name)
            elif self.options["hessian"] == "hessp" and self.options["hessian_update"] is None:
                problem.require("hessp", solver=self.name)
            return
        if not isinstance(problem, ConstrainedProblem):
            raise TypeError(f"{self.name} solves min f(x), optionally s.t. c(x) = 0; got "
                            f"{type(problem).__name__} (give an UnconstrainedProblem or a ConstrainedProblem).")
        if not problem.equality_only:
            what = [w for w, has in (("inequality constraints", problem.ineq is not None),
                                     ("bounds", problem.bounds is not None)) if has]
            raise ValueError(f"{self.name} handles equality constraints only; the problem has "
                             f"{' and '.join(what)}. Use an interior-point method (e.g. IPOPT) instead.")
        problem.require("fun", "grad", solver=self.name)
        if problem.eq is not None and problem.m_eq > 0:
            problem.require("cons", "jac", solver=self.name)
        if self.options["hessian_update"] is not None:
            return
        if self.options["hessian"] == "explicit":
            problem.require("hess_lagrangian", solver=self.name)
        elif self.options["hessian"] == "hessp":
            problem.require("hessp_lagrangian", solver=self.name)

    def init(self, problem, x0):
        o = self.options
        x = as_float_array(x0, "x0", shape=(problem.n,), copy=True)
        if isinstance(problem, UnconstrainedProblem) or problem.eq is None:
            problem = _WithoutConstraints(problem)
        st = SolverState(problem=problem, x=x, n=problem.n, m=problem.m_eq, rng=check_rng(o["seed"]),
                         eta1=float(o["eta1"]), eta2=float(o["eta2"]), delta=float(o["delta"]),
                         n_inner=0, shift=0.0, alpha=np.nan, watch=None, watch_blocked=False, singular=False,
                         singular_streak=0, fail=None,
                         detail=None, kkt_history=[], inner_paths={}, quasi_newton=None,
                         short_steps=0, tiny_steps=0, restoring=False, restorations=0, lm_mu=0.0, restore_from=0.0,
                         escape=None, escapes=0, progress_from=0)
        hess = o["hessian"]
        if o["hessian_update"] is not None:
            hess = "quasi-newton"
            st.quasi_newton = copy.deepcopy(o["hessian_update"])
            st.quasi_newton.initialize(problem.n, "hess")
        elif hess == "auto":
            caps = problem.capabilities
            hess = "explicit" if "hess_lagrangian" in caps else "hessp" if "hessp_lagrangian" in caps else "fd"
            if hess == "fd" and not getattr(getattr(problem, "objective", None), "exact_grad", True):
                # differences of a differenced gradient have errors of order one: use BFGS instead
                hess = "quasi-newton"
                st.quasi_newton = BFGS()
                st.quasi_newton.initialize(problem.n, "hess")
        st.hessian = hess
        st.overdetermined = st.m > st.n
        reg = o["regularization"]
        if reg == "auto":
            reg = "direction"
        st.regularization = reg
        f, c, G, g = self._evaluate(problem, x)
        bad = [name for name, v in (("fun", f), ("constraints", c), ("jac (gradient)", g)) if not np.all(
            np.isfinite(v))]
        if bad:
            raise ValueError(f"{' and '.join(bad)} not finite at the starting point x0.")
        if problem.y0 is not None:
            lam = np.array(problem.y0, dtype=float)
        elif o["multipliers0"] == "zeros":
            lam = np.zeros(st.m)
        else:
            lam = _least_squares_multipliers(G, g)
        if st.m == 0:
            st.eta2 = 0.0  # no constraints: the merit is f itself
        self._set_point(st, x, lam, f, c, G, g)
        return st

    @staticmethod
    def _evaluate(problem, x):
        f = problem.fun(x)
        c = problem.cons(x)
        G = problem.jac(x)
        g = problem.grad(x)
        if c.shape != (G.shape[0],):
            raise ValueError(f"constraint values have shape {c.shape} but the Jacobian has {G.shape[0]} rows.")
        return f, c, G, g

    def _set_point(self, st, x, lam, f, c, G, g):
        st.x, st.lam, st.fun, st.c, st.G, st.g = x, lam, f, c, G, g
        st.gl = g + np.asarray(G.T @ lam).ravel()
        st.b = np.concatenate([st.gl, c])
        st.kkt = float(np.linalg.norm(st.b))
        st.kkt_history.append(st.kkt)

    # ------------------------------------------------------------------------------ Hessians
    def _hessian(self, st, kind=None):
        """Hessian of the Lagrangian at the current point (``kind``, default ``st.hessian``)."""
        p, x, lam, n = st.problem, st.x, st.lam, st.n
        kind = st.hessian if kind is None else kind
        if kind == "explicit":
            H = p.hess_lagrangian(x, lam)
            return H if sp.issparse(H) else np.asarray(H, dtype=float)
        if kind == "quasi-newton":
            return st.quasi_newton.get_matrix()
        if kind == "hessp":
            return LinearOperator((n, n), matvec=lambda v: p.hessp_lagrangian(x, lam, np.ravel(v)), dtype=float)
        gl0 = st.gl

        def fd(v):
            v = np.ravel(v)
            nv = np.linalg.norm(v)
            if nv == 0:
                return np.zeros(n)
            h = np.sqrt(np.finfo(float).eps) * max(1.0, np.linalg.norm(x)) / nv
            xh = x + h * v
            return (p.grad(xh) + np.asarray(p.jac(xh).T @ lam).ravel() - gl0) / h

        return LinearOperator((n, n), matvec=fd, dtype=float)

    # -------------------------------------------------------------------------------- merit
    def _merit_at(self, st, x, lam):
        """``(L_eta, point)`` at a trial point; ``inf`` when f, c or a derivative is not finite there."""
        p = st.problem
        try:
            f, c = p.fun(x), p.cons(x)
            if not (np.isfinite(f) and np.all(np.isfinite(c))):
                return np.inf, None
            G, g = p.jac(x), p.grad(x)
        except (FloatingPointError, OverflowError, ZeroDivisionError, ValueError):
            return np.inf, None
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(G.data if sp.issparse(G) else G))):
            return np.inf, None
        gl = g + np.asarray(G.T @ lam).ravel()
        val = f + lam @ c + 0.5 * st.eta1 * (c @ c) + 0.5 * st.eta2 * (gl @ gl)
        return (float(val) if np.isfinite(val) else np.inf), (f, c, G, g)

    def _rejected_early(self, st, x, lam, target: float, alpha: float) -> bool:
        """True when ``f`` and ``c`` alone show that the trial point fails the line search.

        ``f + l^T c + eta1/2 ||c||^2`` is a lower bound of the merit (the
        ``||grad_x L||^2`` term is nonnegative), and ``||c||`` one of the KKT
        residual, so a trial point above the Armijo target is rejected without
        evaluating ``grad f`` and the Jacobian there: the decisions are those of
        the full merit, at about half the evaluation cost per rejected point.
        """
        o = self.options
        if alpha == 1.0 and o["watchdog"] > 0:
            return False
        p = st.problem
        try:
            f, c = p.fun(x), p.cons(x)
        except (FloatingPointError, OverflowError, ZeroDivisionError, ValueError):
            return False
        if not (np.isfinite(f) and np.all(np.isfinite(c))):
            return False
        lower = f + lam @ c + 0.5 * st.eta1 * (c @ c)
        if not (np.isfinite(lower) and lower > target):
            return False
        return alpha < 1.0 or float(np.linalg.norm(c)) > o["full_step_kkt"] * st.kkt

    def merit_gradient(self, st, H=None):
        """Gradient of the exact augmented Lagrangian at the current ``(x, l)`` (uses ``H_L``).

        A quasi-Newton run takes the product ``H_L grad_x L`` by a finite
        difference of ``grad_x L`` (one extra gradient), not from the update.
        """
        if st.hessian == "quasi-newton":
            H = self._hessian(st, "fd") if st.eta2 > 0 else None
        else:
            H = self._hessian(st) if H is None else H
        if H is None:
            return np.concatenate([st.gl, st.c])
        Hgl = np.asarray(H @ st.gl).ravel()
        gx = st.gl + st.eta2 * Hgl + st.eta1 * np.asarray(st.G.T @ st.c).ravel()
        gl = st.c + st.eta2 * np.asarray(st.G @ st.gl).ravel()
        return np.concatenate([gx, gl])

    # --------------------------------------------------------------------------------- step
    def step(self, st):
        if st.overdetermined:
            return self._gauss_newton_step(st)
        if st.escape is not None:
            return self._escape_step(st)
        if st.restoring:
            return self._restoration_step(st)
        o = self.options
        n = st.n
        H = self._hessian(st)
        if not isinstance(H, LinearOperator) and not np.all(np.isfinite(H.data if sp.issparse(H) else H)):
            st.fail, st.detail = Status.NONFINITE, "The Hessian (hess) has NaN or inf entries at the iterate."
            return st
        gamma = 0.0
        projector = None
        if st.regularization == "eig":
            lam_min, deficient = null_space_min_eig(H, st.G)
            st.shift = 0.0 if lam_min >= o["eig_threshold"] else o["xi_B"] - lam_min
        else:
            st.shift = 0.0
            deficient = False
            if st.regularization == "direction":
                projector = NormalProjector(st.G)
                deficient = projector.singular
                if not deficient and st.alpha < o["curvature_check_step"]:
                    st.shift = self._measured_shift(st, H)
        st.singular_streak = st.singular_streak + 1 if deficient else 0
        if deficient:
            st.singular = True
            if _linearization_inconsistent(st.G, st.c, self.options["tol"]):
                return self._gauss_newton_step(st)
            gamma = np.sqrt(np.finfo(float).eps) * max(1.0, st.kkt)
        K = assemble_kkt(H, st.G, st.shift, gamma, o["dense_max"])
        inner = choose_inner(K, o["sketch_sweeps"]) if o["inner"] == "auto" else o["inner"]
        if deficient and inner == "exact":
            # a direct solver takes the minimum-norm least-squares solution of the singular system;
            # a tiny dual regularization would blow the multipliers up like 1 / gamma instead
            gamma = 0.0
            K = assemble_kkt(H, st.G, st.shift, gamma, o["dense_max"])
        path = inner_path(K, inner, o["sketch"], least_squares=deficient)
        st.inner_paths[path] = st.inner_paths.get(path, 0) + 1
        normK = frobenius_norm(K, st.rng)
        bnorm = st.kkt
        delta_t = min(st.delta, bnorm ** o["superlinear_power"]) if o["superlinear"] else st.delta
        gmerit = self.merit_gradient(st, H)
        rhs = -st.b
        z = None
        met = False
        sharpen_first = inner == "sketch" and o["sketch"] == "precond-lsqr"
        solved_to = np.inf
        for _ in range(o["max_penalty_updates"]):
            target = o["theta"] * max(delta_t, o["delta_min"]) * bnorm / (normK * o["psi"])
            # a sketch solve that missed its test is continued only under a tighter test (at the floor
            # delta_min it already ran to its iteration limit: rounding keeps it from going further)
            if z is None or (inner == "sketch" and not met and target < solved_to):
                solved_to = target
                z, nin, met = solve_kkt(K, rhs, inner=inner, stop=_residual_test(target), least_squares=deficient,
                                        sketch=o["sketch"], sampling=o["sampling"], block_size=o["block_size"],
                                        maxiter=self._inner_maxiter(K.shape[0]), rng=st.rng, z0=z)
                st.n_inner += nin
                if projector is not None:
                    curv, size = tangential_curvature(H, projector, z[:n])
                    curv += st.shift * size
                    # a direct solve that fell back to least squares (K singular with G of full rank)
                    # means zero reduced curvature somewhere: shift as for a failed curvature test
                    singular_K = inner == "exact" and not met and not deficient
                    bad = singular_K or (size > 0 and curv < o["eig_threshold"] * size)
                    if bad and st.shift < 1e20:
                        st.shift = min(o["xi_B"], st.kkt) if st.shift == 0 else 10.0 * st.shift
                        K = assemble_kkt(H, st.G, st.shift, gamma, o["dense_max"])
                        normK = frobenius_norm(K, st.rng)
                        z = None
                        continue
            if not np.all(np.isfinite(z)):
                st.fail = Status.NONFINITE
                st.detail = "The Newton-KKT solve returned NaN or inf (Hessian-vector products not finite?)."
                return st
            slope = float(gmerit @ z)
            if slope <= -0.5 * st.eta2 * bnorm**2 and slope < 0:
                return self._line_search(st, z, slope)
            if sharpen_first and delta_t > o["delta_min"]:
                # digits are cheap for a preconditioned Krylov solve: an inexact direction that is not a
                # descent direction is first solved more accurately, before the penalties grow
                delta_t, met = max(1e-3 * delta_t, o["delta_min"]), False
                continue
            st.eta1 *= o["nu"] ** 2
            st.eta2 /= o["nu"]
            st.delta /= o["nu"]
            delta_t /= o["nu"]
            met = met and delta_t < o["delta_min"]
            gmerit = self.merit_gradient(st, H)
        st.fail = self._failure(st, Status.LINESEARCH)
        return st

    def _measured_shift(self, st, H) -> float:
        """Shift ``xi_B - mu`` when the reduced Hessian has an eigenvalue ``mu < -1e-2 ||H||_F``, else 0.

        ``mu`` is the smallest eigenvalue of ``Z^T H Z`` (SVD null-space basis ``Z`` of ``G``), computed
        only for small problems with an explicit Hessian (``n <= 500``); 0 elsewhere. Called after a short
        accepted step (see ``curvature_check_step``).
        """
        if st.n > 500 or st.m == 0 or isinstance(H, LinearOperator):
            return 0.0
        Hd = H.toarray() if sp.issparse(H) else H
        mu, _ = null_space_min_eig(Hd, st.G)
        return self.options["xi_B"] - mu if mu < -1e-2 * float(np.linalg.norm(Hd)) else 0.0

    def _inner_maxiter(self, N: int):
        o = self.options
        if o["inner_maxiter"] is not None:
            return o["inner_maxiter"]
        if o["sketch"] == "precond-lsqr":
            return max(200, 2 * N)
        if o["sketch"] in ("rk", "gaussian") and o["block_size"] in (None, 1):
            return max(100_000, 100 * N)
        return max(1000, 200 * N // (o["block_size"] or int(np.ceil(np.sqrt(N)))))

    def _watch_reference_merit(self, st):
        """Merit of the watchdog's reference point under the current penalties."""
        ref = st.watch
        f, c, G, g = ref["point"]
        gl = g + np.asarray(G.T @ ref["lam"]).ravel()
        return float(f + ref["lam"] @ c + 0.5 * st.eta1 * (c @ c) + 0.5 * st.eta2 * (gl @ gl))

    def _line_search(self, st, z, slope):
        o = self.options
        n = st.n
        merit0, _ = self._merit_at(st, st.x, st.lam)
        alpha = 1.0
        if st.watch is not None:
            ref = st.watch
            target = self._watch_reference_merit(st) + o["beta"] * ref["slope"]
            if merit0 <= target:
                st.watch = None  # the relaxed steps paid off: back to the monotone search
            else:
                x, lam = st.x + z[:n], st.lam + z[n:]
                val, point = self._merit_at(st, x, lam)
                if point is not None and (val <= target or ref["left"] > 0):
                    ref["left"] -= 1
                    st.watch = None if val <= target else ref
                    st.alpha = 1.0
                    self._set_point(st, x, lam, *point)
                    return st
                # no decrease after the relaxed steps: back to the reference point, monotone search there
                st.watch, st.watch_blocked = None, True
                st.eta1, st.eta2 = ref["eta"]
                st.x, st.lam = ref["x"], ref["lam"]
                self._set_point(st, ref["x"], ref["lam"], *ref["point"])
                z, slope = ref["z"], ref["slope"]
                merit0, _ = self._merit_at(st, st.x, st.lam)
                alpha = o["backtrack"]
        all_nonfinite = True
        while alpha >= o["min_step"]:
            x, lam = st.x + alpha * z[:n], st.lam + alpha * z[n:]
            if self._rejected_early(st, x, lam, merit0 + o["beta"] * alpha * slope, alpha):
                all_nonfinite = False
                alpha *= o["backtrack"]
                continue
            val, point = self._merit_at(st, x, lam)
            all_nonfinite = all_nonfinite and point is None
            if (alpha == 1.0 and point is not None and o["watchdog"] > 0 and not st.watch_blocked
                    and val > merit0 + o["beta"] * slope and st.m > 0):
                # watchdog: take the rejected full step anyway; the merit must fall below this point's
                # within `watchdog` more full steps, else the search restarts here
                st.watch = {"x": st.x, "lam": st.lam, "point": (st.fun, st.c, st.G, st.g), "z": z,
                            "slope": slope, "eta": (st.eta1, st.eta2), "left": o["watchdog"] - 1}
                st.alpha = 1.0
                self._set_point(st, x, lam, *point)
                return st
            if point is not None and (val <= merit0 + o["beta"] * alpha * slope
                                      or (alpha == 1.0 and _kkt_norm(lam, *point) <= o["full_step_kkt"] * st.kkt)):
                st.watch_blocked = False
                st.alpha = alpha
                if st.quasi_newton is not None:
                    self._update_quasi_newton(st, x, lam, point)
                if alpha < o["multiplier_reset"] and st.m > 0:
                    lam = _better_multipliers(lam, point[2], point[3])
                self._set_point(st, x, lam, *point)
                st.short_steps = st.short_steps + 1 if alpha < o["restoration_step"] else 0
                st.tiny_steps = st.tiny_steps + 1 if alpha < o["stall_step"] else 0
                if st.short_steps >= o["restoration_patience"]:
                    self._start_restoration(st)
                if st.tiny_steps >= o["stall_patience"] and not st.restoring:
                    st.fail = self._failure(st, Status.LINESEARCH)
                    if st.fail is Status.LINESEARCH:
                        st.detail = (f"{st.tiny_steps} accepted steps in a row shorter than {o['stall_step']:g} "
                                     f"(penalty eta1 = {st.eta1:.3g}): the merit line search makes no progress.")
                return st
            alpha *= o["backtrack"]
        if all_nonfinite:
            st.fail = Status.NONFINITE
            st.detail = (f"fun, the constraints or jac are NaN or inf at every trial point down to step "
                         f"{o['min_step']:g} along the Newton direction.")
            return st
        st.fail = self._failure(st, Status.LINESEARCH)
        if st.fail is Status.LINESEARCH and self._start_restoration(st):
            st.fail = None
        return st

    # ----------------------------------------------------------------- feasibility restoration
    def _start_restoration(self, st) -> bool:
        """Switch to Levenberg-Marquardt steps on ``||c||^2 / 2`` (when ``c != 0`` and restorations are left)."""
        st.short_steps = 0
        cnorm = float(np.linalg.norm(st.c))
        if st.m == 0 or cnorm <= self.options["tol"] or st.restorations >= self.options["max_restorations"]:
            return False
        st.restoring, st.restore_from = True, cnorm
        st.tiny_steps = 0
        st.restorations += 1
        st.lm_mu = 0.0
        return True

    def _restoration_step(self, st):
        """One Levenberg-Marquardt step on ``phi = ||c||^2 / 2`` (see :meth:`_levenberg_marquardt`).

        The phase ends when ``||c||`` is down to a tenth of its value at entry
        (or below ``tol``): the multipliers become the least-squares ones and the
        penalties, the accuracy and the step-length history start afresh, so that
        the penalty growth that stalled the Newton steps (``eta1`` near 1e7 on
        HATFLDF) is forgotten. A stationary point of ``phi`` with ``c != 0`` ends
        the run as ``INFEASIBLE``.
        """
        o = self.options
        if self._levenberg_marquardt(st):
            if float(np.linalg.norm(st.c)) <= max(0.1 * st.restore_from, o["tol"]):
                st.restoring = False
                st.eta1, st.eta2, st.delta = float(o["eta1"]), float(o["eta2"]), float(o["delta"])
                st.progress_from = len(st.kkt_history)
            return st
        st.restoring = False
        if _infeasible_stationary(st.G, st.c, o["tol"], 1e-8):
            st.fail = Status.INFEASIBLE
            st.detail = (f"||c|| = {np.linalg.norm(st.c):.3g} at a stationary point of ||c||^2 (feasibility "
                         "restoration made no progress): the constraints look locally inconsistent.")
        return st

    def _levenberg_marquardt(self, st) -> bool:
        """One Levenberg-Marquardt step ``dx = -(G^T G + mu I)^{-1} G^T c`` on ``phi = ||c||^2 / 2``.

        Solved in the smaller of the two forms (``G^T (G G^T + mu I)^{-1}`` when
        ``m <= n``); ``mu`` follows the ratio of actual to predicted decrease of
        ``phi`` (Nielsen's update) and grows fourfold on a rejected trial.
        Returns whether a step was taken (``False`` at a stationary point of ``phi``).
        """
        p, G, c = st.problem, st.G, st.c
        if st.lm_mu <= 0:
            st.lm_mu = _initial_damping(G)
        phi0 = 0.5 * float(c @ c)
        rhs = -np.asarray(G.T @ c).ravel()
        for _ in range(60):
            dx = _damped_least_squares(G, c, rhs, st.lm_mu)
            lin = c + np.asarray(G @ dx).ravel()
            predicted = phi0 - 0.5 * float(lin @ lin)
            if not (predicted > 0 and np.isfinite(predicted)):
                return False
            x = st.x + dx
            ct = p.cons(x)
            actual = phi0 - 0.5 * float(ct @ ct) if np.all(np.isfinite(ct)) else -np.inf
            rho = actual / predicted
            if rho > 1e-4:
                st.lm_mu *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
                f, c, G, g = self._evaluate(p, x)
                st.alpha = 1.0
                self._set_point(st, x, _least_squares_multipliers(G, g), f, c, G, g)
                return True
            st.lm_mu *= 4.0
        return False

    # ------------------------------------------------------------------------ second order
    def _found_saddle(self, st) -> bool:
        """At a KKT point: whether the reduced Hessian has negative curvature to escape along.

        Dense check (``n <= 500``, exact Hessian or Hessian-vector products):
        the smallest eigenvalue ``mu`` of ``Z^T H_L Z`` below
        ``-sqrt(eps) max(1, ||H_L||_F)`` marks a saddle point of the Lagrangian
        on the constraints (the curvature test of the step direction sees only
        the directions the steps take: ELEC ended at f = 248.2 with ``mu = -19``).
        Sets ``st.escape = (d, mu)`` for :meth:`_escape_step`.
        """
        o = self.options
        if (st.escapes >= o["saddle_escapes"] or st.overdetermined or st.n > 500
                or st.hessian not in ("explicit", "hessp")):
            return False
        H = self._hessian(st)
        Hd = H if isinstance(H, np.ndarray) else (H.toarray() if sp.issparse(H) else None)
        mu, d = reduced_min_curvature(H, st.G)
        scale = max(1.0, float(np.linalg.norm(Hd)) if Hd is not None else abs(mu))
        if d is None or not mu < -np.sqrt(np.finfo(float).eps) * scale:
            return False
        st.escape = (d if float(st.gl @ d) <= 0 else -d, mu)
        return True

    def _escape_step(self, st):
        """A step along the negative-curvature direction ``d`` of the reduced Hessian at a saddle point.

        Backtracking from ``t = max(1, ||x||_inf)`` on ``phi = f + l^T c + eta1/2 ||c||^2``
        (the initial ``eta1``) until ``phi(x + t d) <= phi(x) + beta t^2 mu / 2``;
        Newton steps then continue from there with least-squares multipliers and
        fresh penalties. When no such ``t`` exists down to ``min_step`` the saddle
        point stands and no further escape is tried.
        """
        o, p = self.options, st.problem
        d, mu = st.escape
        st.escape = None
        st.escapes += 1
        eta1 = float(o["eta1"])
        phi0 = st.fun + float(st.lam @ st.c) + 0.5 * eta1 * float(st.c @ st.c)
        t = max(1.0, float(np.max(np.abs(st.x))))
        while t >= o["min_step"]:
            x = st.x + t * d
            f, c = p.fun(x), p.cons(x)
            phi = f + float(st.lam @ c) + 0.5 * eta1 * float(c @ c)
            if np.isfinite(phi) and phi <= phi0 + 0.5 * o["beta"] * t * t * mu:
                f, c, G, g = self._evaluate(p, x)
                st.alpha = t
                st.eta1, st.eta2, st.delta = eta1, float(o["eta2"]), float(o["delta"])
                st.short_steps = st.tiny_steps = 0
                self._set_point(st, x, _least_squares_multipliers(G, g), f, c, G, g)
                st.progress_from = len(st.kkt_history)
                return st
            t *= o["backtrack"]
        st.escapes = o["saddle_escapes"]
        return st

    @staticmethod
    def _update_quasi_newton(st, x, lam, point):
        """Update the quasi-Newton Hessian with ``s = dx`` and ``y = grad_x L(x+, l+) - grad_x L(x, l+)``."""
        _, _, G, g = point
        y = (g + np.asarray(G.T @ lam).ravel()) - (st.g + np.asarray(st.G.T @ lam).ravel())
        st.quasi_newton.update(x - st.x, y)

    def _failure(self, st, default: Status) -> Status:
        if _infeasible_stationary(st.G, st.c, self.options["tol"], 1e-6):
            st.detail = (f"||c|| = {np.linalg.norm(st.c):.3g} while ||G^T c|| is zero to rounding: the "
                         "equality constraints look inconsistent near x.")
            return Status.INFEASIBLE
        if st.singular_streak > 0 or st.singular:
            st.detail = "The constraint Jacobian is rank deficient at the iterate (LICQ fails)."
            return Status.SINGULAR
        return default

    def _gauss_newton_step(self, st):
        """One Gauss-Newton step on ``||c||^2 / 2`` (m > n) with an Armijo search."""
        o = self.options
        G, c = st.G, st.c
        grad = np.asarray(G.T @ c).ravel()
        dx = self._newton_on_violation(st, grad) if st.overdetermined else None
        if st.overdetermined and dx is None:
            # Gauss-Newton steps with an Armijo search become tiny where G is nearly rank deficient
            # (BIGGS6NE, GULFNE: steps near 1e-10); damped steps keep their length under control
            if self._levenberg_marquardt(st):
                return st
            st.fail = Status.INFEASIBLE if float(np.linalg.norm(c)) > o["tol"] else Status.LINESEARCH
            return st
        if dx is not None:
            pass
        elif sp.issparse(G):
            dx = -spla.lsqr(G, c, atol=1e-14, btol=1e-14)[0]
        else:
            dx = -np.linalg.lstsq(G, c, rcond=RCOND)[0]
        slope = float(grad @ dx)
        phi0 = 0.5 * float(c @ c)
        alpha = 1.0
        p = st.problem
        curvature = 0.0
        if slope >= 0:
            dx, curvature = self._negative_curvature_of_violation(st)
        while alpha >= o["min_step"] and (slope < 0 or curvature < 0):
            x = st.x + alpha * dx
            ct = p.cons(x)
            decrease = o["beta"] * alpha * slope if slope < 0 else 0.5 * o["beta"] * alpha**2 * curvature
            if np.all(np.isfinite(ct)) and 0.5 * float(ct @ ct) <= phi0 + decrease:
                f, c, G, g = self._evaluate(p, x)
                st.alpha = alpha
                self._set_point(st, x, _least_squares_multipliers(G, g), f, c, G, g)
                return st
            alpha *= o["backtrack"]
        st.fail = self._failure(st, Status.LINESEARCH)
        if st.fail is Status.LINESEARCH and float(np.linalg.norm(c)) > o["tol"]:
            st.fail = Status.INFEASIBLE
        return st

    @staticmethod
    def _newton_on_violation(st, grad):
        """Newton direction on ``||c||^2 / 2`` with the full Hessian ``G^T G + sum_i c_i Hess c_i``.

        Gauss-Newton drops the second term and converges only linearly where the
        residual at the solution is large (inconsistent overdetermined systems:
        BROWNDENE, GULFNE ran into the time limit); with the constraint Hessians
        (dense, small problems) the full Newton step converges quadratically.
        ``None`` when the Hessians are unavailable or the full Hessian is not
        positive definite (Gauss-Newton is then used).
        """
        eq = getattr(st.problem, "eq", None)
        if eq is None or not getattr(eq, "has_hess", False) or st.n > 500 or not np.any(st.c):
            return None
        Gd = st.G.toarray() if sp.issparse(st.G) else np.asarray(st.G, dtype=float)
        Hc = eq.hess(st.x, st.c)
        Hphi = Gd.T @ Gd + (Hc.toarray() if sp.issparse(Hc) else np.asarray(Hc, dtype=float))
        try:
            factor = sla.cho_factor(0.5 * (Hphi + Hphi.T), check_finite=True)
        except (np.linalg.LinAlgError, sla.LinAlgError, ValueError):
            return None
        dx = -sla.cho_solve(factor, grad)
        return dx if np.all(np.isfinite(dx)) else None

    @staticmethod
    def _negative_curvature_of_violation(st):
        """At a stationary point of ``phi = ||c||^2 / 2``: a direction of negative curvature of ``phi``.

        Returns ``(d, d^T Hphi d)`` with ``Hphi = G^T G + sum_i c_i Hess c_i`` (dense, small
        problems with constraint Hessians), scaled so that the quadratic model of ``phi`` reaches
        zero; ``(0, 0)`` when ``phi`` has no negative curvature there (a true local minimum, so the
        point is reported as locally infeasible) or the Hessians are not available.
        """
        p, n = st.problem, st.n
        eq = getattr(p, "eq", None)
        if eq is None or not getattr(eq, "has_hess", False) or n > 500:
            return np.zeros(n), 0.0
        Gd = st.G.toarray() if sp.issparse(st.G) else np.asarray(st.G, dtype=float)
        Hc = eq.hess(st.x, st.c)
        Hphi = Gd.T @ Gd + (Hc.toarray() if sp.issparse(Hc) else np.asarray(Hc, dtype=float))
        w, V = np.linalg.eigh(0.5 * (Hphi + Hphi.T))
        if w[0] >= -1e-8 * max(1.0, abs(w[-1])):
            return np.zeros(n), 0.0
        t = np.sqrt(float(st.c @ st.c) / -w[0])
        return t * V[:, 0], float(w[0]) * t * t

    # --------------------------------------------------------------------------- protocol
    def terminate(self, st):
        if st.kkt <= self.options["tol"]:
            return None if self._found_saddle(st) else Status.SUCCESS
        if st.fail is not None:
            return st.fail
        if self._no_progress(st):
            st.detail = None
            status = self._failure(st, Status.LINESEARCH)
            stalled = (f"The KKT residual has not fallen by 10% over {self.options['stall_window']} iterations "
                       f"(penalty eta1 = {st.eta1:.3g}): the merit line search makes no progress.")
            st.detail = stalled if st.detail is None else f"{st.detail} {stalled}"
            return status
        patience = self.options["singular_patience"]
        if st.singular_streak >= patience and st.kkt > 0.9 * st.kkt_history[-1 - patience]:
            return self._failure(st, Status.SINGULAR)
        if (st.overdetermined or st.singular) and _infeasible_stationary(st.G, st.c, self.options["tol"],
                                                                          self.options["tol"]):
            return Status.INFEASIBLE
        return None

    def _no_progress(self, st) -> bool:
        """The best KKT residual of the last ``stall_window`` iterations is above 90% of the best before
        (since the last restart of the Newton steps: the end of a feasibility restoration or a saddle escape),
        and no feasibility restoration can start (``c`` zero to ``tol`` or the restorations used up)."""
        o, hist = self.options, st.kkt_history[st.progress_from:]
        w = o["stall_window"]
        if st.overdetermined or st.restoring or st.escape is not None or len(hist) <= w:
            return False
        if float(np.linalg.norm(st.c)) > o["tol"] and st.restorations < o["max_restorations"]:
            return False
        return min(hist[-w:]) > 0.9 * min(hist[:-w])

    def postprocess(self, st, status):
        return OptimizeResult(x=st.x, fun=st.fun, y=st.lam, multipliers=st.lam, kkt=st.kkt,
                              grad_lagrangian_norm=float(np.linalg.norm(st.gl)),
                              constr_violation=float(np.linalg.norm(st.c)), n_inner=st.n_inner,
                              eta1=st.eta1, eta2=st.eta2, delta=st.delta, hessian_shift=st.shift,
                              singular_jacobian=st.singular, overdetermined=st.overdetermined,
                              regularization_used=st.regularization, inner_paths=dict(st.inner_paths),
                              hessian_used=st.hessian, message_detail=st.detail)

    def history_record(self, st):
        return {"fun": float(st.fun), "kkt": st.kkt, "constr_violation": float(np.linalg.norm(st.c)),
                "eta1": st.eta1, "eta2": st.eta2, "delta": st.delta, "alpha": st.alpha,
                "n_inner": st.n_inner, "shift": st.shift}

    def intermediate_result(self, st):
        return OptimizeResult(x=np.copy(st.x), fun=st.fun, nit=getattr(st, "nit", 0), kkt=st.kkt,
                              multipliers=np.copy(st.lam), inner_paths=dict(st.inner_paths))


class _WithoutConstraints(Problem):
    """An unconstrained problem seen as ``min f(x) s.t. c(x) = 0`` with ``m = 0`` (evaluations go through)."""

    def __init__(self, problem):
        self.inner, self.n, self.x0, self.y0, self.name = problem, problem.n, problem.x0, None, problem.name
        self.m_eq = 0
        self.objective = getattr(problem, "objective", None)

    @property
    def capabilities(self):
        caps = set(self.inner.capabilities) | {"cons", "jac"}
        caps |= {"hess_lagrangian"} if "hess" in caps else set()
        caps |= {"hessp_lagrangian"} if caps & {"hess", "hessp"} else set()
        return frozenset(caps)

    def fun(self, x):
        return self.inner.fun(x)

    def grad(self, x):
        return self.inner.grad(x)

    def cons(self, x):
        return np.zeros(0)

    def jac(self, x):
        return np.zeros((0, self.n))

    def hess_lagrangian(self, x, y):
        return self.inner.hess(x)

    def hessp_lagrangian(self, x, y, p):
        return self.inner.hessp(x, p)

    def counts(self):
        return self.inner.counts()


def _infeasible_stationary(G, c, tol: float, rtol: float) -> bool:
    """``c != 0`` (above ``tol``) while ``||G^T c|| <= rtol ||G|| ||c||``: stationary for ``||c||^2``."""
    cnorm = float(np.linalg.norm(c))
    if cnorm <= tol:
        return False
    Gnorm = float(sp.linalg.norm(G) if sp.issparse(G) else np.linalg.norm(G))
    return float(np.linalg.norm(np.asarray(G.T @ c).ravel())) <= rtol * max(1.0, Gnorm) * cnorm


def _linearization_inconsistent(G, c, tol: float) -> bool:
    """True when ``G dx = -c`` has no solution: the least-squares residual keeps over half of ``||c||``."""
    cnorm = float(np.linalg.norm(c))
    if cnorm <= tol:
        return False
    if sp.issparse(G):
        dx = spla.lsqr(G, -c, atol=1e-12, btol=1e-12)[0]
        return float(np.linalg.norm(c + np.asarray(G @ dx).ravel())) > 0.5 * cnorm
    DG, d = row_equilibrated(np.asarray(G, dtype=float))
    dx = np.linalg.lstsq(DG, -d * c, rcond=RCOND)[0]
    return float(np.linalg.norm(d * c + DG @ dx)) > 0.5 * float(np.linalg.norm(d * c))


def _initial_damping(G) -> float:
    """Levenberg-Marquardt's first ``mu``: 1e-3 times the largest squared row norm of ``G``."""
    sq = abs(G).power(2).sum(axis=1) if sp.issparse(G) else np.sum(np.asarray(G) ** 2, axis=1)
    return 1e-3 * max(float(np.max(np.asarray(sq), initial=0.0)), 1e-8)


def _damped_least_squares(G, c, rhs, mu: float):
    """``-(G^T G + mu I)^{-1} G^T c`` (``rhs = -G^T c``), in the ``m x m`` form when ``m <= n``."""
    m, n = G.shape
    if sp.issparse(G):
        if m <= n:
            w = spla.splu(sp.csc_matrix(G @ G.T) + mu * sp.identity(m, format="csc")).solve(-c)
            return np.asarray(G.T @ w).ravel()
        return spla.splu(sp.csc_matrix(G.T @ G) + mu * sp.identity(n, format="csc")).solve(rhs)
    G = np.asarray(G, dtype=float)
    if m <= n:
        return G.T @ sla.solve(G @ G.T + mu * np.eye(m), -c, assume_a="pos", check_finite=False)
    return sla.solve(G.T @ G + mu * np.eye(n), rhs, assume_a="pos", check_finite=False)


def _kkt_norm(lam, f, c, G, g) -> float:
    """``||(grad_x L, c)||`` at a trial point with multipliers ``lam``."""
    gl = g + np.asarray(G.T @ lam).ravel()
    return float(np.sqrt(gl @ gl + c @ c))


def _residual_test(target: float):
    def stop(z, r, k):
        return float(np.linalg.norm(r)) <= target
    return stop


def _better_multipliers(lam, G, g):
    """The least-squares multipliers at the new point when they give a smaller ``||grad_x L||`` than ``lam``."""
    ls = _least_squares_multipliers(G, g)
    current = np.linalg.norm(g + np.asarray(G.T @ lam).ravel())
    return ls if np.linalg.norm(g + np.asarray(G.T @ ls).ravel()) < current else lam


def _least_squares_multipliers(G, g):
    """``argmin_l ||g + G^T l||`` (dense least squares or a sparse solve with ``G G^T``)."""
    if sp.issparse(G):
        GGt = sp.csc_matrix(G @ G.T)
        rhs = -np.asarray(G @ g).ravel()
        try:
            return spla.splu(GGt).solve(rhs)
        except RuntimeError:
            return spla.lsqr(G.T, -g, atol=1e-12, btol=1e-12)[0]
    return np.linalg.lstsq(np.asarray(G, dtype=float).T, -g, rcond=RCOND)[0]
