"""Sparse finite-volume discretizations of diffusion on 2-D and 3-D grids.

All matrices are assembled directly in sparse form (never densified) on a
uniform grid of cells with spacing ``h``. Neighbouring cells a, b share a face
whose coefficient is the harmonic mean ``2 k_a k_b / (k_a + k_b)``. With
``bc='dirichlet'`` the domain boundary holds u = 0 one grid step outside the
outer cells, so ``poisson((N, N))`` is the classical 5-point stencil
(4 on the diagonal, -1 off it, divided by h^2); with ``bc='neumann'`` no flux
crosses the boundary and the matrix is singular (constants span its null
space) unless cells are removed next to a Dirichlet part. Cells outside
``mask`` (obstacles) are removed and their faces carry no flux.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from .._core.validate import as_float_array, check_choice, check_positive

__all__ = ["diffusion", "grid_index", "obstacle_mask", "poisson"]


def grid_index(mask: np.ndarray) -> np.ndarray:
    """Unknown number of each active cell (-1 for removed cells), in C order."""
    idx = -np.ones(mask.shape, dtype=np.int64)
    idx[mask] = np.arange(int(mask.sum()))
    return idx


def diffusion(coeff, *, bc: str = "dirichlet", mask=None, h: float = 1.0) -> sp.csr_matrix:
    """Matrix of -div(k grad u) for a cell-wise positive coefficient field ``coeff``.

    Parameters
    ----------
    coeff : array_like, 2-D or 3-D
        Positive diffusion coefficient per cell; its shape is the grid shape.
    bc : {'dirichlet', 'neumann'}
        Condition on the outer boundary.
    mask : array_like of bool, optional
        Active cells (default: all). Removed cells act as no-flux obstacles.
    h : float
        Grid spacing; the matrix is divided by ``h**2``.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric, of size ``mask.sum()``; positive definite for Dirichlet.

    Examples
    --------
    >>> A = diffusion(np.ones((3, 3)))
    >>> A.shape, float(A[4, 4]), float(A[4, 1])
    ((9, 9), 4.0, -1.0)
    """
    check_positive("h", h)
    k = as_float_array(coeff, "coeff")
    if k.ndim not in (2, 3):
        raise ValueError(f"coeff must be a 2-D or 3-D grid; got shape {k.shape}.")
    if np.any(k <= 0):
        raise ValueError("coeff must be positive in every cell.")
    check_choice("bc", bc, ("dirichlet", "neumann"))
    active = np.ones(k.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if active.shape != k.shape:
        raise ValueError(f"mask has shape {active.shape}; expected the grid shape {k.shape}.")
    idx = grid_index(active)
    n = int(active.sum())
    if n == 0:
        raise ValueError("mask removes every cell: no unknowns left.")
    rows, cols, vals = [], [], []
    diag = np.zeros(n)
    d = k.ndim
    for axis in range(d):
        lo = [slice(None)] * d
        hi = [slice(None)] * d
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        ka, kb = k[lo], k[hi]
        both = active[lo] & active[hi]
        w = (2.0 * ka * kb / (ka + kb))[both]
        ia, ib = idx[lo][both], idx[hi][both]
        rows += [ia, ib]
        cols += [ib, ia]
        vals += [-w, -w]
        np.add.at(diag, ia, w)
        np.add.at(diag, ib, w)
        if bc == "dirichlet":
            for end in (0, k.shape[axis] - 1):
                face = [slice(None)] * d
                face[axis] = end
                face = tuple(face)
                on = active[face]
                np.add.at(diag, idx[face][on], k[face][on])
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    vals.append(diag)
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    A.sum_duplicates()
    A.sort_indices()
    return A / h**2 if h != 1.0 else A


def poisson(shape, *, bc: str = "dirichlet", mask=None, h: float = 1.0) -> sp.csr_matrix:
    """The negative Laplacian (5-point in 2-D, 7-point in 3-D) on a grid of ``shape`` cells.

    Examples
    --------
    >>> A = poisson((4, 4))
    >>> A.shape, float(A.diagonal().max())
    ((16, 16), 4.0)
    >>> float(poisson((2, 2, 2)).diagonal()[0])
    6.0
    """
    sizes = tuple(np.atleast_1d(shape).tolist())
    whole = all(isinstance(s, numbers.Integral) or (isinstance(s, float) and s.is_integer()) for s in sizes)
    if len(sizes) not in (2, 3) or not whole or min(sizes) < 1:
        raise ValueError(f"shape must be 2 or 3 positive integer sizes; got {shape!r}.")
    shape = tuple(int(s) for s in sizes)
    return diffusion(np.ones(shape), bc=bc, mask=mask, h=h)


def obstacle_mask(shape, *, kind: str = "disk", fraction: float = 0.15, seed=None) -> np.ndarray:
    """Active-cell mask of a grid with an obstacle removed.

    ``kind='disk'`` removes a centred disk (ball in 3-D) covering about
    ``fraction`` of the cells; ``kind='boxes'`` removes random boxes (seeded)
    until about ``fraction`` of the cells are gone.

    Examples
    --------
    >>> m = obstacle_mask((32, 32), fraction=0.2)
    >>> round(float(1 - m.mean()), 1)
    0.2
    """
    shape = tuple(int(s) for s in shape)
    check_choice("kind", kind, ("disk", "boxes"))
    if not 0 <= fraction < 0.9:
        raise ValueError(f"fraction must lie in [0, 0.9); got {fraction}.")
    grids = np.meshgrid(*[(np.arange(s) + 0.5) / s for s in shape], indexing="ij")
    if kind == "disk":
        r2 = sum((g - 0.5) ** 2 for g in grids)
        cutoff = np.quantile(r2, fraction) if fraction > 0 else -1.0
        return ~(r2 <= cutoff)
    starts = [max(2, s - 2) for s in shape]
    widths = [max(2, s // 6) for s in shape]
    reachable = [min(s - 1, a + w - 3) for s, a, w in zip(shape, starts, widths)]
    removable = float(np.prod(reachable)) / float(np.prod(shape))
    if fraction > removable:
        raise ValueError(f"fraction must be at most {removable:.3f} for kind='boxes' on a grid of shape {shape} "
                         f"(boxes stay off the boundary); got {fraction}.")
    rng = np.random.default_rng(seed)
    mask = np.ones(shape, dtype=bool)
    while 1 - mask.mean() < fraction:
        lo = [rng.integers(1, a) for a in starts]
        size = [rng.integers(1, w) for w in widths]
        mask[tuple(slice(a, a + b) for a, b in zip(lo, size))] = False
    return mask
