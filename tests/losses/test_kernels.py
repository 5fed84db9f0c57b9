"""The Numba kernels of numopt.losses against their NumPy twins and against plain formulas."""

import numpy as np
import pytest
import scipy.sparse as sp

from numopt.losses import _kernels as K
from numopt.losses import _reference as R

CASES = [(0, 1), (1, 1), (2, 3)]  # (code, C)


def labels(code, m, C, rng):
    if code == 0:
        return rng.standard_normal(m)
    if code == 1:
        return np.where(rng.random(m) < 0.5, -1.0, 1.0)
    return rng.integers(0, C, m).astype(float)


def data(code, C, scale=1.0, seed=0, index_dtype=np.int32):
    rng = np.random.default_rng(seed)
    m, d = 23, 7
    X = rng.standard_normal((m, d)) * (rng.random((m, d)) < 0.5)
    X[4] = 0.0  # an empty row
    A = sp.csr_matrix(X)
    A.indices = A.indices.astype(index_dtype)
    A.indptr = A.indptr.astype(index_dtype)
    w = scale * rng.standard_normal(d * C)
    v = rng.standard_normal(d * C)
    return X, A, labels(code, m, C, rng), w, v


def plain_row(code, z, y):
    """Loss, gradient and Hessian of one row in its margins, written out directly."""
    if code == 0:
        return 0.5 * (z[0] - y) ** 2, np.array([z[0] - y]), np.array([[1.0]])
    if code == 1:
        m = -y * z[0]
        s = 1.0 / (1.0 + np.exp(-m))  # sigmoid(-y z), fine for moderate margins
        return np.log1p(np.exp(m)), np.array([-y * s]), np.array([[s * (1 - s)]])
    p = np.exp(z) / np.exp(z).sum()
    e = np.eye(z.size)[int(y)]
    return np.log(np.exp(z).sum()) - z[int(y)], p - e, np.diag(p) - np.outer(p, p)


def plain(code, X, y, w, v, C, rows, mean):
    """Loss, gradient and Hessian-vector product over ``rows`` by loops over the rows."""
    W = w.reshape(-1, C)
    V = v.reshape(-1, C)
    f, g, hv = 0.0, np.zeros_like(W), np.zeros_like(W)
    for i in rows:
        li, gi, Hi = plain_row(code, X[i] @ W, y[i])
        f += li
        g += np.outer(X[i], gi)
        hv += np.outer(X[i], Hi @ (X[i] @ V))
    s = 1.0 / len(rows) if mean else 1.0
    return s * f, s * g.ravel(), s * hv.ravel()


@pytest.mark.parametrize("code", [0, 1])
def test_scalar_loss_slope_curvature(code):
    ts = [-800.0, -30.0, -1.5, 0.0, 0.7, 30.0, 800.0]
    for y in (-1.0, 1.0):
        for t in ts:
            loss, slope = K.row_loss_and_slope(code, t, y)
            rl, rs = R.row_loss_and_slope(code, t, y)
            curv = K.row_curvature(code, t, y)
            assert np.isfinite([loss, slope, curv]).all()
            assert loss == pytest.approx(rl, rel=1e-14, abs=1e-300)
            assert slope == pytest.approx(rs, rel=1e-14, abs=1e-300)
            assert curv == pytest.approx(R.row_curvature(code, t, y), rel=1e-13, abs=1e-300)
            if abs(t) < 50:
                pl, pg, ph = plain_row(code, np.array([t]), y)
                assert (loss, slope, curv) == pytest.approx((pl, pg[0], ph[0, 0]), rel=1e-12, abs=1e-15)
    # logistic at huge margins: the loss is linear on the wrong side, zero on the right one
    if code == 1:
        assert K.row_loss_and_slope(1, 800.0, -1.0) == (800.0, 1.0)
        assert K.row_loss_and_slope(1, -800.0, -1.0) == (0.0, -0.0)
        assert K.row_curvature(1, 800.0, 1.0) == 0.0


def test_logistic_curvature_scales_with_label_square():
    assert K.row_curvature(1, 0.0, 2.0) == pytest.approx(4 * 0.25)
    assert R.row_curvature(1, 0.0, 2.0) == pytest.approx(4 * 0.25)


