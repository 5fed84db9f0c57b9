"""The one method registry: every solver of every family is found here by (kind, name).

A *kind* is a family of front doors sharing a problem shape: ``'minimize'``
(:func:`numopt.minimize`), ``'linear'`` (linear systems), ``'bilevel'``,
``'decentralized'``, ``'completion'`` and ``'dag'``. Targets are
``'module:Class'`` strings imported on first use, so importing :mod:`numopt`
imports no family. A method may fix some options of its class (``'adom+mc'``
is ``ADOMPlus`` with ``multi_consensus=True``); :func:`get_method` returns both.

Examples
--------
>>> from numopt._core.registry import methods
>>> methods("bilevel")
['f2sa', 'implicit', 'penalty', 'penalty-single-loop', 'penalty-stochastic']
"""

from __future__ import annotations

import importlib

from .validate import check_choice

__all__ = ["KINDS", "METHODS", "get_method", "get_solver", "methods", "register_method"]

KINDS = ("minimize", "linear", "bilevel", "decentralized", "completion", "dag")

#: kind -> {method name -> "module:SolverClass"}.
REGISTRY: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}

#: (kind, method name) -> options the method fixes on its class.
FIXED_OPTIONS: dict[tuple[str, str], dict] = {}

#: The methods of :func:`numopt.minimize` (the ``'minimize'`` kind of the registry).
METHODS: dict[str, str] = REGISTRY["minimize"]


def register_method(name: str, target: str, *, kind: str = "minimize", options: dict | None = None) -> None:
    """Register the solver class at ``'module:Class'`` under ``name`` for front doors of ``kind``.

    The target is imported and checked now, so a typo fails here rather than at the first solve.
    ``options`` are fixed for this method name (the user's options cannot override them).

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
    ValueError: target='numopt.bcd:NoSuchSolver' cannot be registered: 'numopt.bcd:NoSuchSolver' cannot ...
    """
    check_choice("kind", kind, KINDS)
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string; got {name!r}.")
    try:
        _resolve(target)
    except ImportError as exc:
        raise ValueError(f"target={target!r} cannot be registered: {exc}") from None
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict or None; got {type(options).__name__}.")
    REGISTRY[kind][name.lower()] = target
    FIXED_OPTIONS[(kind, name.lower())] = dict(options or {})


def _resolve(target: str) -> type:
    """Import ``'module:Class'`` and return the class; ImportError naming the target when that fails."""
    if not isinstance(target, str) or target.count(":") != 1:
        raise ValueError(f"target must be a 'module:Class' string; got {target!r}.")
    module, _, attr = target.partition(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise ImportError(f"{target!r} cannot be imported ({exc}).") from exc
    except AttributeError:
        raise ImportError(f"{target!r} cannot be imported: module {module!r} has no attribute {attr!r}.") from None
    if not callable(obj):
        raise ValueError(f"target={target!r} is not callable; expected a solver class.")
    return obj


def methods(kind: str = "minimize") -> list[str]:
    """Sorted method names registered for ``kind``."""
    check_choice("kind", kind, KINDS)
    return sorted(REGISTRY[kind])


def get_method(method: str, kind: str = "minimize") -> tuple[type, dict]:
    """The solver class registered under ``method`` (case-insensitive) for ``kind``, and its fixed options.

    Examples
    --------
    >>> from numopt._core.registry import get_method
    >>> cls, fixed = get_method("adom+mc", kind="decentralized")
    >>> cls.__name__, fixed
    ('ADOMPlus', {'multi_consensus': True})
    """
    check_choice("kind", kind, KINDS)
    if not isinstance(method, str):
        raise TypeError(f"method must be a string; got {type(method).__name__}.")
    table = REGISTRY[kind]
    key = check_choice("method", method.lower(), sorted(table))
    return _resolve(table[key]), dict(FIXED_OPTIONS.get((kind, key), {}))


def get_solver(method: str, kind: str = "minimize") -> type:
    """The solver class registered under ``method`` (case-insensitive) for ``kind``.

    Examples
    --------
    >>> from numopt._core.registry import get_solver
    >>> get_solver("adasketch-newton").__name__
    'AdaSketchNewton'
    """
    return get_method(method, kind)[0]


# Built-in methods are entered directly (not imported) so that importing numopt imports no family.
_BUILTIN = {
    "minimize": {
        "adasketch-newton": "numopt.constrained:AdaSketchNewton",
        "bcd": "numopt.bcd:BlockCoordinateDescent",
    },
    "linear": {
        "cg": "numopt.linalg.krylov:ConjugateGradient",
        "sor": "numopt.linalg.sor:SOR",
    },
    "bilevel": {
        "penalty": "numopt.bilevel.penalty:PenaltyMethod",
        "penalty-stochastic": "numopt.bilevel.penalty:PenaltyStochastic",
        "penalty-single-loop": "numopt.bilevel.penalty:PenaltySingleLoop",
        "implicit": "numopt.bilevel.baselines:ImplicitDifferentiation",
        "f2sa": "numopt.bilevel.baselines:F2SA",
    },
    "decentralized": {
        "dadao": "numopt.decentralized.dadao:DADAO",
        "adom+": "numopt.decentralized.baselines:ADOMPlus",
        "adom+mc": "numopt.decentralized.baselines:ADOMPlus",
        "msda": "numopt.decentralized.baselines:MSDA",
        "continuized": "numopt.decentralized.baselines:Continuized",
        "gradient-tracking": "numopt.decentralized.baselines:GradientTracking",
    },
    "completion": {
        "robust": "numopt.completion.altmin:AltMin",
        "exact": "numopt.completion.altmin:AltMin",
    },
    "dag": {
        "topo": "numopt.causal.topo:TOPO",
        "notears": "numopt.causal.notears:NotearsLinear",
    },
}
for _kind, _table in _BUILTIN.items():
    REGISTRY[_kind].update(_table)
FIXED_OPTIONS.update({
    ("decentralized", "adom+"): {"multi_consensus": False},
    ("decentralized", "adom+mc"): {"multi_consensus": True},
    ("completion", "robust"): {"method": "robust"},
    ("completion", "exact"): {"method": "exact"},
})
