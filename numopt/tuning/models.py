"""Predict a solver's cost at every parameter value from one run: convergence models of SOR and SSOR-PCG.

A solve reveals more than its iteration count. Its residual history gives the
asymptotic convergence factor, and classical theory turns that factor into
the spectral quantity that sets the cost at *every* other parameter value:

- **SOR (Young's theory).** For a consistently ordered matrix whose Jacobi
  iteration ``I - D^{-1} A`` has spectral radius ``beta < 1``, the SOR
  iteration with ``omega`` in (0, 2) converges with factor

      rho(omega) = ((omega beta + sqrt(omega^2 beta^2 - 4 (omega - 1))) / 2)^2
                   for omega <= omega*(beta), and omega - 1 above it,

  ``omega*(beta) = 2 / (1 + sqrt(1 - beta^2))``. Inverting the first branch,
  a measured factor ``rho`` at ``omega`` gives
  ``beta = (rho + omega - 1) / (omega sqrt(rho))`` (:func:`young_jacobi_radius`).
  When ``rho`` is at the floor ``omega - 1`` the run was over-relaxed and only
  the bound ``beta <= 2 sqrt(omega - 1) / omega`` is known (a *censored*
  observation): costs at larger ``omega`` are still exact, costs at smaller
  ones are upper bounds.
- **SSOR-PCG (the Chebyshev bound).** With ``mu = lambda_min(D^{-1} A)`` and
  ``delta`` such that ``x^T (L D^{-1} U - D / 4) x <= delta x^T A x``, the SSOR
  preconditioner ``M_omega`` satisfies ``1 <= x^T M x / x^T A x <= kappa(omega)``,

      kappa(omega) = ((1 - omega / 2)^2 / mu + omega (1 + omega delta)) / (omega (2 - omega)),

  (Axelsson's bound) and CG needs about ``sqrt(kappa) / 2 ln(2 / rtol)``
  iterations. The extreme Ritz value of the preconditioned operator, read
  from the CG coefficients of the run, gives ``kappa`` at the ``omega`` used
  and hence ``mu`` (:func:`ssor_mu`).

Either model predicts counts as ratios to the measured count
(``nit(omega') = nit(omega) log rho(omega) / log rho(omega')`` for SOR,
``nit(omega) sqrt(kappa(omega') / kappa(omega))`` for SSOR-PCG), so the
prediction at the value that was run is exact and the start-up transient is
scaled with the rest. Off the theory's assumptions (matrices that are not
consistently ordered, nonsymmetric or strongly anisotropic ones) the
predictions are approximations; the ``sor-model`` benchmark suite measures
how far they carry.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import check_in_range

__all__ = [
    "convergence_factor",
    "predict_sor_counts",
    "predict_ssor_pcg_counts",
    "ritz_condition_number",
    "ritz_extremes",
    "ssor_kappa",
    "ssor_mu",
    "young_factor",
    "young_jacobi_radius",
]

#: factors within this relative distance of ``omega - 1`` count as over-relaxed (censored)
CENSOR_MARGIN = 0.02


def convergence_factor(residuals, tail: float = 0.5) -> float:
    """Asymptotic convergence factor: the geometric mean reduction per iteration over the last ``tail`` part.

    Examples
    --------
    >>> round(convergence_factor(10.0 * 0.8 ** np.arange(30)), 12)
    0.8
    """
    r = np.asarray(residuals, dtype=float)
    r = r[np.isfinite(r) & (r > 0)]
    n = len(r) - 1
    if n < 1:
        return float("nan")
    start = min(int(n * (1 - tail)), n - 1)
    return float((r[-1] / r[start]) ** (1.0 / (n - start)))


def young_factor(omega, beta) -> np.ndarray:
    """SOR convergence factor at each ``omega`` for Jacobi spectral radius ``beta`` (Young's theory).

    Examples
    --------
    >>> beta = np.cos(np.pi / 11)  # 10 x 10 Laplacian
    >>> w_opt = 2 / (1 + np.sqrt(1 - beta**2))
    >>> bool(np.isclose(young_factor(w_opt, beta), w_opt - 1)), bool(np.isclose(young_factor(1.0, beta), beta**2))
    (True, True)
    """
    omega = np.asarray(omega, dtype=float)
    beta = np.asarray(beta, dtype=float)  # a number, or an array broadcast against omega
    disc = np.maximum(omega**2 * beta**2 - 4.0 * (omega - 1.0), 0.0)
    below = ((omega * beta + np.sqrt(disc)) / 2.0) ** 2
    return np.maximum(below, np.abs(omega - 1.0))


def young_jacobi_radius(omega: float, factor: float) -> tuple[float, bool]:
    """Jacobi spectral radius ``beta`` implied by a measured SOR factor at ``omega``; and whether it is censored.

    Censored (over-relaxed run, factor at the floor ``omega - 1``): the value
    returned is the upper bound ``2 sqrt(omega - 1) / omega``.

    Examples
    --------
    >>> beta = 0.95
    >>> beta_hat, censored = young_jacobi_radius(1.2, float(young_factor(1.2, beta)))
    >>> round(beta_hat, 12), censored
    (0.95, False)
    >>> young_jacobi_radius(1.9, 0.9)[1]
    True
    """
    omega = float(check_in_range("omega", omega, 0.0, 2.0))
    rho = float(min(max(factor, 1e-300), 1.0 - 1e-12))
    floor = abs(omega - 1.0)
    if omega > 1.0 and rho <= floor * (1.0 + CENSOR_MARGIN):
        return float(min(2.0 * np.sqrt(omega - 1.0) / omega, 1.0 - 1e-12)), True
    beta = (rho + omega - 1.0) / (omega * np.sqrt(rho))
    return float(min(max(beta, 0.0), 1.0 - 1e-12)), False


def _log_envelope(omega, beta, k):
    """``log`` of the error envelope after ``k`` SOR sweeps of the slowest mode pair (Young's 2 x 2 blocks).

    The pair of iteration eigenvalues ``lambda_1, lambda_2`` of the Jacobi
    eigenvalue ``beta`` gives errors like ``(lambda_1^(k+1) - lambda_2^(k+1)) /
    (lambda_1 - lambda_2)``: ``|lambda_1|^k`` times a factor that grows like
    ``k + 1`` when the two coincide (at ``omega*``, a Jordan block) and stays
    near ``|lambda_1| / |lambda_1 - lambda_2|`` otherwise.
    """
    omega = np.asarray(omega, dtype=float)[:, None]
    disc = omega**2 * beta**2 - 4.0 * (omega - 1.0) + 0j
    root = np.sqrt(disc)
    lam1 = ((omega * beta + root) / 2.0) ** 2
    lam2 = ((omega * beta - root) / 2.0) ** 2
    r = np.maximum(np.abs(lam1), 1e-300)
    gap = np.abs(lam1 - lam2)
    growth = np.minimum(k + 1.0, 1.0 + r / np.maximum(gap, 1e-300))
    return k * np.log(np.minimum(r, 1.0 - 1e-12)) + np.log(growth)


def predict_sor_counts(grid, omega: float, nit: float, factor: float, *, transient: bool = True) -> np.ndarray:
    """Predicted SOR sweep counts at every ``grid`` value from one run (``omega``, ``nit``, measured ``factor``).

    With ``transient`` (default) the counts follow the error envelope of the
    slowest pair of modes, which includes the polynomial growth near
    ``omega*`` where the two eigenvalues merge; otherwise they are the ratio
    of the logarithms of the factors.

    Examples
    --------
    >>> from numopt.linalg import sor
    >>> from numopt.problems.pde import poisson
    >>> A, b = poisson((10, 10)), np.ones(100)
    >>> run = sor(A, b, omega=1.0, rtol=1e-8, record_history=True)
    >>> pred = predict_sor_counts([1.0, 1.3, 1.5], 1.0, run.nit, convergence_factor(run.history["residual"]))
    >>> pred.round().astype(int).tolist(), [sor(A, b, omega=w, rtol=1e-8).nit for w in (1.3, 1.5)]
    ([223, 114, 60], [115, 62])
    """
    grid = np.asarray(grid, dtype=float)
    beta, _ = young_jacobi_radius(omega, factor)
    rho_grid = np.minimum(young_factor(grid, beta), 1.0 - 1e-12)
    rho_used = min(float(young_factor(omega, beta)), 1.0 - 1e-12)
    ratio = float(nit) * np.log(rho_used) / np.log(rho_grid)
    if not transient or nit < 1:
        return ratio
    target = float(_log_envelope([omega], beta, np.array([float(nit)]))[0, 0])  # reduction reached by the run
    limit = int(min(max(4 * ratio.max(), 4 * nit), 200_000)) + 1
    k = np.arange(limit, dtype=float)
    below = _log_envelope(grid, beta, k) <= target
    first = np.where(below.any(axis=1), below.argmax(axis=1), limit).astype(float)
    played = first[np.argmin(np.abs(grid - omega))] if np.any(np.isclose(grid, omega)) else None
    if played:
        first *= nit / played  # exact at the value that was run
    return first


def ssor_kappa(omega, mu: float, delta: float = 0.0) -> np.ndarray:
    """Axelsson's bound on the condition number of SSOR(``omega``)-preconditioned ``A``.

    Examples
    --------
    >>> k = ssor_kappa(np.linspace(1.0, 1.95, 20), mu=0.02)
    >>> bool(k.argmin() > 0 and k.min() < k[0])
    True
    """
    omega = np.asarray(omega, dtype=float)
    return ((1.0 - omega / 2.0) ** 2 / mu + omega * (1.0 + omega * delta)) / (omega * (2.0 - omega))


def ssor_mu(omega: float, kappa: float, delta: float = 0.0) -> float:
    """``mu = lambda_min(D^{-1} A)`` for which :func:`ssor_kappa` at ``omega`` equals a measured ``kappa``.

    Examples
    --------
    >>> round(ssor_mu(1.5, float(ssor_kappa(1.5, mu=0.01))), 12)
    0.01
    """
    omega = float(check_in_range("omega", omega, 0.0, 2.0))
    rest = kappa * omega * (2.0 - omega) - omega * (1.0 + omega * delta)
    if rest <= 0:  # kappa below what the bound allows at any mu: the largest plausible mu
        return 1.0
    return float(min((1.0 - omega / 2.0) ** 2 / rest, 1.0))


def ritz_extremes(alphas, betas) -> tuple[float, float]:
    """Extreme eigenvalues of the Lanczos matrix of a (preconditioned) CG run from its step sizes.

    ``alphas[k]`` are CG's step lengths and ``betas[k]`` the direction update
    ratios ``r_{k+1}^T z_{k+1} / r_k^T z_k``.

    Examples
    --------
    >>> from numopt.linalg import cg
    >>> run = cg(np.diag([1.0, 2.0, 5.0]), np.ones(3), rtol=1e-12, record_history=True)
    >>> lo, hi = ritz_extremes(run.history["alpha"], run.history["beta"])
    >>> round(lo, 8), round(hi, 8)
    (1.0, 5.0)
    """
    a = np.asarray(alphas, dtype=float)
    b = np.asarray(betas, dtype=float)
    keep = np.isfinite(a) & (a > 0)
    a, b = a[keep], b[keep[: len(b)]] if len(b) else b
    m = len(a)
    if m == 0:
        return float("nan"), float("nan")
    diag = 1.0 / a
    diag[1:] += b[: m - 1] / a[: m - 1]
    off = np.sqrt(np.maximum(b[: m - 1], 0.0)) / a[: m - 1]
    T = np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)
    ev = np.linalg.eigvalsh(T)
    return float(ev[0]), float(ev[-1])


def ritz_condition_number(alphas, betas) -> float:
    """Condition number estimate ``high / low`` of :func:`ritz_extremes` (NaN without a positive ``low``).

    Examples
    --------
    >>> from numopt.linalg import cg
    >>> run = cg(np.diag([1.0, 2.0, 5.0]), np.ones(3), rtol=1e-12, record_history=True)
    >>> round(ritz_condition_number(run.history["alpha"], run.history["beta"]), 8)
    5.0
    """
    low, high = ritz_extremes(alphas, betas)
    return high / low if low > 0 else float("nan")


def predict_ssor_pcg_counts(grid, omega: float, nit: float, kappa: float, delta: float = 0.0) -> np.ndarray:
    """Predicted SSOR-PCG iteration counts at every ``grid`` value from one run with measured ``kappa``.

    Examples
    --------
    >>> pred = predict_ssor_pcg_counts([1.0, 1.5], 1.5, 20, float(ssor_kappa(1.5, mu=0.01)))
    >>> bool(pred[1] == 20 and pred[0] > 20)
    True
    """
    grid = np.asarray(grid, dtype=float)
    mu = ssor_mu(omega, kappa, delta)
    return float(nit) * np.sqrt(ssor_kappa(grid, mu, delta) / ssor_kappa(omega, mu, delta))
