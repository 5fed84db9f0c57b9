"""Zero-fill incomplete Cholesky (IC(0)) preconditioner for sparse SPD matrices."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._core.validate import as_float_array, check_square, check_symmetric
from ._ichol_kernels import ichol0_factor, ichol0_solve

__all__ = ["IncompleteCholesky"]


class IncompleteCholesky:
    """IC(0): L with the sparsity of tril(A) such that L L^T approximates A.

    When the factorization breaks down (a non-positive pivot, possible for SPD
    matrices that are not M-matrices) it is retried on ``A + alpha diag(A)`` with
    ``alpha`` doubling from ``1e-3`` (Manteuffel's shift); the shift used is kept
    in :attr:`shift`.

    Parameters
    ----------
    A : sparse matrix
        Symmetric positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems.pde import poisson
    >>> A = poisson((20, 20))
    >>> M = IncompleteCholesky(A)
    >>> r = np.ones(A.shape[0])
    >>> bool(np.linalg.norm(A @ M.solve(r) - r) < np.linalg.norm(r))
    True
    """

    def __init__(self, A):
        check_square(A, "A")
        if not sp.issparse(A):
            raise TypeError("IncompleteCholesky needs a scipy sparse matrix A.")
        check_symmetric(A, "A")
        A = sp.csr_matrix(A, dtype=float)
        as_float_array(A.data, "A")
        diag = A.diagonal()
        if np.any(diag <= 0):
            raise ValueError("A must have a positive diagonal to be symmetric positive definite.")
        lower = sp.tril(A, format="csr")
        lower.sort_indices()
        self.shape = A.shape
        self.shift = 0.0
        alpha = 1e-3
        while True:
            data = lower.data.copy()
            if self.shift:
                data[lower.indptr[1:] - 1] += self.shift * diag
            failed = ichol0_factor(lower.indptr, lower.indices, data)
            if failed < 0:
                break
            if alpha > 1e3:
                raise ValueError(f"incomplete Cholesky broke down at row {failed} even with a diagonal shift; "
                                 "is A positive definite?")
            self.shift, alpha = alpha, 2 * alpha
        self.L = sp.csr_matrix((data, lower.indices, lower.indptr), shape=A.shape)

    def solve(self, r) -> np.ndarray:
        """z = (L L^T)^{-1} r."""
        return ichol0_solve(self.L.indptr, self.L.indices, self.L.data, np.asarray(r, dtype=float))

    __call__ = solve

    def aslinearoperator(self) -> spla.LinearOperator:
        """The preconditioner as a ``scipy.sparse.linalg.LinearOperator``."""
        return spla.LinearOperator(self.shape, matvec=self.solve, dtype=float)
