"""BlockCoordinateDescent: optimality on every problem type, tree blocks, active set, statuses, errors."""

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import numopt
from numopt import MissingCapabilityError, Status
from numopt.bcd import BlockCoordinateDescent, least_squares, logistic, softmax
from numopt.bcd.datasets import dataset_a, dataset_b, dataset_c, dataset_d, dataset_e


def solve(p, **options):
    options.setdefault("maxiter", 20000)
    return numopt.minimize(p, method="bcd", options=options)


@pytest.fixture(scope="module")
def small_ls():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((100, 20)) * rng.uniform(1.0, 2.0, 20)
    return least_squares(sp.csc_matrix(A * (rng.random(A.shape) < 0.6)), rng.standard_normal(100))


@pytest.mark.parametrize("rule", ["cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gsq"])
@pytest.mark.parametrize("update", ["lipschitz", "diag", "matrix", "newton"])
def test_every_rule_and_update_solves_least_squares(small_ls, rule, update):
    res = solve(small_ls, rule=rule, update=update, block_size=4, seed=0, tol=1e-9)
    x_star = np.linalg.lstsq(small_ls.A.toarray(), small_ls.y, rcond=None)[0]
    assert res.success and res.kkt < 1e-6 * max(1, np.abs(small_ls.grad(np.zeros(20))).max())
    assert res.fun == pytest.approx(small_ls.fun(x_star), rel=1e-8, abs=1e-8)


@pytest.mark.parametrize("partition", ["sorted", "balanced", "random", "variable"])
@pytest.mark.parametrize("rule", ["gsl", "gsq"])
def test_partitions_and_variable_blocks(small_ls, partition, rule):
    res = solve(small_ls, rule=rule, partition=partition, update="matrix", block_size=5, seed=0)
    assert res.success
    assert res.kkt < 1e-5


def test_logistic_with_l2_matches_lbfgs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 10))
    p = logistic(X, np.sign(X[:, 0] + rng.standard_normal(60)), l2=1.0)
    ref = so.minimize(p.fun, np.zeros(p.n), jac=p.grad, method="L-BFGS-B",
                      options={"gtol": 1e-10, "maxiter": 5000})
    for update in ("newton", "matrix"):
        res = solve(p, rule="gsl", update=update, block_size=5, tol=1e-10)
        assert res.success and res.kkt < 1e-8
        assert res.fun == pytest.approx(ref.fun, rel=1e-9)


def test_softmax_with_l2_reaches_kkt():
    rng = np.random.default_rng(0)
    p = softmax(rng.standard_normal((40, 6)), rng.integers(0, 3, 40), 3, l2=0.5)
    res = solve(p, rule="gsq", update="matrix", block_size=4, tol=1e-9)
    assert res.success and np.abs(p.grad(res.x)).max() < 1e-7
    res_n = solve(p, rule="gsl", update="newton", block_size=6, tol=1e-9)
    assert res_n.success and res_n.fun == pytest.approx(res.fun, rel=1e-10)
    assert dataset_c(30, 10, 4, seed=0).n == 40


@pytest.mark.parametrize("make", [lambda: dataset_d(8, 9, 5, weight=10.0, seed=0),
                                  lambda: dataset_e(60, 6, seed=0)])
