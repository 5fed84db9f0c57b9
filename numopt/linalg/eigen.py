"""Extreme eigenvalues and spectral norms: the one helper every family uses.

Small matrices (``n <= dense_limit``) get an exact dense eigensolver;
larger ones get Lanczos (:func:`scipy.sparse.linalg.eigsh`), with
shift-invert around ``sigma`` for the low end of the spectrum. Every start
vector is seeded, so results are reproducible.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._core.validate import check_choice, check_positive

__all__ = ["DENSE_EIG_LIMIT", "extreme_eigenvalues", "largest_eigenvalue", "spectral_norm"]

#: Matrices up to this order are decomposed densely.
DENSE_EIG_LIMIT = 600


def _start_vector(n: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(n)


def extreme_eigenvalues(A, k: int = 1, *, which: str = "both", sigma: float | None = None,
                        tol: float = 0.0, dense_limit: int = DENSE_EIG_LIMIT) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest and ``k`` largest eigenvalues of the symmetric matrix ``A``, each sorted ascending.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator
        Symmetric ``n x n``.
    k : int
        How many eigenvalues at each end.
    which : {'both', 'smallest', 'largest'}
        Which ends to compute; the other comes back empty.
    sigma : float, optional
        Shift for the smallest eigenvalues of a large matrix (shift-invert
        Lanczos around ``sigma``; needs a sparse or dense ``A``). Without it the
        smallest come from plain Lanczos (``which='SA'``), slower to converge.
    tol : float
        Lanczos relative accuracy (0: machine precision).
    dense_limit : int
        Up to this order, a dense eigensolver is used.

    Returns
    -------
    smallest, largest : ndarray
        Each of length ``k`` (or 0 when not asked for).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.linalg.eigen import extreme_eigenvalues
    >>> lo, hi = extreme_eigenvalues(np.diag([3.0, 1.0, 2.0, 5.0]), k=2)
    >>> lo, hi
    (array([1., 2.]), array([3., 5.]))
    """
    check_choice("which", which, ("both", "smallest", "largest"))
    check_positive("k", k, integer=True)
    n = A.shape[0]
    if A.shape != (n, n):
        raise ValueError(f"A must be square; got shape {A.shape}.")
    if 2 * k > n and which == "both" or k > n:
        need = 2 * k if which == "both" else k
        raise ValueError(f"k={k} eigenvalues ({which!r}) need a matrix of order >= {need}; A has order {n}.")
    want_lo, want_hi = which in ("both", "smallest"), which in ("both", "largest")
    empty = np.zeros(0)
    if n <= dense_limit and not isinstance(A, spla.LinearOperator):
        dense = A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)
        try:
            if which == "both":
                w = np.linalg.eigvalsh(dense)
                return w[:k], w[n - k:]
            lo, hi = (0, k - 1) if want_lo else (n - k, n - 1)
            w = sla.eigvalsh(dense, subset_by_index=[lo, hi])
        except (np.linalg.LinAlgError, sla.LinAlgError):  # LAPACK's subset driver can fail on clustered spectra
            w_all = np.linalg.eigvalsh(dense)
            w = w_all[:k] if want_lo else w_all[n - k:]
        return (w, empty) if want_lo else (empty, w)
    v0 = _start_vector(n)
    hi = np.sort(spla.eigsh(A, k=k, which="LA", tol=tol, v0=v0, return_eigenvectors=False)) if want_hi else empty
    lo = empty
    if want_lo:
        if sigma is not None and not isinstance(A, spla.LinearOperator):
            Ac = sp.csc_matrix(A) if sp.issparse(A) else np.asarray(A, dtype=float)
            lo = np.sort(spla.eigsh(Ac, k=k, sigma=sigma, which="LM", tol=tol, v0=v0,
                                    return_eigenvectors=False))
        else:
            lo = np.sort(spla.eigsh(A, k=k, which="SA", tol=tol, v0=v0, return_eigenvectors=False))
    return lo, hi


def largest_eigenvalue(A, *, tol: float = 0.0, dense_limit: int = DENSE_EIG_LIMIT) -> float:
    """Largest eigenvalue of the symmetric matrix ``A`` (see :func:`extreme_eigenvalues`).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.linalg.eigen import largest_eigenvalue
    >>> largest_eigenvalue(np.array([[2.0, 1.0], [1.0, 2.0]]))
    3.0
    """
    if A.shape[0] == 1:
        return float(A.toarray()[0, 0] if sp.issparse(A) else np.asarray(A)[0, 0])
    return float(extreme_eigenvalues(A, which="largest", tol=tol, dense_limit=dense_limit)[1][-1])


def spectral_norm(X, *, tol: float = 0.0, dense_limit: int = DENSE_EIG_LIMIT) -> float:
    """Largest singular value ``||X||_2`` of a (possibly rectangular, possibly sparse) matrix.

    Dense SVD for small matrices, else Lanczos on the smaller Gram matrix
    ``X^T X`` or ``X X^T`` applied as an operator (never formed).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.linalg.eigen import spectral_norm
    >>> round(spectral_norm(np.array([[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]])), 12)
    4.0
    """
    m, n = X.shape
    if min(m, n) == 0:
        return 0.0
    if max(m, n) <= dense_limit:
        dense = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
        return float(np.linalg.norm(dense, 2))
    if n <= m:
        gram = spla.LinearOperator((n, n), matvec=lambda v: X.T @ (X @ v), dtype=float)
    else:
        gram = spla.LinearOperator((m, m), matvec=lambda v: X @ (X.T @ v), dtype=float)
    if gram.shape[0] == 1:
        return float(np.sqrt(abs(gram.matvec(np.ones(1))[0])))
    return float(np.sqrt(max(largest_eigenvalue(gram, tol=tol, dense_limit=0), 0.0)))
