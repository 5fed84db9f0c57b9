"""Synthetic generators, MovieLens loader, spectral start and error measures."""

import gzip
import os

import numpy as np
import pytest
import scipy.sparse as sp

from numopt.completion import randomized_svd, relative_error, spectral_init
from numopt.problems.completion_data import movielens, sample_size, synthetic_completion, train_test_split


def test_synthetic_truth_and_uniform_sampling():
    d = synthetic_completion(50, 40, 3, nnz=1200, condition=10.0, seed=0)
    M = d.U_true @ d.V_true.T
    np.testing.assert_allclose(d.values, M[d.rows, d.cols])
    assert np.unique(d.rows * 40 + d.cols).size == 1200  # distinct entries
    s = np.linalg.svd(M, compute_uv=False)
    assert s[0] / s[2] == pytest.approx(10.0) and s[3] < 1e-10 * s[0]
    # incoherence: row norms of the left singular vectors stay near sqrt(k/m)
    U = np.linalg.svd(M)[0][:, :3]
    assert np.linalg.norm(U, axis=1).max() < 3 * np.sqrt(3 / 50)
    assert synthetic_completion(30, 30, 2, factor=1.0, seed=0).nnz == sample_size(30, 2, 1.0)
    with pytest.raises(ValueError, match="rank must be <= min"):
        synthetic_completion(5, 4, 5)
    noisy = synthetic_completion(50, 40, 3, nnz=1200, condition=10.0, noise=0.1, seed=0)
    assert 0.05 < np.std(noisy.values - d.values) < 0.2


def test_train_test_split_is_seeded():
    a = train_test_split(np.arange(100), np.arange(100), np.arange(100.0), test_size=0.25, seed=3)
    b = train_test_split(np.arange(100), np.arange(100), np.arange(100.0), test_size=0.25, seed=3)
    assert a[1][0].size == 25 and np.array_equal(a[1][0], b[1][0])
    assert np.intersect1d(a[0][2], a[1][2]).size == 0


def test_movielens_loader_and_missing_file(tmp_path, monkeypatch):
    folder = tmp_path / "movielens" / "ml-latest-small"
    monkeypatch.setenv("NUMOPT_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="MovieLens ratings not found.*ml-latest-small.zip"):
        movielens()
    folder.mkdir(parents=True)
    lines = ["userId,movieId,rating,timestamp", "1,10,4.0,0", "1,20,3.5,0", "7,10,5.0,0", "7,30,1.0,0"]
    with gzip.open(folder / "ratings.csv.gz", "wt") as f:
        f.write("\n".join(lines) + "\n")
    d = movielens(test_size=0.25, seed=0)
    assert d.shape == (2, 3) and d.nnz == 3 and d.test[2].size == 1
    np.testing.assert_array_equal(d.info["movie_ids"], [10, 20, 30])


@pytest.mark.skipif(not os.path.exists(os.path.join(os.environ.get("NUMOPT_DATA", ""), "movielens",
                                                    "ml-latest-small", "ratings.csv.gz")),
                    reason="MovieLens ml-latest-small not in NUMOPT_DATA")
def test_movielens_real_file():
    d = movielens(seed=0)
    assert d.shape == (610, 9724) and d.nnz + d.test[2].size == 100836
    assert d.values.min() >= 0.5 and d.values.max() <= 5.0


def test_randomized_svd_and_spectral_init():
    d = synthetic_completion(120, 90, 3, nnz=5000, seed=2)
    obs = sp.csr_matrix((d.values, (d.rows, d.cols)), shape=d.shape)
    U, s, Vt = randomized_svd(obs, 3, seed=0)
    s_dense = np.linalg.svd(obs.toarray(), compute_uv=False)[:3]
    np.testing.assert_allclose(s, s_dense, rtol=1e-6)
    U0, V0, nclipped = spectral_init(obs, 3, seed=0)
    assert nclipped == 0
    p = obs.nnz / (120 * 90)
    np.testing.assert_allclose(V0, obs.T @ U0 / p)
    # the spectral start already points near the true column space
    Ut = np.linalg.qr(d.U_true)[0]
    assert np.linalg.norm(Ut - U0 @ (U0.T @ Ut)) < 0.8 * np.sqrt(3)
    # clipping zeroes rows that break the incoherence bound
    U1, _, n1 = spectral_init(obs, 3, clip=0.5, seed=0)
    assert n1 > 0 and np.allclose(U1.T @ U1, np.eye(3))


def test_relative_error_matches_dense():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((30, 2)), rng.standard_normal((20, 2))
    U, V = A + 1e-3 * rng.standard_normal(A.shape), B
    dense = np.linalg.norm(U @ V.T - A @ B.T) / np.linalg.norm(A @ B.T)
    assert relative_error(U, V, A, B) == pytest.approx(dense, rel=1e-10)
    assert relative_error(A * (1 + 1e-12), B, A, B) == pytest.approx(1e-12, rel=1e-3)