def test_label_propagation_matches_sparse_solve(make):
    p = make()
    x_star = spla.spsolve(p.Q.tocsc(), p.c)
    for options in ({"rule": "gsl", "partition": "variable", "update": "matrix", "block_size": p.n // 2},
                    {"rule": "gsl", "partition": "tree", "update": "matrix", "block_size": p.n}):
        res = solve(p, tol=1e-10, **options)
        assert res.success
        np.testing.assert_allclose(res.x, x_star, rtol=1e-6, atol=1e-6 * np.abs(x_star).max())


@pytest.mark.parametrize("partition", ["red-black", "comb"])
def test_lattice_forest_partitions_use_tree_elimination(partition):
    p = dataset_d(10, 10, 6, weight=10.0, seed=2)
    res = solve(p, rule="cyclic", partition=partition, update="matrix", tol=1e-11)
    assert res.success
    np.testing.assert_allclose(res.x, spla.spsolve(p.Q.tocsc(), p.c), rtol=1e-7, atol=1e-7)


def test_tree_blocks_need_fewer_iterations_than_small_fixed_blocks():
    p = dataset_d(12, 12, 6, weight=10.0, seed=0)
    fstar = p.fun(spla.spsolve(p.Q.tocsc(), p.c))
    target = fstar + 1e-8 * max(1, abs(fstar))
    comb_res = solve(p, rule="cyclic", partition="comb", update="matrix", target=target, tol=0.0)
    tree_res = solve(p, rule="gsl", partition="tree", update="matrix", block_size=p.n, target=target, tol=0.0)
    fixed = solve(p, rule="gsl", update="matrix", block_size=5, target=target, tol=0.0)
    assert comb_res.success and tree_res.success and fixed.success
    assert comb_res.nit < fixed.nit and tree_res.nit < fixed.nit


def test_solve_tree_rejects_blocks_with_cycles():
    p = dataset_d(4, 4, 2, seed=0)
    with pytest.raises(ValueError, match="contains a cycle"):
        solve(p, rule="cyclic", partition="contiguous", block_size=8, update="matrix", solve="tree")


def test_l1_least_squares_matches_sklearn_and_active_set_terminates():
    from sklearn.linear_model import Lasso

    p0 = dataset_a(50, 80, seed=1)
    m = p0.m
    alpha = 0.01 * np.abs(p0.A.T @ p0.y).max() / m
    p = least_squares(p0.A, p0.y, l1=alpha * m)
    sk = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100000).fit(p0.A.toarray(), p0.y)
    plain = solve(p, rule="gsl", block_size=1, tol=1e-10)
    active = solve(p, rule="gsl", block_size=1, tol=1e-10, active_set=True)
    assert plain.success and active.success
    for res in (plain, active):
        assert res.fun == pytest.approx(p.fun(sk.coef_), rel=1e-8)
        np.testing.assert_array_equal(res.x != 0, sk.coef_ != 0)
    assert active.n_newton >= 1 and active.nit < plain.nit


def test_l1_logistic_matches_sklearn():
    from sklearn.linear_model import LogisticRegression

    p0 = dataset_b(80, 30, seed=2)
    p = logistic(p0.A, p0.y, l1=2.0)
    sk = LogisticRegression(C=0.5, l1_ratio=1.0, solver="liblinear", fit_intercept=False, tol=1e-12,
                            max_iter=10000).fit(p0.A.toarray(), p0.y)
    res = solve(p, rule="gsq", block_size=3, update="diag", tol=1e-9, active_set=True)
    assert res.success and res.kkt < 1e-6
    assert res.fun <= p.fun(sk.coef_.ravel()) + 1e-7


def test_nonnegative_least_squares_matches_nnls():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 12))
    b = rng.standard_normal(30)
    p = least_squares(A, b, nonneg=True)
    x_ref = so.nnls(A, b)[0]
    for update in ("lipschitz", "matrix", "newton"):
        res = solve(p, rule="gsl", block_size=3, update=update, tol=1e-10)
        assert res.success and np.all(res.x >= 0)
        np.testing.assert_allclose(res.x, x_ref, atol=1e-7)


def test_numpy_backend_follows_the_same_iterates(small_ls):
    for rule, partition in (("gsq", "contiguous"), ("gs", "variable")):
        runs = [solve(small_ls, rule=rule, partition=partition, block_size=4, maxiter=60, backend=b)
                for b in ("numba", "numpy")]
        np.testing.assert_allclose(runs[0].x, runs[1].x, rtol=1e-10, atol=1e-12)
    p = dataset_d(6, 6, 3, weight=10.0, seed=0)
    runs = [solve(p, rule="gsl", partition="tree", update="matrix", block_size=30, maxiter=1, backend=b)
            for b in ("numba", "numpy")]
    np.testing.assert_allclose(runs[0].x, runs[1].x, rtol=1e-10, atol=1e-12)


