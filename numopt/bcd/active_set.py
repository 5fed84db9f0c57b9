"""Newton steps on the active manifold of an L1-regularized problem.

Proximal block coordinate descent identifies the support and signs of an L1
solution after finitely many iterations (Nutini, Laradji and Schmidt, JMLR
2022, active-set complexity). On that manifold the objective is smooth,
``f(x) + sum_{i in S} l1_i sign(x_i) x_i``, so a Newton step restricted to the
support ``S`` converges superlinearly, and for least squares it lands on the
solution in one step (finite termination).

The step is taken in the orthant of the current signs: variables that would
change sign stop at zero, and Armijo backtracking keeps the objective
decreasing. A wrong manifold is not a risk for correctness: the following
proximal block steps move variables back in or out of the support.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla

__all__ = ["manifold_newton"]

ARMIJO = 1e-4


def manifold_newton(problem, st, *, max_size: int, grad=None):
    """One Newton step on the support of ``st.x``; returns the variables whose gradient changed.

    ``grad``: the exact gradient of the smooth part at ``st.x`` when known (saves a pass over the data).

    Does nothing (returns an empty array) when the support is empty or larger
    than ``max_size``.
    """
    S = np.flatnonzero(st.x)
    if S.size == 0 or S.size > max_size:
        return np.zeros(0, np.int64)
    sign = np.sign(st.x[S])
    lam = problem.l1[S]
    g = (problem.full_grad(st) if grad is None else grad)[S] + lam * sign
    H = problem.hess_block(st, S)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sla.LinAlgWarning)
        try:
            d = -sla.solve(H, g, assume_a="pos")
        except (np.linalg.LinAlgError, ValueError, sla.LinAlgWarning):
            d = -np.linalg.lstsq(H, g, rcond=1e-12)[0]
    x_S = st.x[S].copy()
    f0 = st.f
    decrease = float(g @ d)
    if not decrease < 0:
        return np.zeros(0, np.int64)
    touched = []
    alpha = 1.0
    for _ in range(30):
        target = x_S + alpha * d
        target[np.sign(target) != sign] = 0.0
        touched.append(problem.apply(st, S, target - st.x[S]))
        if st.f <= f0 + ARMIJO * float(g @ (target - x_S)):
            break
        alpha *= 0.5
    else:
        touched.append(problem.apply(st, S, x_S - st.x[S]))
    if alpha != 1.0:
        # rejected trials (a near-singular H gives huge ones) leave rounding in the incrementally
        # updated margins and objective: recompute the state exactly at the accepted point
        problem.refresh(st)
        touched.append(np.arange(st.x.size, dtype=np.int64))
        if st.f > f0:  # the exact objective rose after all: keep the starting point
            st.x[S] = x_S
            problem.refresh(st)
    return np.concatenate(touched)
