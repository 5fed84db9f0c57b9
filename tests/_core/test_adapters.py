"""scipy-style and JAX adapters: same problem, same values and derivatives as scipy sees them."""

import numpy as np
import pytest
from scipy.optimize import LinearConstraint, NonlinearConstraint, minimize, rosen, rosen_der, rosen_hess

from numopt.oracles import (
    ConstrainedProblem,
    ScalarFunction,
    UnconstrainedProblem,
    VectorFunction,
    finite_difference_jacobian,
    from_jax,
    from_scipy,
    jax_x64,
    split_constraints,
)

X0 = np.array([-1.2, 1.0, 0.5])


def hs_like(x):
    return (x[0] - 1) ** 2 + (x[1] - 2) ** 4 + x[0] * x[2] ** 2


def hs_like_grad(x):
    return np.array([2 * (x[0] - 1) + x[2] ** 2, 4 * (x[1] - 2) ** 3, 2 * x[0] * x[2]])


def circle(x):
    return np.array([x @ x - 2.0])


def circle_jac(x):
    return 2 * x[None, :]


def test_unconstrained_exact_derivatives_and_counts():
    p = from_scipy(rosen, X0, jac=rosen_der, hess=rosen_hess)
    assert isinstance(p, UnconstrainedProblem)
    f = p.objective
    assert f.fun(X0) == rosen(X0)
    f.fun(X0.copy())  # cached: same point
    np.testing.assert_allclose(f.grad(X0), rosen_der(X0))
    np.testing.assert_allclose(f.hess(X0), rosen_hess(X0))
    np.testing.assert_allclose(f.hessp(X0, np.ones(3)), rosen_hess(X0) @ np.ones(3))
    assert p.counts() == {"nfev": 1, "njev": 1, "nhev": 1}  # hessp reuses the cached Hessian
    p.reset_counts()
    assert p.counts() == {"nfev": 0, "njev": 0, "nhev": 0}
    assert p.capabilities == {"fun", "grad", "hess", "hessp"}


def test_jac_true_counts_one_call():
    calls = []

    def fg(x):
        calls.append(1)
        return rosen(x), rosen_der(x)

    f = ScalarFunction(fg, grad=True)
    assert f.fun(X0) == rosen(X0)
    np.testing.assert_allclose(f.grad(X0), rosen_der(X0))
    assert len(calls) == 1 and f.nfev == 1 and f.njev == 1
    # scipy on the oracle's fun/grad takes the same path as on the raw combined callable: same minimizer
    res_ref = minimize(fg, X0, jac=True, method="BFGS")
    mine = minimize(f.fun, X0, jac=f.grad, method="BFGS")
    assert res_ref.success and mine.success
    np.testing.assert_allclose(mine.x, res_ref.x, rtol=1e-10)
    np.testing.assert_allclose(mine.x, np.ones(3), atol=1e-4)  # Rosenbrock's minimizer


@pytest.mark.parametrize("scheme, rtol", [("2-point", 1e-6), ("3-point", 1e-9)])
def test_finite_differences_match_exact(scheme, rtol):
    x = np.array([0.3, 1.1, -0.7])
    f = ScalarFunction(hs_like, grad=scheme)
    np.testing.assert_allclose(f.grad(x), hs_like_grad(x), rtol=rtol, atol=rtol)
    assert not f.exact_grad
    assert f.nfev == (1 + 3 if scheme == "2-point" else 6)
    h = ScalarFunction(hs_like, grad=hs_like_grad, hess=scheme)
    H = h.hess(x)
    np.testing.assert_allclose(H, H.T)
    H_exact = np.array([[2, 0, 2 * x[2]], [0, 12 * (x[1] - 2) ** 2, 0], [2 * x[2], 0, 2 * x[0]]])
    np.testing.assert_allclose(H, H_exact, rtol=10 * rtol, atol=10 * rtol)


def test_differenced_hessian_of_differenced_gradient_is_refused():
    with pytest.raises(ValueError, match="hess cannot be estimated by finite differences when the gradient is"):
        ScalarFunction(hs_like, grad="2-point", hess="3-point")


