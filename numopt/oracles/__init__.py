"""The public problem/oracle layer: one shape for every problem numopt solves.

A problem declares what it can evaluate (:attr:`Problem.capabilities`) and
counts every evaluation (:meth:`Problem.counts`); a solver states what it
needs and gets a clear :class:`MissingCapabilityError` when something is
missing. Problems come from plain callables and scipy constraint objects
(:func:`from_scipy`), from JAX functions (:func:`from_jax`), from CUTEst
(:func:`numopt.problems.cutest.load`) and from data sets.

Examples
--------
>>> import numpy as np
>>> from numopt.oracles import from_scipy
>>> p = from_scipy(lambda x: x @ x, np.ones(2), jac=lambda x: 2 * x)
>>> p.fun(np.ones(2)), p.grad(np.ones(2)), p.counts()
(2.0, array([2., 2.]), {'nfev': 1, 'njev': 1, 'nhev': 0})
"""

from .adapters import from_jax, from_scipy, jax_x64, split_constraints
from .base import MissingCapabilityError, Problem
from .differences import (
    FD_SCHEMES,
    finite_difference_gradient,
    finite_difference_hessp,
    finite_difference_jacobian,
)
from .functions import ScalarFunction, VectorFunction, minibatch_indices
from .nlp import ConstrainedProblem, UnconstrainedProblem

__all__ = [
    "FD_SCHEMES",
    "ConstrainedProblem",
    "MissingCapabilityError",
    "Problem",
    "ScalarFunction",
    "UnconstrainedProblem",
    "VectorFunction",
    "finite_difference_gradient",
    "finite_difference_hessp",
    "finite_difference_jacobian",
    "from_jax",
    "from_scipy",
    "jax_x64",
    "minibatch_indices",
    "split_constraints",
]
