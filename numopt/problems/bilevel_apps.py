"""Deprecated location of the bilevel test problems: use :mod:`numopt.bilevel.apps`.

The builders (``quadratic_bilevel``, ``hyperparameter_task``, ``hyper_cleaning_task``,
``libsvm_split``, ``QuadraticBilevel``, ``BilevelTask``) moved to :mod:`numopt.bilevel.apps`
because they build :class:`~numopt.bilevel.BilevelProblem` objects, and ``numopt.problems``
depends on no solver family. Names resolved here emit a ``DeprecationWarning``; this module
goes in the next release.
"""

from __future__ import annotations

import importlib
import warnings

_MOVED = ("BilevelTask", "QuadraticBilevel", "hyper_cleaning_task", "hyperparameter_task", "libsvm_split",
          "quadratic_bilevel")

__all__ = list(_MOVED)


def __getattr__(name):
    if name in _MOVED:
        warnings.warn(f"numopt.problems.bilevel_apps.{name} moved to numopt.bilevel.apps.{name}; the old "
                      "path is deprecated and goes in the next release.", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module("numopt.bilevel.apps"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
