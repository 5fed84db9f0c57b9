"""Block updates: how far to move the selected block.

With the block gradient ``g_b`` and the block ``H_b`` of the problem's constant
Hessian upper bound (exact for quadratics):

* ``lipschitz``: ``x_b - g_b / L_b`` with ``L_b`` the largest eigenvalue of
  ``H_b``; with an L1 term the step is proximal (soft thresholding at
  ``l1 / L_b``) and with ``x >= 0`` it is projected.
* ``diag``: the same with a diagonal metric ``D_b`` (``D_ii = sum_j |H_b,ij|``,
  a diagonal upper bound by diagonal dominance), elementwise prox/projection.
* ``matrix``: ``x_b - H_b^{-1} g_b``, the minimizer of the block quadratic
  upper bound. The solve is a cached Cholesky factorization for fixed blocks,
  or linear-time elimination on the tree when the block is a forest in the
  dependency graph (``solve='tree'``). With ``x >= 0`` it is the two-metric
  projection step (Newton direction on the free variables, projection,
  backtracking).
* ``newton``: ``x_b - H_b(x)^{-1} g_b`` with the exact Hessian block and an
  Armijo backtracking line search (two-metric projection with ``x >= 0``).

The matrix and Newton steps have no closed-form proximal operator for an L1
term: for L1 problems use ``lipschitz`` or ``diag`` with ``active_set=True``,
which switches to Newton steps on the identified manifold.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..linalg import eigen

__all__ = ["UPDATES", "BlockUpdater", "largest_eigenvalue", "prox_step"]

UPDATES = ("lipschitz", "diag", "matrix", "newton")
ARMIJO = 1e-4
MAX_BACKTRACK = 30
DENSE_EIG_LIMIT = 400


def largest_eigenvalue(problem, idx, H=None) -> float:
    """Largest eigenvalue of the block ``idx`` of the Hessian bound (dense below 400 variables)."""
    if idx.size == 1:
        return float(problem.coord_lipschitz()[idx[0]])
    if idx.size <= DENSE_EIG_LIMIT:
        H = problem.hess_bound_block(idx) if H is None else H
        return eigen.largest_eigenvalue(H, dense_limit=DENSE_EIG_LIMIT)
    return eigen.largest_eigenvalue(problem.hess_bound()[idx][:, idx], tol=1e-6, dense_limit=DENSE_EIG_LIMIT)


def prox_step(x, g, D, lam, nonneg):
    """argmin_u g^T (u - x) + 1/2 ||u - x||_D^2 + lam^T |u| (u >= 0 when ``nonneg``), D diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> prox_step(np.array([0.0, 1.0]), np.array([3.0, 0.5]), np.array([1.0, 1.0]), np.array([1.0, 1.0]), False)
    array([-2.,  0.])
    """
    u = x - g / D
    if nonneg:
        return np.maximum(u - lam / D, 0.0)
    return np.sign(u) * np.maximum(np.abs(u) - lam / D, 0.0)


class BlockUpdater:
    """Computes and applies block steps; caches per-block factorizations of fixed blocks.

    ``apply`` returns the variables whose gradient changed (for the selection
    structures) after moving the block.
    """

    def __init__(self, kind, problem, *, solve="dense", step_scale=1.0, kernels=None):
        self.kind = kind
        self.problem = problem
        self.solve = solve
        self.step_scale = float(step_scale)
        self.K = kernels
        self._cache: dict = {}
        self._pos = None

    # cached block quantities -----------------------------------------------------------
    def _cached(self, key, idx, what):
        if key is None:
            return self._compute(idx, what)
        entry = self._cache.setdefault(key, {})
        if what not in entry:
            entry[what] = self._compute(idx, what)
        return entry[what]

    def _compute(self, idx, what):
        p = self.problem
        if what == "L":
            return largest_eigenvalue(p, idx)
        if what == "D":
            if idx.size == 1:
                return p.coord_lipschitz()[idx].copy()
            return np.abs(p.hess_bound_block(idx)).sum(axis=1)
        if what == "chol":
            return sla.cho_factor(p.hess_bound_block(idx), lower=True)
        raise KeyError(what)

    def solve_bound(self, idx, rhs, key=None):
        """Solve H_b u = rhs with the bound's block: tree elimination or (cached) Cholesky."""
        if self.solve == "tree":
            H = self.problem.hess_bound()
            if self._pos is None:
                self._pos = -np.ones(self.problem.n, np.int64)
            out = np.empty(idx.size)
            status = self.K.tree_solve(H.indptr, H.indices, H.data, idx, np.ascontiguousarray(rhs), self._pos,
                                       out)
            if status == 1:
                raise ValueError("solve='tree' needs forest-structured blocks; a block contains a cycle in the "
                                 "dependency graph (use partition='tree', 'red-black' or 'comb').")
            if status == 2:
                raise np.linalg.LinAlgError("tree elimination met a non-positive pivot: the block of the "
                                            "Hessian bound is not positive definite.")
            return out
        return sla.cho_solve(self._cached(key, idx, "chol"), rhs)

    # steps -----------------------------------------------------------------------------
    def step(self, st, idx, g_b, key=None):
        """Move block ``idx`` (gradient ``g_b``); returns the variables whose gradient changed."""
        p = self.problem
        x_b = st.x[idx]
        lam = p.l1[idx]
        if self.kind in ("lipschitz", "diag"):
            if self.kind == "lipschitz":
                D = np.full(idx.size, self._cached(key, idx, "L"))
            else:
                D = self._cached(key, idx, "D")
            D = D / self.step_scale
            delta = prox_step(x_b, g_b, D, lam, p.nonneg) - x_b
            return p.apply(st, idx, delta)
        if p.nonneg:
            g_eff = g_b + lam
            free = (x_b > 0) | (g_eff < 0)
            d = np.zeros(idx.size)
            if np.any(free):
                fidx = idx[free]
                H = p.hess_bound_block(fidx) if self.kind == "matrix" else p.hess_block(st, fidx)
                d[free] = -sla.solve(H, g_eff[free], assume_a="pos")
            return self._line_search(st, idx, d, g_eff, project=True)
        if self.kind == "matrix":
            d = -self.solve_bound(idx, g_b, key)
            if self.step_scale == 1.0:
                return p.apply(st, idx, d)
            return p.apply(st, idx, self.step_scale * d)
        H = p.hess_block(st, idx)
        try:
            d = -sla.solve(H, g_b, assume_a="pos")
        except (np.linalg.LinAlgError, ValueError):
            d = -np.linalg.lstsq(H, g_b, rcond=None)[0]
        return self._line_search(st, idx, d, g_b, project=False)

    def _line_search(self, st, idx, d, g_b, project):
        """Armijo backtracking along d (along the projection arc when ``project``)."""
        p = self.problem
        x_b = st.x[idx].copy()
        f0 = st.f
        touched = []
        alpha = self.step_scale
        for _ in range(MAX_BACKTRACK):
            target = x_b + alpha * d
            if project:
                target = np.maximum(target, 0.0)
            delta = target - st.x[idx]
            touched.append(p.apply(st, idx, delta))
            if st.f <= f0 + ARMIJO * float(g_b @ (target - x_b)):
                break
            alpha *= 0.5
        else:
            touched.append(p.apply(st, idx, x_b - st.x[idx]))
        return np.concatenate(touched)
