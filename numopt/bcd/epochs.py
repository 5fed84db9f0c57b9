"""Fused cyclic proximal coordinate epochs for L1 least squares and L1 logistic regression.

This is ``rule='cyclic'`` with blocks of one variable, run a whole pass at a
time inside one Numba kernel, restricted to a working set (the support and
the variables at zero with the largest ``|g_j| / lam_j``, as working-set solvers such as skglm do;
see :func:`numopt.bcd._kernels.prox_cd_epoch`): each
coordinate reads its derivative and curvature from its column, so a pass
costs one sweep over the nonzeros of A. Between passes the solver measures
the duality gap and, once the support and signs have stopped changing, takes
a Newton step on that manifold (:func:`numopt.bcd.active_set.manifold_newton`),
which gives the fast local convergence described by Nutini, Laradji and
Schmidt (JMLR 2022). It is the engine of :class:`numopt.bcd.Lasso` and
:class:`numopt.bcd.L1LogisticRegression`.
"""

from __future__ import annotations

import numpy as np

from .._core.driver import IterativeSolver, SolverState
from .._core.result import OptimizeResult, Status
from .._core.validate import as_float_array, check_choice, check_positive, check_rng
from .active_set import manifold_newton
from .problems import GLMProblem

__all__ = ["ProxCoordinateEpochs"]


