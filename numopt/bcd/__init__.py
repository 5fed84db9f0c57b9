"""Greedy and message-passing block coordinate descent (Nutini, Laradji and Schmidt, JMLR 2022).

Use ``numopt.minimize(problem, method='bcd', options={...})`` on the
block-structured problems of :mod:`numopt.bcd.problems`, or the
scikit-learn style estimators :class:`Lasso` and :class:`L1LogisticRegression`.
"""

from .estimators import L1LogisticRegression, Lasso
from .partitions import comb, fixed_partition, red_black
from .problems import (
    BlockProblem,
    GLMProblem,
    QuadraticProblem,
    label_propagation,
    least_squares,
    logistic,
    softmax,
)
from .rules import RULES
from .solver import PARTITIONS, BlockCoordinateDescent
from .updates import UPDATES

__all__ = [
    "PARTITIONS",
    "RULES",
    "UPDATES",
    "BlockCoordinateDescent",
    "BlockProblem",
    "L1LogisticRegression",
    "Lasso",
    "GLMProblem",
    "QuadraticProblem",
    "comb",
    "fixed_partition",
    "label_propagation",
    "least_squares",
    "logistic",
    "red_black",
    "softmax",
]
