"""Readable NumPy twins of :mod:`numopt.bcd._kernels` (same signatures, same results).

They are the ``backend='numpy'`` path of the solver and the reference the
tests hold the Numba kernels to. They favour clarity over speed: vectorized
where it reads naturally, plain loops where the kernel's logic is sequential.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve

from ..losses import LOSS_CODES
from ..losses import _reference as losses_reference

LOSS_SQUARED = LOSS_CODES["squared"]


def _row_losses(loss, z, y, rows, C):
    """Losses (``len(rows)``) and derivatives (``(len(rows), C)``) of the selected rows, by numopt.losses."""
    Z = z.reshape(-1, C)[rows]
    lrow, slopes = np.empty(rows.size), np.empty(Z.size)
    losses_reference.margin_losses(loss, np.ascontiguousarray(Z.reshape(-1)), y[rows], C, lrow, slopes)
    return lrow, slopes.reshape(-1, C)


def glm_apply(a_indptr, a_indices, a_data, r_indptr, r_indices, r_data, C, loss, y, z, w, lrow, g,
              block, delta, update_grad, row_mark, rows_buf, col_mark, cols_buf):
    m = lrow.size
    d = a_indptr.size - 1
    A = sp.csc_matrix((a_data, a_indices, a_indptr), shape=(m, d))
    feats, cls = np.divmod(block, C)
    Z = z.reshape(m, C)
    touched = np.zeros(m, bool)
    for j, c, dv in zip(feats, cls, delta):
        if dv != 0.0:
            col = A[:, [j]]
            Z[col.indices, c] += col.data * dv
            touched[col.indices] = True
    rows = np.flatnonzero(touched)
    lnew, wnew = _row_losses(loss, z, y, rows, C)
    df = float(np.sum(lnew - lrow[rows]))
    lrow[rows] = lnew
    W = w.reshape(m, C)
    nc = 0
    if update_grad and rows.size:
        Ar = sp.csr_matrix((r_data, r_indices, r_indptr), shape=(m, d))[rows]
        g += (Ar.T @ (wnew - W[rows])).reshape(-1)
        cols = np.unique(Ar.indices)
        nc = cols.size
        cols_buf[:nc] = cols
    W[rows] = wnew
    return df, nc


def glm_block_grad(a_indptr, a_indices, a_data, C, w, block, out):
    for k, v in enumerate(block):
        j, c = divmod(int(v), C)
        lo, hi = a_indptr[j], a_indptr[j + 1]
        out[k] = a_data[lo:hi] @ w[a_indices[lo:hi] * C + c]


def quad_apply(q_indptr, q_indices, q_data, g, block, delta, col_mark, cols_buf):
    touched = []
    for j, dv in zip(block, delta):
        if dv != 0.0:
            lo, hi = q_indptr[j], q_indptr[j + 1]
            np.add.at(g, q_indices[lo:hi], q_data[lo:hi] * dv)
            touched.append(q_indices[lo:hi])
    cols = np.unique(np.concatenate(touched)) if touched else np.zeros(0, np.int64)
    cols_buf[:cols.size] = cols
    return cols.size


def min_norm_subgrad(g, x, lam, nonneg, idx, out):
    gi, xi, li = g[idx], x[idx], lam[idx]
    if nonneg:
        gi = gi + li
        out[:] = np.where((xi > 0) | (gi < 0), gi, 0.0)
        return
    shrunk = np.sign(gi) * np.maximum(np.abs(gi) - li, 0.0)
    out[:] = np.where(xi != 0, gi + li * np.sign(xi), shrunk)


def block_scores(s_full, bptr, bidx, which, rule, Lb, Linv, hptr, hinv, out):
    for t, b in enumerate(which):
        idx = bidx[bptr[b]:bptr[b + 1]]
        s = s_full[idx]
        if rule == 0:
            out[t] = s @ s
        elif rule == 1:
            out[t] = s @ s / Lb[b]
        elif rule == 2:
            out[t] = s @ (s * Linv[idx])
        else:
            Hinv = hinv[hptr[b]:hptr[b + 1]].reshape(idx.size, idx.size)
            out[t] = s @ Hinv @ s


def segtree_set(t, i, value):
    size = t.size // 2
    p = size + i
    t[p] = value
    p //= 2
    while p >= 1:
        t[p] = max(t[2 * p], t[2 * p + 1])
        p //= 2


def segtree_set_many(t, idx, values):
    size = t.size // 2
    t[size + np.asarray(idx)] = values
    p = np.unique((size + np.asarray(idx)) // 2)
    while p.size and p[0] >= 1:
        t[p] = np.maximum(t[2 * p], t[2 * p + 1])
        p = np.unique(p // 2)
        p = p[p >= 1]


def segtree_argmax(t):
    size = t.size // 2
    return int(np.argmax(t[size:]))


def segtree_topk(t, k, out, saved):
    leaves = t[t.size // 2:]
    order = np.argsort(-leaves, kind="stable")[:k]
    out[:k] = order
    saved[:k] = leaves[order]


def grow_forest(t, h_indptr, h_indices, max_size, comp, out, popped, saved):
    n = t.size // 2
    scores = t[n:]
    order = np.argsort(-scores, kind="stable")
    parent = {}

    def find(u):
        while parent[u] != u:
            u = parent[u]
        return u

    nb = 0
    for i in order:
        if nb >= max_size or not scores[i] > 0:
            break
        nbrs = [u for u in h_indices[h_indptr[i]:h_indptr[i + 1]] if u != i and u in parent]
        roots = [find(u) for u in nbrs]
        if len(set(roots)) < len(roots):
            continue
        parent[i] = i
        for r in roots:
            parent[r] = i
        out[nb] = i
        nb += 1
    return nb


def tree_solve(h_indptr, h_indices, h_data, block, rhs, pos, out):
    n = h_indptr.size - 1
    H = sp.csr_matrix((h_data, h_indices, h_indptr), shape=(n, n))[block][:, block].tocsr()
    H.sum_duplicates()
    offdiag = sp.triu(H, k=1)
    nedges = int(np.count_nonzero(offdiag.data))
    ncomp = connected_components(H, directed=False)[0]
    if nedges != block.size - ncomp:
        return 1
    try:
        out[:] = spsolve(H.tocsc(), rhs)
    except RuntimeError:
        return 2
    if not np.all(np.isfinite(out)) or np.any(H.diagonal() <= 0):
        return 2
    return 0


def prox_cd_epoch(a_indptr, a_indices, a_data, loss, y, z, w, lrow, x, lam, order):
    total = 0.0
    for j in order:
        lo, hi = a_indptr[j], a_indptr[j + 1]
        rows, a = a_indices[lo:hi], a_data[lo:hi]
        if rows.size == 0:
            continue
        g = a @ w[rows]
        s = np.abs(w[rows])
        curv = np.ones(rows.size) if loss == LOSS_SQUARED else np.maximum(s * (1 - s), 1e-12)
        h = (a * a) @ curv
        if h <= 0:
            continue
        xj = x[j]
        u = xj - g / h
        d = np.sign(u) * max(abs(u) - lam[j] / h, 0.0) - xj
        if d == 0.0:
            continue
        z_old = z[rows].copy()
        step = 1.0
        for _ in range(30):
            z[rows] = z_old + a * step * d
            lnew, _ = _row_losses(loss, z, y, rows, 1)
            change = lnew.sum() - lrow[rows].sum() + lam[j] * (abs(xj + step * d) - abs(xj))
            model = g * step * d + lam[j] * (abs(xj + step * d) - abs(xj))
            if loss == LOSS_SQUARED or change <= 1e-4 * model:
                break
            step *= 0.5
        else:
            z[rows] = z_old
            continue
        lnew, wnew = _row_losses(loss, z, y, rows, 1)
        total += lnew.sum() - lrow[rows].sum()
        lrow[rows] = lnew
        w[rows] = wnew[:, 0]
        x[j] = xj + step * d
    return total


def _anderson_direction(hist, w, curv, x_b, lam_b, dx, xd):
    """The Anderson extrapolation of the kept ``(d, X d)`` pairs if it lowers the model, else ``(dx, xd)``."""
    D = np.array([h[0] for h in hist])
    Z = np.array([h[1] for h in hist])
    U = np.diff(D, axis=0)
    M = U @ U.T
    scale = M.diagonal().max()
    if not scale > 0:
        return dx, xd.copy()
    c = np.linalg.solve(M + 1e-10 * scale * np.eye(len(M)), np.ones(len(M)))
    if c.sum() == 0 or not np.isfinite(c.sum()):
        return dx, xd.copy()
    c /= c.sum()
    trial_d, trial_xd = c @ D[1:], c @ Z[1:]

    def model(d, v):
        return v @ (w + 0.5 * curv * v) + lam_b @ np.abs(x_b + d)

    if model(trial_d, trial_xd) < model(dx, xd):
        return trial_d, trial_xd
    return dx, xd.copy()


def prox_newton_step(a_indptr, a_indices, a_data, loss, y, z, w, lrow, x, lam, order, max_epochs, inner_tol,
                     anderson, xd, znew, lnew, wnew):
    m = z.size
    A = sp.csc_matrix((a_data, a_indices, a_indptr), shape=(m, a_indptr.size - 1))[:, order]
    if loss == LOSS_SQUARED:
        curv = np.maximum(losses_reference.row_curvature(loss, z, y), 1e-12)
    else:  # logistic: sigma (1 - sigma) with sigma = |w|
        curv = np.maximum(np.abs(w) * (1.0 - np.abs(w)), 1e-12)
    h = np.asarray(A.multiply(A).T @ curv).reshape(-1)
    dx = np.zeros(order.size)
    xd[:] = 0.0
    hist = []
    for _ in range(max_epochs):
        moved = 0.0
        for t in range(order.size):
            if h[t] <= 0:
                continue
            lo, hi = A.indptr[t], A.indptr[t + 1]
            rows, a = A.indices[lo:hi], A.data[lo:hi]
            g = a @ (w[rows] + curv[rows] * xd[rows])
            old = x[order[t]] + dx[t]
            u = old - g / h[t]
            delta = np.sign(u) * max(abs(u) - lam[order[t]] / h[t], 0.0) - old
            if delta == 0.0:
                continue
            dx[t] += delta
            moved = max(moved, h[t] * abs(delta))
            xd[rows] += a * delta
        if moved <= inner_tol:
            break
        if anderson > 0:
            hist.append((dx.copy(), xd.copy()))
            if len(hist) == anderson + 1:
                dx, xd[:] = _anderson_direction(hist, w, curv, x[order], lam[order], dx, xd)
                hist = []
    lam_b, x_b = lam[order], x[order]
    model = w @ xd + lam_b @ (np.abs(x_b + dx) - np.abs(x_b))
    if not model < 0:
        return 0.0
    old_total = lrow.sum()
    step = 1.0
    for _ in range(30):
        znew[:] = z + step * xd
        lv, wv = _row_losses(loss, znew, y, np.arange(m), 1)
        pen = lam_b @ (np.abs(x_b + step * dx) - np.abs(x_b))
        if lv.sum() - old_total + pen <= 1e-4 * step * model:
            z[:] = znew
            lrow[:] = lv
            w[:] = wv[:, 0]
            x[order] += step * dx
            return lv.sum() - old_total
        step *= 0.5
    return 0.0


def weighted_gram(a_indptr, a_indices, a_data, cols, c, buf, out):
    m = buf.size
    A = sp.csc_matrix((a_data, a_indices, a_indptr), shape=(m, a_indptr.size - 1))[:, cols]
    out[:, :] = (A.T @ sp.diags(c) @ A).toarray()


def gram_lasso_cd(G, g, x, lam, max_epochs, tol, anderson):
    # the kernel's own Python (its logic is sequential; run without compilation)
    from . import _kernels

    none = np.zeros(0, np.int64)
    return _kernels.lazy_gram_lasso_cd.py_func(none, none, np.zeros(0), none, np.zeros(0), np.zeros(0), G,
                                               np.ones(x.size, bool), g, x, lam, max_epochs, tol, anderson)


def gram_column(a_indptr, a_indices, a_data, cols, c, buf, G, ready, j):
    m = buf.size
    A = sp.csc_matrix((a_data, a_indices, a_indptr), shape=(m, a_indptr.size - 1))[:, cols]
    column = A.T @ (c * A[:, [j]].toarray().ravel())
    todo = ~ready
    todo[j] = False
    G[todo, j] = column[todo]
    G[j, todo] = column[todo]
    ready[j] = True


def lazy_gram_lasso_cd(a_indptr, a_indices, a_data, cols, c, buf, G, ready, g, x, lam, max_epochs, tol, anderson):
    # the kernel's own Python (its logic is sequential; run without compilation)
    from . import _kernels

    return _kernels.lazy_gram_lasso_cd.py_func(a_indptr, a_indices, a_data, cols, c, buf, G, ready, g, x, lam,
                                               max_epochs, tol, anderson)


def cross_gram(a_indptr, a_indices, a_data, rows, cols, buf, out):
    m = buf.size
    A = sp.csc_matrix((a_data, a_indices, a_indptr), shape=(m, a_indptr.size - 1))
    out[:] = (A[:, rows].T @ A[:, cols]).toarray()


def l1_dual_objective(loss, y, slopes, scale):
    from .gap import dual_objective

    return dual_objective("squared" if loss == LOSS_SQUARED else "logistic", y, -slopes / scale)


def prox_newton_gram_step(a_indptr, a_indices, a_data, loss, y, z, w, lrow, x, lam, order, max_epochs, anderson,
                          xd, znew, lnew, wnew):
    # the kernel's own Python (its logic is sequential; run without compilation)
    from . import _kernels

    return _kernels.prox_newton_gram_step.py_func(a_indptr, a_indices, a_data, loss, y, z, w, lrow, x, lam, order,
                                                  max_epochs, anderson, xd, znew, lnew, wnew)


def polish_support(G, g, x, lam):
    # the kernel's own Python (run without compilation)
    from . import _kernels

    return _kernels.polish_support.py_func(G, g, x, lam)