def test_divergence_is_reported(small_ls):
    res = solve(small_ls, rule="cyclic", update="lipschitz", block_size=4, step_scale=3.0)
    assert not res.success and res.status == Status.DIVERGED.code


def test_history_target_and_callback(small_ls):
    seen = []
    res = numopt.minimize(small_ls, method="bcd", callback=lambda intermediate_result: seen.append(1),
                          options={"rule": "gsl", "record_history": True, "maxiter": 50, "tol": 0.0})
    assert res.status == Status.MAXITER.code and len(seen) == 50
    fun = np.array(res.history["fun"])
    assert np.all(np.diff(fun) <= 1e-9 * fun[0])
    res_t = solve(small_ls, rule="gsl", target=fun[20], tol=0.0)
    assert res_t.success and res_t.nit <= 20


def test_bad_input_errors(small_ls):
    with pytest.raises(ValueError, match="does not fit n=20"):
        solve(small_ls, block_size=21)
    with pytest.raises(ValueError, match="block_size must be finite and > 0"):
        BlockCoordinateDescent(block_size=0)
    with pytest.raises(ValueError, match="Unknown option 'rules'"):
        BlockCoordinateDescent(rules="gs")
    with pytest.raises(ValueError, match="rule='gsl2' is not valid"):
        BlockCoordinateDescent(rule="gsl2")
    with pytest.raises(ValueError, match="builds blocks from greedy scores"):
        BlockCoordinateDescent(rule="cyclic", partition="variable")
    with pytest.raises(ValueError, match="l1 must be >= 0"):
        least_squares(np.eye(2), np.ones(2), l1=-1.0)
    with pytest.raises(ValueError, match="A contains NaN or inf"):
        least_squares(np.array([[1.0, np.nan]]), np.ones(1))
    with pytest.raises(ValueError, match="labels -1 and \\+1"):
        logistic(np.eye(2), [0.0, 1.0])
    with pytest.raises(ValueError, match="no closed-form proximal step"):
        solve(least_squares(np.eye(3), np.ones(3), l1=0.1), update="matrix", block_size=1)
    with pytest.raises(ValueError, match="needs a lattice problem"):
        solve(small_ls, partition="comb")
    with pytest.raises(MissingCapabilityError, match="block-structured problem"):
        numopt.minimize(lambda x: x @ x, np.ones(3), method="bcd", options={"rule": "gsl"})
    with pytest.raises(ValueError, match="sparse dependency graph"):
        solve(softmax(np.eye(3), [0, 1, 2], 3), partition="tree", block_size=2)
    with pytest.raises(ValueError, match="x0 must have shape"):
        numopt.minimize(small_ls, np.zeros(3), method="bcd")
    with pytest.raises(ValueError, match="Q must be symmetric"):
        from numopt.bcd import QuadraticProblem

        QuadraticProblem(sp.csr_matrix(np.array([[2.0, 1.0], [0.0, 2.0]])), np.ones(2))


def test_manifold_newton_keeps_the_objective_exact_after_rejected_trials():
    # two nearly equal columns: the Newton step on the support is huge and backtracking rejects trials;
    # the state must still hold the exact objective of the point it ends at
    from numopt.bcd.active_set import manifold_newton

    rng = np.random.default_rng(0)
    a = rng.standard_normal(500)
    A = np.column_stack([a, a + 1e-7 * rng.standard_normal(500), rng.standard_normal(500)])
    b = A @ np.array([1.0, 1.0, 0.5]) + 0.1 * rng.standard_normal(500)
    p = least_squares(sp.csc_matrix(A), b, l1=1.0)
    st = p.init_state(np.array([0.3, 1.5, 0.2]))
    manifold_newton(p, st, max_size=100)
    exact = p.init_state(st.x.copy())
    assert st.f == pytest.approx(exact.f, rel=1e-12)
    np.testing.assert_allclose(st.z, exact.z, rtol=0, atol=1e-12)
