"""Deep conjugate direction method (DCDM) for symmetric positive definite systems.

Kaneda et al., "A Deep Conjugate Direction Method for Iteratively Solving
Linear Systems", ICML 2023. Each iteration asks a *direction model* for a
search direction from the normalized residual, A-orthogonalizes it against
the last ``k`` search directions, and takes the exact line-search step along it:

.. code-block:: text

    q     = model(r / ||r||)
    q    -= sum_j (q^T A p_j / p_j^T A p_j) p_j      (last k directions p_j)
    alpha = q^T r / q^T A q
    x    += alpha q,   r -= alpha A q

With the identity as the model and ``k >= 1`` this is exactly the conjugate
gradient method; with a trained network (:mod:`numopt.linalg.dcdm_model`)
the directions approximate A^{-1} r up to scale, which is what makes the
iteration count nearly independent of the grid size. Any callable works as
the model, so a classical preconditioner can stand in.

Unlike the reference code, stopping is relative for every method
(``||r|| <= max(rtol ||b||, atol)``, as in scipy), so comparisons with CG are
at equal relative tolerance.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np
import scipy.sparse.linalg as spla

from .._core.result import LinearSolveResult, Status
from .._core.validate import check_choice, check_in_range, check_positive, check_symmetric
from .system import as_operator, check_tolerances, finish, prepare_system

__all__ = ["dcdm"]


def dcdm(A, b, x0=None, *, model: Callable | None = None, k: int = 2, rtol: float = 1e-6, atol: float = 0.0,
         maxiter: int | None = None, maxtime: float | None = None, M=None, stall_window: int = 20,
         stall_decrease: float = 0.5, on_stall: str = "fallback", recompute_every: int = 50,
         callback: Callable | None = None, record_history: bool = False) -> LinearSolveResult:
    """Solve the SPD system A x = b by conjugate directions proposed by ``model``.

    Parameters
    ----------
    A : (n, n) array, sparse matrix or LinearOperator
        Symmetric positive definite (symmetry is checked for explicit matrices).
    b : (n,) array
        Right-hand side.
    x0 : (n,) array, optional
        Start (default zero).
    model : callable, optional
        ``model(r) -> q`` maps a unit-norm residual to a search direction of the
        same shape: a trained :class:`~numopt.linalg.dcdm_model.DirectionModel`,
        a preconditioner's action, or ``None`` for the fallback direction
        (``M r``; the residual itself without ``M``: plain CG).
    k : int
        Number of previous directions each new one is A-orthogonalized against.
    rtol, atol : float
        Stop when ``||b - A x|| <= max(rtol * ||b||, atol)``.
    maxiter : int, optional
        Iteration limit (default ``10 * n``).
    maxtime : float, optional
        Wall-clock limit in seconds (checked after every iteration; default none).
    M : matrix, LinearOperator or callable, optional
        Preconditioner whose action on the residual is the fallback direction
        after a stall (default: the residual itself, i.e. CG).
    stall_window, stall_decrease : int, float
        The model stalls when the best residual norm has not fallen below
        ``stall_decrease`` times its value ``stall_window`` iterations earlier. A model
        that declares itself a linear symmetric positive definite map
        (``model.linear_spd``, e.g. the multilevel networks) makes the run preconditioned
        CG, whose residual may grow for many iterations while the A-norm error falls: it
        stalls only when, in addition, its steps lowered the energy
        ``x^T A x / 2 - b^T x`` by less on average over the window than one step along the
        fallback direction would now (checked at most once a window).
        The fallback iteration stalls when it has not improved at all
        (factor 0.999) over ``10 * stall_window`` iterations.
    on_stall : {"fallback", "stop"}
        What a stall of the model does: ``"fallback"`` restarts from the best
        iterate with the (preconditioned) residual as direction for the rest of
        the run, counting those iterations in ``n_fallback``; ``"stop"`` returns
        the best iterate with status STAGNATION. A stall of the fallback
        iteration always stops with STAGNATION.
    recompute_every : int
        Recompute the residual as ``b - A x`` every this many iterations (the
        updated residual drifts in floating point); convergence is always
        confirmed on the true residual.
    callback : callable, optional
        ``callback(xk)`` after each iteration.
    record_history : bool
        Keep ``history = {"nit": [...], "residual": [...]}`` (residual norms, the
        same layout as :func:`numopt.linalg.cg`).

    Returns
    -------
    LinearSolveResult
        Unpacks as ``(x, info)``: ``info`` is 0 on convergence, the iteration
        count when ``maxiter``, ``maxtime`` or the callback stopped the run, and
        -1 on stagnation or when no descent direction could be found (A not
        positive definite along the search space). After a limit or a stall
        ``x`` is the iterate with the smallest residual seen. Also ``nit``, ``status``,
        ``residual`` (``||b - A x||``), ``rel_residual`` (``residual / ||b||``),
        ``n_fallback`` (iterations that used the fallback direction: the model's
        direction was NaN, zero or had q^T A q <= 0, or the model had stalled),
        ``stalled_at`` (the iteration of the model's stall, or None) and ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems.pde import poisson
    >>> A = poisson((16, 16))
    >>> b = np.ones(A.shape[0])
    >>> x, info = dcdm(A, b, rtol=1e-8)             # identity model: conjugate gradients
    >>> info, bool(np.linalg.norm(b - A @ x) <= 1e-8 * np.linalg.norm(b))
    (0, True)
    >>> exact = lambda r: np.linalg.solve(A.toarray(), r)  # a perfect model converges in one step
    >>> dcdm(A, b, model=exact).nit
    1
    >>> useless = lambda r: np.roll(r, 1)           # a poor model stalls; CG finishes the solve
    >>> res = dcdm(A, b, model=useless, rtol=1e-8)
    >>> res.success, res.stalled_at is not None, res.n_fallback > 0
    (True, True, True)
    """
    A, b, x = prepare_system(A, b, x0)
    if not isinstance(A, spla.LinearOperator):
        check_symmetric(A, "A")
    matvec = A.matvec if isinstance(A, spla.LinearOperator) else A.__matmul__
    n = A.shape[0]
    check_tolerances(rtol, atol)
    check_positive("k", k, integer=True)
    check_positive("recompute_every", recompute_every, integer=True)
    check_positive("stall_window", stall_window, integer=True)
    check_in_range("stall_decrease", stall_decrease, 0.0, 1.0, closed="right")
    check_choice("on_stall", on_stall, ("fallback", "stop"))
    maxiter = 10 * n if maxiter is None else check_positive("maxiter", maxiter, strict=False, integer=True)
    if maxtime is not None:
        check_positive("maxtime", maxtime)
    precondition = _identity if M is None else as_operator(M, "M")
    learned = model is not None
    propose = model if learned else precondition
    linear_model = bool(getattr(model, "linear_spd", False))

    t0 = time.perf_counter()
    bnorm = float(np.linalg.norm(b))
    threshold = max(rtol * bnorm, atol)
    r = b - matvec(x) if x0 is not None else b.copy()
    rnorm = float(np.linalg.norm(r))
    history = {"nit": [0], "residual": [rnorm]} if record_history else None
    directions: deque = deque(maxlen=k)
    watch = (_StallWatch(stall_window, stall_decrease, rnorm, x) if learned
             else _StallWatch(_FALLBACK_WINDOWS * stall_window, _FALLBACK_DECREASE, rnorm, x))
    n_fallback = 0
    nit = 0
    stalled_at = None
    status = Status.SUCCESS
    message = None
    while True:
        if rnorm <= threshold:
            r = b - matvec(x)  # confirm on the true residual
            rnorm = float(np.linalg.norm(r))
            if rnorm <= threshold:
                break
            directions.clear()
        if nit >= maxiter or (maxtime is not None and time.perf_counter() - t0 >= maxtime):
            status = Status.MAXITER if nit >= maxiter else Status.MAXTIME
            x = watch.x_best if watch.best < rnorm else x
            break
        stalled = watch.stalled()
        if stalled and propose is model and linear_model:
            # a linear SPD model is preconditioned CG: its residual may grow for many iterations while the
            # error falls; it stalls only when its energy steps fall behind the fallback's (checked once a
            # window)
            if nit >= watch.recheck_at and _model_beats_fallback(watch, precondition, r, matvec):
                watch.recheck_at = nit + watch.window
            stalled = nit >= watch.recheck_at
        if stalled:
            if propose is model and on_stall == "fallback":
                stalled_at, propose = nit, precondition
                watch = _StallWatch(_FALLBACK_WINDOWS * stall_window, _FALLBACK_DECREASE, watch.best, watch.x_best)
                x = watch.x_best.copy()
                r = b - matvec(x)
                rnorm = float(np.linalg.norm(r))
                directions = deque(maxlen=1)  # (preconditioned) CG needs only the last direction
            else:
                status = Status.STAGNATION
                message = _stall_message(watch, "the model's directions" if propose is model
                                         else "the (preconditioned) residual directions", nit)
                x = watch.x_best
                break
        if propose is model:
            q = _propose(model, r / rnorm, n)
            used_fallback = q is None
            q = precondition(r) if q is None else q
        else:
            q = precondition(r)
            used_fallback = learned
        q, Aq, qAq = _orthogonalize(np.array(q, dtype=float), directions, matvec)
        if not (np.isfinite(qAq) and qAq > 0) and propose is model:
            used_fallback = True
            q, Aq, qAq = _orthogonalize(np.array(precondition(r), dtype=float), directions, matvec)
        n_fallback += used_fallback
        if not (np.isfinite(qAq) and qAq > 0):
            status = Status.BREAKDOWN
            break
        qr = float(q @ r)
        alpha = qr / qAq
        x += alpha * q
        nit += 1
        if nit % recompute_every == 0:
            r = b - matvec(x)
        else:
            r -= alpha * Aq
        rnorm = float(np.linalg.norm(r))
        watch.update(rnorm, x, alpha * qr)
        directions.append((q, Aq, qAq))
        if history is not None:
            history["nit"].append(nit)
            history["residual"].append(rnorm)
        if callback is not None:
            try:
                callback(x)
            except StopIteration:
                if rnorm > threshold:
                    status = Status.CALLBACK
                break
    message = message or status.value
    if stalled_at is not None:
        energy = ", and its energy steps behind one fallback step's" if linear_model else ""
        message += (f" The model stalled at iteration {stalled_at} (residual not below {stall_decrease:g}x its "
                    f"best over {stall_window} iterations{energy}); the run continued from the best iterate "
                    "with the preconditioned residual as direction.")
    elif n_fallback:
        message += f" The model's direction was unusable in {n_fallback} iteration(s); the residual was used."
    res = finish(dict(x=x, status=status.code, nit=nit, n_fallback=n_fallback, stalled_at=stalled_at,
                      message=message, time=time.perf_counter() - t0), A, b)
    if history is not None:
        res["history"] = history
    return res


#: The fallback (preconditioned residual) iteration stalls when its best residual has not improved by
#: 0.1 % over this many model windows: conjugate gradients may progress slowly, but not that slowly.
_FALLBACK_WINDOWS = 10
_FALLBACK_DECREASE = 0.999


class _StallWatch:
    """Best residual so far (and its iterate), the test "no sufficient decrease over a window" and the
    energy decrease of the last steps."""

    def __init__(self, window: int, decrease: float, rnorm: float, x: np.ndarray):
        self.window, self.decrease = window, decrease
        self.best, self.x_best = rnorm, x.copy()
        self.bests = deque([rnorm], maxlen=window + 1)  # best residual after each of the last iterations
        self.energy_drops = deque(maxlen=window)  # decrease of x^T A x / 2 - b^T x in each of the last steps
        self.recheck_at = 0  # a model found ahead of the fallback is not judged again before this iteration

    def update(self, rnorm: float, x: np.ndarray, energy_drop: float) -> None:
        if rnorm < self.best:
            self.best = rnorm
            self.x_best[...] = x
        self.bests.append(self.best)
        self.energy_drops.append(energy_drop)

    def mean_energy_drop(self) -> float:
        return float(np.mean(self.energy_drops))

    def stalled(self) -> bool:
        return len(self.bests) > self.window and self.best > self.decrease * self.bests[0]

    def describe(self) -> str:
        return f"below {self.decrease:g}x its value {self.window} iterations earlier"


def _model_beats_fallback(watch, precondition, r, matvec) -> bool:
    """Whether the model's steps, on average over the window, lowered the energy ``x^T A x / 2 - b^T x``
    more than one step along the fallback direction ``M r`` would lower it now.

    The energy falls at every step (exact line search), and for a linear SPD model the A-norm error falls
    as in preconditioned CG, while the residual norm may grow for many iterations on an ill-conditioned
    system: a model whose steps still beat the fallback's has not stalled, whatever its residual does.
    """
    z = np.asarray(precondition(r), dtype=float)
    zAz = float(z @ matvec(z))
    if not (np.isfinite(zAz) and zAz > 0):
        return True
    return watch.mean_energy_drop() > float(z @ r) ** 2 / zAz


def _stall_message(watch, phase, nit) -> str:
    return (f"{Status.STAGNATION.value} With {phase}, the best residual norm {watch.best:.3e} did not fall "
            f"{watch.describe()} (stopped at iteration {nit}; the best iterate is returned).")


def _identity(r):
    return r


def _propose(model, r_unit, n):
    """The model's direction, or None when it is unusable (wrong shape, non-finite, zero)."""
    q = np.asarray(model(r_unit), dtype=float)
    if q.shape != (n,):
        raise ValueError(f"model returned a direction of shape {q.shape}; expected ({n},). "
                         "Was it built for another grid?")
    if not np.all(np.isfinite(q)) or not np.any(q):
        return None
    return q


def _orthogonalize(q, directions, matvec):
    """A-orthogonalize ``q`` against the stored ``(p, Ap, pAp)`` and return ``(q, Aq, q^T A q)``."""
    for p, Ap, pAp in directions:
        q -= (float(q @ Ap) / pAp) * p
    Aq = matvec(q)
    return q, Aq, float(q @ Aq)
