"""Input checks raise errors that name the argument and what was expected."""

import numpy as np
import pytest
import scipy.sparse as sp

from numopt._core.validate import (
    as_float_array,
    check_choice,
    check_finite,
    check_in_range,
    check_options,
    check_positive,
    check_rng,
    check_square,
    check_symmetric,
    close_matches,
)


def test_close_matches():
    assert close_matches("hs28", ["HS28", "HS29", "BT1"])[0] == "HS28"
    assert close_matches("zzzz", ["HS28"]) == []


def test_check_choice():
    assert check_choice("rule", "gs", ["gs", "gsl"]) == "gs"
    with pytest.raises(ValueError, match=r"rule='gls' is not valid; expected one of 'gs', 'gsl'\. Did you mean"):
        check_choice("rule", "gls", ["gs", "gsl"])


def test_check_options():
    assert check_options(None, {"a": 1}, "s") == {"a": 1}
    with pytest.raises(ValueError, match="Unknown option 'b' for s. Valid options: a, c."):
        check_options({"b": 2}, {"a": 1, "c": 3}, "s")


def test_as_float_array():
    assert as_float_array([1, 2], "x").dtype == np.float64
    assert as_float_array(np.ones(2, np.float32), "x").dtype == np.float32
    with pytest.raises(ValueError, match=r"x0 must be 1-D; got shape \(2, 2\)"):
        as_float_array(np.ones((2, 2)), "x0", ndim=1)
    with pytest.raises(ValueError, match=r"x0 must have shape \(3,\); got \(2,\)"):
        as_float_array(np.ones(2), "x0", shape=(3,))
    with pytest.raises(ValueError, match=r"x0 contains NaN or inf \(1 of 2 entries\)"):
        as_float_array([np.inf, 0.0], "x0")
    with pytest.raises(TypeError, match="x0 must be real"):
        as_float_array([1j], "x0")
    with pytest.raises(TypeError, match="x0 must hold numbers"):
        as_float_array(["a"], "x0")
    x = np.ones(2)
    assert as_float_array(x, "x", copy=True) is not x


def test_check_finite_sparse():
    A = sp.csr_matrix(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="A contains NaN or inf"):
        check_finite(A, "A")


def test_square_and_symmetric():
    with pytest.raises(ValueError, match=r"A must be square; got shape \(2, 3\)"):
        check_square(np.ones((2, 3)))
    check_symmetric(sp.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="B must be symmetric"):
        check_symmetric(np.array([[1.0, 2.0], [0.0, 1.0]]), "B")


def test_positive_and_range():
    assert check_positive("tol", 1e-3) == 1e-3
    assert check_positive("k", 0, strict=False, integer=True) == 0
    with pytest.raises(ValueError, match="tol must be finite and > 0; got 0"):
        check_positive("tol", 0)
    with pytest.raises(TypeError, match="k must be an integer; got 1.5"):
        check_positive("k", 1.5, integer=True)
    with pytest.raises(TypeError, match="tol must be a real number"):
        check_positive("tol", True)
    assert check_in_range("omega", 1.0, 0, 2) == 1.0
    with pytest.raises(ValueError, match=r"omega must lie in \(0, 2\); got 2"):
        check_in_range("omega", 2, 0, 2)
    assert check_in_range("omega", 2, 0, 2, closed="both") == 2


def test_check_rng():
    g = np.random.default_rng(1)
    assert check_rng(g) is g
    assert check_rng(3).integers(100) == np.random.default_rng(3).integers(100)
    with pytest.raises(TypeError, match="legacy RandomState"):
        check_rng(np.random.RandomState(0))
