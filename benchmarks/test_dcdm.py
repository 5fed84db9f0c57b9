"""pytest-benchmark: DCDM against CG and IC(0)-PCG on a Poisson grid twice the training size.

Each run records ``residual`` (``||b - A x||``) and ``rel_residual`` (``residual / ||b||``) apart.
"""

import numpy as np
import pytest

from numopt.linalg import IncompleteCholesky, cg, pcg
from numopt.linalg.dcdm import dcdm
from numopt.problems.pde import poisson

pytest.importorskip("equinox")

N = 128


@pytest.fixture(scope="module")
def system():
    A = poisson((N, N))
    return A, np.random.default_rng(0).standard_normal(A.shape[0])


@pytest.fixture(scope="module")
def model():
    from numopt.linalg.dcdm_model import load_pretrained

    m = load_pretrained("poisson2d-64").on_grid((N, N))
    m(np.ones(N * N))
    return m


def _record(benchmark, res):
    benchmark.extra_info.update(iterations=res.nit, converged=res.info == 0, residual=float(res.residual),
                                rel_residual=float(res.rel_residual))


def test_dcdm(benchmark, system, model):
    A, b = system
    _record(benchmark, benchmark(lambda: dcdm(A, b, model=model, rtol=1e-6)))


def test_cg(benchmark, system):
    A, b = system
    _record(benchmark, benchmark(lambda: cg(A, b, rtol=1e-6)))


def test_ic_pcg(benchmark, system):
    A, b = system
    M = IncompleteCholesky(A)
    _record(benchmark, benchmark(lambda: pcg(A, b, M=M, rtol=1e-6)))


def test_dcdm_multilevel(benchmark, system):
    from numopt.linalg.dcdm_model import load_pretrained

    A, b = system
    model = load_pretrained("poisson2d-multilevel").on_grid((N, N))
    model(np.ones(N * N))
    _record(benchmark, benchmark(lambda: dcdm(A, b, model=model, rtol=1e-6)))
