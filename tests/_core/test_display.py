"""Results, solvers and problems show as readable tables in Jupyter and compactly in a terminal."""

import numpy as np
from scipy.optimize import rosen, rosen_der

from numopt import OptimizeResult
from numopt.bcd import BlockCoordinateDescent
from numopt.oracles import from_scipy


def test_result_html_lists_every_field_with_its_value():
    res = OptimizeResult(x=np.array([1.0, 2.0]), success=True, status=0, message="done", nit=7)
    text = res._repr_html_()
    shown = (("x", "array([1., 2.])"), ("success", "True"), ("nit", "7"), ("message", "&#x27;done&#x27;"))
    for key, value in shown:
        assert f"<code>{key}</code>" in text and value in text


def test_solver_html_lists_its_options():
    solver = BlockCoordinateDescent(maxiter=17)
    text = solver._repr_html_()
    assert "BlockCoordinateDescent" in text and "<code>maxiter</code>" in text and ">17<" in text


def test_problem_repr_shows_size_capabilities_and_counts():
    problem = from_scipy(rosen, np.zeros(3), jac=rosen_der)
    problem.fun(np.ones(3))
    assert repr(problem) == ("<UnconstrainedProblem 'user problem': n=3, capabilities=[fun, grad], "
                             "nfev=1, njev=0, nhev=0>")
    assert "<code>nfev</code>" in problem._repr_html_()
