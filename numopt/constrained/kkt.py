"""The Newton-KKT system of equality-constrained optimization and its solves.

``K = [[B + t I, G^T], [G, -gamma I]]`` with ``B`` the Hessian of the
Lagrangian (dense, sparse or a LinearOperator of Hessian-vector products),
``G`` the constraint Jacobian, ``t >= 0`` the Hessian shift that makes the
reduced Hessian positive definite and ``gamma >= 0`` a dual regularization
used only where ``G`` is rank deficient. ``K`` is kept in the form of its
inputs: dense below ``dense_max`` rows, sparse CSR when an input is sparse
(never densified), a LinearOperator when ``B`` is one.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.linalg import LinearOperator

from ..linalg.sketch import sketch_solve

#: Relative cutoff of the singular values that dense least-squares solves treat as zero. NumPy's
#: default (``eps * max(m, n)``) keeps directions of rounding size in exactly rank-deficient Jacobians
#: (1e-14 against 0.5 on CYCLOOCF) and inverts them into huge steps.
RCOND = 1e-10

__all__ = ["RCOND", "assemble_kkt", "choose_inner", "dense_hessian", "frobenius_norm", "null_space_min_eig",
           "reduced_min_curvature", "row_equilibrated", "solve_kkt", "tangential_curvature"]


def dense_hessian(B, n: int) -> np.ndarray:
    """``B`` as a dense array (columns of a LinearOperator by ``n`` products)."""
    if isinstance(B, LinearOperator):
        return np.column_stack([B @ e for e in np.eye(n)])
    return B.toarray() if sp.issparse(B) else np.asarray(B, dtype=float)


def assemble_kkt(B, G, shift: float = 0.0, gamma: float = 0.0, dense_max: int = 2000):
    """The KKT matrix (dense, CSR or LinearOperator) for Hessian ``B`` and Jacobian ``G``.

    Examples
    --------
    >>> K = assemble_kkt(np.eye(2), np.array([[1.0, 1.0]]))
    >>> K
    array([[1., 0., 1.],
           [0., 1., 1.],
           [1., 1., 0.]])
    """
    m, n = G.shape
    if isinstance(B, LinearOperator) and n + m > dense_max:
        Gs = G

        def mv(v):
            v = np.asarray(v, dtype=float).ravel()
            u, w = v[:n], v[n:]
            top = B @ u + shift * u + np.asarray(Gs.T @ w).ravel()
            bottom = np.asarray(Gs @ u).ravel() - gamma * w
            return np.concatenate([top, bottom])

        return LinearOperator((n + m, n + m), matvec=mv, rmatvec=mv, dtype=float)
    if n + m <= dense_max or not (sp.issparse(B) or sp.issparse(G)):
        Bd = dense_hessian(B, n) + shift * np.eye(n)
        Gd = G.toarray() if sp.issparse(G) else np.asarray(G, dtype=float)
        return np.block([[Bd, Gd.T], [Gd, -gamma * np.eye(m) if gamma else np.zeros((m, m))]])
    Bs = sp.csr_matrix(B) + shift * sp.identity(n, format="csr")
    Gs = sp.csr_matrix(G)
    return sp.bmat([[Bs, Gs.T], [Gs, -gamma * sp.identity(m) if gamma else None]], format="csr")


def frobenius_norm(K, rng, probes: int = 8) -> float:
    """``||K||_F``; for a LinearOperator a Hutchinson estimate ``sqrt(mean ||K s||^2)``, ``s`` Rademacher."""
    if isinstance(K, LinearOperator):
        S = rng.choice([-1.0, 1.0], size=(probes, K.shape[1]))
        return float(np.sqrt(np.mean([np.sum((K @ s) ** 2) for s in S])))
    return float(sp.linalg.norm(K) if sp.issparse(K) else np.linalg.norm(K))


def _null_space(G, rank_tol: float, equilibrate: bool):
    """Orthonormal basis ``Z`` (columns) of the null space of ``G`` and the rank of ``G``, from a dense SVD.

    Singular values up to ``rank_tol * max(1, s_max)`` count as zero; with ``equilibrate`` the SVD is of the
    row-equilibrated ``G`` (:func:`row_equilibrated`), so badly scaled rows do not hide a rank.
    """
    Gd = G.toarray() if sp.issparse(G) else np.asarray(G, dtype=float)
    m, n = Gd.shape
    if m == 0:
        return np.eye(n), 0
    _, s, Vt = np.linalg.svd(row_equilibrated(Gd)[0] if equilibrate else Gd, full_matrices=True)
    rank = int(np.sum(s > rank_tol * max(s[0], 1.0)))
    return Vt[rank:].T, rank


def null_space_min_eig(B, G, rank_tol: float = 1e-10):
    """Smallest eigenvalue of the reduced Hessian ``Z^T B Z`` and whether ``G`` is rank deficient.

    ``Z`` is an orthonormal basis of the null space of ``G`` from its SVD
    (dense, for small problems). Returns ``(lambda_min, rank_deficient)``
    with ``lambda_min = inf`` when the null space is trivial.

    Examples
    --------
    >>> null_space_min_eig(np.diag([1.0, -2.0]), np.array([[0.0, 1.0]]))
    (1.0, False)
    """
    Z, rank = _null_space(G, rank_tol, equilibrate=False)
    Bd = dense_hessian(B, Z.shape[0])
    lam = np.inf if Z.shape[1] == 0 else float(np.linalg.eigvalsh(Z.T @ Bd @ Z)[0])
    return lam, rank < G.shape[0]


def reduced_min_curvature(B, G, rank_tol: float = 1e-10):
    """Smallest eigenvalue ``mu`` of the reduced Hessian ``Z^T B Z`` and its direction ``d = Z v``.

    ``Z`` is an orthonormal basis of the null space of ``G`` (SVD of the
    row-equilibrated ``G``, so badly scaled rows do not hide a rank), ``v`` the
    unit eigenvector of ``mu``; so ``G d = 0``, ``||d|| = 1`` and
    ``d^T B d = mu``. Returns ``(inf, None)`` when the null space is trivial.

    Examples
    --------
    >>> mu, d = reduced_min_curvature(np.diag([1.0, -2.0, 3.0]), np.array([[1.0, 0.0, 0.0]]))
    >>> float(mu), np.abs(d).round(6).tolist()
    (-2.0, [0.0, 1.0, 0.0])
    """
    Z, _ = _null_space(G, rank_tol, equilibrate=True)
    if Z.shape[1] == 0:
        return np.inf, None
    Bd = dense_hessian(B, Z.shape[0])
    R = Z.T @ Bd @ Z
    w, V = np.linalg.eigh(0.5 * (R + R.T))
    return float(w[0]), Z @ V[:, 0]


def row_equilibrated(G: np.ndarray):
    """``(D G, d)`` with ``D = diag(d)`` scaling every nonzero row of ``G`` to unit norm.

    The row space, and so the rank and the solution set of consistent systems
    ``G x = r``, are those of ``G``; singular-value cutoffs on ``D G`` do not
    mistake a badly scaled Jacobian for a rank-deficient one (COOLHANS: row norms
    from 1 to 5e5 put ``sigma_min / sigma_max`` at 5e-13, 3e-9 after scaling).

    Examples
    --------
    >>> DG, d = row_equilibrated(np.array([[3.0, 4.0], [0.0, 0.0]]))
    >>> DG.tolist(), d.tolist()
    ([[0.6, 0.8], [0.0, 0.0]], [0.2, 1.0])
    """
    norms = np.linalg.norm(G, axis=1)
    d = 1.0 / np.where(norms > 0, norms, 1.0)
    return d[:, None] * G, d


class NormalProjector:
    """Solves with ``G G^T`` (dense Cholesky-free least squares or sparse LU) to split steps."""

    def __init__(self, G):
        self.G = G
        self.sparse = sp.issparse(G)
        self.singular = False
        if self.sparse:
            GGt = sp.csc_matrix(G @ G.T)
            try:
                self._lu = spla.splu(GGt)
            except RuntimeError:
                self.singular = True
                self._lu = spla.splu(GGt + 1e-12 * max(1.0, abs(GGt).max()) * sp.identity(G.shape[0],
                                                                                        format="csc"))
        else:
            self._G = row_equilibrated(np.asarray(G, dtype=float))[0]  # same row space, better conditioned
            if self._G.shape[0]:
                sv = np.linalg.svd(self._G, compute_uv=False)
                self.singular = bool(sv[-1] <= 1e-10 * max(sv[0], 1.0)) or self._G.shape[0] > self._G.shape[1]

    def normal(self, u):
        """The component of ``u`` in the row space of ``G``: ``G^T (G G^T)^+ G u``."""
        if self.sparse:
            return np.asarray(self.G.T @ self._lu.solve(np.asarray(self.G @ u).ravel())).ravel()
        w = np.linalg.lstsq(self._G.T, u, rcond=RCOND)[0]
        return self._G.T @ w


def tangential_curvature(B, projector: NormalProjector, u):
    """``(u_t^T B u_t, ||u_t||^2)`` for the tangential part ``u_t`` of the step ``u``.

    A tangential part of rounding size (``||u_t|| <= 1e-8 ||u||``, as when ``G``
    is square and nonsingular) counts as none: ``(0, 0)``. Testing its
    curvature would shift the Hessian for a direction the step does not take.
    """
    ut = u - projector.normal(u)
    size = float(ut @ ut)
    if size <= 1e-16 * float(u @ u):
        return 0.0, 0.0
    return float(ut @ np.asarray(B @ ut).ravel()), size


def choose_inner(K, sketch_sweeps: float = 100.0) -> str:
    """``'exact'`` or ``'sketch'``: the cheaper way to solve ``K z = b`` by a flop-count model.

    A sketching solve is charged ``sketch_sweeps`` passes over the nonzeros of
    ``K`` (row-action solvers on an indefinite KKT matrix need tens to
    hundreds of passes for the accuracies Newton asks for). A direct solve is
    charged ``N^3 / 3`` for a dense ``K`` of order ``N`` and ``N^1.5`` for a
    sparse one (the flops of a nested-dissection factorization of a
    2-D-like graph). An operator ``K`` (Hessian-vector
    products only) goes to MINRES, which needs no rows: ``'exact'``.

    Examples
    --------
    >>> choose_inner(np.eye(50)), choose_inner(np.eye(2000))
    ('exact', 'sketch')
    >>> lap = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(300, 300))
    >>> choose_inner(sp.kronsum(lap, lap, format="csr"))  # a 2-D Laplacian, N = 90000
    'exact'
    """
    if isinstance(K, LinearOperator):
        return "exact"
    N = K.shape[0]
    nnz = K.nnz if sp.issparse(K) else N * N
    direct = N**1.5 if sp.issparse(K) else N**3 / 3.0
    return "exact" if direct <= sketch_sweeps * nnz else "sketch"


def inner_path(K, inner: str, sketch: str, least_squares: bool = False) -> str:
    """Name of the path a solve takes.

    ``'dense-lu'``, ``'sparse-lu'``, ``'minres'``, ``'dense-lstsq'``,
    ``'sparse-lsqr'`` (singular ``K``, ``least_squares=True``) or ``'sketch-<name>'``.
    """
    if inner == "sketch":
        return f"sketch-{sketch}"
    if isinstance(K, LinearOperator):
        return "minres"
    if least_squares:
        return "sparse-lsqr" if sp.issparse(K) else "dense-lstsq"
    return "sparse-lu" if sp.issparse(K) else "dense-lu"


def solve_kkt(K, rhs, *, inner: str, stop, sketch: str, sampling: str, block_size, maxiter, rng, z0=None,
              least_squares: bool = False):
    """Solve ``K z = rhs`` exactly ('exact') or with a sketching solver ('sketch').

    Returns ``(z, inner_iterations, met_test)``; ``z0`` starts the sketching
    solver (default 0). The exact path is a dense LU, a sparse LU (SuperLU) or
    MINRES for operators; a singular matrix falls back to least squares, and
    ``least_squares=True`` (``K`` known to be singular) goes there directly:
    the minimum-norm solution (LAPACK ``gelsd``, or LSQR for sparse ``K``).

    Examples
    --------
    >>> K = np.array([[1.0, 0, 2], [0, 1, 3], [2, 3, 0]])
    >>> z, _, met = solve_kkt(K, np.ones(3), inner="exact", stop=None, sketch="rk", sampling="uniform",
    ...                       block_size=None, maxiter=0, rng=None)
    >>> met, bool(np.allclose(K @ z, 1.0))
    (True, True)
    """
    if inner == "exact" and least_squares and not isinstance(K, LinearOperator):
        if sp.issparse(K):
            return spla.lsqr(K, rhs, atol=1e-14, btol=1e-14)[0], 0, False
        return np.linalg.lstsq(K, rhs, rcond=RCOND)[0], 0, False
    if inner == "exact":
        if isinstance(K, LinearOperator):
            z, info = spla.minres(K, rhs, rtol=1e-14, maxiter=20 * K.shape[0])
            return z, 0, info == 0
        if sp.issparse(K):
            try:
                return spla.splu(sp.csc_matrix(K)).solve(rhs), 0, True
            except RuntimeError:
                return spla.lsqr(K, rhs, atol=1e-14, btol=1e-14)[0], 0, False
        try:
            return sla.solve(K, rhs, assume_a="sym", check_finite=False), 0, True
        except (np.linalg.LinAlgError, sla.LinAlgError):
            return np.linalg.lstsq(K, rhs, rcond=RCOND)[0], 0, False
    res = sketch_solve(K, rhs, z0, sketch=sketch, stop=stop, sampling=sampling, block_size=block_size,
                       maxiter=maxiter, seed=rng)
    return res.x, res.nit, bool(res.success)
