"""Deep conjugate direction method: iteration, network, loss, training, shipped weights, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import cg as scipy_cg

from numopt import Status
from numopt.linalg.dcdm import dcdm
from numopt.linalg.dcdm_model import DirectionModel, DirectionNet, NumpyDirectionNet, load_pretrained
from numopt.linalg.dcdm_train import dcdm_loss, lanczos_ritz, train_dcdm, training_vectors
from numopt.problems.pde import diffusion, obstacle_mask, poisson


@pytest.fixture(scope="module")
def system():
    A = poisson((12, 12))
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    return A, b


def test_exact_inverse_model_converges_in_one_step(system):
    A, b = system
    res = dcdm(A, b, model=lambda r: np.linalg.solve(A.toarray(), r), rtol=1e-10)
    assert res.info == 0 and res.nit == 1
    assert np.linalg.norm(b - A @ res.x) <= 1e-10 * np.linalg.norm(b)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_identity_model_matches_scipy_cg_iterates(system, k):
    A, b = system
    ours, theirs = [], []
    dcdm(A, b, k=k, rtol=1e-10, maxiter=15, callback=lambda x: ours.append(x.copy()))
    scipy_cg(A, b, rtol=1e-30, maxiter=15, callback=lambda x: theirs.append(x.copy()))
    assert len(ours) == 15
    for a, c in zip(ours, theirs):
        np.testing.assert_allclose(a, c, rtol=1e-8, atol=1e-10)


def test_identity_model_converges_to_solution(system):
    A, b = system
    res = dcdm(A, b, rtol=1e-10, record_history=True)
    x_true = sp.linalg.spsolve(A.tocsc(), b)
    np.testing.assert_allclose(res.x, x_true, rtol=1e-8, atol=1e-9)
    hist = np.asarray(res.history["residual"]) / np.linalg.norm(b)
    assert hist[0] == pytest.approx(1.0) and hist[-1] <= 1e-10 and res.history["nit"][-1] == res.nit
    x, info = res
    assert info == 0


def test_preconditioner_as_model_cuts_iterations(system):
    A, b = system
    from numopt.linalg.ichol import IncompleteCholesky

    plain = dcdm(A, b, rtol=1e-8)
    pre = dcdm(A, b, model=IncompleteCholesky(A), rtol=1e-8, k=50)
    assert pre.info == 0 and pre.nit < plain.nit


def test_maxiter_reported_through_info(system):
    A, b = system
    res = dcdm(A, b, rtol=1e-12, maxiter=3)
    assert res.info == 3 and not res.success and "Maximum number of iterations" in res.message
    assert res.status == Status.MAXITER.code


def test_result_contract_residuals_and_stopiteration(system):
    A, b = system
    res = dcdm(A, b, rtol=1e-8)
    assert res.residual == float(np.linalg.norm(b - A @ res.x))
    assert res.rel_residual == res.residual / np.linalg.norm(b) <= 1e-8
    assert res.time >= 0.0

    def stop_after_two(xk, calls=[]):  # noqa: B006 - counts the calls
        calls.append(1)
        if len(calls) == 2:
            raise StopIteration

    res = dcdm(A, b, rtol=1e-12, callback=stop_after_two)
    assert res.nit == 2 and res.status == Status.CALLBACK.code and res.info == 2 and not res.success


def test_nan_model_falls_back_to_residual_and_reports(system):
    A, b = system
    res = dcdm(A, b, model=lambda r: np.full_like(r, np.nan), rtol=1e-8)
    assert res.info == 0 and res.n_fallback == res.nit and "unusable" in res.message


def test_non_descent_direction_falls_back(system):
    A, b = system
    # q = e_0 - e_0 ... a zero-curvature direction: q^T A q <= 0 is impossible for SPD, so use -A-orthogonal trick:
    # a model returning an A-conjugate copy of a previous direction becomes zero after orthogonalization.
    res = dcdm(A, b, model=lambda r: np.zeros_like(r), rtol=1e-8)
    assert res.info == 0 and res.n_fallback == res.nit


def test_indefinite_matrix_breaks_down_cleanly():
    A = sp.diags([1.0, -1.0, 2.0]).tocsr()
    res = dcdm(A, np.array([0.0, 1.0, 0.0]), rtol=1e-8)
    assert res.info == -1 and not res.success and "positive definite" in res.message


@pytest.mark.parametrize(
    "A, b, match",
    [
        (np.ones((2, 3)), np.ones(2), "square"),
        (np.array([[2.0, 1.0], [0.0, 2.0]]), np.ones(2), "symmetric"),
        (np.eye(3), np.ones(2), "shape"),
        (np.eye(2), np.array([1.0, np.nan]), "NaN"),
    ],
)
def test_bad_input(A, b, match):
    with pytest.raises(ValueError, match=match):
        dcdm(A, b)


def test_model_bound_to_another_grid_is_rejected():
    model = DirectionModel(DirectionNet(2, width=4, blocks=1), (8, 8))
    A = poisson((6, 6))
    with pytest.raises(ValueError, match="on_grid"):
        dcdm(A, np.ones(36), model=model)
    with pytest.raises(ValueError, match="dimensions"):
        model.on_grid((4, 4, 4))


def test_masked_model_ignores_inactive_cells_and_solves_the_obstacle_problem():
    mask = obstacle_mask((32, 32), fraction=0.2)
    model = load_pretrained("poisson2d-64").on_grid((32, 32), mask)
    full = load_pretrained("poisson2d-64").on_grid((32, 32))
    r = np.random.default_rng(0).standard_normal(mask.sum())
    u = np.zeros((32, 32))
    u[mask] = r
    np.testing.assert_allclose(model(r), full(u.ravel()).reshape(32, 32)[mask], rtol=1e-6, atol=1e-7)
    A = poisson((32, 32), mask=mask)
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    learned, plain = dcdm(A, b, model=model, rtol=1e-6), dcdm(A, b, rtol=1e-6)
    assert learned.success and np.linalg.norm(b - A @ learned.x) <= 1e-6 * np.linalg.norm(b)
    assert learned.nit < plain.nit / 2


def test_loss_is_invariant_to_output_scale():
    jnp = pytest.importorskip("jax.numpy")
    from jax.experimental import sparse as jsparse

    A = poisson((8, 8))
    A_jax = jsparse.BCOO.from_scipy_sparse(A.astype(np.float32))
    net = DirectionNet(2, width=4, blocks=1, seed=1)
    B = jnp.asarray(training_vectors(lanczos_ritz(A, 20, seed=0), 4, seed=1), dtype=jnp.float32)

    class Scaled:
        dim = 2

        def __init__(self, c):
            self.c = c

        def __call__(self, u):
            return self.c * net(u)

    base = float(dcdm_loss(net, A_jax, B, (8, 8)))
    for c in (1e-3, 7.0, -2.0):
        assert float(dcdm_loss(Scaled(c), A_jax, B, (8, 8))) == pytest.approx(base, rel=1e-4)
    assert 0 < base


def test_lanczos_ritz_pairs_are_eigenpairs_after_full_run():
    A = poisson((10, 10))  # repeated eigenvalues: the Krylov space closes before n steps
    theta, V = lanczos_ritz(A, 100, seed=0)
    exact = np.linalg.eigvalsh(A.toarray())
    assert 50 < theta.size <= 100
    assert np.abs(theta[:, None] - exact[None, :]).min(axis=1).max() < 1e-8
    np.testing.assert_allclose(np.linalg.norm(A @ V - V * theta, axis=0), 0, atol=1e-8)


def test_training_vectors_are_unit_and_seeded():
    ritz = lanczos_ritz(poisson((6, 6)), 12, seed=0)
    B1 = training_vectors(ritz, 5, seed=3)
    B2 = training_vectors(ritz, 5, seed=3)
    np.testing.assert_array_equal(B1, B2)
    np.testing.assert_allclose(np.linalg.norm(B1, axis=1), 1.0)


def test_short_training_lowers_validation_loss_and_checkpoints(tmp_path):
    A = diffusion(np.ones((8, 8)))
    model, hist = train_dcdm(A, (8, 8), width=4, blocks=1, n_ritz=24, n_train=48, n_val=16, epochs=4,
                             batch_size=8, learning_rate=3e-3, seed=0, checkpoint_dir=tmp_path)
    assert min(hist["val_loss"][1:]) < hist["val_loss"][0]
    assert (tmp_path / "last.npz").exists() and (tmp_path / "best.npz").exists()
    reloaded = DirectionModel.load(tmp_path / "best.npz")
    r = np.random.default_rng(0).standard_normal(64)
    np.testing.assert_allclose(reloaded(r), model(r), rtol=1e-5, atol=1e-6)


def test_training_rejects_grid_mismatch():
    with pytest.raises(ValueError, match="active cells"):
        train_dcdm(poisson((4, 4)), (5, 5), epochs=1)


# the shipped 3-D network needs more iterations than CG (docs/dcdm.md): only convergence is checked there
@pytest.mark.parametrize("name, shape, max_ratio_to_cg", [("poisson2d-64", (64, 64), 0.5),
                                                          ("poisson2d-64-small", (64, 64), 0.5),
                                                          ("poisson3d-32", (32, 32, 32), None)])
def test_shipped_weights_load_and_solve(name, shape, max_ratio_to_cg):
    model = load_pretrained(name)
    assert model.grid_shape == shape and model.meta.get("command", "").startswith("numopt train-dcdm")
    small = tuple(s // 4 for s in shape)
    A = poisson(small)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    res = dcdm(A, b, model=model.on_grid(small), rtol=1e-6)
    plain = dcdm(A, b, rtol=1e-6)
    assert res.info == 0 and res.n_fallback == 0
    assert np.linalg.norm(b - A @ res.x) <= 1.01e-6 * np.linalg.norm(b)
    assert max_ratio_to_cg is None or res.nit <= max_ratio_to_cg * plain.nit


def test_shipped_2d_network_needs_fewer_iterations_than_cg():
    A = poisson((32, 32))
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    learned = dcdm(A, b, model=load_pretrained("poisson2d-64").on_grid((32, 32)), rtol=1e-6)
    plain = dcdm(A, b, rtol=1e-6)
    assert learned.info == 0 and learned.nit < plain.nit / 2


def _half_model(n):
    """A constructed stalling model: directions that never touch the second half of the unknowns."""
    first_half = np.arange(n) < n // 2
    return lambda r: np.where(first_half, r, 0.0)


def test_stalling_model_is_detected_and_cg_finishes_the_solve(system):
    A, b = system
    res = dcdm(A, b, model=_half_model(A.shape[0]), rtol=1e-8, stall_window=10, record_history=True)
    plain = dcdm(A, b, rtol=1e-8)
    assert res.success and res.rel_residual <= 1e-8
    assert res.stalled_at == 10 and "stalled at iteration 10" in res.message
    assert res.n_fallback == res.nit - res.stalled_at  # every iteration after the stall, counted honestly
    assert res.nit - res.stalled_at <= plain.nit + 5  # the fallback is CG from the best iterate


def test_stalling_model_stops_with_stagnation_and_returns_best_iterate(system):
    A, b = system
    res = dcdm(A, b, model=_half_model(A.shape[0]), rtol=1e-8, stall_window=10, on_stall="stop",
               record_history=True)
    assert res.status == Status.STAGNATION.code and res.info == -1 and not res.success
    assert res.nit == 10 and "model's directions" in res.message
    assert res.residual == pytest.approx(min(res.history["residual"]), rel=1e-8)
    assert res.rel_residual > 0.1  # the second half of the residual was never reduced


def test_fallback_stall_stops_below_attainable_precision(system):
    A, b = system
    res = dcdm(A, b, rtol=1e-30)  # CG cannot reach this: it must stop on stagnation, not at maxiter
    assert res.status == Status.STAGNATION.code and res.nit < 10 * A.shape[0]
    assert res.rel_residual < 1e-12 and "residual directions" in res.message


def test_preconditioned_fallback_uses_m(system):
    A, b = system
    from numopt.linalg.ichol import IncompleteCholesky

    ic = IncompleteCholesky(A)
    plain = dcdm(A, b, model=_half_model(A.shape[0]), rtol=1e-8, stall_window=10)
    pre = dcdm(A, b, model=_half_model(A.shape[0]), rtol=1e-8, stall_window=10, M=ic)
    assert pre.success and pre.nit - pre.stalled_at < plain.nit - plain.stalled_at


def test_maxtime_stops_a_slow_model(system):
    import time

    A, b = system

    def slow_model(r):
        time.sleep(0.02)
        return np.roll(r, 1)

    res = dcdm(A, b, model=slow_model, rtol=1e-12, maxtime=0.1)
    assert res.status == Status.MAXTIME.code and res.info == res.nit and 1 <= res.nit < 50
    assert "Time limit" in res.message


@pytest.mark.parametrize("kwargs, name", [({"maxtime": 0}, "maxtime"), ({"stall_window": 0}, "stall_window"),
                                          ({"stall_decrease": 1.5}, "stall_decrease"),
                                          ({"on_stall": "retry"}, "on_stall")])
def test_stall_options_are_validated(system, kwargs, name):
    from numopt.testing import assert_names_argument

    A, b = system
    assert_names_argument(dcdm, A, b, names=[name], **kwargs)


def test_full_bench_suite_has_finite_caps_within_twenty_minutes():
    from numopt.bench.suite_dcdm import CASES, worst_case_seconds

    assert any(not c.quick for c in CASES)
    for case in CASES:
        assert 0 < case.maxiter <= 10_000 and 0 < case.maxtime <= 60, case.label
    assert worst_case_seconds(quick=False) < 20 * 60


def test_unseen_contrast_1e4_converges_within_cg_iterations_or_says_why():
    from numopt.bench.suite_dcdm import contrast_field

    A = diffusion(contrast_field((32, 32), 1e4, seed=0))
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    learned = dcdm(A, b, model=load_pretrained("poisson2d-64").on_grid((32, 32)), rtol=1e-6)
    plain = dcdm(A, b, rtol=1e-6)
    assert learned.success and learned.rel_residual <= 1e-6
    # after a stall the run is CG from the best iterate: CG's count up to rounding (2 %) at condition ~1e7
    assert learned.nit <= plain.nit or (learned.stalled_at is not None and "stalled" in learned.message
                                        and learned.nit - learned.stalled_at <= 1.02 * plain.nit)


@pytest.mark.parametrize("shape", [(32, 32), (64, 64)])
def test_default_network_on_contrast_1e4_needs_fewer_iterations_than_cg(shape):
    from numopt.bench.suite_dcdm import contrast_field

    A = diffusion(contrast_field(shape, 1e4, seed=0))
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    learned = dcdm(A, b, model=load_pretrained().on_grid(shape), rtol=1e-6)
    plain = dcdm(A, b, rtol=1e-6)
    # the residual grows for tens of iterations before it falls (preconditioned CG at condition ~1e4), yet
    # the energy test keeps the network: no stall, and far fewer iterations than CG
    assert learned.success and learned.rel_residual <= 1e-6 and learned.stalled_at is None
    assert learned.nit < plain.nit / 2


def test_linear_network_still_stalls_when_the_residual_step_beats_it(system):
    A, b = system

    class Half:  # declared linear SPD, yet blind to half of the unknowns: its energy steps fall behind CG's
        linear_spd = True
        __call__ = staticmethod(_half_model(A.shape[0]))

    res = dcdm(A, b, model=Half(), rtol=1e-8, stall_window=10)
    assert res.success and res.rel_residual <= 1e-8 and res.stalled_at == 10 and "energy steps" in res.message


def test_only_the_multilevel_networks_declare_a_linear_spd_map():
    assert load_pretrained().linear_spd and load_pretrained("poisson3d-multilevel").linear_spd
    assert not load_pretrained("poisson2d-64", backend="numpy").linear_spd


@pytest.mark.parametrize("name, shapes", [("poisson2d-64", [(64, 64), (37, 50)]),
                                          ("poisson3d-32", [(32, 32, 32), (9, 12, 7)])])
def test_numpy_forward_pass_equals_jax_on_shipped_weights(name, shapes):
    jax_model = load_pretrained(name, backend="jax")
    numpy_model = load_pretrained(name, backend="numpy")
    assert numpy_model.backend == "numpy" and jax_model.backend == "jax"
    for shape in shapes:
        r = np.random.default_rng(3).standard_normal(int(np.prod(shape)))
        q_jax, q_numpy = jax_model.on_grid(shape)(r), numpy_model.on_grid(shape)(r)
        scale = np.abs(q_jax).max()
        assert scale > 0 and np.abs(q_numpy - q_jax).max() <= 2e-6 * scale
    double = NumpyDirectionNet.from_model(jax_model, dtype=np.float64)
    u = np.random.default_rng(4).standard_normal(shapes[1])
    np.testing.assert_allclose(double(u), numpy_model.on_grid(shapes[1])._forward(u), rtol=0, atol=2e-6 * scale)


def test_numpy_forward_pass_on_masked_grid_solves_like_jax():
    mask = obstacle_mask((32, 32), fraction=0.15)
    A = poisson((32, 32), mask=mask)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    runs = [dcdm(A, b, model=load_pretrained("poisson2d-64", backend=backend).on_grid((32, 32), mask), rtol=1e-6)
            for backend in ("jax", "numpy")]
    assert all(res.success for res in runs) and abs(runs[0].nit - runs[1].nit) <= 1


def test_numpy_network_saves_and_reloads(tmp_path):
    model = load_pretrained("poisson2d-64", backend="numpy")
    path = model.save(tmp_path / "w.npz")
    again = DirectionModel.load(path, backend="numpy")
    r = np.random.default_rng(0).standard_normal(64 * 64)
    np.testing.assert_array_equal(again(r), model(r))
    assert again.n_params == model.n_params == 28017


def test_inference_without_jax_uses_the_numpy_forward_pass(monkeypatch):
    import numopt.linalg.dcdm_model as dcdm_model

    def no_jax():
        raise ImportError("JAX is not installed")

    expected = load_pretrained("poisson2d-64", backend="jax").on_grid((32, 32))
    monkeypatch.setattr(dcdm_model, "_jax", no_jax)
    model = load_pretrained("poisson2d-64").on_grid((32, 32))
    assert model.backend == "numpy" and model.n_params == 28017
    A = poisson((32, 32))
    b = np.random.default_rng(2).standard_normal(A.shape[0])
    without, with_jax = dcdm(A, b, model=model, rtol=1e-6), dcdm(A, b, model=expected, rtol=1e-6)
    assert without.success and without.nit == with_jax.nit
    np.testing.assert_allclose(without.x, with_jax.x, rtol=1e-4, atol=1e-6 * np.abs(with_jax.x).max())
    with pytest.raises(ImportError, match="JAX"):
        load_pretrained("poisson2d-64", backend="jax")


# --- the multilevel network (a learned V-cycle) ---------------------------------------------------------------


@pytest.mark.parametrize("dim, x_shape, out_shape", [(2, (7, 10), (7, 10)), (2, (7, 10), (8, 10)),
                                                     (2, (8, 10), (7, 9)), (3, (5, 6, 3), (6, 6, 4)),
                                                     (3, (6, 4, 5), (5, 4, 5))])
def test_numba_kernels_match_plain_numpy(dim, x_shape, out_shape):
    from numopt.linalg import _dcdm_kernels as kernels

    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((3,) * dim).astype(np.float32)
    base = rng.standard_normal(out_shape).astype(np.float32)
    # reference: x zero-padded by one cell (and cut or padded to the output), summed over the 3^d taps
    padded = np.zeros(tuple(n + 2 for n in out_shape))
    padded[tuple(slice(1, 1 + min(n + 1, m)) for n, m in zip(out_shape, x_shape))] = \
        x[tuple(slice(0, min(n + 1, m)) for n, m in zip(out_shape, x_shape))]
    expected = 0.5 * base.astype(float)
    for tap in np.ndindex(*w.shape):
        expected -= 2.0 * w[tap] * padded[tuple(slice(t, t + n) for t, n in zip(tap, out_shape))]
    out = np.empty(out_shape, dtype=np.float32)
    kernels.CORRELATE[dim](x, w, out, base, np.float32(0.5), np.float32(-2.0))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    out_zero_base = np.full(out_shape, np.nan, dtype=np.float32)  # beta = 0 ignores base (and NaN in out)
    kernels.CORRELATE[dim](x, w, out_zero_base, out_zero_base, np.float32(0.0), np.float32(-2.0))
    np.testing.assert_allclose(out_zero_base, expected - 0.5 * base, rtol=1e-5, atol=1e-5)
    even = rng.standard_normal(tuple(2 * (n // 2 + 1) for n in x_shape)).astype(np.float32)
    pooled = np.empty(tuple(n // 2 for n in even.shape), dtype=np.float32)
    kernels.POOL[dim](even, np.float32(0.5), pooled)
    blocks = even.reshape([d for n in pooled.shape for d in (n, 2)]).sum(axis=tuple(range(1, 2 * dim, 2)))
    np.testing.assert_allclose(pooled, 0.5 * blocks, rtol=1e-5, atol=1e-6)
    up = np.empty(tuple(2 * n for n in x_shape), dtype=np.float32)
    kernels.UPSAMPLE[dim](x, up)
    expected_up = x
    for axis in range(dim):
        expected_up = np.repeat(expected_up, 2, axis=axis)
    np.testing.assert_array_equal(up, expected_up)


def test_geometric_vcycle_is_symmetric_positive_definite_on_odd_grids():
    from numopt.linalg.dcdm_multilevel import geometric_weights, reference_vcycle

    shape = (11, 6)
    n = int(np.prod(shape))
    B = np.column_stack([reference_vcycle(geometric_weights(2), e.reshape(shape)).reshape(-1) for e in np.eye(n)])
    np.testing.assert_allclose(B, B.T, atol=1e-12)
    assert np.linalg.eigvalsh(B).min() > 0


@pytest.mark.parametrize("name, shapes", [("poisson2d-multilevel", [(64, 64), (37, 50)]),
                                          ("poisson3d-multilevel", [(16, 16, 16), (9, 12, 7)])])
def test_multilevel_forward_passes_agree_on_shipped_weights(name, shapes):
    from numopt.linalg.dcdm_multilevel import NumbaMultilevelNet, reference_vcycle

    jax_model = load_pretrained(name, backend="jax")
    numba_model = load_pretrained(name)
    assert numba_model.backend == "numpy" and isinstance(numba_model.net, NumbaMultilevelNet)
    for shape in shapes:
        r = np.random.default_rng(3).standard_normal(int(np.prod(shape)))
        q_jax, q_numba = jax_model.on_grid(shape)(r), numba_model.on_grid(shape)(r)
        q_ref = reference_vcycle(numba_model.net.weights, r.reshape(shape)).reshape(-1)
        scale = np.abs(q_ref).max()
        assert scale > 0
        assert np.abs(q_numba - q_ref).max() <= 2e-6 * scale and np.abs(q_jax - q_ref).max() <= 2e-6 * scale


def _iterations(A, b, **kwargs):
    res = dcdm(A, b, rtol=1e-6, **kwargs)
    assert res.success and np.linalg.norm(b - A @ res.x) <= 1.01e-6 * np.linalg.norm(b)
    return res


def test_multilevel_2d_iterations_stay_flat_while_cg_and_ic0_double():
    from numopt.linalg.ichol import IncompleteCholesky
    from numopt.linalg.krylov import pcg

    model = load_pretrained("poisson2d-multilevel")
    counts = {"dcdm": [], "cg": [], "ic0": []}
    for size in (64, 128, 256):
        A = poisson((size, size))
        b = np.random.default_rng(size).standard_normal(A.shape[0])
        res = _iterations(A, b, model=model.on_grid((size, size)))
        assert res.n_fallback == 0 and res.stalled_at is None
        counts["dcdm"].append(res.nit)
        counts["cg"].append(_iterations(A, b).nit)
        counts["ic0"].append(pcg(A, b, M=IncompleteCholesky(A), rtol=1e-6).nit)
    growth = {k: v[-1] / v[0] for k, v in counts.items()}
    assert growth["dcdm"] <= 1.5 < 3 <= min(growth["cg"], growth["ic0"]), counts
    assert max(counts["dcdm"]) <= min(counts["ic0"]) / 3, counts


def test_multilevel_3d_needs_fewer_iterations_than_ic0_pcg():
    from numopt.linalg.ichol import IncompleteCholesky
    from numopt.linalg.krylov import pcg

    model = load_pretrained("poisson3d-multilevel")
    for size in (32, 64):
        A = poisson((size,) * 3)
        b = np.random.default_rng(size).standard_normal(A.shape[0])
        res = _iterations(A, b, model=model.on_grid((size,) * 3))
        ic0 = pcg(A, b, M=IncompleteCholesky(A), rtol=1e-6)
        assert res.n_fallback == 0 and res.nit < ic0.nit / 2, (size, res.nit, ic0.nit)


def test_multilevel_network_solves_the_obstacle_problem_and_saves(tmp_path):
    mask = obstacle_mask((48, 48), fraction=0.15)
    A = poisson((48, 48), mask=mask)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    model = load_pretrained("poisson2d-multilevel")
    res = _iterations(A, b, model=model.on_grid((48, 48), mask))
    assert res.nit < _iterations(A, b).nit / 4
    again = DirectionModel.load(model.save(tmp_path / "ml.npz"))
    r = np.random.default_rng(1).standard_normal(model.n)
    np.testing.assert_array_equal(again(r), model(r))
    assert again.n_params == model.n_params == 28


def test_multilevel_training_lowers_validation_loss_on_every_grid(tmp_path):
    from numopt.linalg.dcdm_train import train_multilevel

    model, hist = train_multilevel(2, grids=(8, 16), n_ritz=24, n_train=32, n_val=16, epochs=3, batch_size=8,
                                   checkpoint_dir=tmp_path)
    before, after = hist["val_loss_by_grid"][0], hist["val_loss_by_grid"][int(np.argmin(hist["val_loss"]))]
    assert all(a < b for a, b in zip(after, before))
    assert model.grid_shape == (16, 16) and (tmp_path / "best.npz").exists()
    with pytest.raises(ValueError, match="grids"):
        train_multilevel(2, grids=(1,))


def test_train_dcdm_cli_trains_a_multilevel_network(tmp_path):
    from numopt.cli import main

    out = tmp_path / "ml.npz"
    assert main(["train-dcdm", "--multilevel", "--dim", "2", "--grids", "8", "16", "--epochs", "1",
                 "--n-train", "16", "--n-val", "8", "--n-ritz", "16", "--batch-size", "8",
                 "--checkpoints", str(tmp_path / "ck"), "--out", str(out)]) == 0
    model = DirectionModel.load(out)
    assert model.n_params == 28 and model.meta["grids"] == [8, 16] and len(model.meta["val_loss"]) == 2
    A = poisson((16, 16))
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    assert _iterations(A, b, model=model).nit < _iterations(A, b).nit / 2


def test_multilevel_network_is_the_default_and_validates_its_weights():
    from numopt.linalg.dcdm_multilevel import NumbaMultilevelNet, geometric_weights

    assert load_pretrained().meta["command"].startswith("numopt train-dcdm --multilevel --dim 2")
    weights = geometric_weights(2)
    with pytest.raises(ValueError, match="missing"):
        NumbaMultilevelNet({k: weights[k] for k in ("smoother", "stencil")}, 2)
    with pytest.raises(ValueError, match=r"weights\['interp'\] must have shape \(3, 3\)"):
        NumbaMultilevelNet(dict(weights, interp=np.ones((3, 3, 3))), 2)
    with pytest.raises(ValueError, match="dim"):
        NumbaMultilevelNet(weights, 4)
