"""Numba kernels of the randomized Kaczmarz solver, with readable NumPy references.

Each kernel runs a chunk of Kaczmarz steps ``z <- z - (r_i / ||A_i||^2) A_i^T``
for the row indices in ``rows`` (drawn beforehand by the caller), where
``r = A z - b``.

* :func:`rk_csr_chunk` works on CSR arrays and keeps the full residual ``r``
  up to date incrementally: a step touching row ``i`` changes ``z`` only on the
  support of ``A_i``, so ``r`` changes by ``-alpha * A[:, j] * A_ij`` for those
  columns ``j``, read from the CSR arrays of ``A^T``. The caller can then test
  ``||r||`` at any time without a product ``A z``.
* :func:`rk_dense_chunk` works on a dense matrix and forms ``r_i`` on the fly
  (``O(n)`` per step); the caller recomputes ``r`` when it tests convergence.

:func:`rk_reference` is the plain NumPy loop both are tested against.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["rk_csr_chunk", "rk_dense_chunk", "rk_reference"]


@njit(cache=True)
def rk_csr_chunk(data, indices, indptr, tdata, tindices, tindptr, rownorm2, rows, z, r):  # pragma: no cover
    """Kaczmarz steps on CSR ``A`` (``tdata, tindices, tindptr``: CSR of ``A^T``); updates ``z``, ``r``."""
    for k in range(rows.size):
        i = rows[k]
        nrm = rownorm2[i]
        if nrm == 0.0:
            continue
        alpha = r[i] / nrm
        if alpha == 0.0:
            continue
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            step = alpha * data[p]
            z[j] -= step
            for q in range(tindptr[j], tindptr[j + 1]):
                r[tindices[q]] -= step * tdata[q]


@njit(cache=True)
def rk_dense_chunk(A, b, rownorm2, rows, z):  # pragma: no cover
    """Kaczmarz steps on dense ``A``; updates ``z`` in place."""
    n = A.shape[1]
    for k in range(rows.size):
        i = rows[k]
        nrm = rownorm2[i]
        if nrm == 0.0:
            continue
        ri = -b[i]
        for j in range(n):
            ri += A[i, j] * z[j]
        alpha = ri / nrm
        for j in range(n):
            z[j] -= alpha * A[i, j]


def rk_reference(A, b, rows, z):
    """Readable NumPy Kaczmarz steps (dense or sparse ``A``); returns the new ``z``.

    Examples
    --------
    >>> A = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> rk_reference(A, np.array([2.0, 4.0]), np.array([0, 1]), np.zeros(2))
    array([1., 1.])
    """
    z = np.array(z, dtype=float, copy=True)
    for i in rows:
        row = A[[int(i)]]
        row = np.asarray(row.toarray() if hasattr(row, "toarray") else row).ravel()
        nrm = row @ row
        if nrm == 0.0:
            continue
        z -= ((row @ z - b[i]) / nrm) * row
    return z
