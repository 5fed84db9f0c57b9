"""Matrix-completion data: synthetic incoherent low-rank matrices and MovieLens ratings.

Observed entries are always returned in coordinate form (``rows``, ``cols``,
``values``, ``shape``); nothing here builds a dense ``m x n`` matrix or mask.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._core.validate import check_in_range, check_positive, check_rng

__all__ = ["CompletionData", "movielens", "sample_size", "synthetic_completion", "train_test_split"]

_MOVIELENS_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"


@dataclass
class CompletionData:
    """Observed entries of an ``m x n`` matrix in coordinate form, with optional truth.

    Attributes
    ----------
    rows, cols : ndarray of int
        Indices of the observed entries.
    values : ndarray of float
        Observed values.
    shape : tuple of int
        ``(m, n)``.
    U_true, V_true : ndarray or None
        For synthetic data, factors with ``M = U_true @ V_true.T``.
    test : tuple or None
        Held-out ``(rows, cols, values)`` when the data set has a split.
    info : dict
        Free-form description (sizes, seed, source).
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple
    U_true: np.ndarray | None = None
    V_true: np.ndarray | None = None
    test: tuple | None = None
    info: dict = field(default_factory=dict)

    @property
    def nnz(self) -> int:
        """Number of observed entries."""
        return int(self.values.size)

    def __repr__(self) -> str:
        m, n = self.shape
        extra = f", {self.test[2].size} held out" if self.test is not None else ""
        return f"CompletionData({m} x {n}, {self.nnz} observed{extra})"


def sample_size(n: int, rank: int, factor: float = 20.0) -> int:
    """The sample size ``factor * n * rank * log(n)`` used in the benchmarks (rounded).

    Examples
    --------
    >>> sample_size(1000, 5)
    690776
    """
    return int(round(factor * n * rank * np.log(n)))


def _index_dtype(m: int, n: int):
    return np.int32 if max(m, n) < 2**31 - 1 else np.int64


