"""Randomized sketching solvers: agreement with a direct solve, kernels vs NumPy references."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

from numopt.linalg import SKETCHES, sketch_solve
from numopt.linalg._sketch_kernels import rk_csr_chunk, rk_dense_chunk, rk_reference


def kkt_system(n=12, m=4, seed=0):
    """A symmetric indefinite KKT matrix [[B, G^T], [G, 0]] and a right-hand side."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    B = B @ B.T / n + np.eye(n)
    G = rng.standard_normal((m, n))
    K = np.block([[B, G.T], [G, np.zeros((m, m))]])
    z = rng.standard_normal(n + m)
    return K, K @ z, z


@pytest.mark.parametrize("sketch", SKETCHES)
@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_each_sketch_matches_direct_solve(sketch, kind):
    K, b, _ = kkt_system()
    A = K if kind == "dense" else sp.csr_matrix(K)
    res = sketch_solve(A, b, sketch=sketch, rtol=1e-10, seed=1, maxiter=400_000)
    assert res.success and res.info == 0
    assert np.allclose(res.x, np.linalg.solve(K, b), atol=1e-7)
    assert res.residual <= 1e-10 * np.linalg.norm(b)


def test_nonsymmetric_and_operator_input():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((8, 8)) + 4 * np.eye(8)
    b = rng.standard_normal(8)
    for sketch in ("rk", "gaussian", "block-kaczmarz"):
        res = sketch_solve(aslinearoperator(A), b, sketch=sketch, rtol=1e-9, seed=0, maxiter=200_000)
        assert res.success
        assert np.allclose(A @ res.x, b, atol=1e-7)


def test_consistent_rectangular_system():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((15, 6))
    x = rng.standard_normal(6)
    res = sketch_solve(A, A @ x, sketch="rk", sampling="uniform", rtol=1e-10, seed=0)
    assert res.success and np.allclose(res.x, x, atol=1e-8)


def test_caller_stopping_test_sees_true_residual():
    K, b, _ = kkt_system(seed=2)
    seen = []

    def stop(z, r, k):
        assert np.allclose(r, K @ z - b, atol=1e-9)
        seen.append(k)
        return np.linalg.norm(r) <= 1e-3 * np.linalg.norm(b)

    res = sketch_solve(sp.csr_matrix(K), b, sketch="rk", stop=stop, check_every=50, seed=0)
    assert res.success and seen[-1] == res.nit and all(k % 50 == 0 for k in seen)
    assert res.residual <= 1e-3 * np.linalg.norm(b)


@pytest.mark.parametrize("sampling", ["row-norm", "uniform"])
def test_numba_and_numpy_backends_agree(sampling):
    K, b, _ = kkt_system(seed=5)
    for A in (K, sp.csr_matrix(K)):
        a = sketch_solve(A, b, sketch="rk", sampling=sampling, maxiter=3000, seed=7, backend="numba")
        c = sketch_solve(A, b, sketch="rk", sampling=sampling, maxiter=3000, seed=7, backend="numpy")
        assert a.nit == c.nit and np.allclose(a.x, c.x, atol=1e-10)


def test_kernels_match_reference():
    K, b, _ = kkt_system(n=9, m=3, seed=6)
    K[2, 5] = K[5, 2] = 0.0
    A = sp.csr_matrix(K)
    AT = sp.csr_matrix(A.T)
    norms = np.einsum("ij,ij->i", K, K)
    rows = np.random.default_rng(0).integers(0, 12, size=40).astype(np.int64)
    expected = rk_reference(K, b, rows, np.zeros(12))
    z = np.zeros(12)
    rk_dense_chunk(K, b, norms, rows, z)
    assert np.allclose(z, expected, atol=1e-12)
    z, r = np.zeros(12), -b.copy()
    rk_csr_chunk(A.data, A.indices, A.indptr, AT.data, AT.indices, AT.indptr, norms, rows, z, r)
    assert np.allclose(z, expected, atol=1e-12)
    assert np.allclose(r, K @ z - b, atol=1e-10)


def test_iteration_limit_reported():
    K, b, _ = kkt_system(seed=8)
    res = sketch_solve(K, b, sketch="gaussian", rtol=1e-14, maxiter=5, seed=0)
    x, info = res
    assert not res.success and info == 5 and res.nit == 5


def test_bad_input():
    K, b, _ = kkt_system()
    with pytest.raises(ValueError, match="sketch='kaczmarz'"):
        sketch_solve(K, b, sketch="kaczmarz")
    with pytest.raises(ValueError, match="b must have shape"):
        sketch_solve(K, b[:-1])
    with pytest.raises(ValueError, match="block_size must be at most"):
        sketch_solve(K, b, sketch="countsketch", block_size=100)
    with pytest.raises(ValueError, match="sampling"):
        sketch_solve(K, b, sampling="leverage")
    with pytest.raises(ValueError, match="A contains NaN"):
        sketch_solve(np.full((2, 2), np.nan), np.ones(2))


@pytest.mark.gpu
@pytest.mark.parametrize("sketch", ["block-kaczmarz", "gaussian", "countsketch", "sparse-sign"])
def test_gpu_block_sketches(sketch):
    import cupy as cp

    K, b, z = kkt_system()
    res = sketch_solve(cp.asarray(K), cp.asarray(b), sketch=sketch, rtol=1e-10, seed=0, maxiter=100_000)
    assert res.success and np.allclose(cp.asnumpy(res.x), z, atol=1e-7)


def test_sketch_result_contract_and_stopiteration():
    from numopt import Status

    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 10))
    b = A @ rng.standard_normal(10)
    res = sketch_solve(A, b, sketch="block-kaczmarz", rtol=1e-10, seed=0)
    assert res.success and res.status == Status.SUCCESS.code and res.time >= 0
    assert res.residual == float(np.linalg.norm(b - A @ res.x)) and res.rel_residual <= 1e-10

    def stop(zk):
        raise StopIteration

    res = sketch_solve(A, b, sketch="block-kaczmarz", rtol=1e-14, seed=0, check_every=1, callback=stop)
    assert res.status == Status.CALLBACK.code and res.nit == 1 and not res.success
