"""numopt: research-grade numerical solvers with scipy-style calls.

See ``numopt.show_config()`` for what this machine can use.
"""

from ._core.backend import show_config, to_device, to_host
from ._core.driver import IterativeSolver, run
from ._core.minimize import METHODS, minimize, register_method
from ._core.result import LinearSolveResult, OptimizeResult, Status
from .oracles import MissingCapabilityError

__version__ = "0.1.0"

__all__ = [
    "IterativeSolver",
    "LinearSolveResult",
    "METHODS",
    "MissingCapabilityError",
    "OptimizeResult",
    "Status",
    "minimize",
    "register_method",
    "run",
    "show_config",
    "to_device",
    "to_host",
]
