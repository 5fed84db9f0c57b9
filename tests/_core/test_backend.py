"""Backend resolution and configuration report."""

import numpy as np
import pytest

import numopt
from numopt._core.backend import (
    array_namespace,
    available_backends,
    config_info,
    cupy_status,
    resolve_backend,
    to_device,
    to_host,
)


def test_default_backend_on_numpy_input():
    expected = "numba" if "numba" in available_backends() else "numpy"
    assert resolve_backend(np.zeros(2)) == expected
    assert resolve_backend(np.zeros(2), backend="numpy") == "numpy"


def test_unknown_backend_lists_choices():
    with pytest.raises(ValueError, match="backend='torch' is not valid; expected one of 'numpy', 'numba', 'cupy'"):
        resolve_backend(np.zeros(2), backend="torch")


def test_cupy_status_is_explained():
    usable, why = cupy_status()
    if usable:
        assert "device" in why
        assert resolve_backend(np.zeros(2), backend="cupy") == "cupy"
    else:
        with pytest.raises(RuntimeError, match="backend='cupy' is not available here"):
            resolve_backend(np.zeros(2), backend="cupy")


def test_host_moves_and_namespace():
    x = np.arange(3.0)
    assert array_namespace(x) is np
    np.testing.assert_array_equal(to_host(x), x)
    np.testing.assert_array_equal(to_device(x, "numpy"), x)


def test_config_report(capsys):
    info = config_info()
    for key in ("numopt", "numpy", "scipy", "numba", "cupy", "backends", "mpi"):
        assert key in info
    numopt.show_config()
    out = capsys.readouterr().out
    assert out.startswith("numopt") and "backends" in out
