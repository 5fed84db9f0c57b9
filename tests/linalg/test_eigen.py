"""The one extreme-eigenvalue helper: dense and Lanczos paths agree with numpy's full decomposition."""

import numpy as np
import pytest
import scipy.sparse as sp

from numopt.linalg import extreme_eigenvalues, largest_eigenvalue, spectral_norm
from numopt.problems.pde import poisson


@pytest.mark.parametrize("dense_limit", [10_000, 0])
def test_extreme_eigenvalues_match_full_decomposition(dense_limit):
    A = poisson((12, 11))
    w = np.linalg.eigvalsh(A.toarray())
    lo, hi = extreme_eigenvalues(A, k=2, sigma=0.0, dense_limit=dense_limit)
    np.testing.assert_allclose(lo, w[:2], rtol=1e-10)
    np.testing.assert_allclose(hi, w[-2:], rtol=1e-10)


def test_one_end_only_and_largest():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((40, 40))
    A = M + M.T
    w = np.linalg.eigvalsh(A)
    lo, hi = extreme_eigenvalues(A, which="smallest")
    assert hi.size == 0 and lo[0] == pytest.approx(w[0], rel=1e-12)
    assert largest_eigenvalue(A) == pytest.approx(w[-1], rel=1e-12)
    assert largest_eigenvalue(sp.csr_matrix(A), dense_limit=0) == pytest.approx(w[-1], rel=1e-8)


@pytest.mark.parametrize("shape", [(300, 20), (20, 300)])
def test_spectral_norm_dense_and_operator_paths(shape):
    X = sp.random(*shape, density=0.2, random_state=1, format="csr")
    exact = np.linalg.norm(X.toarray(), 2)
    assert spectral_norm(X) == pytest.approx(exact, rel=1e-12)
    assert spectral_norm(X, dense_limit=0) == pytest.approx(exact, rel=1e-8)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="which="):
        extreme_eigenvalues(np.eye(3), which="middle")
    with pytest.raises(ValueError, match="order >= 4"):
        extreme_eigenvalues(np.eye(3), k=2)
