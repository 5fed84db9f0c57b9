"""Greedy and message-passing block coordinate descent (Nutini, Laradji and Schmidt, JMLR 2022).

Use ``numopt.minimize(problem, method='bcd', options={...})`` on the
block-structured problems of :mod:`numopt.bcd.problems` (or the LIBSVM
problems of :mod:`numopt.problems.libsvm`), or the scikit-learn estimators
:class:`Lasso` and :class:`L1LogisticRegression`. The paper's data sets A-E
are in :mod:`numopt.bcd.datasets`; :func:`l1_duality_gap` judges any L1
solution.
"""

from .estimators import L1LogisticRegression, Lasso
from .gap import l1_duality_gap
from .partitions import comb, fixed_partition, red_black
from .problems import (
    BlockProblem,
    GLMProblem,
    QuadraticProblem,
    as_block_problem,
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
    "as_block_problem",
    "comb",
    "fixed_partition",
    "l1_duality_gap",
    "label_propagation",
    "least_squares",
    "logistic",
    "red_black",
    "softmax",
]
