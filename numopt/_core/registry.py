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

    Examples
    --------
    >>> from numopt._core.registry import register_method, methods
    >>> register_method("my-gd", "mypackage.solvers:GradientDescent")
    >>> "my-gd" in methods("minimize")
    True
    >>> _ = METHODS.pop("my-gd")
    """
    check_choice("kind", kind, KINDS)
    if not isinstance(target, str) or ":" not in target:
        raise ValueError(f"target must be a 'module:Class' string; got {target!r}.")
    REGISTRY[kind][name.lower()] = target


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
    module, _, cls = table[key].partition(":")
    return getattr(importlib.import_module(module), cls)


for _name, _target in {
    "adasketch-newton": "numopt.constrained:AdaSketchNewton",
    "bcd": "numopt.bcd:BlockCoordinateDescent",
}.items():
    register_method(_name, _target)