@pytest.mark.parametrize("z", [np.array([0.3, -1.0, 2.0]), np.array([800.0, -800.0, 0.0]),
                               np.array([-800.0, -800.0, -799.0])])
def test_softmax_row_and_row_loss(z):
    zz = np.concatenate([np.zeros(3), z])  # row 1 of a two-row z
    for label in range(3):
        wk, wr = np.empty(3), np.empty(3)
        lk = K.softmax_row(zz, 3, label, 3, wk)
        lr = R.softmax_row(zz, 3, label, 3, wr)
        assert np.isfinite(lk) and np.all(np.isfinite(wk))
        assert lk == pytest.approx(lr, rel=1e-13, abs=1e-13)
        np.testing.assert_allclose(wk, wr, rtol=1e-13, atol=1e-15)
        assert wk.sum() == pytest.approx(0.0, abs=1e-14)
        if np.abs(z).max() < 50:
            pl, pg, _ = plain_row(2, z, label)
            assert lk == pytest.approx(pl, rel=1e-13)
            np.testing.assert_allclose(wk, pg, rtol=1e-12)
        y = np.array([0.0, float(label)])
        wrow = np.empty(3)
        assert K.row_loss(2, zz, y, 1, 3, wrow) == pytest.approx(lk, rel=1e-15)
        np.testing.assert_array_equal(wrow, wk)
    if z[0] == 800.0:  # logsumexp(z) = 800 exactly in floating point
        assert K.softmax_row(zz, 3, 1, 3, np.empty(3)) == 1600.0
        assert K.softmax_row(zz, 3, 0, 3, np.empty(3)) == 0.0


@pytest.mark.parametrize("code", [0, 1])
def test_row_loss_one_output(code):
    z = np.array([0.5, -800.0, 800.0])
    y = np.array([1.0, 1.0, 1.0])
    for i in range(3):
        wk, wr = np.empty(1), np.empty(1)
        assert K.row_loss(code, z, y, i, 1, wk) == pytest.approx(R.row_loss(code, z, y, i, 1, wr), rel=1e-14)
        assert wk[0] == pytest.approx(wr[0], rel=1e-14)
    assert K.row_loss(1, z, y, 1, 1, np.empty(1)) == 800.0


