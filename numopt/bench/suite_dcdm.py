"""Deep conjugate direction method next to CG, IC(0)-PCG and pyamg AMG-PCG.

Every method stops at the same relative residual, ``||b - A x|| <= 1e-6 ||b||``, under the same
iteration and wall-clock caps of its case (:data:`CASES`; the time cap is one callback shared by all
methods), so that the full suite has a bounded run time (:func:`worst_case_seconds`). Quick mode
runs the 2-D cases up to twice the training grid; full mode adds 4x, contrast 1e4 at 128^2 and the
3-D networks. The networks are the shipped ones: convolutional ones trained on the 64 x 64 (2-D) or
32^3 (3-D) Poisson matrix and multilevel ones (learned V-cycles) trained on several grid sizes; they
run unchanged on larger grids and on systems they never saw (variable coefficients, obstacles).
Times are wall-clock seconds of the solve after an untimed one-iteration warm-up per method;
preconditioner set-up (IC(0) factorization, AMG hierarchy) is reported apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import suite
from .report import convergence_plot

RTOL = 1e-6
#: Method label of each shipped network.
LABELS = {"poisson2d-64": "DCDM", "poisson2d-64-small": "DCDM small", "poisson2d-multilevel": "DCDM multilevel",
          "poisson3d-32": "DCDM", "poisson3d-multilevel": "DCDM multilevel"}
#: The most methods any case runs (2-D cases run three networks).
METHODS = ("CG", "IC(0)-PCG", "AMG-PCG (pyamg)", "DCDM", "DCDM small", "DCDM multilevel")
#: Allowance per case for building the system, preconditioner set-up and the warm-ups (seconds).
SETUP_ALLOWANCE = 10.0


@dataclass(frozen=True)
class Case:
    """One system of the suite: how to build it and the caps every method runs under."""

    label: str
    weights: tuple  # names in numopt.linalg.dcdm_model.PRETRAINED
    shape: tuple
    system: str  # "poisson", "lognormal", "obstacle" or "contrast"
    maxiter: int
    maxtime: float
    quick: bool = True


NETS_2D = ("poisson2d-64", "poisson2d-64-small", "poisson2d-multilevel")
NETS_3D = ("poisson3d-32", "poisson3d-multilevel")
CASES = (
    Case("poisson 64^2 (training grid)", NETS_2D, (64, 64), "poisson", 2000, 15.0),
    Case("poisson 128^2 (2x)", NETS_2D, (128, 128), "poisson", 4000, 15.0),
    Case("lognormal diffusion 64^2 (unseen)", NETS_2D, (64, 64), "lognormal", 2000, 15.0),
    Case("obstacle 64^2 (unseen)", NETS_2D, (64, 64), "obstacle", 2000, 15.0),
    Case("contrast 1e4 64^2 (unseen)", NETS_2D, (64, 64), "contrast", 6000, 15.0),
    Case("poisson 256^2 (4x)", NETS_2D, (256, 256), "poisson", 8000, 30.0, quick=False),
    Case("contrast 1e4 128^2 (unseen)", NETS_2D, (128, 128), "contrast", 10000, 30.0, quick=False),
    Case("poisson 32^3 (training grid)", NETS_3D, (32, 32, 32), "poisson", 2000, 25.0, quick=False),
    Case("poisson 64^3 (2x)", NETS_3D, (64, 64, 64), "poisson", 4000, 25.0, quick=False),
)


def worst_case_seconds(quick: bool) -> float:
    """Upper bound on the suite's run time: every method of every case hitting its time cap, plus set-up.

    The warm-up of each method is one iteration; it is counted in ``SETUP_ALLOWANCE``.

    Examples
    --------
    >>> worst_case_seconds(quick=False) < 20 * 60
    True
    """
    cases = [c for c in CASES if c.quick or not quick]
    return sum((3 + len(c.weights)) * c.maxtime + SETUP_ALLOWANCE for c in cases)


def build_system(case: Case, seed: int):
    """``(A, mask)`` of a case; variable coefficients are seeded."""
    from ..problems.pde import diffusion, obstacle_mask, poisson

    rng = np.random.default_rng(seed)
    if case.system == "poisson":
        return poisson(case.shape), None
    if case.system == "lognormal":
        return diffusion(np.exp(rng.standard_normal(case.shape))), None
    if case.system == "contrast":
        return diffusion(contrast_field(case.shape, 1e4, seed=seed)), None
    mask = obstacle_mask(case.shape, kind="disk", fraction=0.15)
    return poisson(case.shape, mask=mask), mask


def contrast_field(shape, contrast: float, *, seed=None) -> np.ndarray:
    """Piecewise-constant coefficient on 8-cell blocks, log-uniform between 1 and ``contrast``.

    Examples
    --------
    >>> k = contrast_field((16, 16), 1e4, seed=0)
    >>> bool(k.min() >= 1 and k.max() <= 1e4), k.shape
    (True, (16, 16))
    """
    rng = np.random.default_rng(seed)
    coarse = contrast ** rng.random(tuple(-(-s // 8) for s in shape))
    for axis in range(len(shape)):
        coarse = np.repeat(coarse, 8, axis=axis)
    return coarse[tuple(slice(0, s) for s in shape)]


def _methods(A, models, maxiter):
    from ..linalg.dcdm import dcdm
    from ..linalg.ichol import IncompleteCholesky
    from ..linalg.krylov import cg, pcg

    out = {"CG": (0.0, lambda b, cb: cg(A, b, rtol=RTOL, maxiter=maxiter, callback=cb, record_history=True))}
    t0 = time.perf_counter()
    ic = IncompleteCholesky(A)
    out["IC(0)-PCG"] = (time.perf_counter() - t0, lambda b, cb: pcg(A, b, M=ic, rtol=RTOL, maxiter=maxiter,
                                                                     callback=cb, record_history=True))
    try:
        import pyamg

        t0 = time.perf_counter()
        amg = pyamg.smoothed_aggregation_solver(A).aspreconditioner(cycle="V")
        out["AMG-PCG (pyamg)"] = (time.perf_counter() - t0,
                                  lambda b, cb: pcg(A, b, M=amg, rtol=RTOL, maxiter=maxiter, callback=cb,
                                                    record_history=True))
    except ImportError:
        pass
    for name, model in models.items():
        out[LABELS[name]] = (0.0, lambda b, cb, model=model: dcdm(A, b, model=model, rtol=RTOL, maxiter=maxiter,
                                                            callback=cb, record_history=True))
    return out


def _deadline(maxtime):
    """A callback that stops a solve (StopIteration) once ``maxtime`` seconds have passed."""
    t0 = time.perf_counter()

    def callback(xk):
        if time.perf_counter() - t0 >= maxtime:
            raise StopIteration

    return callback


def _application_costs(case, name, b, cg_iteration):
    """Milliseconds of one application of the network with each forward pass, and of one CG iteration.

    The "numpy" pass is the JAX-free one: NumPy BLAS for the convolutional networks, the Numba
    kernels for the multilevel ones.
    """
    from ..linalg.dcdm_model import load_pretrained

    row = {"system": case.label, "weights": name, "CG iteration ms": 1e3 * cg_iteration}
    for backend in ("jax", "numpy"):
        bound = load_pretrained(name, backend=backend).on_grid(case.shape)
        r = b / np.linalg.norm(b)
        bound(r)
        best = min(_seconds(bound, r) for _ in range(5))
        row[f"{backend} ms"] = 1e3 * best
        row[f"{backend} / CG iteration"] = best / cg_iteration
    return row


def _seconds(func, arg):
    t0 = time.perf_counter()
    func(arg)
    return time.perf_counter() - t0


def _stop_at_once(xk):
    raise StopIteration


@suite("dcdm", family="linalg")
def bench_dcdm(ctx):
    """DCDM vs CG, IC(0)-PCG and AMG-PCG at relative residual 1e-6 across grids and unseen systems."""
    try:
        from ..linalg.dcdm_model import load_pretrained

        models = {name: load_pretrained(name) for name in LABELS}
    except ImportError as exc:
        ctx.skip(f"the DCDM network needs the learn extra: {exc}")
    rows, costs, curves = [], [], {}
    rng = np.random.default_rng(ctx.seed)
    for case in CASES:
        if ctx.quick and not case.quick:
            continue
        A, mask = build_system(case, ctx.seed)
        bound = {name: models[name].on_grid(case.shape, mask) for name in case.weights}
        b = rng.standard_normal(A.shape[0])
        times = {}
        for method, (setup, solve) in _methods(A, bound, case.maxiter).items():
            solve(b, _stop_at_once)  # warm-up (one iteration): compilation and caches
            t0 = time.perf_counter()
            res = solve(b, _deadline(case.maxtime))
            times[method] = time.perf_counter() - t0
            rows.append({"system": case.label, "n": A.shape[0], "method": method, "iterations": res.nit,
                         "converged": res.info == 0, "rel. residual": res.rel_residual,
                         "stop": res.message.split(".")[0], "solve s": times[method], "setup s": setup,
                         "time / CG": times[method] / times["CG"],
                         "fallback its": res.get("n_fallback")})
            if method == "CG":
                cg_iteration = times["CG"] / max(res.nit, 1)
            if case.label.startswith("poisson 128^2"):
                curves[method] = (res.history["nit"], np.asarray(res.history["residual"]) / np.linalg.norm(b))
        if case.system == "poisson":
            costs += [_application_costs(case, name, b, cg_iteration) for name in case.weights]
    ctx.table("Iterations and time to relative residual 1e-6", rows)
    ctx.table("One network application (best of 5, ms) against one CG iteration", costs)
    if curves:
        ctx.figure("Relative residual vs iteration, Poisson 128 x 128",
                   convergence_plot(curves, xlabel="iteration", ylabel="||r|| / ||b||",
                                    title="Poisson 128 x 128"), "residual_128")
    ctx.table("Shipped networks", [
        {"weights": name, "grid": "x".join(map(str, m.grid_shape)), "parameters": m.n_params,
         "epochs": m.meta.get("epochs"), "training samples": m.meta.get("n_train"),
         "training s": m.meta.get("train_seconds"), "best val loss": m.meta.get("best_val_loss"),
         "command": m.meta.get("command")}
        for name, m in models.items()])
