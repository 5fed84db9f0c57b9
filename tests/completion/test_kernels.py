"""Numba kernels against their NumPy references, and against exact solutions."""

import numpy as np
import pytest

from numopt.completion import _kernels as K

from .conftest import random_csr


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_exact_solve_matches_reference(csr_case, lam):
    ptr, idx, data, F = csr_case
    out, ref = np.zeros((12, 4)), np.zeros((12, 4))
    K.exact_solve(ptr, idx, data, F, lam, out)
    K.exact_solve_ref(ptr, idx, data, F, lam, ref)
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-12)
    assert np.all(out[0] == 0.0)  # empty row
    # the underdetermined row gets the minimum-norm (or ridge) solution
    A, b = F[idx[ptr[1]:ptr[2]]], data[ptr[1]:ptr[2]]
    if lam == 0.0:
        np.testing.assert_allclose(out[1], np.linalg.pinv(A) @ b, atol=1e-10)
    else:
        np.testing.assert_allclose(out[1], np.linalg.solve(A.T @ A + lam * np.eye(4), A.T @ b), atol=1e-10)


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_robust_solve_matches_reference(lam):
    ptr, idx, data, F = random_csr(10, 80, 3, 1)
    X0 = np.random.default_rng(2).standard_normal((10, 3))
    args = (ptr, idx, data, F, lam, X0, 8, 2, 0.1, 10, 12345)
    out, it = np.zeros((10, 3)), np.zeros(10, np.int64)
    ref, it_ref = np.zeros((10, 3)), np.zeros(10, np.int64)
    K.robust_solve(*args, out, it)
    K.robust_solve_ref(*args, ref, it_ref)
    np.testing.assert_allclose(out, ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(it, it_ref)
    assert it[2:].min() >= 1


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_robust_solve_converges_to_exact(lam):
    ptr, idx, data, F = random_csr(15, 200, 5, 4)
    F[:, 0] *= 100.0  # badly scaled design: the preconditioner must absorb it
    exact = np.zeros((15, 5))
    K.exact_solve(ptr, idx, data, F, lam, exact)
    out, it = np.zeros((15, 5)), np.zeros(15, np.int64)
    K.robust_solve(ptr, idx, data, F, lam, np.zeros((15, 5)), 10, 2, 1e-13, 100, 7, out, it)
    np.testing.assert_allclose(out, exact, rtol=1e-8, atol=1e-10)
    assert it.max() < 30  # O(1) conditioning after preconditioning


def test_robust_relative_forcing_reduces_error_by_rtol():
    ptr, idx, data, F = random_csr(20, 300, 6, 5, empty=(), sparse_rows=())
    exact = np.zeros((20, 6))
    K.exact_solve(ptr, idx, data, F, 0.0, exact)
    X0 = exact + 0.1 * np.random.default_rng(0).standard_normal(exact.shape)
    out, it = np.zeros((20, 6)), np.zeros(20, np.int64)
    K.robust_solve(ptr, idx, data, F, 0.0, X0, 12, 2, 0.1, 50, 3, out, it)
    before = np.linalg.norm(X0 - exact, axis=1)
    after = np.linalg.norm(out - exact, axis=1)
    assert np.all(after < 0.5 * before)
    assert np.all(it <= 10)


def test_sketch_is_a_subspace_embedding():
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((400, 8)))[0]
    SQ = K._sketch_ref(Q, 99, 0, 32, 2)
    sv = np.linalg.svd(SQ, compute_uv=False)
    assert 0.3 < sv.min() and sv.max() < 1.8


def test_householder_r_matches_numpy():
    B = np.random.default_rng(1).standard_normal((20, 6))
    R = K._householder_r(np.ascontiguousarray(B.T))
    np.testing.assert_allclose(R.T @ R, B.T @ B, rtol=1e-10)
    assert np.allclose(np.tril(R, -1), 0.0)


def test_residual_and_predict_match_reference(csr_case):
    ptr, idx, data, F = csr_case
    U = np.random.default_rng(3).standard_normal((12, 4))
    assert K.observed_sq_residual(ptr, idx, data, U, F) == pytest.approx(
        K.observed_sq_residual_ref(ptr, idx, data, U, F), rel=1e-12)
    rows = np.repeat(np.arange(12), np.diff(ptr))
    out, ref = np.zeros(idx.size), np.zeros(idx.size)
    K.predict_entries(rows, idx, U, F, out)
    K.predict_entries_ref(rows, idx, U, F, ref)
    np.testing.assert_allclose(out, ref, rtol=1e-12)
