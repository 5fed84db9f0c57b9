"""Numba kernels of SOR: sweeps in natural and multicolor order, residuals, SSOR, graph colorings.

Matrices are CSR arrays ``(data, indices, indptr)`` with sorted, duplicate-free
column indices; ``diag`` holds the diagonal. A forward SOR sweep overwrites
``x`` row by row with

    x_i <- (1 - omega) x_i + omega / a_ii (b_i - sum_{j != i} a_ij x_j),

which is ``x <- x + (D / omega + L)^{-1} (b - A x)``; the backward sweep runs
the rows in reverse (``D / omega + U``). A colored sweep visits the colors in
order and updates all rows of one color in parallel (rows of one color are not
coupled), which is the natural-order sweep of the symmetrically permuted matrix.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: sweep codes shared with :mod:`numopt.linalg.sor`
FORWARD, BACKWARD, SYMMETRIC = 0, 1, 2


@njit(cache=True)
def _sweep_rows(data, indices, indptr, diag, b, x, omega, order, start, stop, step):
    # x_i + omega r_i / a_ii, with r_i the residual of the current x, is the update above
    for m in range(start, stop, step):
        i = order[m]
        s = b[i]
        for k in range(indptr[i], indptr[i + 1]):
            s -= data[k] * x[indices[k]]
        x[i] += omega * s / diag[i]


@njit(cache=True)
def sweep(data, indices, indptr, diag, b, x, omega, kind, order):
    """One SOR sweep in place over the rows ``order[0], order[1], ...`` (reversed for the backward half).

    ``kind`` is 0 forward, 1 backward, 2 forward then backward. ``order`` is
    ``arange(n)`` for the natural ordering; rows grouped by color give the
    colored sweep, run serially.
    """
    n = order.shape[0]
    if kind != BACKWARD:
        _sweep_rows(data, indices, indptr, diag, b, x, omega, order, 0, n, 1)
    if kind != FORWARD:
        _sweep_rows(data, indices, indptr, diag, b, x, omega, order, n - 1, -1, -1)


@njit(cache=True, parallel=True)
def colored_sweep(data, indices, indptr, diag, b, x, omega, kind, order, color_ptr):
    """SOR sweep over colors: ``order[color_ptr[c]:color_ptr[c+1]]`` are the rows of color ``c``.

    Colors are visited in order (reversed for the backward half), the rows of
    one color in parallel; the result equals :func:`sweep` along ``order``.
    """
    ncolors = color_ptr.shape[0] - 1
    npass = 2 * ncolors if kind == SYMMETRIC else ncolors
    for p in range(npass):
        if kind == BACKWARD:
            c = ncolors - 1 - p
        elif p < ncolors:
            c = p
        else:  # backward half of a symmetric sweep
            c = 2 * ncolors - 1 - p
        for m in prange(color_ptr[c], color_ptr[c + 1]):
            i = order[m]
            s = b[i]
            for k in range(indptr[i], indptr[i + 1]):
                s -= data[k] * x[indices[k]]
            x[i] += omega * s / diag[i]


@njit(cache=True)
def residual_norm(data, indices, indptr, b, x):
    """``||b - A x||_2`` without storing the residual."""
    total = 0.0
    for i in range(b.shape[0]):
        s = b[i]
        for k in range(indptr[i], indptr[i + 1]):
            s -= data[k] * x[indices[k]]
        total += s * s
    return np.sqrt(total)


@njit(cache=True)
def solve(data, indices, indptr, diag, b, x, omega, kind, order, tol, maxiter):
    """Serial sweeps along ``order`` until ``||b - A x|| <= tol`` or ``maxiter`` sweeps.

    Returns ``(nit, residual norm)``.

    The residual is checked after every sweep, so ``nit`` is the exact sweep count.
    """
    rnorm = residual_norm(data, indices, indptr, b, x)
    nit = 0
    while rnorm > tol and nit < maxiter and np.isfinite(rnorm):
        sweep(data, indices, indptr, diag, b, x, omega, kind, order)
        rnorm = residual_norm(data, indices, indptr, b, x)
        nit += 1
    return nit, rnorm


@njit(cache=True)
def solve_recording(data, indices, indptr, diag, b, x, omega, kind, order, tol, maxiter, history):
    """:func:`solve` that also writes the residual norm before the first and after every sweep into ``history``.

    ``history`` has room for ``maxiter + 1`` values; returns ``(nit, residual norm)``.
    """
    rnorm = residual_norm(data, indices, indptr, b, x)
    history[0] = rnorm
    nit = 0
    while rnorm > tol and nit < maxiter and np.isfinite(rnorm):
        sweep(data, indices, indptr, diag, b, x, omega, kind, order)
        rnorm = residual_norm(data, indices, indptr, b, x)
        nit += 1
        history[nit] = rnorm
    return nit, rnorm


@njit(cache=True)
def solve_many_recording(data, indices, indptr, diag, b, omegas, kind, order, tol, maxiter, out, histories):
    """:func:`solve_many` that also records every residual history (row ``k`` of ``histories``)."""
    x = np.empty_like(b)
    for k in range(omegas.shape[0]):
        x[:] = 0.0
        nit, _ = solve_recording(data, indices, indptr, diag, b, x, omegas[k], kind, order, tol, maxiter,
                                 histories[k])
        out[k] = nit


@njit(cache=True)
def solve_many(data, indices, indptr, diag, b, omegas, kind, order, tol, maxiter, out):
    """Sweep counts from ``x0 = 0`` for each ``omegas[k]`` (serial sweeps along ``order``) into ``out``."""
    x = np.empty_like(b)
    for k in range(omegas.shape[0]):
        x[:] = 0.0
        nit, _ = solve(data, indices, indptr, diag, b, x, omegas[k], kind, order, tol, maxiter)
        out[k] = nit


@njit(cache=True)
def _spmv(data, indices, indptr, x, out):
    for i in range(indptr.shape[0] - 1):
        s = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            s += data[k] * x[indices[k]]
        out[i] = s


@njit(cache=True)
def ssor_pcg_solve(data, indices, indptr, diag, b, omega, order, tol, maxiter, alphas, betas):
    """CG from ``x0 = 0`` preconditioned by one symmetric sweep from zero; the steps of :func:`numopt.linalg.cg`.

    Stops when the recursive residual norm is at most ``tol`` or after
    ``maxiter`` iterations; writes the step lengths and direction ratios into
    ``alphas`` and ``betas`` (as many as they hold). Returns ``(nit, residual norm, status)``: status
    0 stopped by the test or the cap, 1 a breakdown (``r^T z <= 0`` or
    ``p^T A p <= 0``), 2 a non-finite residual.
    """
    n = b.shape[0]
    r = b.copy()
    z = np.zeros(n)
    sweep(data, indices, indptr, diag, r, z, omega, SYMMETRIC, order)
    p = z.copy()
    q = np.empty(n)
    rz = np.dot(r, z)
    rnorm = np.sqrt(np.dot(r, r))
    nit = 0
    while rnorm > tol and nit < maxiter:
        if rz <= 0.0:
            return nit, rnorm, 1
        _spmv(data, indices, indptr, p, q)
        pq = np.dot(p, q)
        if not pq > 0.0:
            return nit, rnorm, 1
        alpha = rz / pq
        r -= alpha * q
        z[:] = 0.0
        sweep(data, indices, indptr, diag, r, z, omega, SYMMETRIC, order)
        rz_new = np.dot(r, z)
        beta = rz_new / rz
        if nit < alphas.shape[0]:
            alphas[nit] = alpha
            betas[nit] = beta
        p *= beta
        p += z
        rz = rz_new
        rnorm = np.sqrt(np.dot(r, r))
        nit += 1
        if not np.isfinite(rnorm):
            return nit, rnorm, 2
    return nit, rnorm, 0


@njit(cache=True)
def ssor_pcg_many(data, indices, indptr, diag, b, omegas, order, tol, maxiter, out, status, alphas, betas):
    """:func:`ssor_pcg_solve` for each ``omegas[k]``: counts into ``out``, status into ``status``, the
    coefficients into row ``k`` of ``alphas`` and ``betas``."""
    for k in range(omegas.shape[0]):
        nit, _, code = ssor_pcg_solve(data, indices, indptr, diag, b, omegas[k], order, tol, maxiter,
                                      alphas[k], betas[k])
        out[k] = nit
        status[k] = code


@njit(cache=True)
def greedy_colors(indices, indptr):
    """Smallest-available-color coloring of the matrix graph, rows in natural order."""
    n = indptr.shape[0] - 1
    colors = -np.ones(n, dtype=np.int64)
    mark = -np.ones(n + 1, dtype=np.int64)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j != i and colors[j] >= 0:
                mark[colors[j]] = i
        c = 0
        while mark[c] == i:
            c += 1
        colors[i] = c
    return colors


@njit(cache=True)
def two_colors(indices, indptr):
    """Red-black (bipartite) coloring by breadth-first search; ``-1`` everywhere if none exists."""
    n = indptr.shape[0] - 1
    colors = -np.ones(n, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    for start in range(n):
        if colors[start] >= 0:
            continue
        colors[start] = 0
        head, tail = 0, 1
        queue[0] = start
        while head < tail:
            i = queue[head]
            head += 1
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j == i:
                    continue
                if colors[j] < 0:
                    colors[j] = 1 - colors[i]
                    queue[tail] = j
                    tail += 1
                elif colors[j] == colors[i]:
                    colors[:] = -1
                    return colors
    return colors
