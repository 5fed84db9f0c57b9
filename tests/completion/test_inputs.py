"""Bad input gives clear errors; empty rows/columns and duplicates follow the documented rules."""

import numpy as np
import pytest

from numopt.completion import complete, heldout_rmse, observations, relative_error
from numopt.problems.completion_data import synthetic_completion

R, C, X = [0, 1, 2, 2], [0, 1, 0, 2], [1.0, 2.0, 3.0, 4.0]


def test_out_of_range_indices():
    with pytest.raises(ValueError, match=r"rows holds index 3 out of range.*size 3"):
        complete([0, 3], [0, 1], [1.0, 2.0], (3, 3), 1)
    with pytest.raises(ValueError, match=r"cols holds index -1"):
        complete([0, 1], [0, -1], [1.0, 2.0], (3, 3), 1)


def test_duplicates_error_and_average():
    with pytest.raises(ValueError, match=r"1 duplicate \(row, col\) entries, e.g. \(2, 0\).*duplicates='average'"):
        observations([2, 0, 2], [0, 1, 0], [1.0, 2.0, 5.0], (3, 3))
    obs = observations([2, 0, 2], [0, 1, 0], [1.0, 2.0, 5.0], (3, 3), duplicates="average")
    assert obs.nnz == 2 and obs.nduplicates == 1
    np.testing.assert_allclose(obs.row_val, [2.0, 3.0])
    with pytest.raises(ValueError, match="duplicates='first' is not valid"):
        observations(R, C, X, (3, 3), duplicates="first")


def test_rank_too_large():
    with pytest.raises(ValueError, match=r"rank must be <= min\(m, n\) = 3; got rank=4"):
        complete(R, C, X, (3, 5), 4)
    with pytest.raises(TypeError, match="rank must be an integer"):
        complete(R, C, X, (3, 3), 1.5)


def test_nan_values():
    with pytest.raises(ValueError, match=r"values contains NaN or inf \(1 of 4 entries\)"):
        complete(R, C, [1.0, np.nan, 3.0, 4.0], (3, 3), 1)


def test_other_bad_input():
    with pytest.raises(TypeError, match="rows must hold integer indices"):
        complete([0.0, 1.0], [0, 1], [1.0, 2.0], (2, 2), 1)
    with pytest.raises(ValueError, match="cols must have one entry per value"):
        complete([0, 1], [0], [1.0, 2.0], (2, 2), 1)
    with pytest.raises(ValueError, match="shape must be a pair of positive integers"):
        complete([0], [0], [1.0], (2, 0), 1)
    with pytest.raises(ValueError, match="values is empty"):
        complete([], [], [], (2, 2), 1)
    with pytest.raises(ValueError, match="method='fast' is not valid"):
        complete(R, C, X, (3, 3), 1, "fast")
    with pytest.raises(ValueError, match="Unknown option 'inner_tol'.*Did you mean 'inner_rtol'"):
        complete(R, C, X, (3, 3), 1, inner_tol=0.1)
    with pytest.raises(ValueError, match=r"x0 must be None"):
        complete(R, C, X, (3, 3), 1, x0=np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"x0\[1\] \(V0\) must have shape \(3, 1\)"):
        complete(R, C, X, (3, 3), 1, x0=(np.ones((3, 1)), np.ones((2, 1))))


@pytest.mark.parametrize("method", ["exact", "robust"])
def test_empty_rows_and_columns(method):
    d = synthetic_completion(40, 30, 2, nnz=900, seed=0)
    keep = (d.rows != 5) & (d.cols != 7)
    res = complete(d.rows[keep], d.cols[keep], d.values[keep], d.shape, 2, method, seed=0, tol=1e-12)
    assert res.success and res.empty_rows == 1 and res.empty_cols == 1
    assert np.all(res.U[5] == 0) and np.all(res.V[7] == 0)
    # every other entry is recovered
    rows = np.delete(np.arange(40), 5)
    cols = np.delete(np.arange(30), 7)
    err = relative_error(res.U[rows], res.V[cols], d.U_true[rows], d.V_true[cols])
    assert err < 1e-8


def test_heldout_rmse_errors():
    with pytest.raises(ValueError, match="values is empty"):
        heldout_rmse((np.ones((3, 1)), np.ones((3, 1))), [], [], [])
    with pytest.raises(ValueError, match="rows, cols and values must have the same length"):
        heldout_rmse((np.ones((3, 1)), np.ones((3, 1))), [0], [0, 1], [1.0])
