"""The CuPy path: on a GPU against the Numba kernels; elsewhere its logic with NumPy standing in for CuPy."""

import importlib
import sys
import types

import numpy as np
import pytest
import scipy
import scipy.sparse

from numopt.completion import _kernels as K
from numopt.completion import complete

from .conftest import random_csr


def _check_against_numba(G, xp):
    ptr, idx, data, F = random_csr(12, 60, 4, 0)
    dev = [xp.asarray(a) for a in (ptr, idx, data, F)]
    for lam in (0.0, 0.3):
        out, ref = xp.zeros((12, 4)), np.zeros((12, 4))
        G.exact_solve(*dev, lam, out)
        K.exact_solve(ptr, idx, data, F, lam, ref)
        np.testing.assert_allclose(np.asarray(out if xp is np else out.get()), ref, rtol=1e-6, atol=1e-8)
        X0 = np.random.default_rng(1).standard_normal((12, 4))
        out, it = xp.zeros((12, 4)), xp.zeros(12, dtype=xp.int64)
        ref, it_ref = np.zeros((12, 4)), np.zeros(12, np.int64)
        G.robust_solve(*dev, lam, xp.asarray(X0), 8, 2, 0.1, 10, 77, out, it)
        K.robust_solve(ptr, idx, data, F, lam, X0, 8, 2, 0.1, 10, 77, ref, it_ref)
        host = np.asarray(out if xp is np else out.get())
        np.testing.assert_allclose(host, ref, rtol=1e-6, atol=1e-8)
        np.testing.assert_array_equal(np.asarray(it if xp is np else it.get()), it_ref)
    U = np.random.default_rng(2).standard_normal((12, 4))
    assert G.observed_sq_residual(*dev[:3], xp.asarray(U), dev[3]) == pytest.approx(
        K.observed_sq_residual(ptr, idx, data, U, F))


def test_gpu_logic_with_numpy_standing_in_for_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", np)
    monkeypatch.setitem(sys.modules, "cupyx", types.SimpleNamespace(scatter_add=np.add.at, scipy=scipy))
    monkeypatch.setitem(sys.modules, "cupyx.scipy", scipy)
    monkeypatch.setitem(sys.modules, "cupyx.scipy.sparse", scipy.sparse)
    monkeypatch.delitem(sys.modules, "numopt.completion._gpu", raising=False)
    G = importlib.import_module("numopt.completion._gpu")
    try:
        _check_against_numba(G, np)
    finally:
        sys.modules.pop("numopt.completion._gpu", None)


@pytest.mark.gpu
def test_gpu_kernels_match_numba():
    import cupy

    from numopt.completion import _gpu

    _check_against_numba(_gpu, cupy)


@pytest.mark.gpu
def test_gpu_backend_end_to_end(small_problem):
    d = small_problem
    for method in ("exact", "robust"):
        a = complete(d.rows, d.cols, d.values, d.shape, 3, method, seed=0, backend="cupy", tol=1e-12)
        assert a.success and a.residual < 1e-11


@pytest.mark.gpu
def test_gpu_backend_with_biases_matches_numba(small_problem):
    d = small_problem
    shifted = d.values + 0.5 * (d.rows % 3) - 0.2 * (d.cols % 5)
    kw = dict(reg=0.1, biases=True, seed=0, maxiter=5, tol=0.0, ftol=0.0)
    for method in ("exact", "robust"):
        gpu = complete(d.rows, d.cols, shifted, d.shape, 3, method, backend="cupy", **kw)
        cpu = complete(d.rows, d.cols, shifted, d.shape, 3, method, backend="numba", **kw)
        assert gpu.fun == pytest.approx(cpu.fun, rel=1e-8)
        np.testing.assert_allclose(gpu.row_bias, cpu.row_bias, rtol=1e-6, atol=1e-9)