@pytest.mark.parametrize("code, C", CASES)
@pytest.mark.parametrize("scale", [1.0, 800.0])
def test_margin_kernels(code, C, scale):
    rng = np.random.default_rng(3)
    m = 11
    z = scale * rng.standard_normal(m * C)
    z[:C] = scale  # margins of exactly +-scale
    z[C:2 * C] = -scale
    y = labels(code, m, C, rng)
    u = rng.standard_normal(m * C)
    lk, sk, lr, sr = np.empty(m), np.empty(m * C), np.empty(m), np.empty(m * C)
    tk = K.margin_losses(code, z, y, C, lk, sk)
    tr = R.margin_losses(code, z, y, C, lr, sr)
    assert np.all(np.isfinite(lk)) and np.all(np.isfinite(sk))
    assert tk == pytest.approx(tr, rel=1e-12)
    np.testing.assert_allclose(lk, lr, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(sk, sr, rtol=1e-12, atol=1e-300)
    ck, cr = np.empty(m * C * C), np.empty(m * C * C)
    K.margin_curvatures(code, z, y, C, ck)
    R.margin_curvatures(code, z, y, C, cr)
    assert np.all(np.isfinite(ck))
    np.testing.assert_allclose(ck, cr, rtol=1e-11, atol=1e-300)
    hk, hr = np.empty(m * C), np.empty(m * C)
    K.margin_hessp(code, z, y, C, u, hk)
    R.margin_hessp(code, z, y, C, u, hr)
    np.testing.assert_allclose(hk, hr, rtol=1e-11, atol=1e-300)
    # the curvature blocks times u are the Hessian products
    np.testing.assert_allclose(np.einsum("iab,ib->ia", ck.reshape(m, C, C), u.reshape(m, C)).ravel(), hk,
                               rtol=1e-11, atol=1e-14)
    if scale == 1.0:
        for i in range(m):
            pl, pg, ph = plain_row(code, z[i * C:(i + 1) * C], y[i])
            assert lk[i] == pytest.approx(pl, rel=1e-12)
            np.testing.assert_allclose(sk[i * C:(i + 1) * C], pg, rtol=1e-11, atol=1e-14)
            np.testing.assert_allclose(ck[i * C * C:(i + 1) * C * C], ph.ravel(), rtol=1e-11, atol=1e-14)


SELECTIONS = [("range", 0, 23), ("range", 3, 11), ("range", 4, 5), ("batch", [5, 0, 0, 22, 4, 9]),
              ("batch", [13])]


@pytest.mark.parametrize("code, C", CASES)
@pytest.mark.parametrize("sel", SELECTIONS, ids=str)
@pytest.mark.parametrize("mean", [True, False])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_csr_kernels_match_reference_and_plain_loops(code, C, sel, mean, index_dtype):
    X, A, y, w, v = data(code, C, index_dtype=index_dtype)
    args = (code, A.data, A.indices, A.indptr, y)
    if sel[0] == "range":
        r0, r1 = sel[1], sel[2]
        rows, where = list(range(r0, r1)), (r0, r1)
        lg, lo, hp = "csr_range_loss_grad", "csr_range_loss", "csr_range_hessp"
    else:
        rows = sel[1]
        where = (np.asarray(rows, dtype=np.int64),)
        lg, lo, hp = "csr_batch_loss_grad", "csr_batch_loss", "csr_batch_hessp"
    f_ref, g_ref, hv_ref = plain(code, X, y, w, v, C, rows, mean)
    for M in (K, R):
        g = np.full(w.size, np.nan)
        f = getattr(M, lg)(*args, w, C, *where, mean, g)
        assert f == pytest.approx(f_ref, rel=1e-12)
        np.testing.assert_allclose(g, g_ref, rtol=1e-11, atol=1e-13)
        assert getattr(M, lo)(*args, w, C, *where, mean) == pytest.approx(f_ref, rel=1e-12)
        hv = np.full(w.size, np.nan)
        getattr(M, hp)(*args, w, v, C, *where, mean, hv)
        np.testing.assert_allclose(hv, hv_ref, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("code, C", CASES)
def test_csr_kernels_at_extreme_margins(code, C):
    X, A, y, w, v = data(code, C, scale=800.0)
    Xw = (X @ w.reshape(-1, C)).ravel()
    assert np.abs(Xw).max() > 800.0
    args = (code, A.data, A.indices, A.indptr, y, w, C)
    gk, gr = np.empty(w.size), np.empty(w.size)
    fk = K.csr_range_loss_grad(*args, 0, 23, True, gk)
    fr = R.csr_range_loss_grad(*args, 0, 23, True, gr)
    assert np.isfinite(fk) and np.all(np.isfinite(gk))
    assert fk == pytest.approx(fr, rel=1e-12)
    np.testing.assert_allclose(gk, gr, rtol=1e-10, atol=1e-12)
    hk, hr = np.empty(w.size), np.empty(w.size)
    K.csr_batch_hessp(code, A.data, A.indices, A.indptr, y, w, v, C, np.arange(23), False, hk)
    R.csr_batch_hessp(code, A.data, A.indices, A.indptr, y, w, v, C, np.arange(23), False, hr)
    assert np.all(np.isfinite(hk))
    np.testing.assert_allclose(hk, hr, rtol=1e-9, atol=1e-9)


def test_scalar_kernels_are_callable_from_numba():
    from numba import njit

    @njit
    def summed(code, z, y):
        total = 0.0
        wout = np.empty(1)
        for i in range(z.size):
            total += K.row_loss(code, z, y, i, 1, wout) + K.row_curvature(code, z[i], y[i])
        return total

    z, y = np.array([0.0, 800.0]), np.array([1.0, -1.0])
    assert summed(1, z, y) == pytest.approx(np.log(2.0) + 0.25 + 800.0)
