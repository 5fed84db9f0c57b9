"""Helpers for testing code built on numopt: check that bad input fails with a message that says why.

Every public entry point of numopt promises that bad input raises a ``ValueError`` or ``TypeError``
whose message names the offending argument and what was seen. :func:`assert_names_argument` checks
that promise in one call, so the same check reads the same in every family's tests.
"""

from __future__ import annotations

import re

__all__ = ["assert_names_argument"]


def assert_names_argument(func, *args, names, seen=(), errors=(ValueError, TypeError), **kwargs):
    """Call ``func(*args, **kwargs)`` and check it raises a clear error.

    The call must raise one of ``errors`` (not any other exception type) and the message must
    contain every string in ``names`` (the argument names) and in ``seen`` (what was seen, e.g. a
    shape or a value), compared case-insensitively.

    Parameters
    ----------
    func : callable
        The entry point under test.
    *args, **kwargs
        Passed to ``func``.
    names : str or sequence of str
        Argument names the message must mention.
    seen : str or sequence of str, optional
        Further fragments the message must contain (shapes, values, file names).
    errors : exception type or tuple of them, optional
        Accepted exception types; default ``(ValueError, TypeError)``.

    Returns
    -------
    BaseException
        The raised exception, for further checks.

    Raises
    ------
    AssertionError
        If ``func`` returns normally, raises another exception type, or the message lacks a fragment.

    Examples
    --------
    >>> from numopt.testing import assert_names_argument
    >>> def scale(x, factor):
    ...     if factor <= 0:
    ...         raise ValueError(f"factor must be > 0; got {factor}.")
    ...     return x * factor
    >>> err = assert_names_argument(scale, 1.0, factor=-2, names="factor", seen="-2")
    >>> type(err).__name__
    'ValueError'
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    seen = (seen,) if isinstance(seen, str) else tuple(seen)
    try:
        func(*args, **kwargs)
    except errors as exc:
        message = str(exc)
        missing = [frag for frag in names + seen if not re.search(re.escape(frag), message, re.IGNORECASE)]
        if missing:
            raise AssertionError(
                f"{type(exc).__name__} from {_name(func)} does not mention {missing}: {message!r}"
            ) from exc
        return exc
    except Exception as exc:  # noqa: BLE001 - any other type is the failure being reported
        expected = "/".join(e.__name__ for e in (errors if isinstance(errors, tuple) else (errors,)))
        raise AssertionError(
            f"{_name(func)} raised {type(exc).__name__} ({exc}) instead of {expected} naming {list(names)}"
        ) from exc
    raise AssertionError(f"{_name(func)} accepted the input; expected an error naming {list(names)}")


def _name(func) -> str:
    return getattr(func, "__qualname__", None) or repr(func)
