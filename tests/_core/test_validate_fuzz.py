"""Property-based tests of the input validators: a correct value or a ValueError/TypeError naming the argument."""

import numbers

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from numopt._core.validate import as_float_array, check_choice, check_in_range, check_positive, check_rng

FUZZ = settings(max_examples=80, deadline=None)

dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.bool_, np.complex128, np.uint16])
arrays = hnp.arrays(dtypes, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
anything = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=5),
                     st.lists(st.integers(), max_size=3), st.complex_numbers())


def _clear(exc, name):
    assert isinstance(exc, (ValueError, TypeError)), type(exc)
    assert name in str(exc), str(exc)


@FUZZ
@given(arr=arrays, ndim=st.sampled_from([None, 1, 2]))
def test_as_float_array_returns_finite_floats_or_names_x(arr, ndim):
    try:
        out = as_float_array(arr, "x0", ndim=ndim)
    except Exception as exc:  # noqa: BLE001 - the property is about the exception type
        _clear(exc, "x0")
        return
    assert out.dtype.kind == "f" and np.all(np.isfinite(out))
    assert ndim is None or out.ndim == ndim
    np.testing.assert_array_equal(out, arr.astype(out.dtype))


@FUZZ
@given(value=anything)
def test_as_float_array_on_arbitrary_objects(value):
    try:
        out = as_float_array(value, "weights")
    except Exception as exc:  # noqa: BLE001
        _clear(exc, "weights")
        return
    assert out.dtype.kind == "f"


@FUZZ
@given(value=anything, strict=st.booleans(), integer=st.booleans())
def test_check_positive(value, strict, integer):
    try:
        out = check_positive("maxiter", value, strict=strict, integer=integer)
    except Exception as exc:  # noqa: BLE001
        _clear(exc, "maxiter")
        return
    assert out > 0 or (not strict and out == 0)
    assert not integer or isinstance(out, numbers.Integral)


@FUZZ
@given(value=anything)
def test_check_in_range(value):
    try:
        out = check_in_range("omega", value, 0.0, 2.0)
    except Exception as exc:  # noqa: BLE001
        _clear(exc, "omega")
        return
    assert 0.0 < out < 2.0


@FUZZ
@given(value=anything)
def test_check_rng(value):
    try:
        rng = check_rng(value)
    except Exception as exc:  # noqa: BLE001
        _clear(exc, "seed")
        return
    assert isinstance(rng, np.random.Generator)
    if value is not None:  # a given seed is reproducible
        assert check_rng(value).integers(1 << 30) == rng.integers(1 << 30)


@FUZZ
@given(value=anything)
def test_check_choice(value):
    try:
        out = check_choice("rule", value, ["gs", "gsl", "random"])
    except Exception as exc:  # noqa: BLE001
        _clear(exc, "rule")
        return
    assert out in ("gs", "gsl", "random")
