"""Equality-constrained optimization: sketched inexact Newton with an exact augmented Lagrangian.

``numopt.minimize(..., method='adasketch-newton')`` runs :class:`AdaSketchNewton`.
"""

from .adasketch import AdaSketchNewton
from .kkt import assemble_kkt, null_space_min_eig

__all__ = ["AdaSketchNewton", "assemble_kkt", "null_space_min_eig"]
