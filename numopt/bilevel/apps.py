"""Bilevel test problems: closed-form quadratics, hyperparameter optimization, data hyper-cleaning.

* :func:`quadratic_bilevel`: quadratic f and strongly convex quadratic g, with
  closed forms of the hyper-objective F(x), its gradient, the penalty surrogate
  psi_sigma(x) and its gradient (to check their O(sigma) closeness), and the
  solution; optionally a finite sum with zero-mean noise for stochastic tests.
* :func:`hyperparameter_task`: one regularization weight per feature,
  lambda_j = exp(x_j), for ridge or L2-logistic regression; the lower level
  fits the training split, the upper level is the validation loss.
* :func:`hyper_cleaning_task`: per-sample weights sigmoid(x_i) of a softmax
  regression on scikit-learn's digits with a fraction of the training labels
  corrupted; the upper level is the loss on a clean validation split.

Each task bundles the :class:`~numopt.bilevel.BilevelProblem` with
evaluation helpers (test accuracy, reference fits) used by the benchmarks.
The data losses are :class:`numopt.losses.GLM` objects (logistic, squared,
softmax).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize as scipy_minimize
from scipy.special import expit

from .._core.validate import check_in_range, check_positive, check_rng
from ..losses import GLM, check_loss
from .problem import BilevelFunction, BilevelProblem

__all__ = ["BilevelTask", "QuadraticBilevel", "hyper_cleaning_task", "hyperparameter_task", "libsvm_split",
           "quadratic_bilevel"]


# --------------------------------------------------------------------------- quadratics
@dataclass
class QuadraticBilevel:
    """A quadratic bilevel problem and its closed forms (see :func:`quadratic_bilevel`)."""

    problem: BilevelProblem
    K: np.ndarray
    k: np.ndarray
    A: np.ndarray
    B: np.ndarray
    b: np.ndarray
    x_star: np.ndarray

    @property
    def n(self):
        return self.B.shape[1]

    def y_star(self, x):
        """Lower-level solution y*(x) = -A^{-1} (B x + b)."""
        return -np.linalg.solve(self.A, self.B @ x + self.b)

    def _f_grad(self, x, y):
        w = np.concatenate([x, y])
        gw = self.K @ w + self.k
        return gw[: self.n], gw[self.n:]

    def _f(self, x, y):
        w = np.concatenate([x, y])
        return 0.5 * w @ self.K @ w + self.k @ w

    def _g(self, x, y):
        return 0.5 * y @ self.A @ y + y @ (self.B @ x) + self.b @ y

    def hyper_objective(self, x):
        """F(x) = f(x, y*(x))."""
        return self._f(x, self.y_star(x))

    def hypergradient(self, x):
        """grad F(x) = grad_x f - B^T A^{-1} grad_y f at (x, y*(x))."""
        fx, fy = self._f_grad(x, self.y_star(x))
        return fx - self.B.T @ np.linalg.solve(self.A, fy)

    def y_sigma(self, x, sigma):
        """argmin_y f(x, y) + g(x, y) / sigma."""
        n = self.n
        R, S = self.K[n:, n:], self.K[n:, :n]
        lam = 1.0 / sigma
        return -np.linalg.solve(R + lam * self.A, S @ x + self.k[n:] + lam * (self.B @ x + self.b))

    def psi_sigma(self, x, sigma):
        """Penalty surrogate psi_sigma(x) = min_y f + (g - min g) / sigma."""
        ys = self.y_sigma(x, sigma)
        return self._f(x, ys) + (self._g(x, ys) - self._g(x, self.y_star(x))) / sigma

    def grad_psi_sigma(self, x, sigma):
        """Gradient of psi_sigma (Danskin): grad_x f + (B^T y_sigma - B^T y*) / sigma at y_sigma."""
        ys = self.y_sigma(x, sigma)
        return self._f_grad(x, ys)[0] + self.B.T @ (ys - self.y_star(x)) / sigma


def quadratic_bilevel(n: int = 5, m: int = 8, *, n_samples: int | None = None, noise: float = 0.0,
                      seed=0, x_box: tuple | None = None) -> QuadraticBilevel:
    """Quadratic bilevel problem with closed-form solution.

    f(x, y) = 1/2 [x; y]^T K [x; y] + k^T [x; y] with K positive definite,
    g(x, y) = 1/2 y^T A y + y^T B x + b^T y with A positive definite
    (eigenvalues in [1, 10]). With ``n_samples``, both levels are means of
    ``n_samples`` terms whose linear parts carry zero-mean perturbations of
    size ``noise`` (the mean is the deterministic problem), and the oracles
    take minibatch indices. ``x_box = (lo, hi)`` constrains x.

    Examples
    --------
    >>> import numpy as np
    >>> qp = quadratic_bilevel(n=2, m=3, seed=0)
    >>> bool(np.linalg.norm(qp.hypergradient(qp.x_star)) < 1e-10)
    True
    >>> s = 1e-3
    >>> bool(abs(qp.psi_sigma(qp.x_star, s) - qp.hyper_objective(qp.x_star)) < 10 * s)
    True
    """
    check_positive("n", n, integer=True)
    check_positive("m", m, integer=True)
    check_positive("noise", noise, strict=False)
    if x_box is not None:
        if not isinstance(x_box, (tuple, list)) or len(x_box) != 2 or np.any(np.asarray(x_box[0]) > x_box[1]):
            raise ValueError(f"x_box must be a (lower, upper) pair with lower <= upper, or None; got {x_box!r}.")
        x_box = tuple(x_box)
    rng = check_rng(seed)
    W = rng.standard_normal((n + m, n + m))
    K = W @ W.T / (n + m) + 0.2 * np.eye(n + m)
    k = rng.standard_normal(n + m)
    Q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    A = Q @ np.diag(np.linspace(1.0, 10.0, m)) @ Q.T
    B = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    x0 = rng.standard_normal(n)
    y0 = np.zeros(m)
    qp = QuadraticBilevel(None, K, k, A, B, b, np.zeros(n))
    M = -np.linalg.solve(A, B)
    c = -np.linalg.solve(A, b)
    T = np.vstack([np.eye(n), M])
    H = T.T @ K @ T
    h = T.T @ (K @ np.concatenate([np.zeros(n), c]) + k)
    if x_box is None:
        qp.x_star = -np.linalg.solve(H, h)
    else:
        lo, hi = x_box
        x, L = np.zeros(n), np.linalg.eigvalsh(H)[-1]
        for _ in range(20000):
            x_new = np.clip(x - (H @ x + h) / L, lo, hi)
            if np.linalg.norm(x_new - x) < 1e-15:
                break
            x = x_new
        qp.x_star = x
    if n_samples is None:
        f = BilevelFunction(qp._f, grad=qp._f_grad, name="f")
        g = BilevelFunction(qp._g, grad=lambda x, y: (B.T @ y, A @ y + B @ x + b),
                            hvp=lambda x, y, v: (B.T @ v, A @ v), name="g")
    else:
        check_positive("n_samples", n_samples, integer=True)
        E = rng.standard_normal((n_samples, n + m)) * noise
        E -= E.mean(axis=0)
        G = rng.standard_normal((n_samples, m)) * noise
        G -= G.mean(axis=0)

        def mean_rows(M_, idx):
            return M_.mean(axis=0) if idx is None else M_[idx].mean(axis=0)

        def f_val(x, y, idx):
            return qp._f(x, y) + mean_rows(E, idx) @ np.concatenate([x, y])

        def f_grad(x, y, idx):
            e = mean_rows(E, idx)
            fx, fy = qp._f_grad(x, y)
            return fx + e[:n], fy + e[n:]

        def g_val(x, y, idx):
            return qp._g(x, y) + mean_rows(G, idx) @ y

        def g_grad(x, y, idx):
            return B.T @ y, A @ y + B @ x + b + mean_rows(G, idx)

        f = BilevelFunction(f_val, grad=f_grad, n_samples=n_samples, name="f")
        g = BilevelFunction(g_val, grad=g_grad, hvp=lambda x, y, v, idx: (B.T @ v, A @ v),
                            n_samples=n_samples, name="g")
    qp.problem = BilevelProblem(f, g, x0, y0, proj_x=x_box, name="quadratic")
    return qp


# --------------------------------------------------------------------------- data tasks
@dataclass
class BilevelTask:
    """A data-driven bilevel problem with evaluation helpers.

    Attributes
    ----------
    problem : BilevelProblem
    evaluate : callable
        ``evaluate(x, y) -> dict`` of test metrics (uncounted).
    fit_lower : callable
        ``fit_lower(x) -> y``: accurate lower-level solution (reference fits).
    info : dict
        Sizes and reference results.
    """

    problem: BilevelProblem
    evaluate: Callable
    fit_lower: Callable
    info: dict = field(default_factory=dict)


def _split(n, fractions, rng):
    perm = rng.permutation(n)
    cuts = np.cumsum([int(round(f * n)) for f in fractions[:-1]])
    return np.split(perm, cuts)


def libsvm_split(name: str, *, fractions=(0.5, 0.25, 0.25), seed=0, max_rows: int | None = None):
    """Load a LIBSVM data set (``numopt.problems.libsvm.load``) and split it into train, validation, test.

    Returns ``((A_tr, b_tr), (A_val, b_val), (A_te, b_te))`` with CSR matrices and labels in {-1, +1}.
    """
    from ..problems import libsvm

    A, b = libsvm.load(name)
    A = sp.csr_matrix(A, dtype=float)
    rng = check_rng(seed)
    if max_rows is not None and A.shape[0] > max_rows:
        keep = np.sort(rng.choice(A.shape[0], max_rows, replace=False))
        A, b = A[keep], b[keep]
    parts = _split(A.shape[0], fractions, rng)
    return tuple((A[p], np.asarray(b, dtype=float)[p]) for p in parts)


def hyperparameter_task(train, val, test=None, *, loss: str = "logistic", x_bounds=(-8.0, 2.0),
                        x0: float = 0.0) -> BilevelTask:
    """Per-feature L2 regularization of ridge / logistic regression tuned on a validation split.

    Lower level (training fit, one weight ``exp(x_j)`` per feature):
    g(x, w) = mean_i loss(a_i @ w, b_i) + 1/2 sum_j exp(x_j) w_j^2 (a mean
    over training samples, the regularizer in every term). Upper level:
    f(x, w) = mean validation loss. ``x_bounds`` keeps every weight in
    [e^-8, e^2] by default. ``train``, ``val``, ``test`` are
    ``(A, b)`` pairs (dense or sparse A; b in {-1, +1} for 'logistic').

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((60, 4)); b = np.sign(A @ np.array([1.0, -1.0, 0.0, 0.0]) + 0.1)
    >>> task = hyperparameter_task((A[:30], b[:30]), (A[30:], b[30:]), loss="logistic")
    >>> task.problem.n, task.problem.m, sorted(task.evaluate(task.problem.x0, np.zeros(4)))
    (4, 4, ['test_accuracy', 'test_loss', 'val_loss'])
    """
    if not isinstance(x_bounds, (tuple, list)) or len(x_bounds) != 2 or not x_bounds[0] < x_bounds[1]:
        raise ValueError(f"x_bounds must be a (lower, upper) pair with lower < upper; got {x_bounds!r}.")
    loss = check_loss(loss)
    if loss == "softmax":
        raise ValueError("loss='softmax' is not valid here; expected one of 'squared', 'logistic'.")
    tr, va = GLM(*train, loss), GLM(*val, loss)
    te = GLM(*test, loss) if test is not None else va
    d = tr.n_features
    if va.n_features != d or te.n_features != d:
        raise ValueError(f"train, val and test must have the same number of features; got {tr.n_features}, "
                         f"{va.n_features}, {te.n_features}.")

    def g_val(x, w, idx):
        return tr.value(w, idx) + 0.5 * np.exp(x) @ (w * w)

    def g_grad(x, w, idx):
        ex = np.exp(x)
        return 0.5 * ex * w * w, tr.grad(w, idx) + ex * w

    def g_hvp(x, w, v, idx):
        ex = np.exp(x)
        return ex * w * v, tr.hessp(w, v, idx) + ex * v

    def f_val(x, w, idx):
        return va.value(w, idx)

    def f_grad(x, w, idx):
        return np.zeros_like(x), va.grad(w, idx)

    f = BilevelFunction(f_val, grad=f_grad, n_samples=va.n_samples, name="f")
    g = BilevelFunction(g_val, grad=g_grad, hvp=g_hvp, n_samples=tr.n_samples, name="g")
    problem = BilevelProblem(f, g, np.full(d, float(x0)), np.zeros(d), proj_x=x_bounds,
                             name=f"hyperparameter-{loss}")

    def predict_accuracy(w):
        t = te.X @ w
        if loss == "logistic":
            return float(np.mean(np.where(t >= 0, 1.0, -1.0) == te.y))
        return float(np.mean(np.sign(t) == np.sign(te.y)))

    def evaluate(x, w):
        return {"val_loss": va.value(w), "test_loss": te.value(w), "test_accuracy": predict_accuracy(w)}

    def fit_lower(x, w0=None):
        ex = np.exp(np.asarray(x, dtype=float))

        def fun(w):
            return tr.value(w) + 0.5 * ex @ (w * w), tr.grad(w) + ex * w

        res = scipy_minimize(fun, np.zeros(d) if w0 is None else w0, jac=True, method="L-BFGS-B",
                             options={"maxiter": 2000, "gtol": 1e-10})
        return res.x

    return BilevelTask(problem, evaluate, fit_lower, {"n_train": tr.n_samples, "n_val": va.n_samples,
                                                      "n_test": te.n_samples, "features": d, "loss": loss})


def hyper_cleaning_task(*, n_train: int = 800, n_val: int = 400, corruption: float = 0.3, reg: float = 1e-3,
                        seed=0) -> BilevelTask:
    """Data hyper-cleaning on scikit-learn's digits with corrupted training labels.

    A fraction ``corruption`` of the training labels is replaced by a
    different class drawn uniformly. Lower level: softmax regression with
    per-sample weights sigmoid(x_i), g(x, W) = mean_i sigmoid(x_i) CE_i(W) +
    reg/2 |W|^2 (features scaled to [0, 1] plus an intercept). Upper level:
    mean cross-entropy on a clean validation split. The rest is the test set.
    ``info`` holds the corrupted mask and reference test accuracies of
    training on the corrupted data and on the clean samples only.

    Examples
    --------
    >>> task = hyper_cleaning_task(n_train=200, n_val=100, seed=0)
    >>> task.problem.n, task.problem.m, task.info["n_corrupted"]
    (200, 650, 60)
    """
    from sklearn.datasets import load_digits

    check_positive("n_train", n_train, integer=True)
    check_positive("n_val", n_val, integer=True)
    check_in_range("corruption", corruption, 0.0, 1.0, closed="left")
    check_positive("reg", reg)
    X, labels = load_digits(return_X_y=True)
    X = np.hstack([X / 16.0, np.ones((X.shape[0], 1))])
    C, p = 10, X.shape[1]
    rng = check_rng(seed)
    if n_train + n_val >= X.shape[0]:
        raise ValueError(f"n_train + n_val must leave a test set; got {n_train} + {n_val} >= {X.shape[0]}.")
    perm = rng.permutation(X.shape[0])
    tr, va, te = perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]
    Xtr, ytr_clean = X[tr], labels[tr]
    n_bad = int(round(corruption * n_train))
    bad = np.zeros(n_train, dtype=bool)
    bad[rng.choice(n_train, n_bad, replace=False)] = True
    ytr = ytr_clean.copy()
    ytr[bad] = (ytr_clean[bad] + rng.integers(1, C, size=n_bad)) % C
    Xva, Xte, yte = X[va], X[te], labels[te]
    # row losses (sum reduction: unscaled per-sample cross-entropies) and the clean validation loss
    train = GLM(Xtr, ytr, "softmax", n_classes=C, reduction="sum")
    valid = GLM(Xva, labels[va], "softmax", n_classes=C)

    def rows(idx):
        return slice(None) if idx is None else idx

    def g_val(x, w, idx):
        losses, _ = train.row_losses(w, idx)
        s = expit(x[rows(idx)])
        return float(np.mean(s * losses)) + 0.5 * reg * (w @ w)

    def g_grad(x, w, idx):
        r = rows(idx)
        losses, slopes = train.row_losses(w, idx)
        s = expit(x[r])
        nb = losses.size
        gW = Xtr[r].T @ (slopes * (s / nb)[:, None]) + reg * w.reshape(p, C)
        gx = np.zeros_like(x)
        np.add.at(gx, np.arange(n_train)[r], s * (1.0 - s) * losses / nb)
        return gx, gW.ravel()

    def g_hvp(x, w, v, idx):
        r = rows(idx)
        Xb = Xtr[r]
        _, slopes = train.row_losses(w, idx)
        row_hessians = train.curvature_weights(w, idx)  # (nb, C, C): diag(p) - p p^T per sample
        s = expit(x[r])
        nb = Xb.shape[0]
        U = Xb @ v.reshape(p, C)
        HU = np.einsum("iab,ib->ia", row_hessians, U)
        hW = Xb.T @ (HU * (s / nb)[:, None]) + reg * v.reshape(p, C)
        hx = np.zeros_like(x)
        np.add.at(hx, np.arange(n_train)[r], s * (1.0 - s) * (slopes * U).sum(axis=1) / nb)
        return hx, hW.ravel()

    def f_val(x, w, idx):
        return valid.value(w, idx)

    def f_grad(x, w, idx):
        return np.zeros_like(x), valid.grad(w, idx)

    f = BilevelFunction(f_val, grad=f_grad, n_samples=n_val, name="f")
    g = BilevelFunction(g_val, grad=g_grad, hvp=g_hvp, n_samples=n_train, name="g")
    problem = BilevelProblem(f, g, np.zeros(n_train), np.zeros(p * C), name="hyper-cleaning")

    def accuracy(w):
        return float(np.mean(np.argmax(Xte @ w.reshape(p, C), axis=1) == yte))

    def fit_weighted(weights, w0=None):
        weights = np.asarray(weights, dtype=float)

        def fun(w):
            losses, slopes = train.row_losses(w)
            value = np.mean(weights * losses) + 0.5 * reg * (w @ w)
            grad = Xtr.T @ (slopes * (weights / n_train)[:, None]) + reg * w.reshape(p, C)
            return value, grad.ravel()

        res = scipy_minimize(fun, np.zeros(p * C) if w0 is None else w0, jac=True, method="L-BFGS-B",
                             options={"maxiter": 3000, "gtol": 1e-9})
        return res.x

    def fit_lower(x, w0=None):
        return fit_weighted(expit(np.asarray(x, dtype=float)), w0)

    def evaluate(x, w):
        return {"val_loss": f_val(x, w, None), "test_accuracy": accuracy(w),
                "flagged_f1": _f1(np.asarray(x) < 0, bad)}

    info = {"n_train": n_train, "n_val": n_val, "n_test": te.size, "n_corrupted": n_bad, "corrupted": bad,
            "accuracy": accuracy, "fit_weighted": fit_weighted}
    return BilevelTask(problem, evaluate, fit_lower, info)


def _f1(pred, truth):
    tp = float(np.sum(pred & truth))
    if tp == 0:
        return 0.0
    precision, recall = tp / pred.sum(), tp / truth.sum()
    return 2 * precision * recall / (precision + recall)
