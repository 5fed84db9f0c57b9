"""Input checks with errors that name the argument, what was expected and what was seen.

These are the checks numopt's own entry points use; code built on numopt can use them to give its
users the same messages. :mod:`numopt.testing` checks such messages in tests.

Examples
--------
>>> from numopt.validation import check_positive
>>> check_positive("tol", -1.0)
Traceback (most recent call last):
...
ValueError: tol must be finite and > 0; got -1.0.
"""

from ._core.validate import (
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

__all__ = [
    "as_float_array",
    "check_choice",
    "check_finite",
    "check_in_range",
    "check_options",
    "check_positive",
    "check_rng",
    "check_square",
    "check_symmetric",
    "close_matches",
]
