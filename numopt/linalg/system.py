"""What every linear solver of :mod:`numopt.linalg` shares: input checks, operators and the result.

Linear solvers follow scipy.sparse.linalg: ``solver(A, b, x0=None, *, rtol,
atol, maxiter, callback)``, stop when ``||b - A x|| <= max(rtol * ||b||,
atol)`` with scipy's defaults ``rtol = DEFAULT_RTOL = 1e-5`` and ``atol = 0``
(``cg``, ``pcg``, ``sor``, ``ssor_pcg``, ``sketch_solve`` and ``dcdm`` alike),
and return a :class:`numopt.LinearSolveResult` built by :func:`finish`:
``residual`` is always the true ``||b - A x||`` and ``rel_residual`` always
``residual / ||b||``, whatever the solver tracked internally. ``A`` may be a
``LinearOperator`` wherever only products with ``A`` are needed (``cg``,
``pcg``, ``sketch_solve`` with ``rmatvec``); SOR sweeps need the entries.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._core.backend import array_namespace, is_gpu_array
from .._core.result import LinearSolveResult, Status
from .._core.validate import as_float_array, check_finite, check_positive, check_square, check_symmetric

__all__ = ["DEFAULT_RTOL", "as_operator", "check_symmetric_system", "check_tolerances", "finish",
           "prepare_system"]

#: Default relative tolerance of every linear solver (scipy's).
DEFAULT_RTOL = 1e-5


def prepare_system(A, b, x0=None):
    """Validate a square system ``A x = b`` and starting point; return ``(A, b, x0)``.

    ``A`` may be a dense array, a scipy sparse matrix (or array) or a
    ``LinearOperator``; ``b`` and ``x0`` become float vectors of length ``n``
    (``x0`` defaults to zeros). CuPy arrays stay on the GPU.

    Examples
    --------
    >>> A, b, x0 = prepare_system(np.eye(2), [1, 2])
    >>> b, x0
    (array([1., 2.]), array([0., 0.]))
    >>> prepare_system(np.eye(2), [1, 2, 3])
    Traceback (most recent call last):
    ...
    ValueError: b must have shape (2,); got (3,).
    """
    check_square(A, "A")
    n = A.shape[0]
    if n == 0:
        raise ValueError("A must have at least one row; got shape (0, 0) (an empty system has nothing to solve).")
    dtype = getattr(A, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind == "c":
        raise TypeError(f"A must be real; got complex dtype {np.dtype(dtype)} (the solvers work in real "
                        "arithmetic; split a complex system into its real 2n x 2n form).")
    if not isinstance(A, LinearOperator):
        if sp.issparse(A) or is_gpu_array(A):
            check_finite(A, "A")
        else:
            A = as_float_array(A, "A")
    xp = array_namespace(b)
    b = as_float_array(b, "b", shape=(n,), xp=xp)
    x0 = xp.zeros(n, dtype=b.dtype) if x0 is None else as_float_array(x0, "x0", shape=(n,), copy=True, xp=xp)
    return A, b, x0


def check_tolerances(rtol, atol) -> None:
    """Raise unless ``rtol, atol >= 0`` and not both zero."""
    check_positive("rtol", rtol, strict=False)
    check_positive("atol", atol, strict=False)
    if rtol == 0 and atol == 0:
        raise ValueError("rtol and atol cannot both be 0: the iteration could never stop.")


def check_symmetric_system(A, name: str = "A", rtol: float = 1e-8) -> None:
    """Raise a ValueError unless the matrix ``A`` is symmetric (what conjugate gradients needs).

    A dense or sparse matrix is compared with its transpose (``O(nnz)``, less
    than one CG iteration's work). A ``LinearOperator`` (or a GPU array) is
    not checked: that would cost extra products, and operators such as
    finite-difference Hessian products are symmetric only up to their own
    error; the caller vouches for them.

    Examples
    --------
    >>> check_symmetric_system(np.array([[2.0, 1.0], [0.0, 2.0]]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: A must be symmetric; max |A - A^T| = 1 (relative 0.5). Pass assume_symmetric=True ...
    """
    if isinstance(A, LinearOperator) or is_gpu_array(A):
        return
    try:
        check_symmetric(A, name, rtol=rtol)
    except ValueError as exc:
        raise ValueError(f"{exc} Pass assume_symmetric=True to skip this check.") from None


def as_operator(A, name: str):
    """``v -> A v`` for a matrix, a LinearOperator or a callable (the preconditioner case)."""
    if isinstance(A, LinearOperator):
        return A.matvec
    if hasattr(A, "shape") and hasattr(A, "__matmul__"):
        return A.__matmul__
    if callable(A):
        return A
    raise TypeError(f"{name} must be a matrix, a LinearOperator or a callable; got {type(A).__name__}.")


def _info(result) -> int:
    status = Status.from_code(result["status"])
    if status.success:
        return 0
    if status in (Status.MAXITER, Status.MAXTIME, Status.CALLBACK):
        return int(result["nit"])
    return -1


def finish(result, A, b) -> LinearSolveResult:
    """The result contract of a linear solve: true ``residual``, ``rel_residual`` and scipy's ``info``.

    ``result`` is a driver result (or a dict with ``x``, ``status``, ``nit``);
    one extra product with ``A`` gives the true residual norm. ``info`` is 0
    on success, the iteration count when an iteration or time limit or the
    callback stopped the run, and -1 otherwise (breakdown, non-finite values).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import Status
    >>> from numopt.linalg.system import finish
    >>> res = finish({"x": np.array([1.0, 0.0]), "status": Status.MAXITER.code, "nit": 4},
    ...              np.eye(2), np.array([1.0, 1.0]))
    >>> res.residual, res.rel_residual, res.info, res.success
    (1.0, 0.7071067811865475, 4, False)
    """
    out = LinearSolveResult(result)
    status = Status.from_code(out["status"])
    if out.get("breakdown"):
        out["message"] = f"{status.value.split(':')[0]}: {out['breakdown']}"
    out.setdefault("success", status.success)
    out.setdefault("message", status.value)
    out.setdefault("time", 0.0)
    x = out["x"]
    xp = array_namespace(x)
    rnorm = float(xp.linalg.norm(b - as_operator(A, "A")(x)))
    bnorm = float(xp.linalg.norm(b))
    out["residual"] = rnorm
    out["rel_residual"] = rnorm / bnorm if bnorm > 0 else rnorm
    out["info"] = _info(out)
    return out
