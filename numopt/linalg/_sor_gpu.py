"""CuPy path of SOR: one CUDA thread per row of a color, colors swept in order.

Rows of one color are not coupled, so relaxing them at once is exactly the
sequential colored sweep of :mod:`numopt.linalg._sor_kernels`.

Examples
--------
>>> import cupy as cp
>>> from numopt.linalg import sor
>>> from numopt.problems.pde import poisson
>>> A = poisson((16, 16))
>>> res = sor(A, cp.ones(256), omega=1.6, ordering="red-black")
>>> res.info
0
"""

from __future__ import annotations

import math
import time

import cupy as cp
import cupyx.scipy.sparse as csp

from .._core.result import LinearSolveResult
from .sor import loop_result
from .system import check_tolerances

__all__ = ["sor", "sweep"]

_RELAX = cp.RawKernel(r"""
extern "C" __global__
void relax_rows(const double* data, const int* indices, const int* indptr, const double* diag,
                const double* b, double* x, const double omega, const int* rows, const int nrows) {
    int m = blockDim.x * blockIdx.x + threadIdx.x;
    if (m >= nrows) return;
    int i = rows[m];
    double s = b[i];
    for (int k = indptr[i]; k < indptr[i + 1]; ++k) s -= data[k] * x[indices[k]];
    x[i] += omega * s / diag[i];
}
""", "relax_rows")

_THREADS = 256


def _device(S):
    """Device copies of the sweep matrix, made once per :class:`~numopt.linalg.SweepMatrix`."""
    cached = getattr(S, "_gpu", None)
    if cached is None:
        A = csp.csr_matrix(S.A)
        colors = [cp.asarray(S.order[S.color_ptr[c]:S.color_ptr[c + 1]], dtype=cp.int32)
                  for c in range(len(S.color_ptr) - 1)]
        cached = (A, cp.asarray(A.indices, dtype=cp.int32), cp.asarray(A.indptr, dtype=cp.int32),
                  cp.asarray(S.diag), colors)
        S._gpu = cached
    return cached


def sweep(S, b, x, omega, kind):
    """One SOR sweep on the device, in place on ``x``: the colors of ``S`` in order, each in one kernel.

    Parameters
    ----------
    S : SweepMatrix
        A colored sweep matrix (its device copies are made on the first call).
    b, x : cupy.ndarray
        Right-hand side and iterate (float64, updated in place).
    omega : float
        Relaxation parameter.
    kind : int
        0 forward, 1 backward, 2 symmetric (forward then backward).
    """
    A, indices, indptr, diag, colors = _device(S)
    passes = []
    if kind != 1:
        passes += colors
    if kind != 0:
        passes += colors[::-1]
    for rows in passes:
        n = rows.size
        _RELAX(((n + _THREADS - 1) // _THREADS,), (_THREADS,),
               (A.data, indices, indptr, diag, b, x, cp.float64(omega), rows, cp.int32(n)))


def sor(S, b, x0, *, omega, kind, rtol, atol, maxiter) -> LinearSolveResult:
    """SOR on the GPU for a colored :class:`~numopt.linalg.SweepMatrix`; arguments as :func:`numopt.linalg.sor`."""
    check_tolerances(rtol, atol)
    A = _device(S)[0]
    b = cp.asarray(b, dtype=cp.float64)
    x = cp.array(x0, dtype=cp.float64)
    tol = max(rtol * float(cp.linalg.norm(b)), atol)
    t0 = time.perf_counter()
    rnorm = float(cp.linalg.norm(b - A @ x))
    nit = 0
    while rnorm > tol and nit < maxiter and math.isfinite(rnorm):
        sweep(S, b, x, omega, kind)
        rnorm = float(cp.linalg.norm(b - A @ x))
        nit += 1
    return loop_result(A, b, x, nit, rnorm, tol, time.perf_counter() - t0)
