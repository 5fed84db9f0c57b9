"""Online tuning of solver parameters across sequences of problems (bandit feedback).

Learners pick a value from a grid for each instance and see only its cost
(for SOR: the iteration count). See Khodak, Chow, Balcan and Talwalkar,
*Learning to relax: setting solver parameters across a sequence of linear
system instances*, ICLR 2024.

Examples
--------
>>> from numopt.problems.linear_sequences import shifted_laplacians
>>> from numopt.tuning import TsallisINF, solve_sequence
>>> res = solve_sequence(shifted_laplacians(10, seed=1), "sor", TsallisINF(np.linspace(1, 1.95, 20), seed=0))
>>> len(res.params)
10
"""

from .arms import ArmsModel, SolverArms
from .informed import ModelHedge, ModelLeader, SafeCombination
from .learners import ChebCB, Fixed, Learner, TsallisINF, TsallisINFBins
from .oracles import best_fixed, instance_optimal, replay
from .sequence import cost_table, solve_sequence

__all__ = [
    "ArmsModel",
    "ChebCB",
    "Fixed",
    "Learner",
    "ModelHedge",
    "ModelLeader",
    "SafeCombination",
    "SolverArms",
    "TsallisINF",
    "TsallisINFBins",
    "best_fixed",
    "cost_table",
    "instance_optimal",
    "replay",
    "solve_sequence",
]
