"""Selection rules on hand-checked gradients, and partitions."""

import numpy as np
import pytest
import scipy.sparse as sp

import numopt
from numopt.bcd import QuadraticProblem, comb, fixed_partition, red_black
from numopt.bcd.problems import kernels
from numopt.bcd.rules import VariableBlockSelector


def _two_blocks():
    # block 0 = diag(1, 100) with g = (2, 0); block 1 = [[1, -.9], [-.9, 1]] with g = (1, 1) at x = 0:
    # GS: 4 vs 2 -> 0; GSL: 4/100 vs 2/1.9 -> 1; GSD: 4/1 vs 2 -> 0; GSQ: 4 vs 2/0.1 = 20 -> 1.
    Q = sp.block_diag([np.diag([1.0, 100.0]), np.array([[1.0, -0.9], [-0.9, 1.0]])]).tocsr()
    return QuadraticProblem(Q, -np.array([2.0, 0.0, 1.0, 1.0]))


@pytest.mark.parametrize("rule,block", [("gs", 0), ("gsl", 1), ("gsd", 0), ("gsq", 1)])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_greedy_rules_pick_the_hand_checked_block(rule, block, backend):
    p = _two_blocks()
    res = numopt.minimize(p, method="bcd", options={"rule": rule, "block_size": 2, "update": "matrix",
                                                    "maxiter": 1, "backend": backend})
    moved = np.flatnonzero(res.x)
    assert moved.size and set(moved // 2) == {block}


def test_cyclic_and_sampling_rules_visit_every_block():
    p = _two_blocks()
    for rule in ("cyclic", "random", "lipschitz"):
        res = numopt.minimize(p, method="bcd", options={"rule": rule, "block_size": 2, "update": "matrix",
                                                        "maxiter": 400, "seed": 1, "tol": 1e-12})
        np.testing.assert_allclose(res.x, np.linalg.solve(p.Q.toarray(), p.c), atol=1e-8)


def test_variable_blocks_top_k_by_gs_and_gsl():
    Q = sp.diags([1.0, 100.0, 4.0, 1.0, 25.0]).tocsr()
    c = -np.array([2.0, 9.0, 3.0, 1.4, 6.0])  # g at 0 = -c
    p = QuadraticProblem(Q, c)
    st = p.init_state(np.zeros(5))
    K = kernels("numba")
    gs = VariableBlockSelector("gs", p, st, 2, K).select()[0]
    gsl = VariableBlockSelector("gsl", p, st, 2, K).select()[0]
    np.testing.assert_array_equal(gs, [1, 4])  # |g| = 9, 6
    np.testing.assert_array_equal(gsl, [0, 2])  # |g|/sqrt(L) = 2, .9, 1.5, 1.4, 1.2
    gsl_l1 = VariableBlockSelector("gsl", QuadraticProblem(Q, c, l1=1.8), p.init_state(np.zeros(5)), 2, K)
    gsl_l1.reset(QuadraticProblem(Q, c, l1=1.8).init_state(np.zeros(5)))
    # soft-thresholded: (0.2, 7.2, 1.2, 0, 4.2) / sqrt(L) = (.2, .72, .6, 0, .84)
    np.testing.assert_array_equal(gsl_l1.select()[0], [1, 4])


def test_partitions_cover_and_respect_sizes():
    L = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 6.0, 0.5])
    for kind in ("contiguous", "sorted", "balanced", "random"):
        ptr, idx = fixed_partition(kind, 7, 3, L=L, seed=0)
        assert sorted(idx.tolist()) == list(range(7))
        assert np.diff(ptr).max() <= 3
    ptr, idx = fixed_partition("sorted", 7, 3, L=L)
    assert idx[:3].tolist() == [6, 1, 3]
    ptr, idx = fixed_partition("balanced", 7, 3, L=L)
    means = [L[idx[ptr[b]:ptr[b + 1]]].mean() for b in range(ptr.size - 1)]
    assert max(means) - min(means) < L.max() - L.min()


@pytest.mark.parametrize("shape", [(5, 6), (7, 4)])
def test_red_black_and_comb_blocks_are_forests_of_the_lattice(shape):
    from numopt.bcd.datasets import dataset_d

    p = dataset_d(*shape, 3, seed=1)
    for make in (red_black, comb):
        ptr, idx = make(*p.grid)
        assert sorted(idx.tolist()) == list(range(p.n))
        for b in range(ptr.size - 1):
            blk = idx[ptr[b]:ptr[b + 1]]
            sub = p.Q[blk][:, blk]
            edges = (sp.triu(sub, 1) != 0).sum()
            ncomp = sp.csgraph.connected_components(sub, directed=False)[0]
            assert edges == blk.size - ncomp
            if make is red_black:
                assert edges == 0


def test_partition_errors():
    with pytest.raises(ValueError, match="does not fit n=4"):
        fixed_partition("contiguous", 4, 5)
    with pytest.raises(ValueError, match="block_size must be finite and > 0"):
        fixed_partition("contiguous", 4, 0)
    with pytest.raises(ValueError, match="needs a lattice problem"):
        fixed_partition("comb", 4, 2)
    with pytest.raises(ValueError, match="not valid"):
        fixed_partition("stripes", 4, 2)
