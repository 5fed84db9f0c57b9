import numpy as np
import pytest

from numopt.completion import observations
from numopt.problems.completion_data import synthetic_completion


@pytest.fixture(scope="module")
def small_problem():
    """A 90 x 70 rank-3 matrix observed on 2100 uniform entries."""
    return synthetic_completion(90, 70, 3, nnz=2100, seed=3)


def random_csr(nrow, ncol, k, seed, *, empty=(0,), sparse_rows=(1,)):
    """CSR pattern with chosen empty rows and rows holding fewer than k entries, plus a factor F."""
    rng = np.random.default_rng(seed)
    ptr, idx = [0], []
    for i in range(nrow):
        if i in empty:
            cnt = 0
        elif i in sparse_rows:
            cnt = k - 1
        else:
            cnt = int(rng.integers(k, ncol))
        idx.extend(np.sort(rng.choice(ncol, cnt, replace=False)))
        ptr.append(len(idx))
    ptr, idx = np.array(ptr, dtype=np.int64), np.array(idx, dtype=np.int64)
    data = rng.standard_normal(idx.size)
    F = rng.standard_normal((ncol, k))
    return ptr, idx, data, F


@pytest.fixture
def csr_case():
    return random_csr(12, 60, 4, 0)


def obs_of(d):
    return observations(d.rows, d.cols, d.values, d.shape)
