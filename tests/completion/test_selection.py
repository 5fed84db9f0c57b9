import pytest

from numopt.completion import select_rank
from numopt.problems.completion_data import synthetic_completion


def test_select_rank_finds_true_rank_under_noise():
    d = synthetic_completion(100, 90, 4, nnz=4000, noise=0.05, seed=1)
    res = select_rank(d.rows, d.cols, d.values, d.shape, [2, 4, 8], seed=0, method="exact", reg=1e-3)
    assert res.rank == 4
    assert res.rmse[1] < res.rmse[0] and res.rmse[1] < res.rmse[2]
    assert res.sweeps.shape == (3,)


def test_select_rank_errors():
    with pytest.raises(ValueError, match="at least one candidate"):
        select_rank([0], [0], [1.0], (2, 2), [])
    with pytest.raises(ValueError, match="ranks must be finite and > 0"):
        select_rank([0], [0], [1.0], (2, 2), [0, 1])
