"""numopt.testing: the error-message check fails when it should."""

import pytest

from numopt._core.validate import check_rng
from numopt.testing import assert_names_argument


def _raise(exc):
    def f(*_args, **_kwargs):
        raise exc
    return f


def test_passes_when_message_names_argument_and_value():
    err = assert_names_argument(check_rng, "abc", names="seed", seen="'abc'")
    assert isinstance(err, TypeError)


def test_fails_when_message_lacks_the_argument():
    with pytest.raises(AssertionError, match="does not mention"):
        assert_names_argument(_raise(ValueError("bad input")), names="x0")


def test_fails_on_other_exception_types():
    with pytest.raises(AssertionError, match="IndexError"):
        assert_names_argument(_raise(IndexError("x0 index")), names="x0")


def test_fails_when_input_is_accepted():
    with pytest.raises(AssertionError, match="accepted the input"):
        assert_names_argument(lambda: 1, names="x0")


def test_negative_seed_is_a_value_error():
    assert_names_argument(check_rng, -1, names="seed", seen="-1", errors=ValueError)
