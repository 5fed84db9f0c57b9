"""Block selection rules, with the scores kept up to date incrementally.

Greedy rules score a block by the minimum-norm subgradient ``s`` on it (the
gradient for smooth problems; soft-thresholded for L1; zero on variables held
at the bound x = 0 by a nonnegative derivative), with the norms of Nutini,
Laradji and Schmidt (JMLR 2022):

* GS: ``||s_b||``, GSL: ``||s_b||^2 / L_b``, GSD: ``sum_{i in b} s_i^2 / L_i``,
  GSQ: ``s_b^T H_b^{-1} s_b`` (``H_b`` the block of the Hessian upper bound).

Fixed blocks keep their scores in a max segment tree. After a step only the
gradient entries the step touched change, so only the blocks containing
them are rescored: per iteration the cost is O(t (|b| + log n_blocks)) for t
touched variables (O(t (|b|^2 + log n_blocks)) for GSQ), never a full
gradient pass. Variable blocks keep per-variable scores ``s_i^2`` (GS) or
``s_i^2 / L_i`` (GSL, GSD) in a segment tree over the variables and take the
top k in O(k log n); variable GSQ refines the GSL block by a few iterations
of iterative hard thresholding on the quadratic model, each costing one
product with the Hessian bound (a full pass, as the paper notes). Forest
blocks (``partition='tree'``) pop variables by GSL score and keep those that
leave the block acyclic in the dependency graph.

Cyclic, uniform and Lipschitz-sampling rules read no scores: per iteration
they cost O(1) (O(log n_blocks) for Lipschitz sampling).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

__all__ = ["GREEDY_RULES", "RULES", "FixedBlockSelector", "ForestSelector", "VariableBlockSelector",
           "build_selector"]

GREEDY_RULES = ("gs", "gsl", "gsd", "gsq")
RULES = ("cyclic", "random", "lipschitz") + GREEDY_RULES
_RULE_CODE = {"gs": 0, "gsl": 1, "gsd": 2, "gsq": 3}
IHT_ITERS = 10


def _tree_size(n):
    size = 1
    while size < n:
        size *= 2
    return size


def _new_tree(values):
    size = _tree_size(values.size)
    t = np.full(2 * size, -np.inf)
    t[size:size + values.size] = values
    for p in range(size - 1, 0, -1):
        t[p] = max(t[2 * p], t[2 * p + 1])
    return t


class _Scores:
    """Minimum-norm subgradient of every variable, refreshed where the gradient changed."""

    def __init__(self, problem, st, K):
        self.p, self.K = problem, K
        self.s = np.zeros(problem.n)
        self.reset(st)

    def reset(self, st):
        self.update(st, np.arange(self.p.n))

    def update(self, st, touched):
        out = np.empty(touched.size)
        self.K.min_norm_subgrad(st.g, st.x, self.p.l1, self.p.nonneg, touched, out)
        self.s[touched] = out


class FixedBlockSelector:
    """Selection among fixed blocks ``(ptr, idx)`` by ``rule``."""

    def __init__(self, rule, problem, st, ptr, idx, K, rng, updater):
        self.rule, self.p, self.ptr, self.idx, self.K, self.rng = rule, problem, ptr, idx, K, rng
        self.nblocks = ptr.size - 1
        self.counter = 0
        self.greedy = rule in GREEDY_RULES
        L = problem.coord_lipschitz()
        if rule == "lipschitz" or rule == "gsl":
            self.Lb = np.array([updater._cached(b, self.block(b), "L") for b in range(self.nblocks)])
        else:
            self.Lb = np.ones(self.nblocks)
        if rule == "lipschitz":
            self.cum = np.cumsum(self.Lb) / self.Lb.sum()
        if not self.greedy:
            return
        self.code = _RULE_CODE[rule]
        self.Linv = 1.0 / L
        self.block_of = np.empty(problem.n, np.int64)
        for b in range(self.nblocks):
            self.block_of[self.block(b)] = b
        sizes = np.diff(ptr) ** 2 if rule == "gsq" else np.zeros(self.nblocks, np.int64)
        self.hptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        self.hinv = np.zeros(int(self.hptr[-1]))
        if rule == "gsq":
            for b in range(self.nblocks):
                blk = self.block(b)
                H = problem.hess_bound_block(blk)
                self.hinv[self.hptr[b]:self.hptr[b + 1]] = sla.inv(H, check_finite=False).reshape(-1)
        self.scores = _Scores(problem, st, K)
        self.reset(st)

    def block(self, b):
        return self.idx[self.ptr[b]:self.ptr[b + 1]]

    def _score(self, which):
        out = np.empty(which.size)
        self.K.block_scores(self.scores.s, self.ptr, self.idx, which, self.code, self.Lb, self.Linv, self.hptr,
                            self.hinv, out)
        return out

    def reset(self, st):
        if self.greedy:
            self.scores.reset(st)
            self.tree = _new_tree(self._score(np.arange(self.nblocks, dtype=np.int64)))

    def select(self):
        """Index array of the next block and its id (for cached factorizations)."""
        if self.rule == "cyclic":
            b = self.counter % self.nblocks
        elif self.rule == "random":
            b = int(self.rng.integers(self.nblocks))
        elif self.rule == "lipschitz":
            b = min(int(np.searchsorted(self.cum, self.rng.random(), side="right")), self.nblocks - 1)
        else:
            b = int(self.K.segtree_argmax(self.tree))
        self.counter += 1
        return self.block(b), b

    def notify(self, st, touched):
        if not self.greedy or touched.size == 0:
            return
        self.scores.update(st, touched)
        blocks = np.unique(self.block_of[touched])
        self.K.segtree_set_many(self.tree, blocks, self._score(blocks))

    def best_score(self):
        return self.tree[1] if self.greedy else np.inf


class VariableBlockSelector:
    """Top-k variables by |s_i| (GS) or |s_i| / sqrt(L_i) (GSL, GSD); GSQ refined by hard thresholding."""

    def __init__(self, rule, problem, st, block_size, K):
        self.rule, self.p, self.k, self.K = rule, problem, int(block_size), K
        self.weight = np.ones(problem.n) if rule == "gs" else 1.0 / problem.coord_lipschitz()
        self.scores = _Scores(problem, st, K)
        self.out = np.empty(self.k, np.int64)
        self.saved = np.empty(self.k)
        self._Lmax = None
        self.reset(st)

    def reset(self, st):
        self.scores.reset(st)
        s = self.scores.s
        self.tree = _new_tree(s * s * self.weight)

    def notify(self, st, touched):
        if touched.size == 0:
            return
        self.scores.update(st, touched)
        s = self.scores.s[touched]
        self.K.segtree_set_many(self.tree, touched, s * s * self.weight[touched])

    def select(self):
        self.K.segtree_topk(self.tree, self.k, self.out, self.saved)
        blk = np.sort(self.out[self.saved > 0])
        if blk.size == 0:
            blk = self.out[:1].copy()
        if self.rule == "gsq" and blk.size > 1:
            blk = self._iht(blk)
        return blk, None

    def _iht(self, blk):
        """Approximate argmax_{|b| <= k} s_b^T H_b^{-1} s_b: hard thresholding on min s^T d + d^T H d / 2."""
        p, s = self.p, self.scores.s
        if self._Lmax is None:
            v = np.random.default_rng(0).standard_normal(p.n)
            for _ in range(30):
                v = p.hess_bound_matvec(v)
                v /= np.linalg.norm(v)
            self._Lmax = 1.05 * float(v @ p.hess_bound_matvec(v))
        d = np.zeros(p.n)
        d[blk] = -s[blk] / p.coord_lipschitz()[blk]
        for _ in range(IHT_ITERS):
            u = d - (s + p.hess_bound_matvec(d)) / self._Lmax
            keep = np.argpartition(-np.abs(u), self.k - 1)[:self.k]
            d = np.zeros(p.n)
            d[keep] = u[keep]
        return np.sort(np.flatnonzero(d))

    def best_score(self):
        return self.tree[1]


class ForestSelector:
    """Greedy forest blocks: variables by decreasing GSL score while the block stays acyclic."""

    def __init__(self, problem, st, block_size, K):
        self.p, self.k, self.K = problem, int(block_size), K
        H = problem.hess_bound()
        self.indptr, self.indices = H.indptr, H.indices
        self.Linv = 1.0 / problem.coord_lipschitz()
        self.scores = _Scores(problem, st, K)
        n = problem.n
        self.comp = -np.ones(n, np.int64)
        self.out = np.empty(n, np.int64)
        self.popped = np.empty(n, np.int64)
        self.saved = np.empty(n)
        self.reset(st)

    def reset(self, st):
        self.scores.reset(st)
        s = self.scores.s
        self.tree = _new_tree(s * s * self.Linv)

    def notify(self, st, touched):
        if touched.size == 0:
            return
        self.scores.update(st, touched)
        s = self.scores.s[touched]
        self.K.segtree_set_many(self.tree, touched, s * s * self.Linv[touched])

    def select(self):
        nb = self.K.grow_forest(self.tree, self.indptr, self.indices, self.k, self.comp, self.out, self.popped,
                                self.saved)
        if nb == 0:
            return np.array([self.K.segtree_argmax(self.tree)], np.int64), None
        return np.sort(self.out[:nb]), None

    def best_score(self):
        return self.tree[1]


def build_selector(rule, partition, problem, st, block_size, K, rng, updater, fixed=None):
    """The selector for ``rule`` on ``partition`` (``fixed`` = (ptr, idx) for fixed partitions)."""
    if partition == "variable":
        return VariableBlockSelector(rule, problem, st, block_size, K)
    if partition == "tree":
        return ForestSelector(problem, st, block_size, K)
    ptr, idx = fixed
    return FixedBlockSelector(rule, problem, st, ptr, idx, K, rng, updater)
