"""numopt.losses.GLM: values against plain formulas, derivatives against finite differences, validation."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp

from numopt.losses import GLM, LOSS_CODES, check_loss, kernels, loss_code

LOSSES = [("squared", 1), ("logistic", 1), ("softmax", 3)]
N, D = 30, 6


def problem(loss, C, sparse, *, seed=0, **kw):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)) * (rng.random((N, D)) < 0.6)
    if loss == "squared":
        y = rng.standard_normal(N)
    elif loss == "logistic":
        y = np.where(rng.random(N) < 0.5, -1.0, 1.0)
    else:
        y = rng.integers(0, C, N)
    f = GLM(sp.csr_matrix(X) if sparse else X, y, loss, n_classes=C if loss == "softmax" else None, **kw)
    return f, X, np.asarray(y, float), rng.standard_normal(D * C), rng.standard_normal(D * C)


def plain_value(loss, X, y, w, C, l2, mean=True):
    Z = X @ w.reshape(D, C)
    if loss == "squared":
        rows = 0.5 * (Z[:, 0] - y) ** 2
    elif loss == "logistic":
        rows = np.log1p(np.exp(-y * Z[:, 0]))
    else:
        rows = logsumexp(Z, axis=1) - Z[np.arange(len(y)), y.astype(int)]
    return (rows.mean() if mean else rows.sum()) + 0.5 * l2 * w @ w


def central_diff(fun, w, h=1e-6):
    out = []
    for j in range(w.size):
        e = np.zeros_like(w)
        e[j] = h
        out.append((fun(w + e) - fun(w - e)) / (2 * h))
    return np.array(out)


SELECTIONS = [None, slice(5, 17), slice(0, N, 3), np.array([3, 3, 0, 29, 12]), [7]]


def selected(rows):
    return np.arange(N) if rows is None else np.arange(N)[rows]


@pytest.mark.parametrize("loss, C", LOSSES)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("rows", SELECTIONS, ids=lambda r: repr(r).replace(" ", ""))
def test_value_and_grad(loss, C, sparse, backend, rows):
    f, X, y, w, _ = problem(loss, C, sparse, l2=0.3, backend=backend)
    r = selected(rows)
    assert f.value(w, rows) == pytest.approx(plain_value(loss, X[r], y[r], w, C, 0.3), rel=1e-12)
    value, g = f.value_and_grad(w, rows)
    assert value == pytest.approx(f.value(w, rows), rel=1e-13)
    np.testing.assert_allclose(g, f.grad(w, rows), rtol=1e-13)
    fd = central_diff(lambda u: plain_value(loss, X[r], y[r], u, C, 0.3), w)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("loss, C", LOSSES)
@pytest.mark.parametrize("sparse", [False, True])
def test_row_losses_give_weighted_objectives(loss, C, sparse):
    f, X, y, w, _ = problem(loss, C, sparse)
    rows = np.array([4, 0, 4, 17])
    losses, slopes = f.row_losses(w, rows)
    for k, i in enumerate(rows):
        assert losses[k] == pytest.approx(plain_value(loss, X[[i]], y[[i]], w, C, 0.0), rel=1e-12)
    weights = np.array([0.5, 2.0, 1.0, 3.0])

    def weighted(u):
        return sum(wt * plain_value(loss, X[[i]], y[[i]], u, C, 0.0) for wt, i in zip(weights, rows))

    g = (X[rows].T @ (weights[:, None] * slopes)).ravel()
    np.testing.assert_allclose(g, central_diff(weighted, w), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("loss, C", LOSSES)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("rows", [None, slice(2, 20), np.array([1, 1, 8, 25])], ids=["all", "range", "batch"])
def test_hessp_hess_and_curvature(loss, C, sparse, backend, rows):
    f, X, y, w, v = problem(loss, C, sparse, l2=0.2, backend=backend)
    hv = f.hessp(w, v, rows)
    fd = central_diff(lambda u: f.grad(u, rows) @ v, w)  # d/dw (grad . v) = H v (H symmetric)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-7)
    H = f.hess(w, rows)
    assert sp.issparse(H) == sparse
    Hd = H.toarray() if sparse else H
    np.testing.assert_allclose(Hd, Hd.T, atol=1e-14)
    np.testing.assert_allclose(Hd @ v, hv, rtol=1e-11, atol=1e-13)
    weights = f.curvature_weights(w, rows)
    r = selected(rows)
    assert weights.shape == ((r.size,) if C == 1 else (r.size, C, C))
    if C == 1:
        np.testing.assert_allclose(X[r].T @ (weights[:, None] * X[r]) + 0.2 * np.eye(D), Hd, rtol=1e-11,
                                   atol=1e-14)


@pytest.mark.parametrize("loss, C", LOSSES)
def test_dense_and_sparse_agree_and_sum_reduction(loss, C):
    fd, X, y, w, v = problem(loss, C, False)
    fs, *_ = problem(loss, C, True)
    fsum, *_ = problem(loss, C, True, reduction="sum")
    for rows in SELECTIONS:
        n = selected(rows).size
        assert fs.value(w, rows) == pytest.approx(fd.value(w, rows), rel=1e-13)
        np.testing.assert_allclose(fs.grad(w, rows), fd.grad(w, rows), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(fs.hessp(w, v, rows), fd.hessp(w, v, rows), rtol=1e-12, atol=1e-15)
        assert fsum.value(w, rows) == pytest.approx(n * fd.value(w, rows), rel=1e-13)
        np.testing.assert_allclose(fsum.grad(w, rows), n * fd.grad(w, rows), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(fsum.hessp(w, v, rows), n * fd.hessp(w, v, rows), rtol=1e-12, atol=1e-14)
    assert fsum.value(w) == pytest.approx(plain_value(loss, X, y, w, C, 0.0, mean=False), rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_extreme_margins_do_not_overflow(sparse):
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    Xs = sp.csr_matrix(X) if sparse else X
    w = np.array([800.0, -800.0])  # margins 800, -800, -800
    f = GLM(Xs, np.array([1.0, 1.0, -1.0]), "logistic")
    assert f.value(w) == pytest.approx(800.0 / 3)
    np.testing.assert_allclose(f.grad(w), [1.0 / 3, 0.0], atol=1e-300)  # row 1: x (-1, 0), slope -1
    assert np.all(np.isfinite(f.hess(w).toarray() if sparse else f.hess(w)))
    s = GLM(Xs, np.array([0, 1, 2]), "softmax", n_classes=3)
    W = np.array([[800.0, -800.0, 0.0], [0.0, 0.0, 800.0]]).ravel()
    # row 0: z = (800, -800, 0), label 0 -> 0; row 1: z = (-800, 800, 0), label 1 -> 0; row 2: label 2 -> 0
    assert s.value(W) == pytest.approx(0.0, abs=1e-300)
    assert np.all(np.isfinite(s.grad(W))) and np.all(np.isfinite(s.hessp(W, np.ones(6))))
    s.y[0] = 1  # now row 0 pays 1600
    assert s.value(W) == pytest.approx(1600.0 / 3)


@pytest.mark.parametrize("loss, C, c", [("squared", 1, 1.0), ("logistic", 1, 0.25), ("softmax", 3, 0.5)])
@pytest.mark.parametrize("sparse", [False, True])
def test_lipschitz_constants(loss, C, c, sparse):
    f, X, y, w, _ = problem(loss, C, sparse, l2=0.1)
    expected = c * np.linalg.norm(X, 2) ** 2 / N + 0.1
    for method in ("auto", "exact", "svds"):
        assert f.lipschitz(method) == pytest.approx(expected, rel=1e-8)
    rng = np.random.default_rng(5)
    for _ in range(3):
        u = 3 * rng.standard_normal(D * C)
        H = f.hess(u)
        H = H.toarray() if sparse else H
        assert np.linalg.eigvalsh(H)[-1] <= f.lipschitz() * (1 + 1e-12)
        assert np.all(np.diag(H) <= f.coordinate_lipschitz() * (1 + 1e-12))
    cc = 0.25 if loss == "softmax" else c
    np.testing.assert_allclose(f.coordinate_lipschitz(), np.repeat(cc * (X**2).sum(0) / N + 0.1, C))
    fsum, *_ = problem(loss, C, sparse, l2=0.1, reduction="sum")
    assert fsum.lipschitz() == pytest.approx(c * np.linalg.norm(X, 2) ** 2 + 0.1, rel=1e-8)


def test_lipschitz_of_a_single_column():
    f = GLM(sp.csr_matrix(np.array([[3.0], [4.0]])), np.zeros(2), "squared")
    assert f.lipschitz("svds") == pytest.approx(12.5)


@pytest.mark.parametrize("loss, C", LOSSES)
def test_lam_max_l1(loss, C):
    f, X, y, w, _ = problem(loss, C, True)
    lam = f.lam_max_l1()
    g0 = f.grad(np.zeros(D * C))
    assert lam == pytest.approx(np.abs(g0).max()) and lam > 0
    if loss == "squared":
        assert lam == pytest.approx(np.abs(X.T @ y).max() / N)


def test_squared_hessian_is_cached_and_constant():
    f, X, *_ = problem("squared", 1, True, l2=0.5)
    H = f.hess(np.zeros(D))
    assert f.hess(np.ones(D)) is H
    np.testing.assert_allclose(H.toarray(), X.T @ X / N + 0.5 * np.eye(D))
    np.testing.assert_allclose(f.hess(np.ones(D), rows=slice(0, 10)).toarray(),
                               X[:10].T @ X[:10] / 10 + 0.5 * np.eye(D))


def test_sizes_and_kernel_arrays():
    f, X, y, *_ = problem("softmax", 3, False)
    assert (f.n_samples, f.n_features, f.n_outputs, f.n_variables) == (N, D, 3, 3 * D)
    code, data, indices, indptr, yk, C = f.kernel_arrays()
    assert code == 2 and C == 3
    np.testing.assert_array_equal(sp.csr_matrix((data, indices, indptr), shape=(N, D)).toarray(), X)
    np.testing.assert_array_equal(yk, y)


def test_sparse_input_is_canonicalized_without_changing_the_caller():
    A = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), np.array([1, 0, 1]), np.array([0, 3])), shape=(1, 2))
    f = GLM(A, [1.0], "squared")
    assert f.X.has_canonical_format and not A.has_canonical_format
    np.testing.assert_array_equal(f.X.toarray(), [[2.0, 4.0]])
    assert f.value(np.array([1.0, 1.0])) == pytest.approx(12.5)


def test_softmax_infers_the_number_of_classes():
    f = GLM(np.eye(3), [0, 2, 1], "softmax")
    assert f.n_outputs == 3


def test_ridge_alias_warns_and_means_squared():
    with pytest.warns(DeprecationWarning, match="loss='ridge' is deprecated.*loss='squared'"):
        assert check_loss("ridge") == "squared"
    with pytest.warns(DeprecationWarning, match="ridge"):
        assert loss_code("ridge") == LOSS_CODES["squared"] == 0
    with pytest.warns(DeprecationWarning, match="ridge"):
        f = GLM(np.eye(2), [1.0, 2.0], "ridge")
    assert f.loss == "squared" and f.value(np.zeros(2)) == pytest.approx(1.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_loss("squared") == "squared"


def test_kernels_switch():
    from numopt.losses import _kernels, _reference

    assert kernels() is _kernels and kernels("numpy") is _reference


X3 = np.ones((3, 2))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: check_loss("hinge"), ValueError,
     r"loss='hinge' is not valid; expected one of 'squared', 'logistic', 'softmax'"),
    (lambda: GLM(X3, np.ones(3), "logit"), ValueError, r"loss='logit' is not valid.*Did you mean 'logistic'"),
    (lambda: GLM(X3, np.ones(3), reduction="avg"), ValueError, r"reduction='avg' is not valid.*'mean', 'sum'"),
    (lambda: GLM(X3, np.ones(3), backend="cuda"), ValueError, r"backend='cuda' is not valid.*'numba', 'numpy'"),
    (lambda: kernels("jax"), ValueError, r"backend='jax' is not valid"),
    (lambda: GLM(X3, np.ones(3), l2=-1.0), ValueError, r"l2 must be finite and >= 0; got -1.0"),
    (lambda: GLM(X3, np.ones(4), "squared"), ValueError, r"y has 4 entries but X has 3 rows"),
    (lambda: GLM(X3, np.ones((3, 1)), "squared"), ValueError, r"y must be 1-D; got shape \(3, 1\)"),
    (lambda: GLM(X3, [0.0, 1.0, 1.0], "logistic"), ValueError,
     r"y must hold labels in \{-1, \+1\} for loss='logistic'; got 1 other value\(s\), e.g. \[0.0\]"),
    (lambda: GLM(X3, [0, 1.5, 1], "softmax"), ValueError,
     r"y must hold integer class labels >= 0 for loss='softmax'; got \[1.5\]"),
    (lambda: GLM(X3, [0, -1, 1], "softmax"), ValueError, r"y must hold integer class labels.*got \[-1.0\]"),
    (lambda: GLM(X3, [0, 3, 1], "softmax", n_classes=3), ValueError,
     r"y must hold class labels in \[0, 3\) for n_classes=3; got label 3"),
    (lambda: GLM(X3, [0, 0, 0], "softmax"), ValueError,
     r"n_classes must be >= 2 for loss='softmax'; got n_classes=1"),
    (lambda: GLM(X3, [0, 1, 1], "softmax", n_classes=2.0), TypeError, r"n_classes must be an integer; got 2.0"),
    (lambda: GLM(X3, np.ones(3), "logistic", n_classes=3), ValueError,
     r"n_classes is only for loss='softmax'; got n_classes=3 with loss='logistic'"),
    (lambda: GLM(np.full((3, 2), np.nan), np.ones(3), "squared"), ValueError, r"X contains NaN or inf"),
    (lambda: GLM(sp.csr_matrix(np.full((3, 2), np.inf)), np.ones(3), "squared"), ValueError, r"X contains NaN"),
    (lambda: GLM(np.ones(3), np.ones(3), "squared"), ValueError, r"X must be 2-D; got shape \(3,\)"),
    (lambda: GLM(np.ones((0, 2)), np.ones(0), "squared"), ValueError, r"X has no rows"),
    (lambda: GLM(X3, np.ones(3), "squared").value(np.ones(3)), ValueError,
     r"w must have shape \(2,\) \(d \* C = 2 \* 1\); got \(3,\)"),
    (lambda: GLM(X3, np.ones(3), "squared").hessp(np.ones(2), np.ones((2, 1))), ValueError,
     r"v must have shape \(2,\)"),
    (lambda: GLM(X3, np.ones(3), "squared").grad(np.ones(2), rows=slice(3, 5)), ValueError,
     r"rows=slice\(3, 5, None\) selects no row of the 3 rows"),
    (lambda: GLM(X3, np.ones(3), "squared").grad(np.ones(2), rows=[0, 3]), ValueError,
     r"rows must hold indices in \[0, 3\); got values from 0 to 3"),
    (lambda: GLM(X3, np.ones(3), "squared").grad(np.ones(2), rows=[-1]), ValueError,
     r"rows must hold indices in \[0, 3\); got values from -1 to -1"),
    (lambda: GLM(X3, np.ones(3), "squared").grad(np.ones(2), rows=np.array([], dtype=int)), ValueError,
     r"rows selects no row"),
    (lambda: GLM(X3, np.ones(3), "squared").grad(np.ones(2), rows=[0.5]), ValueError,
     r"rows must be None, a slice or a 1-D array of integer row indices; got list of dtype float64"),
    (lambda: GLM(X3, np.ones(3), "squared").lipschitz("power"), ValueError,
     r"method='power' is not valid.*'auto', 'exact', 'svds'"),
])
def test_validation_errors_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
