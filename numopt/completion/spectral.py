"""Spectral initialization for alternating minimization: sparse randomized SVD plus clipping."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._core.validate import check_positive, check_rng

__all__ = ["randomized_svd", "spectral_init"]


def randomized_svd(A, rank: int, *, oversample: int = 10, power_iters: int = 4, seed=0):
    """Top-``rank`` singular triplets of a sparse matrix or operator by subspace iteration.

    Halko-Martinsson-Tropp range finder with ``rank + oversample`` columns and
    ``power_iters`` power iterations (re-orthonormalized each time). ``A`` is only
    touched through ``A @ X`` and ``A.T @ X`` products, so a sparse matrix is never
    densified.

    Returns
    -------
    U : ndarray, shape (m, rank)
    s : ndarray, shape (rank,)
    Vt : ndarray, shape (rank, n)

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> A = sp.random(200, 100, density=0.1, random_state=0, format="csr")
    >>> U, s, Vt = randomized_svd(A, 3, seed=0)
    >>> bool(np.allclose(s, np.linalg.svd(A.toarray(), compute_uv=False)[:3], rtol=1e-2))
    True
    """
    m, n = A.shape
    check_positive("rank", rank, integer=True)
    if rank > min(m, n):
        raise ValueError(f"rank must be <= min(m, n) = {min(m, n)}; got rank={rank}.")
    check_positive("oversample", oversample, strict=False, integer=True)
    check_positive("power_iters", power_iters, strict=False, integer=True)
    rng = check_rng(seed)
    ell = min(rank + oversample, m, n)
    Q = np.linalg.qr(np.asarray(A @ rng.standard_normal((n, ell))))[0]
    for _ in range(power_iters):
        Z = np.linalg.qr(np.asarray(A.T @ Q))[0]
        Q = np.linalg.qr(np.asarray(A @ Z))[0]
    B = np.asarray(A.T @ Q).T  # ell x n, = Q^T A
    Ub, s, Vt = np.linalg.svd(B, full_matrices=False)
    return Q @ Ub[:, :rank], s[:rank], Vt[:rank]


def spectral_init(obs, rank: int, *, clip: float | None = 4.0, oversample: int = 10, power_iters: int = 4,
                  seed=0):
    """Initial factors from the top-``rank`` SVD of the rescaled observed matrix, with clipping.

    With ``p = |Omega| / (m n)``, the observed entries scaled by ``1/p`` form an
    unbiased estimate of ``M``; its top-``rank`` left singular vectors give ``U0``.
    As in Jain-Netrapalli-Sanghavi (2013), rows of ``U0`` whose norm exceeds
    ``clip * sqrt(rank / m)`` (the incoherence bound ``2 mu sqrt(k/m)`` with
    ``clip`` standing for ``2 mu``) are set to zero and ``U0`` is re-orthonormalized,
    which keeps the start incoherent. ``clip=None`` turns clipping off.

    Parameters
    ----------
    obs : scipy.sparse matrix
        The observed entries (CSR), shape ``(m, n)``.

    Returns
    -------
    U0 : ndarray, shape (m, rank)
        Orthonormal columns.
    V0 : ndarray, shape (n, rank)
        ``(1/p) obs^T U0``, the least-squares partner of ``U0`` for the rescaled
        matrix; used as the warm start of the first (approximate) update.
    nclipped : int
        Number of rows of ``U0`` that were zeroed.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from numopt.problems.completion_data import synthetic_completion
    >>> d = synthetic_completion(80, 60, 2, nnz=2400, seed=1)
    >>> obs = sp.csr_matrix((d.values, (d.rows, d.cols)), shape=d.shape)
    >>> U0, V0, nclipped = spectral_init(obs, 2, seed=0)
    >>> bool(np.allclose(U0.T @ U0, np.eye(2)))
    True
    """
    m, n = obs.shape
    if not sp.issparse(obs):
        raise TypeError(f"obs must be a scipy.sparse matrix; got {type(obs).__name__}.")
    p = obs.nnz / (m * n)
    U, _, _ = randomized_svd(obs, rank, oversample=oversample, power_iters=power_iters, seed=seed)
    nclipped = 0
    if clip is not None:
        check_positive("clip", clip)
        norms = np.linalg.norm(U, axis=1)
        big = norms > clip * np.sqrt(rank / m)
        nclipped = int(big.sum())
        if nclipped:
            U[big] = 0.0
            U = np.linalg.qr(U)[0]
    V = np.asarray(obs.T @ U) / p
    return U, V, nclipped
