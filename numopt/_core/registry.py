"""The one method registry: every solver of every family is found here by (kind, name).

A *kind* is a family of front doors sharing a problem shape: ``'minimize'``
(:func:`numopt.minimize`), ``'linear'`` (linear systems), ``'bilevel'``,
``'decentralized'``, ``'completion'`` and ``'dag'``. Targets are
``'module:Class'`` strings imported on first use, so registering costs nothing
and importing :mod:`numopt` stays light.
"""

from __future__ import annotations

import importlib

from .validate import check_choice

__all__ = ["KINDS", "METHODS", "get_solver", "methods", "register_method"]

KINDS = ("minimize", "linear", "bilevel", "decentralized", "completion", "dag")

#: kind -> {method name -> "module:SolverClass"}.
REGISTRY: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}

#: The methods of :func:`numopt.minimize` (the ``'minimize'`` kind of the registry).
METHODS: dict[str, str] = REGISTRY["minimize"]


def register_method(name: str, target: str, *, kind: str = "minimize") -> None:
    """Register the solver class at ``'module:Class'`` under ``name`` for front doors of ``kind``.

    The target is imported and checked now, so a typo fails here rather than at the first solve.

    Examples
    --------
    >>> from numopt._core.registry import register_method, methods
    >>> register_method("my-bcd", "numopt.bcd:BlockCoordinateDescent")
    >>> "my-bcd" in methods("minimize")
    True
    >>> _ = METHODS.pop("my-bcd")
    >>> register_method("typo", "numopt.bcd:NoSuchSolver")
    Traceback (most recent call last):
    ...
    ValueError: target='numopt.bcd:NoSuchSolver' cannot be registered: module 'numopt.bcd' has no ...
    """
    check_choice("kind", kind, KINDS)
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string; got {name!r}.")
    _resolve(target)
    REGISTRY[kind][name.lower()] = target


def _resolve(target: str) -> type:
    """Import ``'module:Class'`` and return the class, with an error naming ``target`` on failure."""
    if not isinstance(target, str) or target.count(":") != 1:
        raise ValueError(f"target must be a 'module:Class' string; got {target!r}.")
    module, _, attr = target.partition(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise ValueError(f"target={target!r} cannot be registered: {exc}.") from exc
    except AttributeError:
        raise ValueError(
            f"target={target!r} cannot be registered: module {module!r} has no attribute {attr!r}."
        ) from None
    if not callable(obj):
        raise ValueError(f"target={target!r} is not callable; expected a solver class.")
    return obj


def methods(kind: str = "minimize") -> list[str]:
    """Sorted method names registered for ``kind``."""
    check_choice("kind", kind, KINDS)
    return sorted(REGISTRY[kind])


def get_solver(method: str, kind: str = "minimize") -> type:
    """The solver class registered under ``method`` (case-insensitive) for ``kind``.

    Examples
    --------
    >>> from numopt._core.registry import get_solver
    >>> get_solver("adasketch-newton").__name__
    'AdaSketchNewton'
    """
    check_choice("kind", kind, KINDS)
    if not isinstance(method, str):
        raise TypeError(f"method must be a string; got {type(method).__name__}.")
    table = REGISTRY[kind]
    key = check_choice("method", method.lower(), sorted(table))
    return _resolve(table[key])


# Built-in methods are entered directly so that importing numopt imports no family.
REGISTRY["minimize"].update({
    "adasketch-newton": "numopt.constrained:AdaSketchNewton",
    "bcd": "numopt.bcd:BlockCoordinateDescent",
})
