"""Numba kernels of the zero-fill incomplete Cholesky factorization (CSR, lower triangle)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def ichol0_factor(indptr, indices, data):
    """Overwrite ``data`` (lower triangle of A, sorted CSR) with L of IC(0); return the first failed row or -1."""
    n = indptr.size - 1
    for i in range(n):
        start, end = indptr[i], indptr[i + 1]
        for p in range(start, end):
            j = indices[p]
            # dot product of rows i and j of L over columns < j (both rows sorted)
            s = 0.0
            a, b = start, indptr[j]
            b_end = indptr[j + 1]
            while a < p and b < b_end:
                ca, cb = indices[a], indices[b]
                if cb >= j:
                    break
                if ca == cb:
                    s += data[a] * data[b]
                    a += 1
                    b += 1
                elif ca < cb:
                    a += 1
                else:
                    b += 1
            if j < i:
                data[p] = (data[p] - s) / data[indptr[j + 1] - 1]
            else:
                d = data[p] - s
                if d <= 0.0:
                    return i
                data[p] = np.sqrt(d)
    return -1


@njit(cache=True)
def ichol0_solve(indptr, indices, data, r):
    """Solve L L^T z = r with L from :func:`ichol0_factor` (diagonal last in each row)."""
    n = indptr.size - 1
    y = r.copy()
    for i in range(n):
        s = y[i]
        end = indptr[i + 1] - 1
        for p in range(indptr[i], end):
            s -= data[p] * y[indices[p]]
        y[i] = s / data[end]
    for i in range(n - 1, -1, -1):
        end = indptr[i + 1] - 1
        y[i] /= data[end]
        zi = y[i]
        for p in range(indptr[i], end):
            y[indices[p]] -= data[p] * zi
    return y
