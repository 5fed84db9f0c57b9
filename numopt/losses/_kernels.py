"""Numba kernels of the generalized linear model losses, each with a NumPy twin in :mod:`numopt.losses._reference`.

Conventions
-----------
* ``code`` selects the loss: 0 squared ``(t - y)^2 / 2``, 1 logistic ``log(1 + exp(-y t))``
  (y in {-1, +1}), 2 softmax (y the class index, stored as a float).
* A model has ``C`` outputs per row (``C = 1`` except for softmax): the variables are
  ``w.reshape(d, C)`` stored flat (``w[j * C + c]``) and the margins ``z = X @ w.reshape(d, C)``
  are stored flat too (``z[i * C + c]``).
* Sparse data are CSR arrays ``data, indices, indptr``. Row selections are either a contiguous
  range ``[r0, r1)`` or an index array ``rows`` (a minibatch; repeated rows count repeatedly).
* ``mean`` divides the summed row losses (and their derivatives) by the number of selected rows.

The scalar kernels (:func:`row_loss_and_slope`, :func:`row_curvature`, :func:`softmax_row`,
:func:`row_loss`) are meant to be called from other Numba kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "LOSS_LOGISTIC",
    "LOSS_SOFTMAX",
    "LOSS_SQUARED",
    "csr_batch_hessp",
    "csr_batch_loss",
    "csr_batch_loss_grad",
    "csr_range_hessp",
    "csr_range_loss",
    "csr_range_loss_grad",
    "margin_curvatures",
    "margin_hessp",
    "margin_losses",
    "row_curvature",
    "row_loss",
    "row_loss_and_slope",
    "softmax_row",
]

LOSS_SQUARED, LOSS_LOGISTIC, LOSS_SOFTMAX = 0, 1, 2


# --------------------------------------------------------------------------- scalar kernels
@njit(cache=True)
def row_loss_and_slope(code, t, y):
    """Loss of one margin ``t`` with target ``y`` and its derivative in ``t`` (squared or logistic).

    The logistic loss is evaluated without overflow for any margin.

    Examples
    --------
    >>> [float(v) for v in row_loss_and_slope(0, 3.0, 1.0)]
    [2.0, 2.0]
    >>> [float(v) for v in row_loss_and_slope(1, 800.0, -1.0)]
    [800.0, 1.0]
    """
    if code == 0:
        r = t - y
        return 0.5 * r * r, r
    m = -y * t
    if m > 0.0:
        e = np.exp(-m)
        return m + np.log1p(e), -y / (1.0 + e)
    e = np.exp(m)
    return np.log1p(e), -y * e / (1.0 + e)


@njit(cache=True)
def row_curvature(code, t, y):
    """Second derivative in ``t`` of the squared (1) or logistic (``y^2 s (1 - s)``, s = sigmoid(y t)) loss.

    Examples
    --------
    >>> [float(row_curvature(code, t, y)) for code, t, y in ((0, 5.0, 1.0), (1, 0.0, -1.0), (1, 800.0, 1.0))]
    [1.0, 0.25, 0.0]
    """
    if code == 0:
        return 1.0
    e = np.exp(-abs(y * t))
    return y * y * e / ((1.0 + e) * (1.0 + e))


@njit(cache=True)
def softmax_row(z, base, label, C, wout):
    """Softmax loss of the margins ``z[base:base + C]`` with class ``label``; ``wout[:C]`` gets its gradient.

    The gradient is the class probabilities minus the one-hot label.

    Examples
    --------
    >>> g = np.empty(2)
    >>> round(float(softmax_row(np.array([9.0, 0.0, 0.0]), 1, 1, 2, g)), 6), g  # row (0, 0), class 1
    (0.693147, array([ 0.5, -0.5]))
    """
    zmax = z[base]
    for c in range(1, C):
        if z[base + c] > zmax:
            zmax = z[base + c]
    s = 0.0
    for c in range(C):
        wout[c] = np.exp(z[base + c] - zmax)
        s += wout[c]
    for c in range(C):
        wout[c] /= s
    wout[label] -= 1.0
    return zmax + np.log(s) - z[base + label]


@njit(cache=True)
def row_loss(code, z, y, i, C, wout):
    """Loss of row ``i`` at the flat margins ``z`` (``C`` per row); its derivatives go to ``wout[:C]``.

    Examples
    --------
    >>> g = np.empty(1)
    >>> float(row_loss(0, np.array([1.0, 4.0]), np.array([0.0, 1.0]), 1, 1, g)), g
    (4.5, array([3.]))
    """
    if code == 2:
        return softmax_row(z, i * C, int(y[i]), C, wout)
    loss, slope = row_loss_and_slope(code, z[i], y[i])
    wout[0] = slope
    return loss


@njit(cache=True)
def _row_hess_apply(code, z, base, yi, C, u, ubase, hout):
    """``hout[:C]`` <- (Hessian of the row loss in its margins ``z[base:base + C]``) @ ``u[ubase:ubase + C]``."""
    if code != 2:
        hout[0] = row_curvature(code, z[base], yi) * u[ubase]
        return
    label = int(yi)
    softmax_row(z, base, label, C, hout)
    hout[label] += 1.0
    pu = 0.0
    for c in range(C):
        pu += hout[c] * u[ubase + c]
    for c in range(C):
        hout[c] *= u[ubase + c] - pu


# --------------------------------------------------------------------------- kernels on margins
@njit(cache=True)
def margin_losses(code, z, y, C, lrow, slopes):
    """Row losses (``lrow``, one per row) and their derivatives (``slopes``, like ``z``) at the margins ``z``.

    Returns the summed loss.

    Examples
    --------
    >>> lrow, slopes = np.empty(2), np.empty(2)
    >>> float(margin_losses(0, np.array([1.0, 4.0]), np.array([0.0, 1.0]), 1, lrow, slopes)), lrow, slopes
    (5.0, array([0.5, 4.5]), array([1., 3.]))
    """
    total = 0.0
    wout = np.empty(C)
    for i in range(y.size):
        li = row_loss(code, z, y, i, C, wout)
        lrow[i] = li
        total += li
        for c in range(C):
            slopes[i * C + c] = wout[c]
    return total


@njit(cache=True)
def margin_curvatures(code, z, y, C, out):
    """Second derivatives of the row losses in their margins.

    ``out`` has one entry per row for ``C = 1``; for softmax it holds the row Hessians
    ``diag(p) - p p^T`` (p the class probabilities) flat, ``C * C`` entries per row.

    Examples
    --------
    >>> out = np.empty(4)
    >>> margin_curvatures(2, np.zeros(2), np.array([1.0]), 2, out)
    >>> out
    array([ 0.25, -0.25, -0.25,  0.25])
    """
    p = np.empty(C)
    for i in range(y.size):
        if code != 2:
            out[i] = row_curvature(code, z[i], y[i])
            continue
        label = int(y[i])
        softmax_row(z, i * C, label, C, p)
        p[label] += 1.0
        base = i * C * C
        for a in range(C):
            for b in range(C):
                out[base + a * C + b] = (p[a] if a == b else 0.0) - p[a] * p[b]


@njit(cache=True)
def margin_hessp(code, z, y, C, u, out):
    """Row by row, the Hessian of the row loss in its margins times ``u`` (flat like ``z``).

    Examples
    --------
    >>> out = np.empty(2)
    >>> margin_hessp(1, np.zeros(2), np.array([1.0, -1.0]), 1, np.array([1.0, 2.0]), out)
    >>> out
    array([0.25, 0.5 ])
    """
    h = np.empty(C)
    for i in range(y.size):
        _row_hess_apply(code, z, i * C, y[i], C, u, i * C, h)
        for c in range(C):
            out[i * C + c] = h[c]


# --------------------------------------------------------------------------- CSR kernels
@njit(cache=True)
def _csr_margins(data, indices, indptr, w, C, i, zbuf):
    for c in range(C):
        zbuf[c] = 0.0
    for p in range(indptr[i], indptr[i + 1]):
        base = indices[p] * C
        a = data[p]
        for c in range(C):
            zbuf[c] += a * w[base + c]


@njit(cache=True)
def _csr_row_loss_grad(code, data, indices, indptr, y, w, C, i, scale, out, zbuf, sbuf):
    if C == 1:
        t = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            t += data[p] * w[indices[p]]
        li, slope = row_loss_and_slope(code, t, y[i])
        slope *= scale
        for p in range(indptr[i], indptr[i + 1]):
            out[indices[p]] += slope * data[p]
        return li
    _csr_margins(data, indices, indptr, w, C, i, zbuf)
    if code == 2:
        li = softmax_row(zbuf, 0, int(y[i]), C, sbuf)
    else:
        li, slope = row_loss_and_slope(code, zbuf[0], y[i])
        sbuf[0] = slope
    for p in range(indptr[i], indptr[i + 1]):
        base = indices[p] * C
        a = scale * data[p]
        for c in range(C):
            out[base + c] += a * sbuf[c]
    return li


@njit(cache=True)
def _csr_row_loss(code, data, indices, indptr, y, w, C, i, zbuf, sbuf):
    _csr_margins(data, indices, indptr, w, C, i, zbuf)
    if code == 2:
        return softmax_row(zbuf, 0, int(y[i]), C, sbuf)
    return row_loss_and_slope(code, zbuf[0], y[i])[0]


@njit(cache=True)
def _csr_row_hessp(code, data, indices, indptr, y, w, v, C, i, scale, out, zbuf, ubuf, hbuf):
    _csr_margins(data, indices, indptr, w, C, i, zbuf)
    _csr_margins(data, indices, indptr, v, C, i, ubuf)
    _row_hess_apply(code, zbuf, 0, y[i], C, ubuf, 0, hbuf)
    for p in range(indptr[i], indptr[i + 1]):
        base = indices[p] * C
        a = scale * data[p]
        for c in range(C):
            out[base + c] += a * hbuf[c]


@njit(cache=True)
def _scale(n, mean):
    return 1.0 / n if (mean and n > 0) else 1.0


@njit(cache=True)
def csr_range_loss_grad(code, data, indices, indptr, y, w, C, r0, r1, mean, out):
    """Loss of the CSR rows ``[r0, r1)`` at ``w`` (returned) and its gradient (written to ``out``).

    Examples
    --------
    >>> data, indices, indptr = np.array([1.0, 2.0, 3.0]), np.array([0, 1, 1]), np.array([0, 2, 3])
    >>> y, w = np.array([1.0, 0.0]), np.array([1.0, 1.0])  # margins 3 and 3, squared loss
    >>> g = np.empty(2)
    >>> float(csr_range_loss_grad(0, data, indices, indptr, y, w, 1, 0, 2, True, g)), g
    (3.25, array([1. , 6.5]))
    """
    scale = _scale(r1 - r0, mean)
    out[:] = 0.0
    zbuf = np.empty(C)
    sbuf = np.empty(C)
    total = 0.0
    for i in range(r0, r1):
        total += _csr_row_loss_grad(code, data, indices, indptr, y, w, C, i, scale, out, zbuf, sbuf)
    return scale * total


@njit(cache=True)
def csr_batch_loss_grad(code, data, indices, indptr, y, w, C, rows, mean, out):
    """Loss of the CSR rows ``rows`` at ``w`` (returned) and its gradient (written to ``out``).

    Examples
    --------
    >>> data, indices, indptr = np.array([1.0, 2.0, 3.0]), np.array([0, 1, 1]), np.array([0, 2, 3])
    >>> y, w = np.array([1.0, 0.0]), np.array([1.0, 1.0])  # margins 3 and 3, squared loss
    >>> g = np.empty(2)
    >>> float(csr_batch_loss_grad(0, data, indices, indptr, y, w, 1, np.array([1, 1]), False, g)), g
    (9.0, array([ 0., 18.]))
    """
    scale = _scale(rows.size, mean)
    out[:] = 0.0
    zbuf = np.empty(C)
    sbuf = np.empty(C)
    total = 0.0
    for k in range(rows.size):
        total += _csr_row_loss_grad(code, data, indices, indptr, y, w, C, rows[k], scale, out, zbuf, sbuf)
    return scale * total


@njit(cache=True)
def csr_range_loss(code, data, indices, indptr, y, w, C, r0, r1, mean):
    """Loss of the CSR rows ``[r0, r1)`` at ``w``.

    Examples
    --------
    >>> data, indices, indptr = np.array([1.0, 2.0, 3.0]), np.array([0, 1, 1]), np.array([0, 2, 3])
    >>> y, w = np.array([1.0, 0.0]), np.array([1.0, 1.0])  # margins 3 and 3, squared loss
    >>> float(csr_range_loss(0, data, indices, indptr, y, w, 1, 1, 2, True))
    4.5
    """
    zbuf = np.empty(C)
    sbuf = np.empty(C)
    total = 0.0
    for i in range(r0, r1):
        total += _csr_row_loss(code, data, indices, indptr, y, w, C, i, zbuf, sbuf)
    return _scale(r1 - r0, mean) * total


@njit(cache=True)
def csr_batch_loss(code, data, indices, indptr, y, w, C, rows, mean):
    """Loss of the CSR rows ``rows`` at ``w``.

    Examples
    --------
    >>> data, indices, indptr = np.array([1.0, 2.0, 3.0]), np.array([0, 1, 1]), np.array([0, 2, 3])
    >>> y, w = np.array([1.0, 0.0]), np.array([1.0, 1.0])  # margins 3 and 3, squared loss
    >>> float(csr_batch_loss(0, data, indices, indptr, y, w, 1, np.array([0, 1]), False))
    6.5
    """
    zbuf = np.empty(C)
    sbuf = np.empty(C)
    total = 0.0
    for k in range(rows.size):
        total += _csr_row_loss(code, data, indices, indptr, y, w, C, rows[k], zbuf, sbuf)
    return _scale(rows.size, mean) * total


@njit(cache=True)
def csr_range_hessp(code, data, indices, indptr, y, w, v, C, r0, r1, mean, out):
    """``out`` <- Hessian at ``w`` of the loss of the CSR rows ``[r0, r1)``, times ``v``.

    Examples
    --------
    >>> data, indices, indptr = np.array([1.0, 2.0, 3.0]), np.array([0, 1, 1]), np.array([0, 2, 3])
    >>> y, w = np.array([1.0, 0.0]), np.array([1.0, 1.0])  # margins 3 and 3, squared loss
    >>> out = np.empty(2)
    >>> csr_range_hessp(0, data, indices, indptr, y, w, np.array([1.0, 0.0]), 1, 0, 1, True, out)
    >>> out
    array([1., 2.])
    """
    scale = _scale(r1 - r0, mean)
    out[:] = 0.0
    zbuf = np.empty(C)
    ubuf = np.empty(C)
    hbuf = np.empty(C)
    for i in range(r0, r1):
        _csr_row_hessp(code, data, indices, indptr, y, w, v, C, i, scale, out, zbuf, ubuf, hbuf)


@njit(cache=True)
def csr_batch_hessp(code, data, indices, indptr, y, w, v, C, rows, mean, out):
    """``out`` <- Hessian at ``w`` of the loss of the CSR rows ``rows``, times ``v``.

    Examples
    --------
    >>> data, indices, indptr = np.array([1.0, 2.0, 3.0]), np.array([0, 1, 1]), np.array([0, 2, 3])
    >>> y, w = np.array([1.0, 0.0]), np.array([1.0, 1.0])  # margins 3 and 3, squared loss
    >>> out = np.empty(2)
    >>> csr_batch_hessp(0, data, indices, indptr, y, w, np.array([0.0, 1.0]), 1, np.array([0, 1]), True, out)
    >>> out
    array([1. , 6.5])
    """
    scale = _scale(rows.size, mean)
    out[:] = 0.0
    zbuf = np.empty(C)
    ubuf = np.empty(C)
    hbuf = np.empty(C)
    for k in range(rows.size):
        _csr_row_hessp(code, data, indices, indptr, y, w, v, C, rows[k], scale, out, zbuf, ubuf, hbuf)
