"""The base of every problem: declared capabilities and evaluation counting.

A *problem* says what it can evaluate through :attr:`Problem.capabilities`;
a solver states what it needs and :meth:`Problem.require` raises a clear
error naming what is missing, before any iteration runs. Every evaluation a
problem performs is counted: a problem type lists its counters in
``count_names`` and bumps them with :meth:`Problem._count`; :meth:`counts`
reports them and the driver copies them into the result.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MissingCapabilityError", "Problem"]


class MissingCapabilityError(TypeError):
    """A solver needs an evaluation the problem cannot provide."""


class Problem:
    """Base of every problem type.

    Subclasses define ``n`` (number of variables), ``x0`` (default start or
    ``None``), ``capabilities`` (the names of the evaluations they offer) and
    ``count_names`` (the evaluation counters they keep, e.g. ``('nfev',
    'njev')``).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.oracles import Problem
    >>> class Sphere(Problem):
    ...     count_names = ("nfev",)
    ...     capabilities = frozenset({"fun"})
    ...     n = 2
    ...     def fun(self, x):
    ...         self._count("nfev")
    ...         return float(x @ x)
    >>> p = Sphere()
    >>> p.fun(np.ones(2)), p.counts()
    (2.0, {'nfev': 1})
    >>> p.require("grad", solver="gradient descent")
    Traceback (most recent call last):
    ...
    numopt.oracles.base.MissingCapabilityError: gradient descent needs grad from the problem, ...
    """

    n: int
    x0: np.ndarray | None = None
    name: str = "problem"
    #: Names of the evaluation counters this problem type keeps.
    count_names: tuple[str, ...] = ()

    @property
    def capabilities(self) -> frozenset[str]:
        """Names of the evaluations this problem offers."""
        return frozenset()

    def require(self, *needed: str, solver: str = "this solver") -> None:
        """Raise :class:`MissingCapabilityError` if any of ``needed`` is unavailable.

        An entry ``'a|b'`` is satisfied by either ``a`` or ``b``.
        """
        missing = [need for need in needed if not set(need.split("|")) & self.capabilities]
        if missing:
            have = ", ".join(sorted(self.capabilities)) or "nothing"
            wanted = ", ".join(m.replace("|", " or ") for m in missing)
            raise MissingCapabilityError(
                f"{solver} needs {wanted} from the problem, but {type(self).__name__} "
                f"'{self.name}' provides only: {have}."
            )

    def _count(self, name: str, k: int = 1) -> None:
        """Add ``k`` evaluations to the counter ``name``."""
        setattr(self, name, getattr(self, name, 0) + k)

    def counts(self) -> dict[str, int]:
        """Evaluation counts so far."""
        return {name: int(getattr(self, name, 0)) for name in self.count_names}

    def reset_counts(self) -> None:
        """Set every evaluation counter back to zero."""
        for name in self.count_names:
            setattr(self, name, 0)

    def _summary(self) -> dict:
        summary = {"n": getattr(self, "n", "?"), "capabilities": "[" + ", ".join(sorted(self.capabilities)) + "]"}
        summary.update(self.counts())
        return summary

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self._summary().items())
        return f"<{type(self).__name__} {self.name!r}: {fields}>"

    def _repr_html_(self) -> str:
        from .._core.display import html_table

        return html_table(f"{type(self).__name__} '{self.name}'", self._summary())
