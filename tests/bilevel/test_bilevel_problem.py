import numpy as np
import pytest

from numopt.bilevel import BilevelFunction, BilevelProblem, minimize_bilevel


def _quad_pieces():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    B = np.array([[1.0, -1.0, 0.5], [0.0, 2.0, 1.0]])

    def g(x, y):
        return 0.5 * y @ A @ y + y @ (B @ x) + np.sin(x[0]) * y[0]

    def g_grad(x, y):
        gx = B.T @ y
        gx[0] += np.cos(x[0]) * y[0]
        gy = A @ y + B @ x
        gy[0] += np.sin(x[0])
        return gx, gy

    def g_hvp(x, y, v):
        hx = B.T @ v
        hx[0] += np.cos(x[0]) * v[0]
        return hx, A @ v

    return g, g_grad, g_hvp


def test_jax_gradients_match_analytic():
    import jax.numpy as jnp

    A = jnp.array([[2.0, 0.5], [0.5, 1.0]])
    B = jnp.array([[1.0, -1.0, 0.5], [0.0, 2.0, 1.0]])

    def g_jax(x, y):
        return 0.5 * y @ A @ y + y @ (B @ x) + jnp.sin(x[0]) * y[0]

    _, g_grad, g_hvp = _quad_pieces()
    fn = BilevelFunction(g_jax, name="g")
    assert fn.grad_mode == "jax"
    x, y, v = np.array([0.3, -1.0, 2.0]), np.array([0.7, -0.2]), np.array([1.0, 2.0])
    for got, want in zip(fn.grad(x, y), g_grad(x, y)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    for got, want in zip(fn.hvp(x, y, v), g_hvp(x, y, v)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert fn.counts() == {"nfev": 0, "ngev": 1, "nhvp": 1, "nsamp": 2}


def test_finite_difference_fallback_and_hvp():
    g, g_grad, g_hvp = _quad_pieces()
    fn = BilevelFunction(g, grad="finite-difference", name="g")
    x, y, v = np.array([0.3, -1.0, 2.0]), np.array([0.7, -0.2]), np.array([1.0, 2.0])
    for got, want in zip(fn.grad(x, y), g_grad(x, y)):
        np.testing.assert_allclose(got, want, atol=1e-8)
    for got, want in zip(fn.hvp(x, y, v), g_hvp(x, y, v)):
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert fn.nfev == 2 * 5 * 3  # one gradient + two for the product, 2(n+m) values each


def test_numpy_callable_falls_back_from_jax_with_warning():
    g, _, _ = _quad_pieces()

    def g_numpy(x, y):
        return float(np.asarray(g(np.asarray(x), np.asarray(y))))

    f = BilevelFunction(lambda x, y: 0.5 * np.sum(y ** 2), grad=lambda x, y: (np.zeros(3), y))
    with pytest.warns(UserWarning, match="finite-difference"):
        p = BilevelProblem(f, g_numpy, np.zeros(3), np.zeros(2))
    assert p.g.grad_mode == "finite-difference"


def test_counts_and_uncounted():
    g, g_grad, _ = _quad_pieces()
    f = BilevelFunction(lambda x, y: y @ y, grad=lambda x, y: (np.zeros(3), 2 * y), name="f")
    p = BilevelProblem(f, BilevelFunction(g, grad=g_grad, name="g"), np.zeros(3), np.ones(2))
    assert p.counts()["ngrad"] == 0  # the shape check is not counted
    p.g.grad(np.zeros(3), np.ones(2))
    with p.uncounted():
        p.f.grad(np.zeros(3), np.ones(2))
    c = p.counts()
    assert (c["ngev_g"], c["ngev_f"], c["ngrad"]) == (1, 0, 1)


def test_minibatch_oracles_and_sampling():
    data = np.arange(10.0)
    f = BilevelFunction(lambda x, y, idx: np.mean((y - data[idx if idx is not None else slice(None)]) ** 2),
                        grad=lambda x, y, idx: (np.zeros(1),
                                                2 * np.mean(y - data[idx if idx is not None else slice(None)],
                                                            keepdims=True)),
                        n_samples=10)
    g = BilevelFunction(lambda x, y: np.sum((y - x) ** 2), grad=lambda x, y: (2 * (x - y), 2 * (y - x)))
    p = BilevelProblem(f, g, np.zeros(1), np.zeros(1))
    assert p.stochastic and "minibatch" in p.capabilities
    rng = np.random.default_rng(0)
    idx = p.batch("f", rng, 4)
    assert idx.shape == (4,) and p.batch("g", rng, 4) is None and p.batch("f", rng, 20) is None
    p.f.grad(np.zeros(1), np.zeros(1), idx)
    assert p.counts()["nsamp_f"] == 4
    np.testing.assert_allclose(p.f.grad(np.zeros(1), np.zeros(1))[1], [-9.0])


def test_inconsistent_shapes_are_reported():
    f = lambda x, y: np.sum(y ** 2) + np.sum(x ** 2)  # noqa: E731
    g_wrong = BilevelFunction(lambda x, y: np.sum((y - x[:2]) ** 2),
                              grad=lambda x, y: (np.zeros(2), 2 * (y - x[:2])), name="g")
    with pytest.raises(ValueError, match="x/y shapes of f and g disagree"):
        BilevelProblem(BilevelFunction(f, grad=lambda x, y: (2 * x, 2 * y)), g_wrong, np.zeros(3), np.zeros(2))
    g_crash = BilevelFunction(lambda x, y: np.sum((y - x) ** 2), grad=lambda x, y: (x, y), name="g")
    with pytest.raises(ValueError, match=r"evaluating g\(x0, y0\).*same sizes"):
        BilevelProblem(BilevelFunction(f, grad=lambda x, y: (2 * x, 2 * y)), g_crash, np.zeros(3), np.zeros(2))


def test_minimize_bilevel_with_jax_functions():
    import jax.numpy as jnp

    def f(x, y):
        return 0.5 * jnp.sum((y - 1.0) ** 2) + 0.5 * jnp.sum(x ** 2)

    def g(x, y):
        return 0.5 * jnp.sum((y - 2.0 * x) ** 2)

    # y*(x) = 2x, F(x) = 1/2 |2x - 1|^2 + 1/2 |x|^2, x* = 2/5
    res = minimize_bilevel(f, g, np.zeros(2), np.zeros(2), method="implicit")
    np.testing.assert_allclose(res.x, [0.4, 0.4], atol=1e-6)
    res = minimize_bilevel(f, g, np.zeros(2), np.zeros(2), method="penalty", sigma=1e-4)
    assert res.success
    np.testing.assert_allclose(res.x, [0.4, 0.4], atol=1e-3)
    assert res.lower_gap >= -1e-12 and res.lower_gap < 1e-3


def test_jax_minibatch_functions():
    import jax
    import jax.numpy as jnp

    data = np.random.default_rng(0).standard_normal((40, 2))
    with jax.enable_x64(True):  # float64 data (JAX defaults to float32)
        data_j = jnp.asarray(data)

    def f(x, y, idx):
        d = data_j if idx is None else data_j[idx]
        return 0.5 * jnp.mean(jnp.sum((y - d) ** 2, axis=1))

    fn = BilevelFunction(f, n_samples=40)
    x, y, idx = np.zeros(1), np.ones(2), np.array([3, 7, 7])
    np.testing.assert_allclose(fn.grad(x, y, idx)[1], y - data[idx].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(fn.grad(x, y)[1], y - data.mean(axis=0), rtol=1e-12)

    def f_numpy_data(x, y, idx):  # NumPy data indexed by the batch: no jit, with a warning
        d = data if idx is None else data[idx]
        return 0.5 * jnp.mean(jnp.sum((y - d) ** 2, axis=1))

    slow = BilevelFunction(f_numpy_data, n_samples=40)
    with pytest.warns(UserWarning, match="eager JAX"):
        g = slow.grad(x, y, idx)[1]
    np.testing.assert_allclose(g, y - data[idx].mean(axis=0), rtol=1e-12)


def test_callback_sees_iterates_and_can_stop():
    from numopt import Status
    from numopt.bilevel.apps import quadratic_bilevel

    qp = quadratic_bilevel(n=2, m=3, seed=0)
    seen = []

    def callback(intermediate_result):
        seen.append((intermediate_result.nit, intermediate_result.sigma))
        if intermediate_result.nit == 3:
            raise StopIteration

    res = minimize_bilevel(qp.problem, method="penalty", sigma=1e-2, callback=callback)
    assert res.status == Status.CALLBACK.code and res.nit == 3
    assert [s[0] for s in seen] == [1, 2, 3] and seen[0][1] == 1.0 and seen[1][1] == 0.8