def test_default_gradient_is_two_point_like_scipy():
    x = np.array([0.3, 1.1, -0.7])
    p = from_scipy(hs_like, x)
    np.testing.assert_allclose(p.objective.grad(x), hs_like_grad(x), rtol=1e-6, atol=1e-6)


def test_dict_constraints_split_and_agree_with_scipy_solution():
    cons = [{"type": "eq", "fun": circle, "jac": circle_jac},
            {"type": "ineq", "fun": lambda x: x[0] + 2.0, "jac": lambda x: np.array([[1.0, 0, 0]])}]
    p = from_scipy(hs_like, X0, jac=hs_like_grad, constraints=cons)
    assert isinstance(p, ConstrainedProblem)
    assert (p.m_eq, p.m_ineq, p.equality_only) == (1, 1, False)
    np.testing.assert_allclose(p.cons(X0), circle(X0))
    np.testing.assert_allclose(p.jac(X0), circle_jac(X0))
    np.testing.assert_allclose(p.ineq.fun(X0), [X0[0] + 2])
    # scipy's SLSQP through the oracle finds the same point as on the raw callables
    ref = minimize(hs_like, X0, jac=hs_like_grad, method="SLSQP", constraints=cons)
    mine = minimize(p.fun, X0, jac=p.grad, method="SLSQP",
                    constraints=[{"type": "eq", "fun": p.cons, "jac": p.jac},
                                 {"type": "ineq", "fun": p.ineq.fun, "jac": p.ineq.jac}])
    np.testing.assert_allclose(mine.x, ref.x, atol=1e-8)
    assert mine.nfev == ref.nfev


def test_nonlinear_constraint_two_sided_rows():
    con = NonlinearConstraint(lambda x: np.array([x[0] ** 2, x[1] + x[2], x[2]]), [1.0, -np.inf, 0.0],
                              [1.0, 3.0, 2.0],
                              jac=lambda x: np.array([[2 * x[0], 0, 0], [0, 1.0, 1.0], [0, 0, 1.0]]),
                              hess=lambda x, v: np.diag([2 * v[0], 0.0, 0.0]))
    eq, ineq = split_constraints(con, X0)
    np.testing.assert_allclose(eq.fun(X0), [X0[0] ** 2 - 1])
    # ineq rows: x2 - 0 >= 0, then 3 - (x1 + x2) >= 0 and 2 - x2 >= 0
    np.testing.assert_allclose(ineq.fun(X0), [X0[2], 3 - X0[1] - X0[2], 2 - X0[2]])
    np.testing.assert_allclose(ineq.jac(X0), [[0, 0, 1], [0, -1, -1], [0, 0, -1]])
    np.testing.assert_allclose(eq.hess(X0, np.array([3.0])), np.diag([6.0, 0, 0]))


def test_linear_constraint():
    A = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])
    eq, ineq = split_constraints(LinearConstraint(A, [1.0, -np.inf], [1.0, 0.5]), X0)
    np.testing.assert_allclose(eq.fun(X0), [A[0] @ X0 - 1])
    np.testing.assert_allclose(ineq.fun(X0), [0.5 - A[1] @ X0])
    assert eq.hess(X0, np.ones(1)).nnz == 0


def test_constraint_counts_and_cache():
    vf = VectorFunction(circle, jac=circle_jac)
    vf.fun(X0)
    vf.fun(X0.copy())
    vf.jac(X0)
    assert vf.counts() == {"ncev": 1, "ncjev": 1, "nchev": 0}
    vf_fd = VectorFunction(circle, jac="3-point")
    np.testing.assert_allclose(vf_fd.jac(X0), circle_jac(X0), rtol=1e-8)


