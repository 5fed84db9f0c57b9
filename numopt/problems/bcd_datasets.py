"""Deprecated location of the block coordinate descent test problems: use :mod:`numopt.bcd.datasets`.

The data sets A-E build block-structured problems of the ``bcd`` family, and
``numopt.problems`` depends only on the oracle, loss and linear-algebra
layers, so they moved to :mod:`numopt.bcd.datasets`. Importing a name from
here still works for one release and warns.
"""

from __future__ import annotations

import importlib
import warnings

_NAMES = ("DATASETS", "dataset", "dataset_a", "dataset_b", "dataset_c", "dataset_d", "dataset_e", "sparse_design")

__all__ = list(_NAMES)


def __getattr__(name):
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"numopt.problems.bcd_datasets.{name} is deprecated and will be removed in the next release; "
                  f"use numopt.bcd.datasets.{name}.", DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module("numopt.bcd.datasets"), name)
