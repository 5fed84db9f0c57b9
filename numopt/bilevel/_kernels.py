"""Numba kernels of the bilevel applications, each with a NumPy reference.

``glm_batch_grad`` is the hot loop of the stochastic methods on sparse data:
the mean loss and gradient of a generalized linear model over a minibatch of
CSR rows, computed from ``data, indices, indptr`` without slicing the matrix
(scipy's row slicing allocates a new matrix per minibatch).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["LOSSES", "glm_batch_grad", "glm_batch_grad_reference"]

#: Loss name -> code used by the kernels.
LOSSES = {"ridge": 0, "logistic": 1}


@njit(cache=True)
def _loss_and_slope(t, b, code):
    if code == 0:
        r = t - b
        return 0.5 * r * r, r
    m = -b * t
    if m > 0:
        loss = m + np.log1p(np.exp(-m))
        slope = -b / (1.0 + np.exp(-m))
    else:
        loss = np.log1p(np.exp(m))
        e = np.exp(m)
        slope = -b * e / (1.0 + e)
    return loss, slope


@njit(cache=True)
def glm_batch_grad(data, indices, indptr, rows, w, labels, code):
    """Mean loss and gradient in w of ``loss(a_i @ w, b_i)`` over CSR rows ``rows``.

    ``code``: 0 for least squares ``(t - b)^2 / 2``, 1 for logistic ``log(1 + exp(-b t))``.
    """
    grad = np.zeros(w.size)
    total = 0.0
    nb = rows.size
    for k in range(nb):
        i = rows[k]
        t = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            t += data[p] * w[indices[p]]
        loss, slope = _loss_and_slope(t, labels[i], code)
        total += loss
        for p in range(indptr[i], indptr[i + 1]):
            grad[indices[p]] += slope * data[p]
    return total / nb, grad / nb


def glm_batch_grad_reference(A, rows, w, labels, code):
    """Readable NumPy/scipy reference of :func:`glm_batch_grad` (``A`` a scipy sparse or dense matrix)."""
    Ab = A[rows]
    t = np.asarray(Ab @ w).ravel()
    b = labels[rows]
    if code == 0:
        loss, slope = 0.5 * (t - b) ** 2, t - b
    else:
        loss = np.logaddexp(0.0, -b * t)
        slope = -b / (1.0 + np.exp(b * t))
    return float(loss.mean()), np.asarray(Ab.T @ slope).ravel() / len(rows)