class ProxCoordinateEpochs(IterativeSolver):
    """Cyclic proximal coordinate descent, one pass per iteration, with active-set Newton steps.

    Options: ``inner`` (``'cd'``: exact proximal coordinate passes; ``'prox-newton'``:
    proximal Newton steps whose direction comes from up to ``newton_epochs`` coordinate passes
    on the quadratic model, followed by a line search, see
    :func:`numopt.bcd._kernels.prox_newton_step`; ``'auto'``, the default: prox-Newton for the
    logistic loss, whose coordinate passes otherwise evaluate exponentials for every nonzero, and
    coordinate passes for least squares), ``tol`` (stop when the duality gap is at most ``tol * P(0)``, or,
    when the gap is undefined because some variable is unpenalized, when the
    minimum-norm subgradient is at most ``tol * max(1, its value at 0)``),
    ``active_set`` (bool), ``working_set`` (each iteration runs up to
    ``inner_epochs`` passes over the support plus the variables at zero with the largest
    ``|g_j| / lam_j``, twice the support and at least 10 variables, stopping early
    when a pass gains less than a tenth of the gap target or less than
    ``subproblem_tol`` times the suboptimality bound (the gap measured before
    the passes less the decrease since), as skglm stops its working-set
    solves relative to the outer criterion (``'auto'``: 0.1 with prox-Newton
    steps, 0.01 with the cheaper coordinate passes); without it one pass over every
    variable), ``gram_max_size`` (least squares: a working set of at most this many variables is
    solved on its Gram matrix instead, by coordinate passes with Anderson extrapolation every
    ``anderson`` passes (0: none) and Newton steps on its support, up to ``gram_epochs`` passes, to a
    thousandth of the largest optimality violation; see :func:`numopt.bcd._kernels.lazy_gram_lasso_cd`),
    ``newton_gram_size`` (prox-Newton: a working set of at most this many variables has its model
    solved on its dense Hessian, :func:`numopt.bcd._kernels.prox_newton_gram_step`, the others by
    ``newton_epochs`` coordinate passes with Anderson extrapolation every ``anderson`` passes),
    ``newton_max_size``, ``shuffle`` (random order each pass),
    ``seed``, ``backend`` (None or 'numba': the Numba kernels; 'numpy': their references).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import run
    >>> from numopt.bcd import least_squares
    >>> from numopt.bcd.epochs import ProxCoordinateEpochs
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 10)); b = A[:, :3].sum(axis=1)
    >>> res = run(ProxCoordinateEpochs(tol=1e-10), least_squares(A, b, l1=1.0), None)
    >>> res.success, res.n_nonzero, res.gap < 1e-8
    (True, 3, True)
    """

    name = "bcd-epochs"
    requires = ("incremental",)
    default_options = {"tol": 1e-6, "active_set": True, "working_set": True, "inner_epochs": 10,
                       "inner": "auto", "newton_epochs": 12, "subproblem_tol": "auto",
                       "newton_max_size": 2000, "gram_max_size": 128, "newton_gram_size": 32, "gram_epochs": 1000,
                       "anderson": 5, "shuffle": False, "seed": 0, "backend": None}

    def validate_options(self, o):
        check_positive("tol", o["tol"], strict=False)
        check_choice("inner", o["inner"], ("auto", "cd", "prox-newton"))
        check_positive("newton_epochs", o["newton_epochs"], integer=True)
        check_positive("newton_max_size", o["newton_max_size"], integer=True)
        check_positive("inner_epochs", o["inner_epochs"], integer=True)
        check_positive("gram_max_size", o["gram_max_size"], integer=True, strict=False)
        check_positive("gram_epochs", o["gram_epochs"], integer=True)
        check_positive("newton_gram_size", o["newton_gram_size"], integer=True, strict=False)
        check_positive("anderson", o["anderson"], integer=True, strict=False)
        if o["subproblem_tol"] != "auto":
            check_positive("subproblem_tol", o["subproblem_tol"], strict=False)
        check_choice("backend", o["backend"], (None, "numba", "numpy"))

    def init(self, problem, x0):
        if not (isinstance(problem, GLMProblem) and problem.C == 1 and problem.loss in ("squared", "logistic")
                and problem.l2 == 0 and not problem.nonneg):
            raise ValueError("ProxCoordinateEpochs needs an L1 least-squares or L1 logistic GLMProblem "
                             "(one output, l2 = 0, no bounds).")
        x0 = np.zeros(problem.n) if x0 is None else as_float_array(x0, "x0", shape=(problem.n,), copy=True)
        st = problem.init_state(np.zeros(problem.n), backend=self.options["backend"], track_grad=False)
        p0 = st.f
        grad0 = st.g  # exact at the fresh state; not kept up to date afterwards (track_grad=False)
        # the scale of the subgradient test at 0, needed only when the gap is undefined (an unpenalized variable)
        kkt0 = self._kkt(problem, st, grad0) if np.any(problem.l1 <= 0) else 1.0
        if np.any(x0):
            problem.apply(st, np.arange(problem.n), x0)
            grad0 = None
        inner = self.options["inner"]
        if inner == "auto":
            inner = "prox-newton" if problem.loss == "logistic" else "cd"
        m = problem.m
        state = SolverState(x=st.x, fun=st.f, pst=st, problem=problem, p0=max(p0, 1e-300), inner=inner,
                            work=(np.empty(m), np.empty(m), np.empty(m), np.empty(m)),
                            kkt_scale=max(1.0, kkt0),
                            support=None, n_newton=0, gram=None, gram_buf=np.zeros(m), ones=np.ones(m), grad=None,
                            diverged=False,
                            rng=check_rng(self.options["seed"]))
        self._measure(state, grad0)
        return state

    def _measure(self, state, grad=None):
        """Gradient and duality gap (or subgradient norm) at the state: a pass over A unless ``grad`` is given."""
        p, st = state.problem, state.pst
        state.grad = p.full_grad(st) if grad is None else grad
        state.gap = p.duality_gap(st, state.grad)
        if state.gap is None:
            state.kkt = self._kkt(p, st, state.grad)

    @staticmethod
    def _kkt(p, st, grad):
        """Infinity norm of the minimum-norm subgradient at the state, from the gradient ``grad``."""
        out = np.empty(p.n)
        st.K.min_norm_subgrad(grad, st.x, p.l1, False, np.arange(p.n, dtype=np.int64), out)
        return float(np.max(np.abs(out))) if p.n else 0.0

    def _converged(self, state):
        tol = self.options["tol"]
        if state.gap is not None:
            return state.gap <= tol * state.p0
        return state.kkt <= tol * state.kkt_scale

    def _working_set(self, state):
        """The support plus the variables at zero closest to entering it, from ``state.grad``.

        A variable at zero is ranked by ``|g_j| / lam_j`` (above 1: it violates optimality; just
        below: it is about to), so near-violators join the working set before they violate, which
        keeps the working sets of consecutive iterations stable. The size is twice the support, at
        least 10. Returns the working set and the largest optimality violation over all variables.
        """
        p, st = state.problem, state.pst
        s = np.empty(p.n)
        st.K.min_norm_subgrad(state.grad, st.x, p.l1, False, np.arange(p.n, dtype=np.int64), s)
        worst = float(np.abs(s).max()) if p.n else 0.0
        support = st.x != 0
        size = min(p.n, max(10, 2 * int(support.sum())))
        score = np.abs(state.grad) / np.where(p.l1 > 0, p.l1, 1.0)
        score[support | (p.l1 <= 0)] = np.inf
        top = np.argpartition(-score, size - 1)[:size]
        return np.sort(top).astype(np.int64), worst

    def _gram_solve(self, state, order, worst):
        """Least squares: solve the working-set problem on its Gram matrix (``_kernels.lazy_gram_lasso_cd``).

        Of the Gram matrix, the diagonal and the columns of the variables that are or become nonzero
        are built (a column costs a product with the working set's columns; those of the last working
        set are kept, see :meth:`_gram`); then a pass costs O(|order|) per moved coordinate instead
        of a sweep over the columns, the objective of a trial point (an Anderson extrapolation, a
        Newton step on the support) is exact and cheap, and the state is updated once at the end.
        Solves to a thousandth of the largest violation ``worst`` (over all variables), then takes a
        Newton step on the final support if it lowers the objective (``_kernels.polish_support``).
        """
        p, st, o = state.problem, state.pst, self.options
        A = p.A
        G, ready = self._gram(state, order)
        x = st.x[order].copy()
        g = state.grad[order].copy()
        lam = p.l1[order]
        columns = (A.indptr, A.indices, A.data, order, state.ones, state.gram_buf, G, ready)
        for t in np.flatnonzero((x != 0) & ~ready):  # the support Newton steps read the starting support's columns
            st.K.gram_column(*columns, t)
        st.K.lazy_gram_lasso_cd(*columns, g, x, lam, o["gram_epochs"], 1e-3 * worst, o["anderson"])
        st.K.polish_support(G, g, x, lam)  # exact on the right support: often saves an outer iteration
        p.apply(st, order, x - st.x[order])

    @staticmethod
    def _gram(state, order):
        """The Gram matrix of ``A[:, order]`` as far as known, and its mask of complete columns.

        The diagonal is always there; the entries of the previous working set are kept, and its
        complete columns are completed on the new variables (one product of the new columns with
        them); the other columns are built when their variable first moves.
        """
        A = state.problem.A
        k = order.size
        G = np.full((k, k), np.nan)
        ready = np.zeros(k, bool)
        if state.gram is None:
            pos_new = np.arange(k)
        else:
            old_order, old_G, old_ready = state.gram
            _, known, pos_old = np.intersect1d(order, old_order, assume_unique=True, return_indices=True)
            G[np.ix_(known, known)] = old_G[np.ix_(pos_old, pos_old)]
            ready[known] = old_ready[pos_old]
            pos_new = np.setdiff1d(np.arange(k), known, assume_unique=True)
        for t in pos_new:
            column = A.data[A.indptr[order[t]]:A.indptr[order[t] + 1]]
            G[t, t] = column @ column
        done = np.flatnonzero(ready)
        if pos_new.size and done.size:
            rows = np.empty((pos_new.size, done.size))
            state.pst.K.cross_gram(A.indptr, A.indices, A.data, order[pos_new], order[done], state.gram_buf, rows)
            G[np.ix_(pos_new, done)] = rows
            G[np.ix_(done, pos_new)] = rows.T
        state.gram = (order, G, ready)
        return G, ready

    def step(self, state):
        p, st, o = state.problem, state.pst, self.options
        f_prev = st.f
        A = p.A
        loss = 0 if p.loss == "squared" else 1
        gram = False
        if o["working_set"]:
            (order, worst), passes = self._working_set(state), o["inner_epochs"]
            gram = state.inner == "cd" and p.loss == "squared" and order.size <= o["gram_max_size"]
        else:
            order, passes, worst = np.arange(p.n, dtype=np.int64), 1, 0.0
        if gram:
            self._gram_solve(state, order, worst)
            passes = 0
        target = o["tol"] * state.p0
        fraction = o["subproblem_tol"]
        if fraction == "auto":  # coordinate passes are cheap next to a gradient pass, Newton steps are not
            fraction = 0.1 if state.inner == "prox-newton" else 0.01
        for _ in range(passes):
            if o["shuffle"]:
                order = state.rng.permutation(order)
            f_old = st.f
            # the gap measured at the start of the step, less the decrease since, bounds the suboptimality
            bound = max((state.gap or 0.0) - (f_prev - f_old), 0.0)
            change = 0.0
            if state.inner == "prox-newton":
                # the model's passes stop once no coordinate moves by more than 0.3 times the largest
                # optimality violation of the outer problem (the inner tolerance follows the outer gap, as
                # in skglm), or after newton_epochs; a fixed test (a thousandth of the gap target on the
                # summed movement) stopped them while large working sets' models were far from solved
                inner_tol = 0.3 * worst
                if order.size <= o["newton_gram_size"]:  # the model solved on its Hessian
                    change = st.K.prox_newton_gram_step(A.indptr, A.indices, A.data, loss, p.y, st.z, st.w,
                                                        st.lrow, st.x, p.l1, order, o["gram_epochs"],
                                                        o["anderson"], *state.work)
                else:
                    change = st.K.prox_newton_step(A.indptr, A.indices, A.data, loss, p.y, st.z, st.w, st.lrow,
                                                   st.x, p.l1, order, o["newton_epochs"], inner_tol, o["anderson"],
                                                   *state.work)
                st.fsmooth += change
            if change == 0.0:  # coordinate passes, or no Newton step was taken: one exact pass
                st.fsmooth += st.K.prox_cd_epoch(A.indptr, A.indices, A.data, loss, p.y, st.z, st.w, st.lrow,
                                                 st.x, p.l1, order)
            st.f = st.fsmooth + float(p.l1 @ np.abs(st.x))
            # a pass gaining this little leaves the working set: its problem is solved well enough for now
            if f_old - st.f <= max(0.1 * target, fraction * bound):
                break
        if st.f > f_prev + 1e-10 * max(1.0, abs(f_prev)):
            state.diverged = True
        self._measure(state)
        if o["active_set"] and not gram and not self._converged(state):
            support = np.sign(st.x)
            if state.support is not None and np.array_equal(support, state.support):
                if manifold_newton(p, st, max_size=o["newton_max_size"], grad=state.grad).size:
                    state.n_newton += 1
                    self._measure(state)
                    support = np.sign(st.x)
            state.support = support
        state.fun = st.f
        return state

    def terminate(self, state):
        if state.diverged:
            return Status.DIVERGED
        return Status.SUCCESS if self._converged(state) else None

    def postprocess(self, state, status):
        p, st = state.problem, state.pst
        x = st.x.copy()
        fun = float(st.lrow.sum()) + float(p.l1 @ np.abs(x))  # row losses are exact at the state's margins
        return OptimizeResult(x=x, fun=fun, gap=state.gap, kkt=self._kkt(p, st, state.grad),
                              n_newton=state.n_newton,
                              n_nonzero=int(np.count_nonzero(x)))

    def history_record(self, state):
        rec = {"fun": float(state.pst.f)}
        if state.gap is not None:
            rec["gap"] = float(state.gap)
        return rec
