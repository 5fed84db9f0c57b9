"""Quality measures for completed matrices, computed from factors without forming ``U V^T``."""

from __future__ import annotations

import numpy as np

from .._core.validate import as_float_array

__all__ = ["heldout_rmse", "relative_error"]


def relative_error(U, V, U_true, V_true) -> float:
    """Relative Frobenius error ``|U V^T - U_true V_true^T|_F / |U_true V_true^T|_F``.

    Uses thin QR factorizations of ``[U, -A]`` and ``[V, B]`` (``O((m + n) k^2)``), so it
    works for matrices far too large to form and stays accurate down to rounding level.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A, B = rng.standard_normal((50, 3)), rng.standard_normal((40, 3))
    >>> relative_error(A, B, A, B)
    0.0
    >>> round(relative_error(2 * A, B, A, B), 12)
    1.0
    """
    U, V = np.asarray(U, float), np.asarray(V, float)
    A, B = np.asarray(U_true, float), np.asarray(V_true, float)
    if U.shape[0] != A.shape[0] or V.shape[0] != B.shape[0]:
        raise ValueError(f"factor shapes do not match: U {U.shape}, V {V.shape} vs truth {A.shape}, {B.shape}.")
    # U V^T - A B^T = [U, -A] [V, B]^T; QR both sides so no squared quantities cancel
    r1 = np.linalg.qr(np.hstack([U, -A]), mode="r")
    r2 = np.linalg.qr(np.hstack([V, B]), mode="r")
    ra = np.linalg.qr(A, mode="r")
    rb = np.linalg.qr(B, mode="r")
    truth = np.linalg.norm(ra @ rb.T)
    err = np.linalg.norm(r1 @ r2.T)
    return float(err / truth) if truth > 0 else float(err)


def heldout_rmse(model, rows, cols, values) -> float:
    """Root-mean-square error of a completion on held-out entries.

    ``model`` is a fitted :class:`~numopt.completion.MatrixCompleter` (anything
    with ``predict(X)`` taking ``(row, column)`` pairs), a result of :func:`~numopt.completion.complete`
    (with ``U`` and ``V``) or a pair ``(U, V)``.

    Examples
    --------
    >>> U, V = np.ones((3, 1)), np.ones((2, 1))
    >>> heldout_rmse((U, V), [0, 2], [1, 0], [1.0, 3.0])
    1.4142135623730951
    """
    values = as_float_array(values, "values", ndim=1)
    rows, cols = np.asarray(rows), np.asarray(cols)
    if rows.shape != values.shape or cols.shape != values.shape:
        raise ValueError(f"rows, cols and values must have the same length; got {rows.size}, {cols.size}, "
                         f"{values.size}.")
    if values.size == 0:
        raise ValueError("values is empty: no held-out entries to score.")
    if hasattr(model, "predict"):
        pred = model.predict(np.column_stack([rows, cols]))
    else:
        if isinstance(model, dict):
            U, V = model["U"], model["V"]
        else:
            U, V = model
        pred = np.einsum("ij,ij->i", np.asarray(U)[rows], np.asarray(V)[cols])
    return float(np.sqrt(np.mean((pred - values) ** 2)))
