"""Rank selection by held-out error: fit each candidate rank on part of the observed entries."""

from __future__ import annotations

import numpy as np

from .._core.result import OptimizeResult
from .._core.validate import check_positive
from .estimator import MatrixCompleter
from .observations import observations

__all__ = ["select_rank"]


def select_rank(rows, cols, values, shape, ranks, *, test_size: float = 0.2, seed=0, **options):
    """Pick the rank with the smallest held-out RMSE.

    A fraction ``test_size`` of the observed entries (drawn with ``seed``) is held
    out; for every candidate rank a :class:`~numopt.completion.MatrixCompleter` with
    ``options`` (``method``, ``reg``, ``biases``, ...) is fitted on the rest and
    scored on the held-out part.

    Returns
    -------
    OptimizeResult
        ``rank`` (the best), ``ranks``, ``rmse`` (one per rank), ``sweeps``.

    Examples
    --------
    >>> from numopt.completion import select_rank
    >>> from numopt.problems.completion_data import synthetic_completion
    >>> d = synthetic_completion(80, 70, 3, nnz=2500, noise=0.01, seed=0)
    >>> select_rank(d.rows, d.cols, d.values, d.shape, [1, 2, 3, 5], seed=0).rank
    3
    """
    from ..problems.completion_data import train_test_split

    ranks = [int(check_positive("ranks", r, integer=True)) for r in np.atleast_1d(ranks).tolist()]
    if not ranks:
        raise ValueError("ranks must list at least one candidate rank.")
    obs = observations(rows, cols, values, shape, duplicates=options.pop("duplicates", "error"))
    (tr_r, tr_c, tr_v), (te_r, te_c, te_v) = train_test_split(*obs.coo(), test_size=test_size, seed=seed)
    rmse, sweeps = [], []
    for r in ranks:
        model = MatrixCompleter(rank=r, seed=seed, **options).fit(np.column_stack([tr_r, tr_c]), tr_v)
        rmse.append(model.rmse(np.column_stack([te_r, te_c]), te_v))
        sweeps.append(model.n_iter_)
    best = int(np.argmin(rmse))
    return OptimizeResult(rank=ranks[best], ranks=ranks, rmse=np.array(rmse), sweeps=np.array(sweeps))
