"""Bad input to the bilevel family: each error names the argument and what was seen."""
import numpy as np
import pytest

from numopt.bilevel import minimize_bilevel
from numopt.bilevel.apps import hyper_cleaning_task, hyperparameter_task, quadratic_bilevel
from numopt.testing import assert_names_argument


def f(x, y):
    return float(np.sum((y - 1.0) ** 2) + np.sum(x ** 2))


def g(x, y):
    return float(np.sum((y - x) ** 2))


def grad_f(x, y):
    return 2 * x, 2 * (y - 1.0)


def grad_g(x, y):
    return 2 * (x - y), 2 * (y - x)


def _solve(**kwargs):
    args = dict(f=f, g=g, x0=np.zeros(2), y0=np.zeros(2), grad_f=grad_f, grad_g=grad_g)
    args.update(kwargs)
    return minimize_bilevel(**args)


def test_empty_start_names_x0():
    assert_names_argument(_solve, x0=np.zeros(0), names="x0", seen="(0,)")


def test_vector_valued_objective_names_the_level_and_shape():
    assert_names_argument(_solve, f=lambda x, y: y, names="f(x", seen=["scalar", "(2,)"])


def test_gradient_that_is_not_a_pair_names_grad():
    assert_names_argument(_solve, grad_f=lambda x, y: x, names=["grad", "f"], seen="(2,)")
    assert_names_argument(_solve, grad_g=lambda x, y: (x, y, x), names=["grad", "g"], seen="length 3")


def test_options_that_are_not_a_dict():
    assert_names_argument(_solve, options=[1], names="options", seen="list")


def test_box_specs_name_the_argument():
    assert_names_argument(_solve, proj_x=(0.0, 1.0, 2.0), names="proj_x", seen="length 3")
    assert_names_argument(_solve, proj_x=(1.0, 0.0), names="proj_x", seen="(1.0, 0.0)")


@pytest.mark.parametrize("kwargs, name, seen", [
    (dict(n=0), "n", "0"),
    (dict(n=2, m=2, n_samples=5, noise=-1.0), "noise", "-1"),
    (dict(n=2, m=2, x_box=(1.0,)), "x_box", "(1.0,)"),
    (dict(n=2, m=2, x_box=(1.0, 0.0)), "x_box", "(1.0, 0.0)"),
])
def test_quadratic_builder(kwargs, name, seen):
    assert_names_argument(quadratic_bilevel, **kwargs, names=name, seen=seen)


def test_hyperparameter_builder_bounds():
    data = (np.eye(3), np.ones(3))
    assert_names_argument(hyperparameter_task, data, data, x_bounds=(2.0, -8.0), names="x_bounds",
                          seen="(2.0, -8.0)")


@pytest.mark.parametrize("kwargs, name", [(dict(n_train=0), "n_train"), (dict(n_val=-3), "n_val")])
def test_hyper_cleaning_sizes(kwargs, name):
    assert_names_argument(hyper_cleaning_task, **kwargs, names=name)
