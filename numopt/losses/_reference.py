"""Readable NumPy twins of :mod:`numopt.losses._kernels` (same signatures, same results).

They are the ``backend='numpy'`` path of :class:`numopt.losses.GLM` and the reference the tests
hold the Numba kernels to. The scalar functions also accept arrays of margins and targets.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, logsumexp, softmax

LOSS_SQUARED, LOSS_LOGISTIC, LOSS_SOFTMAX = 0, 1, 2


def row_loss_and_slope(code, t, y):
    """NumPy twin of :func:`numopt.losses._kernels.row_loss_and_slope`."""
    if code == LOSS_SQUARED:
        r = t - y
        return 0.5 * r * r, r
    return -log_expit(y * t), -y * expit(-y * t)


def row_curvature(code, t, y):
    """NumPy twin of :func:`numopt.losses._kernels.row_curvature`."""
    if code == LOSS_SQUARED:
        return np.ones_like(t, dtype=float)
    return y * y * expit(y * t) * expit(-y * t)


def softmax_row(z, base, label, C, wout):
    """NumPy twin of :func:`numopt.losses._kernels.softmax_row`."""
    zr = z[base:base + C]
    wout[:C] = softmax(zr)
    wout[label] -= 1.0
    return float(logsumexp(zr) - zr[label])


def row_loss(code, z, y, i, C, wout):
    """NumPy twin of :func:`numopt.losses._kernels.row_loss`."""
    if code == LOSS_SOFTMAX:
        return softmax_row(z, i * C, int(y[i]), C, wout)
    loss, wout[0] = row_loss_and_slope(code, z[i], y[i])
    return float(loss)


def _losses_and_slopes(code, z, y, C):
    """Row losses (m,) and their derivatives (m, C) at the flat margins ``z``."""
    if code == LOSS_SOFTMAX:
        Z = z.reshape(-1, C)
        labels = y.astype(np.int64)
        P = softmax(Z, axis=1)
        P[np.arange(y.size), labels] -= 1.0
        return logsumexp(Z, axis=1) - Z[np.arange(y.size), labels], P
    loss, slope = row_loss_and_slope(code, z, y)
    return loss, slope[:, None]


def _hess_apply(code, z, y, C, u):
    """Row by row: the Hessian of the row loss in its margins times ``u``, shape (m, C)."""
    if code == LOSS_SOFTMAX:
        P = softmax(z.reshape(-1, C), axis=1)
        U = u.reshape(-1, C)
        return P * (U - (P * U).sum(axis=1, keepdims=True))
    return (row_curvature(code, z, y) * u)[:, None]


def margin_losses(code, z, y, C, lrow, slopes):
    """NumPy twin of :func:`numopt.losses._kernels.margin_losses`."""
    loss, S = _losses_and_slopes(code, z, y, C)
    lrow[:] = loss
    slopes[:] = S.reshape(-1)
    return float(loss.sum())


def margin_curvatures(code, z, y, C, out):
    """NumPy twin of :func:`numopt.losses._kernels.margin_curvatures`."""
    if code == LOSS_SOFTMAX:
        P = softmax(z.reshape(-1, C), axis=1)
        H = P[:, :, None] * np.eye(C) - P[:, :, None] * P[:, None, :]
        out[:] = H.reshape(-1)
    else:
        out[:] = row_curvature(code, z, y)


def margin_hessp(code, z, y, C, u, out):
    """NumPy twin of :func:`numopt.losses._kernels.margin_hessp`."""
    out[:] = _hess_apply(code, z, y, C, u).reshape(-1)


def _rows(data, indices, indptr, C, w, rows):
    """The selected rows of the CSR matrix, the variables as a (d, C) array."""
    W = w.reshape(-1, C)
    X = sp.csr_matrix((data, indices, indptr), shape=(indptr.size - 1, W.shape[0]))
    return X[rows], W


def _loss_grad(code, data, indices, indptr, y, w, C, rows, mean, out):
    Xr, W = _rows(data, indices, indptr, C, w, rows)
    loss, S = _losses_and_slopes(code, np.asarray(Xr @ W).reshape(-1), y[rows], C)
    scale = 1.0 / loss.size if (mean and loss.size) else 1.0
    out[:] = scale * np.asarray(Xr.T @ S).reshape(-1)
    return scale * float(loss.sum())


def _loss(code, data, indices, indptr, y, w, C, rows, mean):
    Xr, W = _rows(data, indices, indptr, C, w, rows)
    loss, _ = _losses_and_slopes(code, np.asarray(Xr @ W).reshape(-1), y[rows], C)
    return (1.0 / loss.size if (mean and loss.size) else 1.0) * float(loss.sum())


def _hessp(code, data, indices, indptr, y, w, v, C, rows, mean, out):
    Xr, W = _rows(data, indices, indptr, C, w, rows)
    V = v.reshape(W.shape)
    z = np.asarray(Xr @ W).reshape(-1)
    Hu = _hess_apply(code, z, y[rows], C, np.asarray(Xr @ V).reshape(-1))
    scale = 1.0 / Xr.shape[0] if (mean and Xr.shape[0]) else 1.0
    out[:] = scale * np.asarray(Xr.T @ Hu).reshape(-1)


def csr_range_loss_grad(code, data, indices, indptr, y, w, C, r0, r1, mean, out):
    """NumPy twin of :func:`numopt.losses._kernels.csr_range_loss_grad`."""
    return _loss_grad(code, data, indices, indptr, y, w, C, np.arange(r0, r1), mean, out)


def csr_batch_loss_grad(code, data, indices, indptr, y, w, C, rows, mean, out):
    """NumPy twin of :func:`numopt.losses._kernels.csr_batch_loss_grad`."""
    return _loss_grad(code, data, indices, indptr, y, w, C, rows, mean, out)


def csr_range_loss(code, data, indices, indptr, y, w, C, r0, r1, mean):
    """NumPy twin of :func:`numopt.losses._kernels.csr_range_loss`."""
    return _loss(code, data, indices, indptr, y, w, C, np.arange(r0, r1), mean)


def csr_batch_loss(code, data, indices, indptr, y, w, C, rows, mean):
    """NumPy twin of :func:`numopt.losses._kernels.csr_batch_loss`."""
    return _loss(code, data, indices, indptr, y, w, C, rows, mean)


def csr_range_hessp(code, data, indices, indptr, y, w, v, C, r0, r1, mean, out):
    """NumPy twin of :func:`numopt.losses._kernels.csr_range_hessp`."""
    _hessp(code, data, indices, indptr, y, w, v, C, np.arange(r0, r1), mean, out)


def csr_batch_hessp(code, data, indices, indptr, y, w, v, C, rows, mean, out):
    """NumPy twin of :func:`numopt.losses._kernels.csr_batch_hessp`."""
    _hessp(code, data, indices, indptr, y, w, v, C, rows, mean, out)