def test_hessian_of_lagrangian():
    p = from_scipy(hs_like, X0, jac=hs_like_grad,
                   hess=lambda x: np.array([[2, 0, 2 * x[2]], [0, 12 * (x[1] - 2) ** 2, 0],
                                            [2 * x[2], 0, 2 * x[0]]]),
                   constraints={"type": "eq", "fun": circle, "jac": circle_jac,
                                "hess": lambda x, v: 2 * v[0] * np.eye(3)})
    assert {"hess_lagrangian", "hessp_lagrangian"} <= p.capabilities
    y = np.array([0.5])
    H = p.hess_lagrangian(X0, y)
    np.testing.assert_allclose(H - p.objective.hess(X0), np.eye(3))
    np.testing.assert_allclose(p.hessp_lagrangian(X0, y, np.ones(3)), H @ np.ones(3))
    np.testing.assert_allclose(p.grad_lagrangian(X0, y), hs_like_grad(X0) + 0.5 * 2 * X0)


@pytest.mark.parametrize("bad, match", [
    ({"type": "equal", "fun": circle}, "constraints\\[0\\]\\['type'\\]='equal' is not valid"),
    ({"type": "eq"}, "constraints\\[0\\] has no 'fun'"),
])
def test_bad_constraint_dicts(bad, match):
    with pytest.raises(ValueError, match=match):
        from_scipy(hs_like, X0, constraints=bad)


def test_bad_inputs():
    with pytest.raises(ValueError, match="x0 contains NaN"):
        from_scipy(hs_like, [np.nan, 0, 0])
    with pytest.raises(ValueError, match="jac='4-point' is not valid"):
        from_scipy(hs_like, X0, jac="4-point")
    with pytest.raises(ValueError, match="bounds must give one"):
        from_scipy(hs_like, X0, bounds=[(0, 1)])
    with pytest.raises(TypeError, match="constraints\\[0\\] has unsupported type"):
        split_constraints([object()], X0)
    with pytest.raises(ValueError, match="constraint function returned 2 values; expected m = 1"):
        VectorFunction(lambda x: x[:2], m=1).fun(X0)


def test_bounds_make_a_constrained_problem():
    p = from_scipy(hs_like, X0, bounds=[(None, 1.0), (0, None), (None, None)])
    np.testing.assert_array_equal(p.bounds[0], [-np.inf, 0, -np.inf])
    assert not p.equality_only


def test_from_jax_derivatives_match_finite_differences():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy

    def f(x):
        return jnp.sum((x[1:] - x[:-1] ** 2) ** 2) + jnp.sum(jnp.sin(x))

    p = from_jax(f, X0, constraints={"type": "eq", "fun": lambda x: jnp.array([x @ x - 2.0, x[0] * x[1]])})
    x = np.array([0.2, -0.4, 0.9])
    with jax_x64():  # the references in float64 too; the global flag stays as the user set it
        fd = ScalarFunction(lambda x: float(f(x)), grad="3-point")
        g_fd = fd.grad(x)
        H_fd, _ = finite_difference_jacobian(lambda z: np.asarray(jax.grad(f)(z)), x, scheme="3-point")
    np.testing.assert_allclose(p.objective.grad(x), g_fd, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(p.objective.hess(x), H_fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(p.objective.hessp(x, np.ones(3)), p.objective.hess(x) @ np.ones(3), atol=1e-12)
    np.testing.assert_allclose(p.jac(x), [2 * x, [x[1], x[0], 0.0]], atol=1e-12)
    np.testing.assert_allclose(p.eq.hess(x, np.array([1.0, 2.0])),
                               2 * np.eye(3) + 2 * np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0.0]]), atol=1e-12)


def test_from_jax_leaves_the_global_x64_flag_alone():
    jax = pytest.importorskip("jax")
    before = jax.config.jax_enable_x64
    p = from_jax(lambda x: jax.numpy.sum(x**2), X0)
    assert p.objective.grad(X0).dtype == np.float64
    assert jax.config.jax_enable_x64 == before


def test_constraint_count_must_be_knowable():
    f = ScalarFunction(lambda x: x @ x)
    with pytest.raises(ValueError, match="the number of constraints is unknown"):
        ConstrainedProblem(f, eq=VectorFunction(lambda x: x[:1]), n=2)
    p = ConstrainedProblem(f, eq=VectorFunction(lambda x: x[:1]), x0=np.ones(2))
    assert p.m_eq == 1
