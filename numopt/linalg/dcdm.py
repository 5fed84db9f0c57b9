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
from .._core.validate import check_positive, check_symmetric
from .system import check_tolerances, finish, prepare_system

__all__ = ["dcdm"]


def dcdm(A, b, x0=None, *, model: Callable | None = None, k: int = 2, rtol: float = 1e-6, atol: float = 0.0,
         maxiter: int | None = None, recompute_every: int = 50, callback: Callable | None = None,
         record_history: bool = False) -> LinearSolveResult:
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
        a preconditioner's action, or ``None`` for the identity (plain CG).
    k : int
        Number of previous directions each new one is A-orthogonalized against.
    rtol, atol : float
        Stop when ``||b - A x|| <= max(rtol * ||b||, atol)``.
    maxiter : int, optional
        Iteration limit (default ``10 * n``).
    recompute_every : int
        Recompute the residual as ``b - A x`` every this many iterations (the
        updated residual drifts in floating point).
    callback : callable, optional
        ``callback(xk)`` after each iteration.
    record_history : bool
        Keep ``history = {"nit": [...], "residual": [...]}`` (residual norms, the
        same layout as :func:`numopt.linalg.cg`).

    Returns
    -------
    LinearSolveResult
        Unpacks as ``(x, info)``: ``info`` is 0 on convergence, the iteration
        count when ``maxiter`` was reached, and -1 when no descent direction
        could be found (A not positive definite along the search space). Also
        ``nit``, ``residual`` (``||b - A x||``), ``rel_residual`` (``residual / ||b||``), ``n_fallback``
        (iterations where the model's direction was NaN or had q^T A q <= 0 and
        the residual direction was used instead) and ``message``.

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
    """
    A, b, x = prepare_system(A, b, x0)
    if not isinstance(A, spla.LinearOperator):
        check_symmetric(A, "A")
    matvec = A.matvec if isinstance(A, spla.LinearOperator) else A.__matmul__
    n = A.shape[0]
    check_tolerances(rtol, atol)
    check_positive("k", k, integer=True)
    check_positive("recompute_every", recompute_every, integer=True)
    maxiter = 10 * n if maxiter is None else check_positive("maxiter", maxiter, strict=False, integer=True)
    if model is None:
        model = _identity

    t0 = time.perf_counter()
    bnorm = float(np.linalg.norm(b))
    threshold = max(rtol * bnorm, atol)
    r = b - matvec(x) if x0 is not None else b.copy()
    rnorm = float(np.linalg.norm(r))
    history = {"nit": [0], "residual": [rnorm]} if record_history else None
    directions: deque = deque(maxlen=k)
    n_fallback = 0
    nit = 0
    status = Status.SUCCESS
    while rnorm > threshold:
        if nit >= maxiter:
            status = Status.MAXITER
            break
        q = _propose(model, r / rnorm, n)
        used_fallback = q is None
        q = r.copy() if q is None else q
        q, Aq, qAq = _orthogonalize(q, directions, matvec)
        if not (np.isfinite(qAq) and qAq > 0) and not used_fallback:
            used_fallback = True
            q, Aq, qAq = _orthogonalize(r.copy(), directions, matvec)
        n_fallback += used_fallback
        if not (np.isfinite(qAq) and qAq > 0):
            status = Status.BREAKDOWN
            break
        alpha = float(q @ r) / qAq
        x += alpha * q
        nit += 1
        if nit % recompute_every == 0:
            r = b - matvec(x)
        else:
            r -= alpha * Aq
        rnorm = float(np.linalg.norm(r))
        directions.append((q, Aq, qAq))
        if history is not None:
            history["nit"].append(nit)
            history["residual"].append(rnorm)
        if callback is not None:
            try:
                callback(x)
            except StopIteration:
                status = Status.CALLBACK if rnorm > threshold else status
                break
    message = status.value
    if n_fallback:
        message += f" The model's direction was unusable in {n_fallback} iteration(s); the residual was used."
    res = finish(dict(x=x, status=status.code, nit=nit, n_fallback=n_fallback, message=message,
                      time=time.perf_counter() - t0), A, b)
    if history is not None:
        res["history"] = history
    return res


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
