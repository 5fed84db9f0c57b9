"""Input checks that raise clear errors naming the argument and what was expected."""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Mapping

import numpy as np
import scipy.sparse as sp

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


def close_matches(name: str, valid: Iterable[str], n: int = 3) -> list[str]:
    """Names in ``valid`` that look like ``name`` (for 'did you mean' hints)."""
    valid = [v for v in valid if isinstance(v, str)]
    lower = {v.lower(): v for v in valid}
    hits = difflib.get_close_matches(str(name).lower(), list(lower), n=n, cutoff=0.5)
    return [lower[h] for h in hits]


def _hint(name, valid) -> str:
    hits = close_matches(name, valid)
    return f" Did you mean {', '.join(map(repr, hits))}?" if hits else ""


def check_choice(name: str, value, valid: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``valid``, else raise a ValueError listing them.

    Examples
    --------
    >>> check_choice("rule", "gsl", ["gs", "gsl"])
    'gsl'
    """
    valid = list(valid)
    if value not in valid:
        raise ValueError(
            f"{name}={value!r} is not valid; expected one of {', '.join(map(repr, valid))}."
            + _hint(value, valid)
        )
    return value


def check_options(options: Mapping | None, defaults: Mapping, owner: str) -> dict:
    """Merge ``options`` into ``defaults``; unknown keys raise an error listing the valid ones.

    Examples
    --------
    >>> check_options({"tol": 1e-3}, {"tol": 1e-8, "maxiter": 10}, "demo")
    {'tol': 0.001, 'maxiter': 10}
    """
    merged = dict(defaults)
    for key, value in dict(options or {}).items():
        if key not in defaults:
            raise ValueError(
                f"Unknown option {key!r} for {owner}. Valid options: {', '.join(sorted(defaults))}."
                + _hint(key, defaults)
            )
        merged[key] = value
    return merged


def as_float_array(x, name: str, *, ndim: int | None = None, shape: tuple | None = None,
                   finite: bool = True, copy: bool = False, xp=np) -> np.ndarray:
    """Convert ``x`` to a floating array and check its dimension, shape and finiteness.

    Integer input becomes float64; float32/float64 are kept. Complex input is rejected.

    Examples
    --------
    >>> as_float_array([1, 2], "x0")
    array([1., 2.])
    >>> as_float_array([1.0, float("nan")], "x0")
    Traceback (most recent call last):
    ...
    ValueError: x0 contains NaN or inf (1 of 2 entries); expected finite values.
    """
    try:
        arr = xp.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers; got {type(x).__name__}.") from exc
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real; got complex dtype {arr.dtype}.")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}.")
    if arr.dtype.kind != "f":
        arr = arr.astype(xp.float64)
    elif copy:
        arr = arr.copy()
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got shape {tuple(arr.shape)}.")
    if shape is not None:
        expected = tuple(shape)
        ok = len(expected) == arr.ndim and all(e is None or e == s for e, s in zip(expected, arr.shape))
        if not ok:
            shown = tuple("*" if e is None else e for e in expected)
            raise ValueError(f"{name} must have shape {shown}; got {tuple(arr.shape)}.")
    if finite:
        check_finite(arr, name)
    return arr


def check_finite(x, name: str) -> None:
    """Raise a ValueError if the array (dense or sparse) ``x`` holds NaN or inf."""
    data = x.data if sp.issparse(x) else x
    mod = np if isinstance(data, np.ndarray) else _namespace_of(data)
    bad = ~mod.isfinite(data)
    nbad = int(bad.sum())
    if nbad:
        raise ValueError(
            f"{name} contains NaN or inf ({nbad} of {data.size} entries); expected finite values."
        )


def _namespace_of(arr):
    from .backend import array_namespace

    return array_namespace(arr)


def check_square(A, name: str = "A") -> None:
    """Raise if ``A`` (dense, sparse or LinearOperator) is not a square 2-D operator."""
    shape = getattr(A, "shape", None)
    if shape is None or len(shape) != 2:
        raise ValueError(f"{name} must be a 2-D matrix or operator; got shape {shape}.")
    if shape[0] != shape[1]:
        raise ValueError(f"{name} must be square; got shape {tuple(shape)}.")


def check_symmetric(A, name: str = "A", rtol: float = 1e-10) -> None:
    """Raise if the dense or sparse matrix ``A`` is not symmetric (to relative ``rtol``)."""
    check_square(A, name)
    if sp.issparse(A):
        diff = abs(A - A.T)
        err = diff.max() if diff.nnz else 0.0
        scale = abs(A).max() if A.nnz else 1.0
    else:
        arr = np.asarray(A)
        err = np.max(np.abs(arr - arr.T)) if arr.size else 0.0
        scale = np.max(np.abs(arr)) if arr.size else 1.0
    if err > rtol * max(scale, np.finfo(float).tiny):
        raise ValueError(
            f"{name} must be symmetric; max |{name} - {name}^T| = {err:.3g} "
            f"(relative {err / max(scale, 1e-300):.3g})."
        )


def check_positive(name: str, value, *, strict: bool = True, integer: bool = False):
    """Return ``value`` if it is a (strictly) positive real number, else raise."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {what}; got {value!r}.")
    if not _is_finite(value) or (value <= 0 if strict else value < 0):
        sign = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be finite and {sign}; got {value!r}.")
    return value


def _is_finite(value: numbers.Real) -> bool:
    """Finiteness of a real scalar, including Python ints too large for a float64."""
    return isinstance(value, numbers.Integral) or math.isfinite(value)


def check_in_range(name: str, value, low, high, *, closed: str = "neither"):
    """Return ``value`` if it lies in the interval (``closed``: 'neither', 'left', 'right', 'both')."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not _is_finite(value):
        raise ValueError(f"{name} must be a finite real number; got {value!r}.")
    lo_ok = value >= low if closed in ("left", "both") else value > low
    hi_ok = value <= high if closed in ("right", "both") else value < high
    if not (lo_ok and hi_ok):
        left = "[" if closed in ("left", "both") else "("
        right = "]" if closed in ("right", "both") else ")"
        raise ValueError(f"{name} must lie in {left}{low}, {high}{right}; got {value!r}.")
    return value


def check_rng(seed, name: str = "seed") -> np.random.Generator:
    """Turn ``seed`` (None, int, SeedSequence or Generator) into a ``numpy.random.Generator``.

    Examples
    --------
    >>> int(check_rng(0).integers(10)) == int(check_rng(0).integers(10))
    True
    >>> check_rng("abc")
    Traceback (most recent call last):
    ...
    TypeError: seed must be None, a non-negative int, a SeedSequence or a numpy.random.Generator; got 'abc' (str).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    expected = "None, a non-negative int, a SeedSequence or a numpy.random.Generator"
    if isinstance(seed, np.random.RandomState):
        raise TypeError(f"{name} must be {expected}; got a legacy RandomState.")
    ok = seed is None or isinstance(seed, np.random.SeedSequence) or (
        isinstance(seed, numbers.Integral) and not isinstance(seed, bool))
    if not ok:
        raise TypeError(f"{name} must be {expected}; got {seed!r} ({type(seed).__name__}).")
    if isinstance(seed, numbers.Integral) and seed < 0:
        raise ValueError(f"{name} must be a non-negative int; got {seed!r}.")
    return np.random.default_rng(seed)
