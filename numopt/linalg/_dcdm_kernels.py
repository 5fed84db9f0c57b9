"""Numba kernels of the multilevel DCDM network: zero-padded 3^d correlation, 2x sum-pooling, 2x upsampling.

Grids are C-contiguous float32 arrays. The correlation reads ``x`` as zero outside its shape, which
may differ from the output's by a cell per axis (the padding of an odd grid before pooling):

    out[i] = beta * base[i] + gamma * sum_t w[t] x[i + t - 1]       (t in {0, 1, 2}^d).

Each tap is one pass over the output with a contiguous inner loop, which LLVM vectorizes.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def correlate2(x, w, out, base, beta, gamma):
    """``out = beta * base + gamma * (w correlated with x)`` in 2-D (out may be base; beta 0 ignores base)."""
    n0, n1 = out.shape
    m0, m1 = x.shape
    for i in range(n0):
        for j in range(n1):
            out[i, j] = beta * base[i, j] if beta != 0 else 0.0
    for a in range(3):
        for c in range(3):
            wt = gamma * w[a, c]
            lo0, hi0 = max(0, 1 - a), min(n0, m0 + 1 - a)
            lo1, hi1 = max(0, 1 - c), min(n1, m1 + 1 - c)
            for i in range(lo0, hi0):
                for j in range(lo1, hi1):
                    out[i, j] += wt * x[i + a - 1, j + c - 1]


@njit(cache=True)
def correlate3(x, w, out, base, beta, gamma):
    """``out = beta * base + gamma * (w correlated with x)`` in 3-D (as :func:`correlate2`)."""
    n0, n1, n2 = out.shape
    m0, m1, m2 = x.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                out[i, j, k] = beta * base[i, j, k] if beta != 0 else 0.0
    for a in range(3):
        for c in range(3):
            for e in range(3):
                wt = gamma * w[a, c, e]
                lo0, hi0 = max(0, 1 - a), min(n0, m0 + 1 - a)
                lo1, hi1 = max(0, 1 - c), min(n1, m1 + 1 - c)
                lo2, hi2 = max(0, 1 - e), min(n2, m2 + 1 - e)
                for i in range(lo0, hi0):
                    for j in range(lo1, hi1):
                        for k in range(lo2, hi2):
                            out[i, j, k] += wt * x[i + a - 1, j + c - 1, k + e - 1]


@njit(cache=True)
def pool2(x, scale, out):
    """``out[I, J] = scale * sum of the 2 x 2 block of x at (2I, 2J)``."""
    n0, n1 = out.shape
    for i in range(n0):
        for j in range(n1):
            out[i, j] = scale * (x[2 * i, 2 * j] + x[2 * i, 2 * j + 1] + x[2 * i + 1, 2 * j]
                                 + x[2 * i + 1, 2 * j + 1])


@njit(cache=True)
def pool3(x, scale, out):
    """``out[I, J, K] = scale * sum of the 2 x 2 x 2 block of x at (2I, 2J, 2K)``."""
    n0, n1, n2 = out.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                s = 0.0
                for a in range(2):
                    for c in range(2):
                        for e in range(2):
                            s += x[2 * i + a, 2 * j + c, 2 * k + e]
                out[i, j, k] = scale * s


@njit(cache=True)
def upsample2(x, out):
    """``out[i, j] = x[i // 2, j // 2]`` (``out`` twice the size of ``x`` per axis)."""
    n0, n1 = out.shape
    for i in range(n0):
        for j in range(n1):
            out[i, j] = x[i // 2, j // 2]


@njit(cache=True)
def upsample3(x, out):
    """``out[i, j, k] = x[i // 2, j // 2, k // 2]``."""
    n0, n1, n2 = out.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                out[i, j, k] = x[i // 2, j // 2, k // 2]


CORRELATE = {2: correlate2, 3: correlate3}
POOL = {2: pool2, 3: pool3}
UPSAMPLE = {2: upsample2, 3: upsample3}


def warm_up() -> None:
    """Compile the kernels (they are cached on disk after the first run)."""
    for dim in (2, 3):
        x = np.zeros((4,) * dim, dtype=np.float32)
        w = np.zeros((3,) * dim, dtype=np.float32)
        CORRELATE[dim](x, w, x, x, np.float32(1), np.float32(1))
        POOL[dim](x, np.float32(1), np.zeros((2,) * dim, dtype=np.float32))
        UPSAMPLE[dim](np.zeros((2,) * dim, dtype=np.float32), x)
