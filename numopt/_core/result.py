"""Result object and termination status shared by every numopt solver."""

from __future__ import annotations

from enum import Enum

import numpy as np

__all__ = ["STATUS_CODES", "LinearSolveResult", "OptimizeResult", "Status"]


class Status(Enum):
    """Why a solver stopped. Each member's value is the human-readable message.

    ``Status.code`` gives the integer stored in ``OptimizeResult.status``
    (0 is success, as in scipy) and ``Status.success`` says whether the
    solver met its tolerance. Codes are fixed in :data:`STATUS_CODES`: a new
    member gets a new number and never renumbers the existing ones.

    Examples
    --------
    >>> from numopt import Status
    >>> Status.MAXITER.code, Status.MAXITER.success
    (1, False)
    >>> Status.SUCCESS.value
    'Optimization terminated successfully.'
    >>> Status.from_code(7) is Status.SINGULAR
    True
    """

    SUCCESS = "Optimization terminated successfully."
    MAXITER = "Maximum number of iterations reached."
    MAXTIME = "Time limit reached."
    CALLBACK = "Stopped by the callback (StopIteration)."
    NONFINITE = "Non-finite value (NaN or inf) in the iterate or the objective."
    LINESEARCH = "Line search could not find an acceptable step."
    DIVERGED = "The objective increased: the method diverged."
    SINGULAR = "Singular linear system (for example a rank-deficient constraint Jacobian)."
    INFEASIBLE = "Converged to a stationary point of the constraint violation: locally infeasible."
    STAGNATION = "No further progress possible at this precision."
    MAXFEV = "Maximum number of function evaluations reached."
    INNER_MAXITER = "Inner solver hit its iteration limit before its accuracy test."
    NO_IMPROVEMENT = (
        "Local optimum: no candidate move improves the objective (optimal within the move neighbourhood "
        "searched; not a certificate of global optimality)."
    )
    BREAKDOWN = "Breakdown of the iteration: a search direction with p^T A p <= 0 (A not positive definite)."

    @property
    def code(self) -> int:
        """Stable integer code (``SUCCESS`` is 0); see :data:`STATUS_CODES`."""
        return STATUS_CODES[self.name]

    @property
    def success(self) -> bool:
        """True for statuses that mean the solver reached its goal."""
        return self in (Status.SUCCESS, Status.NO_IMPROVEMENT)

    @classmethod
    def from_code(cls, code: int) -> Status:
        """Member whose :attr:`code` is ``code``."""
        for name, value in STATUS_CODES.items():
            if value == int(code):
                return cls[name]
        valid = sorted(STATUS_CODES.values())
        raise ValueError(f"code={code!r} is not a numopt status code; valid codes: {valid}.")


#: The public integer of every :class:`Status` member. Append new members; never renumber.
STATUS_CODES: dict[str, int] = {
    "SUCCESS": 0,
    "MAXITER": 1,
    "MAXTIME": 2,
    "CALLBACK": 3,
    "NONFINITE": 4,
    "LINESEARCH": 5,
    "DIVERGED": 6,
    "SINGULAR": 7,
    "INFEASIBLE": 8,
    "STAGNATION": 9,
    "MAXFEV": 10,
    "INNER_MAXITER": 11,
    "NO_IMPROVEMENT": 12,
    "BREAKDOWN": 13,
}


class OptimizeResult(dict):
    """Solution of an optimization problem, compatible with ``scipy.optimize.OptimizeResult``.

    A dict whose keys are also attributes. Common keys: ``x``, ``fun``, ``jac``,
    ``success``, ``status`` (int), ``message``, ``nit``, ``nfev``, ``njev``, ``nhev``;
    solvers add their own (``kkt``, ``multipliers``, ``history``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import OptimizeResult
    >>> r = OptimizeResult(x=np.array([1.0, 2.0]), fun=0.5, success=True)
    >>> r.fun, r["success"]
    (0.5, True)
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __dir__(self):
        return list(self.keys())

    def __repr__(self) -> str:
        if not self:
            return f"{type(self).__name__}()"
        width = max(map(len, self.keys())) + 1
        lines = []
        for key, value in self.items():
            if key == "history":
                text = _describe_history(value)
            else:
                text = _short(value)
            text = text.replace("\n", "\n" + " " * (width + 2))
            lines.append(f"{key.rjust(width)}: {text}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .display import html_table

        rows = {key: _describe_history(value) if key == "history" else _short(value)
                for key, value in self.items()}
        return html_table(type(self).__name__, rows)


def _short(value) -> str:
    if isinstance(value, np.ndarray) and value.size > 12:
        with np.printoptions(threshold=8, edgeitems=3, precision=6):
            return f"{value!r} (shape {value.shape})"
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6):
            return repr(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _describe_history(history) -> str:
    if isinstance(history, dict):
        keys = ", ".join(history)
        n = len(next(iter(history.values()))) if history else 0
        return f"<{n} records: {keys}>"
    return _short(history)


class LinearSolveResult(OptimizeResult):
    """Result of a linear solve; unpacks as ``(x, info)`` like scipy.sparse.linalg.

    ``info`` is 0 on convergence, the iteration count when the iteration limit
    was reached, and negative for a breakdown.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt._core.result import LinearSolveResult
    >>> res = LinearSolveResult(x=np.zeros(2), info=0, nit=3)
    >>> x, info = res
    >>> info
    0
    """

    def __iter__(self):
        return iter((self["x"], self["info"]))
