"""Numba kernels of block coordinate descent: incremental updates, selection trees, tree elimination.

Every kernel takes plain arrays (sparse matrices as ``indptr, indices, data``)
and has a readable NumPy twin with the same signature in
:mod:`numopt.bcd._reference`; the tests check one against the other and the
``backend='numpy'`` option of the solver runs the twins.

Conventions
-----------
* A generalized linear model has data ``A`` (m x d) and ``C`` outputs per row:
  the variables are ``x.reshape(d, C)`` and ``z = A @ x.reshape(d, C)`` is
  stored flat (``m * C``). ``loss`` is 0 (squared), 1 (binary logistic) or 2
  (softmax); ``w`` holds the derivative of the row loss at ``z`` and ``lrow``
  the row loss values.
* A *selection tree* is a max segment tree: an array ``t`` of length
  ``2 * size`` (``size`` a power of two) whose leaves ``t[size + i]`` hold the
  scores and whose inner nodes hold the maximum of their children. Reading the
  maximum is O(1), changing one score O(log size).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..losses import LOSS_CODES
from ..losses._kernels import row_curvature, row_loss

LOSS_SQUARED, LOSS_LOGISTIC, LOSS_SOFTMAX = LOSS_CODES["squared"], LOSS_CODES["logistic"], LOSS_CODES["softmax"]


@njit(cache=True)
def _soft_threshold(u, thr):
    """The prox of ``thr |.|`` at ``u``: ``sign(u) max(|u| - thr, 0)``."""
    return u - thr if u > thr else (u + thr if u < -thr else 0.0)


@njit(cache=True)
def glm_apply(a_indptr, a_indices, a_data, r_indptr, r_indices, r_data, C, loss, y, z, w, lrow, g,
              block, delta, update_grad, row_mark, rows_buf, col_mark, cols_buf):
    """Add ``delta`` to the variables ``block`` of a GLM and update ``z``, ``w``, ``lrow`` (and ``g``).

    ``a_*`` is A in CSC form, ``r_*`` in CSR form. Only the rows touched by the
    block's columns are recomputed, and (``update_grad``) only the gradient
    entries of the columns of those rows change: the cost is the number of
    nonzeros of the touched rows, not of A. Returns the change of the summed
    row losses and the number ``nc`` of touched feature columns, listed in
    ``cols_buf[:nc]`` (``row_mark``/``col_mark`` are zero on entry and exit).
    """
    nr = 0
    for k in range(block.size):
        dv = delta[k]
        if dv == 0.0:
            continue
        v = block[k]
        j = v // C
        c = v - j * C
        for p in range(a_indptr[j], a_indptr[j + 1]):
            i = a_indices[p]
            z[i * C + c] += a_data[p] * dv
            if row_mark[i] == 0:
                row_mark[i] = 1
                rows_buf[nr] = i
                nr += 1
    df = 0.0
    nc = 0
    wnew = np.empty(C)
    for t in range(nr):
        i = rows_buf[t]
        row_mark[i] = 0
        li = row_loss(loss, z, y, i, C, wnew)
        df += li - lrow[i]
        lrow[i] = li
        if update_grad:
            for p in range(r_indptr[i], r_indptr[i + 1]):
                j = r_indices[p]
                a = r_data[p]
                for c in range(C):
                    g[j * C + c] += a * (wnew[c] - w[i * C + c])
                if col_mark[j] == 0:
                    col_mark[j] = 1
                    cols_buf[nc] = j
                    nc += 1
        for c in range(C):
            w[i * C + c] = wnew[c]
    for t in range(nc):
        col_mark[cols_buf[t]] = 0
    return df, nc


@njit(cache=True)
def glm_block_grad(a_indptr, a_indices, a_data, C, w, block, out):
    """Gradient of the summed row losses on ``block`` from ``w``: cost nnz(A[:, block])."""
    for k in range(block.size):
        v = block[k]
        j = v // C
        c = v - j * C
        s = 0.0
        for p in range(a_indptr[j], a_indptr[j + 1]):
            s += a_data[p] * w[a_indices[p] * C + c]
        out[k] = s


@njit(cache=True)
def quad_apply(q_indptr, q_indices, q_data, g, block, delta, col_mark, cols_buf):
    """``g += Q[:, block] @ delta`` for a symmetric sparse Q; returns the number of touched entries.

    The touched gradient entries are listed in ``cols_buf[:nc]``; the cost is
    nnz(Q[:, block]).
    """
    nc = 0
    for k in range(block.size):
        dv = delta[k]
        if dv == 0.0:
            continue
        j = block[k]
        for p in range(q_indptr[j], q_indptr[j + 1]):
            i = q_indices[p]
            g[i] += q_data[p] * dv
            if col_mark[i] == 0:
                col_mark[i] = 1
                cols_buf[nc] = i
                nc += 1
    for t in range(nc):
        col_mark[cols_buf[t]] = 0
    return nc


@njit(cache=True)
def min_norm_subgrad(g, x, lam, nonneg, idx, out):
    """Minimum-norm element of the subdifferential of f + sum lam_i |x_i| (+ x >= 0) at ``idx``.

    With ``nonneg`` the L1 term is linear (lam_i x_i) and a coordinate at its
    bound only counts a negative derivative.
    """
    for k in range(idx.size):
        i = idx[k]
        gi = g[i]
        li = lam[i]
        xi = x[i]
        if nonneg:
            gi += li
            out[k] = gi if (xi > 0.0 or gi < 0.0) else 0.0
        elif xi > 0.0:
            out[k] = gi + li
        elif xi < 0.0:
            out[k] = gi - li
        elif gi > li:
            out[k] = gi - li
        elif gi < -li:
            out[k] = gi + li
        else:
            out[k] = 0.0


@njit(cache=True)
def block_scores(s_full, bptr, bidx, which, rule, Lb, Linv, hptr, hinv, out):
    """Greedy scores of the fixed blocks ``which`` from the subgradient ``s_full``.

    ``rule``: 0 GS ||s_b||^2, 1 GSL ||s_b||^2 / L_b, 2 GSD sum_i s_i^2 / L_i,
    3 GSQ s_b^T H_b^{-1} s_b with the inverse of block b stored row-major in
    ``hinv[hptr[b]:hptr[b+1]]``. Cost O(|b|) per block (O(|b|^2) for GSQ).
    """
    for t in range(which.size):
        b = which[t]
        lo = bptr[b]
        hi = bptr[b + 1]
        val = 0.0
        if rule == 3:
            nb = hi - lo
            base = hptr[b]
            for r in range(nb):
                sr = s_full[bidx[lo + r]]
                acc = 0.0
                for q in range(nb):
                    acc += hinv[base + r * nb + q] * s_full[bidx[lo + q]]
                val += sr * acc
        else:
            for p in range(lo, hi):
                si = s_full[bidx[p]]
                if rule == 2:
                    val += si * si * Linv[bidx[p]]
                else:
                    val += si * si
            if rule == 1:
                val /= Lb[b]
        out[t] = val


@njit(cache=True)
def segtree_set(t, i, value):
    """Set leaf ``i`` of the max tree ``t`` to ``value``: O(log size)."""
    size = t.size // 2
    p = size + i
    t[p] = value
    p //= 2
    while p >= 1:
        left = t[2 * p]
        right = t[2 * p + 1]
        t[p] = left if left >= right else right
        p //= 2


@njit(cache=True)
def segtree_set_many(t, idx, values):
    """Set leaves ``idx`` to ``values``: O(len(idx) log size)."""
    for k in range(idx.size):
        segtree_set(t, idx[k], values[k])


@njit(cache=True)
def segtree_argmax(t):
    """Leaf with the largest value (the first one on ties): O(log size)."""
    size = t.size // 2
    p = 1
    while p < size:
        p = 2 * p if t[2 * p] >= t[2 * p + 1] else 2 * p + 1
    return p - size


@njit(cache=True)
def segtree_topk(t, k, out, saved):
    """The ``k`` largest leaves in decreasing order: O(k log size); the tree is unchanged on exit."""
    for r in range(k):
        i = segtree_argmax(t)
        out[r] = i
        saved[r] = t[t.size // 2 + i]
        segtree_set(t, i, -np.inf)
    for r in range(k - 1, -1, -1):
        segtree_set(t, out[r], saved[r])


@njit(cache=True)
def grow_forest(t, h_indptr, h_indices, max_size, comp, out, popped, saved):
    """Greedy forest block: take coordinates by decreasing score while the induced graph stays acyclic.

    ``t`` is the selection tree of coordinate scores and ``h_*`` the sparse
    dependency graph (the pattern of the Hessian). A coordinate joins the block
    when its positive score is the largest left and no two of its neighbours
    already in the block lie in one tree (union-find over ``comp``, -1 outside
    the block). Returns the block size; the block is ``out[:size]``. Cost
    O(p log n + edges of the popped coordinates) for p popped coordinates.
    """
    n = t.size // 2
    nb = 0
    npop = 0
    roots = np.empty(16, np.int64)
    while nb < max_size and npop < n:
        i = segtree_argmax(t)
        val = t[n + i]
        if not val > 0.0:
            break
        popped[npop] = i
        saved[npop] = val
        npop += 1
        segtree_set(t, i, -np.inf)
        nroots = 0
        ok = True
        for p in range(h_indptr[i], h_indptr[i + 1]):
            u = h_indices[p]
            if u == i or comp[u] < 0:
                continue
            r = u
            while comp[r] != r:
                r = comp[r]
            for q in range(nroots):
                if roots[q] == r:
                    ok = False
            if not ok:
                break
            if nroots == roots.size:
                bigger = np.empty(2 * roots.size, np.int64)
                bigger[:nroots] = roots[:nroots]
                roots = bigger
            roots[nroots] = r
            nroots += 1
        if not ok:
            continue
        comp[i] = i
        for q in range(nroots):
            comp[roots[q]] = i
        out[nb] = i
        nb += 1
    for r in range(npop - 1, -1, -1):
        segtree_set(t, popped[r], saved[r])
    for r in range(nb):
        comp[out[r]] = -1
    return nb


@njit(cache=True)
def tree_solve(h_indptr, h_indices, h_data, block, rhs, pos, out):
    """Solve H[block, block] u = rhs when the graph of H on ``block`` is a forest: linear time.

    Depth-first order from a root of each tree (which follows the memory
    layout of paths and combs), elimination from the leaves to the roots,
    then substitution from the roots to the leaves (Gaussian elimination
    without fill, the exact Gaussian belief propagation on a tree). ``pos``
    has length n and is -1 everywhere on entry and exit. Returns 0 on
    success, 1 when the block contains a cycle, 2 on a non-positive pivot.
    Cost O(|block| + edges inside the block + rows' nonzeros).
    """
    nb = block.size
    for k in range(nb):
        pos[block[k]] = k
    parent = np.full(nb, -1, np.int64)
    order = np.empty(nb, np.int64)
    stack = np.empty(nb, np.int64)
    seen = np.zeros(nb, np.bool_)
    diag = np.zeros(nb)
    wpar = np.zeros(nb)
    status = 0
    tail = 0
    for root in range(nb):
        if seen[root] or status:
            continue
        seen[root] = True
        top = 0
        stack[top] = root
        top += 1
        while top > 0 and status == 0:
            top -= 1
            k = stack[top]
            order[tail] = k
            tail += 1
            v = block[k]
            for p in range(h_indptr[v], h_indptr[v + 1]):
                u = h_indices[p]
                if u == v:
                    diag[k] += h_data[p]
                    continue
                q = pos[u]
                if q < 0 or h_data[p] == 0.0 or q == parent[k]:
                    continue
                if seen[q]:
                    status = 1
                    break
                seen[q] = True
                parent[q] = k
                wpar[q] = h_data[p]
                stack[top] = q
                top += 1
    if status == 0:
        d = diag.copy()
        b = rhs.copy()
        for s in range(nb - 1, -1, -1):
            k = order[s]
            if not d[k] > 0.0:
                status = 2
                break
            pk = parent[k]
            if pk >= 0:
                m = wpar[k] / d[k]
                d[pk] -= m * wpar[k]
                b[pk] -= m * b[k]
        if status == 0:
            for s in range(nb):
                k = order[s]
                pk = parent[k]
                val = b[k] if pk < 0 else b[k] - wpar[k] * out[pk]
                out[k] = val / d[k]
    for k in range(nb):
        pos[block[k]] = -1
    return status


@njit(cache=True)
def prox_cd_epoch(a_indptr, a_indices, a_data, loss, y, z, w, lrow, x, lam, order):
    """One pass of proximal coordinate Newton steps over ``order`` for an L1 GLM with one output.

    For coordinate j the derivative ``g_j = a_j^T w`` and the curvature
    ``h_j = sum_i a_ij^2 loss''(z_i)`` are read from the column (cost nnz(a_j));
    the step soft-thresholds ``x_j - g_j / h_j`` at ``lam_j / h_j`` and halves
    until the objective decreases by the Armijo rule. For the squared loss the
    step is the exact minimizer, taken without a line search. Returns the change of the summed row losses.
    """
    total = 0.0
    wtmp = np.empty(1)
    longest = 0
    for t in range(order.size):
        longest = max(longest, a_indptr[order[t] + 1] - a_indptr[order[t]])
    lbuf = np.empty(longest)
    wbuf = np.empty(longest)
    for t in range(order.size):
        j = order[t]
        lo = a_indptr[j]
        hi = a_indptr[j + 1]
        if lo == hi:
            continue
        g = 0.0
        h = 0.0
        for p in range(lo, hi):
            i = a_indices[p]
            a = a_data[p]
            g += a * w[i]
            if loss == 0:
                h += a * a
            else:
                s = abs(w[i])
                h += a * a * max(s * (1.0 - s), 1e-12)
        if h <= 0.0:
            continue
        xj = x[j]
        u = xj - g / h
        thr = lam[j] / h
        xn = _soft_threshold(u, thr)
        d = xn - xj
        if d == 0.0:
            continue
        if loss == 0:  # exact step: the residuals move along the column, no line search
            for p in range(lo, hi):
                i = a_indices[p]
                z[i] += a_data[p] * d
                li = row_loss(loss, z, y, i, 1, wtmp)
                w[i] = wtmp[0]
                total += li - lrow[i]
                lrow[i] = li
            x[j] = xn
            continue
        pen_old = lam[j] * abs(xj)
        step = 1.0
        accepted = False
        for _ in range(30):
            df = 0.0
            for p in range(lo, hi):
                i = a_indices[p]
                z[i] += a_data[p] * step * d
                li = row_loss(loss, z, y, i, 1, wtmp)
                lbuf[p - lo] = li
                wbuf[p - lo] = wtmp[0]
                df += li - lrow[i]
            change = df + lam[j] * abs(xj + step * d) - pen_old
            if change <= 1e-4 * (g * step * d + lam[j] * abs(xj + step * d) - pen_old):
                accepted = True
                break
            for p in range(lo, hi):
                z[a_indices[p]] -= a_data[p] * step * d
            step *= 0.5
        if not accepted:
            continue
        for p in range(lo, hi):
            i = a_indices[p]
            total += lbuf[p - lo] - lrow[i]
            lrow[i] = lbuf[p - lo]
            w[i] = wbuf[p - lo]
        x[j] = xj + step * d
    return total


@njit(cache=True)
def _model_value(w, curv, x, lam, order, dx, xd):
    """The prox-Newton model ``w^T X d + 1/2 sum_i c_i (X d)_i^2 + sum_j lam_j |x_j + d_j|`` at ``d``."""
    v = 0.0
    for i in range(xd.size):
        v += xd[i] * (w[i] + 0.5 * curv[i] * xd[i])
    for t in range(order.size):
        v += lam[order[t]] * abs(x[order[t]] + dx[t])
    return v


@njit(cache=True)
def _anderson_coefficients(hist):
    """Weights (summing to one) of the Anderson extrapolation of the iterates ``hist[1:]``; empty if undefined.

    They minimize the norm of the combined differences ``hist[r + 1] - hist[r]`` (a Tikhonov shift of
    1e-10 times the largest squared difference keeps the small system solvable).
    """
    K = hist.shape[0] - 1
    U = hist[1:] - hist[:-1]
    M = U @ U.T
    scale = 0.0
    for r in range(K):
        scale = max(scale, M[r, r])
    if not scale > 0.0:
        return np.zeros(0)
    for r in range(K):
        M[r, r] += 1e-10 * scale
    coef = np.linalg.solve(M, np.ones(K))
    total = coef.sum()
    if total == 0.0 or not np.isfinite(total):
        return np.zeros(0)
    return coef / total


@njit(cache=True)
def _anderson_model(w, curv, x, lam, order, dx, xd, hist_d, hist_xd):
    """Anderson extrapolation of the last directions ``hist_d`` (margins ``hist_xd``) of a prox-Newton model.

    Replaces ``dx`` and ``xd`` by the extrapolated point when it lowers the model; returns whether it did.
    """
    coef = _anderson_coefficients(hist_d)
    if coef.size == 0:
        return False
    trial_d = np.zeros(dx.size)
    trial_xd = np.zeros(xd.size)
    for r in range(coef.size):
        trial_d += coef[r] * hist_d[r + 1]
        trial_xd += coef[r] * hist_xd[r + 1]
    if _model_value(w, curv, x, lam, order, trial_d, trial_xd) < _model_value(w, curv, x, lam, order, dx, xd):
        dx[:] = trial_d
        xd[:] = trial_xd
        return True
    return False


@njit(cache=True)
def prox_newton_step(a_indptr, a_indices, a_data, loss, y, z, w, lrow, x, lam, order, max_epochs, inner_tol,
                     anderson, xd, znew, lnew, wnew):
    """One proximal Newton step for an L1 GLM with one output, restricted to the coordinates ``order``.

    The direction ``d`` minimizes the quadratic model of the smooth part at ``x`` plus the L1 term,
    ``w^T X d + 1/2 d^T X^T diag(c) X d + sum_j lam_j |x_j + d_j|`` (``c`` the second derivatives of
    the row losses), by cyclic proximal coordinate passes that keep ``X d`` in ``xd``: a pass costs
    two sweeps over the columns' nonzeros and no transcendental function (the work skglm's prox-Newton
    inner solver does). Passes stop after ``max_epochs`` or once no coordinate of a pass moves by
    more than ``inner_tol`` in the scale of the model's gradient (``max_j h_j |delta_j|``). Every
    ``anderson`` passes (0: never) the last directions are extrapolated (Anderson acceleration; ``X d``
    is linear in ``d``, so the same combination of the kept ``X d`` gives the trial's margins) and the
    trial is kept only if it lowers the model: the model of a large working set is ill-conditioned and
    its passes alone converge linearly. A backtracking
    Armijo search along ``d`` then updates ``x``, ``z``, ``w`` and ``lrow`` (``znew``, ``lnew``,
    ``wnew`` are work arrays of length m). Returns the
    change of the summed row losses (0 when no step was taken).
    """
    m = z.size
    nb = order.size
    hdiag = np.empty(nb)
    dx = np.zeros(nb)
    curv = lnew  # the work array holds the curvatures until the line search
    for i in range(m):
        xd[i] = 0.0
        if loss == LOSS_LOGISTIC:  # sigma (1 - sigma) from the derivative |w_i| = sigma: no exponential
            s = abs(w[i])
            curv[i] = max(s * (1.0 - s), 1e-12)
        else:
            curv[i] = max(row_curvature(loss, z[i], y[i]), 1e-12)
    for t in range(nb):
        j = order[t]
        h = 0.0
        for p in range(a_indptr[j], a_indptr[j + 1]):
            h += a_data[p] * a_data[p] * curv[a_indices[p]]
        hdiag[t] = h
    K = max(anderson, 1)
    hist_d = np.empty((K + 1, nb if anderson > 0 else 0))
    hist_xd = np.empty((K + 1, m if anderson > 0 else 0))
    nhist = 0
    for _ in range(max_epochs):
        moved = 0.0
        for t in range(nb):
            h = hdiag[t]
            if h <= 0.0:
                continue
            j = order[t]
            g = 0.0
            for p in range(a_indptr[j], a_indptr[j + 1]):
                i = a_indices[p]
                g += a_data[p] * (w[i] + curv[i] * xd[i])
            old = x[j] + dx[t]
            u = old - g / h
            thr = lam[j] / h
            new = _soft_threshold(u, thr)
            delta = new - old
            if delta == 0.0:
                continue
            dx[t] += delta
            moved = max(moved, h * abs(delta))
            for p in range(a_indptr[j], a_indptr[j + 1]):
                xd[a_indices[p]] += a_data[p] * delta
        if moved <= inner_tol:
            break
        if anderson > 0:
            hist_d[nhist] = dx
            hist_xd[nhist] = xd
            nhist += 1
            if nhist == K + 1:
                nhist = 0
                _anderson_model(w, curv, x, lam, order, dx, xd, hist_d, hist_xd)
    return _armijo_along(loss, y, z, w, lrow, x, lam, order, dx, xd, znew, lnew, wnew)


@njit(cache=True)
def _armijo_along(loss, y, z, w, lrow, x, lam, order, dx, xd, znew, lnew, wnew):
    """Backtracking Armijo search along ``x[order] += t dx`` (margins moving by ``t xd``); returns the loss change.

    Only the rows the direction moves are evaluated; returns 0 (and changes nothing) when the
    direction is not one of descent or no step of 30 halvings decreases the objective enough.
    """
    m = z.size
    nb = order.size
    wtmp = np.empty(1)
    slope = 0.0
    for i in range(m):
        slope += w[i] * xd[i]
    pen_change = 0.0
    for t in range(nb):
        j = order[t]
        pen_change += lam[j] * (abs(x[j] + dx[t]) - abs(x[j]))
    model = slope + pen_change
    if not model < 0.0:
        return 0.0
    touched = np.empty(m, np.int64)  # the rows the direction moves: the others keep their losses
    nt = 0
    for i in range(m):
        if xd[i] != 0.0:
            touched[nt] = i
            nt += 1
    step = 1.0
    for _ in range(30):
        df = 0.0
        for t in range(nt):
            i = touched[t]
            znew[i] = z[i] + step * xd[i]
            lnew[i] = row_loss(loss, znew, y, i, 1, wtmp)
            wnew[i] = wtmp[0]
            df += lnew[i] - lrow[i]
        pen = 0.0
        for t in range(nb):
            j = order[t]
            pen += lam[j] * (abs(x[j] + step * dx[t]) - abs(x[j]))
        if df + pen <= 1e-4 * step * model:
            for t in range(nt):
                i = touched[t]
                z[i] = znew[i]
                lrow[i] = lnew[i]
                w[i] = wnew[i]
            for t in range(nb):
                x[order[t]] += step * dx[t]
            return df
        step *= 0.5
    return 0.0


@njit(cache=True)
def weighted_gram(a_indptr, a_indices, a_data, cols, c, buf, out):
    """``out = A[:, cols]^T diag(c) A[:, cols]`` (dense, symmetric) from the CSC columns.

    Each column is scattered once into ``buf`` (length m, zero on entry and
    exit) and dotted with the columns after it: cost ``|cols| * nnz(A[:, cols])``,
    no sparse product to assemble (for small blocks, such as a Newton step on a support).
    """
    nb = cols.size
    for r in range(nb):
        j = cols[r]
        for p in range(a_indptr[j], a_indptr[j + 1]):
            i = a_indices[p]
            buf[i] = c[i] * a_data[p]
        for q in range(r, nb):
            k = cols[q]
            s = 0.0
            for p in range(a_indptr[k], a_indptr[k + 1]):
                s += a_data[p] * buf[a_indices[p]]
            out[r, q] = s
            out[q, r] = s
        for p in range(a_indptr[j], a_indptr[j + 1]):
            buf[a_indices[p]] = 0.0


@njit(cache=True)
def _objective_change(g_old, g_new, x_old, x_new, lam):
    """``F(x_new) - F(x_old)`` for ``F = q + sum lam_j |x_j|``, ``q`` quadratic, from the gradients of ``q``."""
    total = 0.0
    for j in range(x_old.size):
        total += 0.5 * (g_old[j] + g_new[j]) * (x_new[j] - x_old[j]) + lam[j] * (abs(x_new[j]) - abs(x_old[j]))
    return total


@njit(cache=True)
def _support_newton(G, g, x, lam, damping):
    """Newton step of the quadratic model on the support of ``x`` (signs kept), or an empty array.

    Solves ``(G_SS + damping diag(G_SS)) d = -(g_S + lam_S sign(x_S))`` by a Cholesky factorization;
    returns the full-length trial point with the variables that would change sign set to 0, or an
    empty array when the support is empty or the factorization meets a non-positive pivot.
    """
    k = x.size
    ns = 0
    for j in range(k):
        if x[j] != 0.0:
            ns += 1
    if ns == 0:
        return np.empty(0)
    S = np.empty(ns, np.int64)
    t = 0
    for j in range(k):
        if x[j] != 0.0:
            S[t] = j
            t += 1
    L = np.zeros((ns, ns))
    for r in range(ns):
        for q in range(r + 1):
            s = G[S[r], S[q]]
            if r == q:
                s += damping * G[S[r], S[r]]
            for p in range(q):
                s -= L[r, p] * L[q, p]
            if r == q:
                if not s > 1e-13 * G[S[r], S[r]]:
                    return np.empty(0)
                L[r, r] = np.sqrt(s)
            else:
                L[r, q] = s / L[q, q]
    rhs = np.empty(ns)
    for r in range(ns):
        j = S[r]
        rhs[r] = -(g[j] + lam[j] * (1.0 if x[j] > 0.0 else -1.0))
    for r in range(ns):  # forward substitution
        s = rhs[r]
        for p in range(r):
            s -= L[r, p] * rhs[p]
        rhs[r] = s / L[r, r]
    for r in range(ns - 1, -1, -1):  # back substitution
        s = rhs[r]
        for p in range(r + 1, ns):
            s -= L[p, r] * rhs[p]
        rhs[r] = s / L[r, r]
    trial = x.copy()
    for r in range(ns):
        j = S[r]
        v = x[j] + rhs[r]
        trial[j] = v if v * x[j] > 0.0 else 0.0
    return trial


@njit(cache=True)
def _gradient_at(G, g, x, trial):
    """Gradient of the quadratic at ``trial`` from its gradient ``g`` at ``x``: ``g + G (trial - x)``."""
    out = g.copy()
    for q in range(x.size):
        dq = trial[q] - x[q]
        if dq != 0.0:
            for j in range(x.size):
                out[j] += G[j, q] * dq
    return out


@njit(cache=True)
def _max_violation(g, x, lam):
    """Largest absolute entry of the minimum-norm subgradient of the L1 problem."""
    worst = 0.0
    for j in range(x.size):
        if x[j] > 0.0:
            v = abs(g[j] + lam[j])
        elif x[j] < 0.0:
            v = abs(g[j] - lam[j])
        else:
            v = max(abs(g[j]) - lam[j], 0.0)
        worst = max(worst, v)
    return worst


@njit(cache=True)
def gram_lasso_cd(G, g, x, lam, max_epochs, tol, anderson):
    """Solve ``min_u q(u) + sum_j lam_j |u_j|``, ``q`` quadratic with Hessian ``G`` (dense), from ``x``.

    ``g`` is the gradient of ``q`` at ``x``; both are updated in place. Cyclic proximal coordinate
    passes cost O(k) per moved coordinate (the gradient moves along a column of ``G``); every
    ``anderson`` passes (0: never) the last iterates are extrapolated (Anderson acceleration, as in
    skglm) and the extrapolated point is kept only if it lowers the objective; once the support and
    signs of a pass equal those of the pass before, a Newton step on the support (``q`` is quadratic,
    so it lands on the minimizer of that orthant face when the signs hold) is kept only if it lowers
    the objective too (the damped system ``G_SS + 1e-8 diag`` guards nearly equal columns). Stops when
    the largest minimum-norm subgradient entry is at most ``tol`` or after ``max_epochs`` passes.
    Returns the number of passes and the numbers of kept and of rejected extrapolations.
    """
    none = np.zeros(0, np.int64)
    return lazy_gram_lasso_cd(none, none, np.zeros(0), none, np.zeros(0), np.zeros(0), G,
                              np.ones(x.size, np.bool_), g, x, lam, max_epochs, tol, anderson)


@njit(cache=True)
def gram_column(a_indptr, a_indices, a_data, cols, c, buf, G, ready, j):
    """Fill column and row ``j`` of ``G = A[:, cols]^T diag(c) A[:, cols]`` where the other side is not ready.

    ``ready[q]`` marks the columns already complete (their entries in column ``j`` are kept); ``buf`` is a
    zero scratch of length m, left zero. Cost ``nnz(A[:, cols])``; sets ``ready[j]``.
    """
    cj = cols[j]
    for p in range(a_indptr[cj], a_indptr[cj + 1]):
        i = a_indices[p]
        buf[i] = c[i] * a_data[p]
    for q in range(cols.size):
        if ready[q] or q == j:
            continue
        k = cols[q]
        s = 0.0
        for p in range(a_indptr[k], a_indptr[k + 1]):
            s += a_data[p] * buf[a_indices[p]]
        G[q, j] = s
        G[j, q] = s
    for p in range(a_indptr[cj], a_indptr[cj + 1]):
        buf[a_indices[p]] = 0.0
    ready[j] = True


@njit(cache=True)
def lazy_gram_lasso_cd(a_indptr, a_indices, a_data, cols, c, buf, G, ready, g, x, lam, max_epochs, tol, anderson):
    """:func:`gram_lasso_cd` on ``G = A[:, cols]^T diag(c) A[:, cols]`` whose columns are built on first use.

    On entry ``G`` holds its diagonal and the columns ``j`` with ``ready[j]`` (at least those of the
    nonzero entries of ``x``); the column of a variable is built (cost ``nnz(A[:, cols])``, as
    :func:`weighted_gram`, ``buf`` a zero scratch of length m) when the variable first moves, the only
    time the passes, extrapolations and support Newton steps read it. A working set whose model moves a
    few of its variables then costs a few columns instead of the whole matrix. With every ``ready``
    true it is :func:`gram_lasso_cd`; returns what it returns.
    """
    k = x.size
    K = max(anderson, 1)
    hist = np.empty((K + 1, k))
    nhist = 0
    prev_sign = np.zeros(k)
    newton_tried = False
    epochs = 0
    kept = 0
    rejected = 0
    while epochs < max_epochs:
        if _max_violation(g, x, lam) <= tol:
            break
        epochs += 1
        for j in range(k):
            h = G[j, j]
            if h <= 0.0:
                continue
            old = x[j]
            u = old - g[j] / h
            thr = lam[j] / h
            new = _soft_threshold(u, thr)
            delta = new - old
            if delta != 0.0:
                if not ready[j]:
                    gram_column(a_indptr, a_indices, a_data, cols, c, buf, G, ready, j)
                x[j] = new
                for i in range(k):
                    g[i] += G[i, j] * delta
        same = True
        for j in range(k):
            sj = 1.0 if x[j] > 0.0 else (-1.0 if x[j] < 0.0 else 0.0)
            if sj != prev_sign[j]:
                same = False
            prev_sign[j] = sj
        if not same:
            newton_tried = False
        elif not newton_tried:
            newton_tried = True
            if polish_support(G, g, x, lam):
                nhist = 0
                continue
        if anderson > 0:
            hist[nhist] = x
            nhist += 1
            if nhist == K + 1:
                nhist = 0
                coef = _anderson_coefficients(hist)
                if coef.size:
                    trial = np.zeros(k)
                    for r in range(K):
                        trial += coef[r] * hist[r + 1]
                    g_trial = _gradient_at(G, g, x, trial)
                    if _objective_change(g, g_trial, x, trial, lam) < 0.0:
                        x[:] = trial
                        g[:] = g_trial
                        kept += 1
                    else:
                        rejected += 1
    return epochs, kept, rejected


@njit(cache=True)
def polish_support(G, g, x, lam):
    """One Newton step of the quadratic on the support of ``x``, kept only if it lowers the objective.

    ``g`` (the gradient at ``x``) and ``x`` are updated in place when the step is kept; returns whether
    it was. Cost O(k |support| + |support|^3): a final touch after :func:`gram_lasso_cd` stops at its
    tolerance, which lands on the minimizer of the orthant face when the support and signs are right.
    """
    trial = _support_newton(G, g, x, lam, 1e-8)
    if trial.size:
        g_trial = _gradient_at(G, g, x, trial)
        if _objective_change(g, g_trial, x, trial, lam) < 0.0:
            x[:] = trial
            g[:] = g_trial
            return True
    return False


@njit(cache=True)
def cross_gram(a_indptr, a_indices, a_data, rows, cols, buf, out):
    """``out = A[:, rows]^T A[:, cols]`` (dense) from the CSC columns; cost ``|rows| * nnz(A[:, cols])``.

    Each column of ``rows`` is scattered once into ``buf`` (length m, zero on entry and exit) and
    dotted with every column of ``cols``: the new rows of a Gram matrix when a working set grows.
    """
    for r in range(rows.size):
        j = rows[r]
        for p in range(a_indptr[j], a_indptr[j + 1]):
            buf[a_indices[p]] = a_data[p]
        for q in range(cols.size):
            k = cols[q]
            s = 0.0
            for p in range(a_indptr[k], a_indptr[k + 1]):
                s += a_data[p] * buf[a_indices[p]]
            out[r, q] = s
        for p in range(a_indptr[j], a_indptr[j + 1]):
            buf[a_indices[p]] = 0.0


@njit(cache=True)
def l1_dual_objective(loss, y, slopes, scale):
    """Dual objective of the L1 problem at ``theta = -slopes / scale`` (:func:`numopt.bcd.gap.dual_objective`).

    One pass, no temporary arrays: ``y^T theta - ||theta||^2 / 2`` (squared loss) or the summed binary
    entropy of ``y_i theta_i`` clipped to [0, 1] (logistic loss).
    """
    total = 0.0
    for i in range(y.size):
        t = -slopes[i] / scale
        if loss == 0:
            total += y[i] * t - 0.5 * t * t
        else:
            u = min(max(y[i] * t, 0.0), 1.0)
            if u > 0.0:
                total -= u * np.log(u)
            if u < 1.0:
                total -= (1.0 - u) * np.log1p(-u)
    return total


@njit(cache=True)
def prox_newton_gram_step(a_indptr, a_indices, a_data, loss, y, z, w, lrow, x, lam, order, max_epochs, anderson,
                          xd, znew, lnew, wnew):
    """One proximal Newton step on ``order`` whose model is solved on its dense Hessian (small working sets).

    As :func:`prox_newton_step`, but the model ``w^T X d + 1/2 d^T H d + sum_j lam_j |x_j + d_j|``
    (``H = X^T diag(c) X`` on ``order``, of which only the diagonal and the columns of the variables
    that are or become nonzero are built, each at cost ``nnz(X[:, order])``) is
    solved by :func:`lazy_gram_lasso_cd` (coordinate passes at O(|order|) per moved coordinate, Anderson
    extrapolation, Newton steps on the support) to a thousandth of its starting optimality violation,
    so the direction is the proximal Newton direction itself and the steps converge superlinearly.
    Then the same Armijo search. Returns the change of the summed row losses (0: no step).
    """
    m = z.size
    nb = order.size
    for i in range(m):
        s = abs(w[i])
        lnew[i] = max(s * (1.0 - s), 1e-12) if loss == LOSS_LOGISTIC else 1.0
        xd[i] = 0.0
        znew[i] = 0.0
    H = np.empty((nb, nb))
    ready = np.zeros(nb, np.bool_)
    g = np.empty(nb)
    u = np.empty(nb)
    lam_b = np.empty(nb)
    for t in range(nb):  # gradient and Hessian diagonal: one pass over the working set's columns
        j = order[t]
        s = 0.0
        h = 0.0
        for p in range(a_indptr[j], a_indptr[j + 1]):
            i = a_indices[p]
            s += a_data[p] * w[i]
            h += lnew[i] * a_data[p] * a_data[p]
        g[t] = s
        H[t, t] = h
        u[t] = x[j]
        lam_b[t] = lam[j]
    # the columns of the current support are read from the start (support Newton steps); znew: a zero
    # scratch until the search
    for t in range(nb):
        if u[t] != 0.0:
            gram_column(a_indptr, a_indices, a_data, order, lnew, znew, H, ready, t)
    lazy_gram_lasso_cd(a_indptr, a_indices, a_data, order, lnew, znew, H, ready, g, u, lam_b, max_epochs,
                       1e-3 * _max_violation(g, u, lam_b), anderson)
    dx = np.empty(nb)
    for t in range(nb):
        j = order[t]
        dx[t] = u[t] - x[j]
        if dx[t] != 0.0:
            for p in range(a_indptr[j], a_indptr[j + 1]):
                xd[a_indices[p]] += a_data[p] * dx[t]
    return _armijo_along(loss, y, z, w, lrow, x, lam, order, dx, xd, znew, lnew, wnew)
