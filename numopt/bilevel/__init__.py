"""Bilevel optimization: penalty methods (deterministic, stochastic, single-loop) and baselines.

``minimize_bilevel(f, g, x0, y0, method=...)`` solves
min_{x in X} f(x, y*(x)) with y*(x) in argmin_{y in Y} g(x, y) by the penalty
methods of Kwon, Kwon, Wright and Nowak (ICLR 2024), by exact implicit
differentiation, or by F2SA. See :mod:`numopt.bilevel.penalty` for the
algorithms and their step-size rules.
"""

from .baselines import F2SA, ImplicitDifferentiation
from .minimize import BILEVEL_METHODS, minimize_bilevel
from .penalty import PenaltyMethod, PenaltySingleLoop, PenaltyStochastic
from .problem import BilevelFunction, BilevelProblem
from .sets import Ball, Box, ConvexSet, Projection, Reals, Simplex, as_set

__all__ = [
    "BILEVEL_METHODS",
    "Ball",
    "BilevelFunction",
    "BilevelProblem",
    "Box",
    "ConvexSet",
    "F2SA",
    "ImplicitDifferentiation",
    "PenaltyMethod",
    "PenaltySingleLoop",
    "PenaltyStochastic",
    "Projection",
    "Reals",
    "Simplex",
    "as_set",
    "minimize_bilevel",
]
