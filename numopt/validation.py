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

from ._core import validate as _validate
from ._core.validate import *  # noqa: F403 - this module is the public face of numopt._core.validate

__all__ = list(_validate.__all__)
