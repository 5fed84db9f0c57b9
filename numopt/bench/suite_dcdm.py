"""Deep conjugate direction method next to CG, IC(0)-PCG and pyamg AMG-PCG.

Every method stops at the same relative residual, ``||b - A x|| <= 1e-6 ||b||``. Quick mode runs
the 2-D cases up to twice the training grid; full mode adds 4x and the 3-D network.
The network is the shipped one trained on the 64 x 64 (2-D) or 32^3 (3-D)
Poisson matrix; it runs unchanged on larger grids and on systems it never saw
(variable coefficients, obstacles). Times are wall-clock seconds of the solve;
preconditioner set-up (IC(0) factorization, AMG hierarchy) is reported apart.
"""

from __future__ import annotations

import time

import numpy as np

from . import suite
from .report import convergence_plot

RTOL = 1e-6


def _cases(quick: bool, seed: int):
    from ..problems.pde import diffusion, obstacle_mask, poisson

    rng = np.random.default_rng(seed)
    field = np.exp(rng.standard_normal((64, 64)))
    mask = obstacle_mask((64, 64), kind="disk", fraction=0.15)
    cases = [
        ("poisson 64^2 (training grid)", "poisson2d-64", (64, 64), poisson((64, 64)), None),
        ("poisson 128^2 (2x)", "poisson2d-64", (128, 128), poisson((128, 128)), None),
        ("lognormal diffusion 64^2 (unseen)", "poisson2d-64", (64, 64), diffusion(field), None),
        ("obstacle 64^2 (unseen)", "poisson2d-64", (64, 64), poisson((64, 64), mask=mask), mask),
    ]
    if not quick:
        cases += [
            ("poisson 256^2 (4x)", "poisson2d-64", (256, 256), poisson((256, 256)), None),
            ("poisson 32^3 (training grid)", "poisson3d-32", (32, 32, 32), poisson((32, 32, 32)), None),
            ("poisson 64^3 (2x)", "poisson3d-32", (64, 64, 64), poisson((64, 64, 64)), None),
        ]
    return cases


def _methods(A, model):
    from ..linalg.dcdm import dcdm
    from ..linalg.ichol import IncompleteCholesky
    from ..linalg.krylov import cg, pcg

    out = {"CG": (0.0, lambda b: cg(A, b, rtol=RTOL, record_history=True))}
    t0 = time.perf_counter()
    ic = IncompleteCholesky(A)
    out["IC(0)-PCG"] = (time.perf_counter() - t0, lambda b: pcg(A, b, M=ic, rtol=RTOL, record_history=True))
    try:
        import pyamg

        t0 = time.perf_counter()
        amg = pyamg.smoothed_aggregation_solver(A).aspreconditioner(cycle="V")
        out["AMG-PCG (pyamg)"] = (time.perf_counter() - t0,
                                  lambda b: pcg(A, b, M=amg, rtol=RTOL, record_history=True))
    except ImportError:
        pass
    if model is not None:
        model(np.ones(A.shape[0]) / np.sqrt(A.shape[0]))  # compile the network outside the timing
        out["DCDM"] = (0.0, lambda b: dcdm(A, b, model=model, rtol=RTOL, record_history=True))
    return out


@suite("dcdm", family="linalg")
def bench_dcdm(ctx):
    """DCDM vs CG, IC(0)-PCG and AMG-PCG at relative residual 1e-6 across grids and unseen systems."""
    try:
        from ..linalg.dcdm_model import load_pretrained

        models = {name: load_pretrained(name) for name in ("poisson2d-64", "poisson3d-32")}
    except ImportError as exc:
        ctx.skip(f"the DCDM network needs the learn extra: {exc}")
    rows, curves = [], {}
    rng = np.random.default_rng(ctx.seed)
    for label, model_name, shape, A, mask in _cases(ctx.quick, ctx.seed):
        model = models[model_name].on_grid(shape, mask)
        b = rng.standard_normal(A.shape[0])
        cg_time = None
        for method, (setup, solve) in _methods(A, model).items():
            t0 = time.perf_counter()
            res = solve(b)
            secs = time.perf_counter() - t0
            if method == "CG":
                cg_time = secs
            rows.append({"system": label, "n": A.shape[0], "method": method, "iterations": res.nit,
                         "converged": res.info == 0, "solve s": secs, "setup s": setup,
                         "time / CG": secs / cg_time if cg_time else None})
            if label.startswith("poisson 128^2"):
                curves[method] = (res.history["nit"], np.asarray(res.history["residual"]) / np.linalg.norm(b))
    ctx.table("Iterations and time to relative residual 1e-6", rows)
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
