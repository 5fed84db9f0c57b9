"""Fixed partitions of the variables into blocks.

A partition is returned as ``(ptr, idx)``: block ``b`` holds the variables
``idx[ptr[b]:ptr[b + 1]]`` (the CSR layout the kernels read).

* ``contiguous``: consecutive variables.
* ``sorted``: variables sorted by their Lipschitz constant L_i, then cut into
  consecutive groups (blocks of similar curvature).
* ``balanced``: variables sorted by L_i and dealt round-robin, so every block
  has about the same average L_i.
* ``random``: a seeded random permutation cut into consecutive groups.
* ``red-black``: the two colour classes of a lattice (each an independent set).
* ``comb``: two interleaved combs that cover a lattice, each a tree, so the
  block Newton system of either is solved exactly by tree elimination.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import check_choice, check_positive, check_rng

__all__ = ["FIXED_PARTITIONS", "comb", "fixed_partition", "red_black"]

FIXED_PARTITIONS = ("contiguous", "sorted", "balanced", "random", "red-black", "comb")


def _cut(order, block_size):
    n = order.size
    ptr = np.append(np.arange(0, n, block_size), n)
    return ptr.astype(np.int64), np.ascontiguousarray(order, dtype=np.int64)


def _from_groups(groups):
    groups = [np.asarray(g, np.int64) for g in groups if len(g)]
    ptr = np.cumsum([0] + [g.size for g in groups]).astype(np.int64)
    return ptr, np.concatenate(groups)


def red_black(shape, nodes):
    """Checkerboard colouring of a lattice; ``nodes`` are the C-order lattice nodes of the variables.

    Examples
    --------
    >>> import numpy as np
    >>> ptr, idx = red_black((2, 2), np.arange(4))
    >>> [idx[ptr[b]:ptr[b + 1]].tolist() for b in range(2)]
    [[0, 3], [1, 2]]
    """
    r, c = np.unravel_index(np.asarray(nodes), shape)
    colour = (r + c) % 2
    var = np.arange(len(nodes))
    return _from_groups([var[colour == 0], var[colour == 1]])


def comb(shape, nodes):
    """Two combs covering a lattice, each a tree.

    Comb 0 is the first column (spine) plus the even rows of the inner
    columns; comb 1 is the last column plus the odd rows of the inner columns.
    The teeth of one comb are separated by the teeth of the other, so neither
    contains a cycle.

    Examples
    --------
    >>> import numpy as np
    >>> ptr, idx = comb((3, 3), np.arange(9))
    >>> [idx[ptr[b]:ptr[b + 1]].tolist() for b in range(2)]
    [[0, 1, 3, 6, 7], [2, 4, 5, 8]]
    """
    rows, cols = shape
    if cols < 2:
        raise ValueError(f"the comb partition needs a lattice with at least 2 columns; got shape {shape}.")
    r, c = np.unravel_index(np.asarray(nodes), shape)
    first = (c == 0) | ((c < cols - 1) & (r % 2 == 0))
    var = np.arange(len(nodes))
    return _from_groups([var[first], var[~first]])


def fixed_partition(kind: str, n: int, block_size: int, *, L=None, grid=None, seed=None):
    """Partition ``n`` variables into blocks of at most ``block_size``.

    Parameters
    ----------
    kind : {'contiguous', 'sorted', 'balanced', 'random', 'red-black', 'comb'}
    n : int
    block_size : int
        1 <= block_size <= n (ignored by the lattice partitions).
    L : array, optional
        Coordinate Lipschitz constants (needed by 'sorted' and 'balanced').
    grid : (shape, nodes), optional
        Lattice description (needed by 'red-black' and 'comb').
    seed : int or Generator, optional
        For 'random'.

    Returns
    -------
    ptr, idx : int64 arrays

    Examples
    --------
    >>> import numpy as np
    >>> ptr, idx = fixed_partition("balanced", 4, 2, L=np.array([4.0, 1.0, 3.0, 2.0]))
    >>> [idx[ptr[b]:ptr[b + 1]].tolist() for b in range(2)]
    [[1, 2], [3, 0]]
    """
    check_choice("partition", kind, FIXED_PARTITIONS)
    if kind in ("red-black", "comb"):
        if grid is None:
            raise ValueError(f"partition={kind!r} needs a lattice problem (one built with grid_shape=...).")
        shape, nodes = grid
        return red_black(shape, nodes) if kind == "red-black" else comb(shape, nodes)
    check_positive("block_size", block_size, integer=True)
    if block_size > n:
        raise ValueError(f"block_size={block_size} does not fit n={n} variables; expected 1 <= block_size <= n.")
    if kind == "contiguous":
        return _cut(np.arange(n), block_size)
    if kind == "random":
        return _cut(check_rng(seed).permutation(n), block_size)
    if L is None:
        raise ValueError(f"partition={kind!r} needs the coordinate Lipschitz constants L.")
    order = np.argsort(np.asarray(L), kind="stable")
    if kind == "sorted":
        return _cut(order, block_size)
    nblocks = -(-n // block_size)
    return _from_groups([order[b::nblocks] for b in range(nblocks)])
