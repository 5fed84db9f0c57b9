"""numopt.minimize: scipy's calling convention, dispatch through METHODS, clear errors."""

import numpy as np
import pytest

import numopt
from numopt._core import minimize as minimize_module
from numopt.oracles import from_scipy


@pytest.fixture
def gd_method(monkeypatch):
    monkeypatch.setitem(minimize_module.METHODS, "test-gd", "tests._core.test_driver:GradientDescent")
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parents[2]))


def test_dispatch_with_callables_and_options(gd_method):
    res = numopt.minimize(lambda x: 0.5 * x @ x, np.ones(3), method="TEST-GD", jac=lambda x: x,
                          tol=1e-10, options={"step": 0.5})
    assert res.success and res.nit == 35 and np.allclose(res.x, 0, atol=1e-10)
    assert res.nfev == 36


def test_problem_object_and_its_x0(gd_method):
    p = from_scipy(lambda x: 0.5 * x @ x, np.full(2, 3.0), jac=lambda x: x)
    res = numopt.minimize(p, method="test-gd", options={"step": 1.0})
    assert res.success and res.nit == 1
    with pytest.raises(ValueError, match="fun is a Problem object, so jac must not be passed separately"):
        numopt.minimize(p, method="test-gd", jac=lambda x: x)


def test_errors():
    with pytest.raises(ValueError, match="method is required for problems with bounds"):
        numopt.minimize(lambda x: 0.0, np.zeros(1), bounds=[(0, 1)])
    with pytest.raises(ValueError, match="method='newtn' is not valid"):
        numopt.minimize(lambda x: 0.0, np.zeros(1), method="newtn")
    with pytest.raises(TypeError, match="method must be a string"):
        numopt.minimize(lambda x: 0.0, np.zeros(1), method=3)


def test_unknown_option_is_listed(gd_method):
    with pytest.raises(ValueError, match="Unknown option 'setp' for gd"):
        numopt.minimize(lambda x: 0.0, np.zeros(1), method="test-gd", options={"setp": 1})
    with pytest.raises(ValueError, match="x0 is required when fun is a callable"):
        numopt.minimize(lambda x: 0.0, method="test-gd")