def synthetic_completion(m: int, n: int, rank: int, *, nnz: int | None = None, factor: float = 20.0,
                         condition: float = 1.0, noise: float = 0.0, seed=0) -> CompletionData:
    """Random incoherent rank-``rank`` matrix observed on uniformly sampled entries.

    ``M = U S V^T`` with ``U``, ``V`` the Q factors of Gaussian matrices (incoherent with
    high probability) and singular values spread geometrically from 1 down to
    ``1 / condition``. ``nnz`` distinct entries are drawn uniformly without
    replacement; by default ``nnz = factor * max(m, n) * rank * log(max(m, n))``,
    capped at ``m * n``. Entries are sorted row-major.

    Parameters
    ----------
    m, n, rank : int
        Matrix shape and rank (``rank <= min(m, n)``).
    nnz : int, optional
        Number of observed entries.
    factor : float
        Oversampling factor used when ``nnz`` is not given.
    condition : float
        Ratio of the largest to the smallest nonzero singular value (>= 1).
    noise : float
        Standard deviation of Gaussian noise added to observed values, relative to
        the root-mean-square entry of ``M``.
    seed : int, Generator or None
        Random seed (default 0: default calls are reproducible).

    Returns
    -------
    CompletionData
        With ``U_true = U * sqrt(S)`` and ``V_true = V * sqrt(S)`` (so ``M = U_true V_true^T``).

    Examples
    --------
    >>> d = synthetic_completion(60, 50, 3, nnz=1500, seed=0)
    >>> d
    CompletionData(60 x 50, 1500 observed)
    >>> M = d.U_true @ d.V_true.T
    >>> bool(np.allclose(M[d.rows, d.cols], d.values))
    True
    """
    check_positive("m", m, integer=True)
    check_positive("n", n, integer=True)
    check_positive("rank", rank, integer=True)
    if rank > min(m, n):
        raise ValueError(f"rank must be <= min(m, n) = {min(m, n)}; got rank={rank}.")
    check_in_range("condition", condition, 1.0, np.inf, closed="left")
    check_positive("noise", noise, strict=False)
    rng = check_rng(seed)
    total = m * n
    if nnz is None:
        check_positive("factor", factor)
        big = max(m, n)
        nnz = min(total, sample_size(big, rank, factor))
    check_positive("nnz", nnz, integer=True)
    if nnz > total:
        raise ValueError(f"nnz must be <= m * n = {total}; got nnz={nnz}.")
    U, _ = np.linalg.qr(rng.standard_normal((m, rank)))
    V, _ = np.linalg.qr(rng.standard_normal((n, rank)))
    s = np.geomspace(1.0, 1.0 / condition, rank) if rank > 1 else np.ones(1)
    scale = np.sqrt(s * np.sqrt(m * n / rank))  # entries of M of order one
    U_true, V_true = U * scale, V * scale
    flat = np.sort(rng.choice(total, size=nnz, replace=False, shuffle=False))
    itype = _index_dtype(m, n)
    rows = (flat // n).astype(itype)
    cols = (flat % n).astype(itype)
    del flat
    values = np.empty(nnz)
    chunk = 1 << 18
    for start in range(0, nnz, chunk):
        sl = slice(start, start + chunk)
        values[sl] = np.einsum("ij,ij->i", U_true[rows[sl]], V_true[cols[sl]])
    if noise > 0:
        rms = np.sqrt(np.sum(s**2 * np.sqrt(m * n / rank) ** 2) / total)
        values += noise * rms * rng.standard_normal(nnz)
    info = {"source": "synthetic", "rank": rank, "condition": condition, "noise": noise,
            "density": nnz / total}
    return CompletionData(rows, cols, values, (m, n), U_true, V_true, None, info)


def train_test_split(rows, cols, values, *, test_size: float = 0.2, seed=0):
    """Split observed entries uniformly at random into training and held-out parts.

    Returns ``((rows, cols, values), (rows, cols, values))`` for train and test.

    Examples
    --------
    >>> tr, te = train_test_split(np.arange(10), np.arange(10), np.ones(10), test_size=0.3, seed=0)
    >>> len(tr[0]), len(te[0])
    (7, 3)
    """
    check_in_range("test_size", test_size, 0.0, 1.0)
    rng = check_rng(seed)
    rows, cols, values = np.asarray(rows), np.asarray(cols), np.asarray(values)
    if not rows.ndim == cols.ndim == values.ndim == 1 or not rows.size == cols.size == values.size:
        raise ValueError(f"rows, cols and values must be 1-D of equal length; got shapes {rows.shape}, "
                         f"{cols.shape}, {values.shape}.")
    ntest = int(round(test_size * values.size))
    is_test = np.zeros(values.size, dtype=bool)
    is_test[rng.choice(values.size, size=ntest, replace=False)] = True
    train = (rows[~is_test], cols[~is_test], values[~is_test])
    test = (rows[is_test], cols[is_test], values[is_test])
    return train, test


def _data_home() -> Path:
    return Path(os.environ.get("NUMOPT_DATA", Path.home() / ".cache" / "numopt"))


def movielens(path: str | os.PathLike | None = None, *, test_size: float = 0.2, seed=0) -> CompletionData:
    """MovieLens ml-latest-small ratings as a user x movie completion problem with a held-out split.

    Reads ``ratings.csv.gz`` (or ``ratings.csv``) from
    ``$NUMOPT_DATA/movielens/ml-latest-small/`` unless ``path`` is given. Users and
    movies are numbered ``0..m-1`` and ``0..n-1`` in increasing id order (the ids are
    kept in ``info['user_ids']`` and ``info['movie_ids']``). A fraction ``test_size``
    of the ratings, chosen uniformly with ``seed``, is held out in ``test``.

    Examples
    --------
    >>> d = movielens(seed=0)
    >>> d.shape, d.nnz, d.test[2].size
    ((610, 9724), 80669, 20167)
    """
    check_in_range("test_size", test_size, 0.0, 1.0)
    check_rng(seed)
    if path is None:
        folder = _data_home() / "movielens" / "ml-latest-small"
        candidates = [folder / "ratings.csv.gz", folder / "ratings.csv"]
        found = [p for p in candidates if p.is_file()]
        if not found:
            raise FileNotFoundError(
                f"MovieLens ratings not found: looked for {candidates[0]} and {candidates[1]}. "
                f"Download {_MOVIELENS_URL}, unzip it and put ratings.csv (or ratings.csv.gz) in "
                f"{folder}, or set NUMOPT_DATA to the folder that holds movielens/ml-latest-small/."
            )
        path = found[0]
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MovieLens ratings file {path} does not exist.")
    table = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    user_ids, rows = np.unique(table[:, 0].astype(np.int64), return_inverse=True)
    movie_ids, cols = np.unique(table[:, 1].astype(np.int64), return_inverse=True)
    values = table[:, 2].copy()
    shape = (user_ids.size, movie_ids.size)
    itype = _index_dtype(*shape)
    rows, cols = rows.astype(itype), cols.astype(itype)
    train, test = train_test_split(rows, cols, values, test_size=test_size, seed=seed)
    info = {"source": str(path), "user_ids": user_ids, "movie_ids": movie_ids, "test_size": test_size,
            "seed": seed}
    return CompletionData(*train, shape, None, None, test, info)
