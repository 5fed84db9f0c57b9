"""Sequences of related sparse linear systems, for tuning solver parameters online.

Each sequence yields :class:`LinearSystem` records ``(A, b, context, x0)``.
The scalar ``context`` is side information a contextual learner may use (a
diagonal shift, a diffusion coefficient). Time-stepping sequences depend on
the solutions: after solving a system, pass its solution to
``system.on_solution(x)`` before asking for the next one
(:func:`numopt.tuning.solve_sequence` does this).

- :func:`shifted_laplacians`: ``A + c_t I`` with ``A`` the 5-point Laplacian
  and ``c_t = -0.15 + 0.6 Beta``, ``Beta(0.5, 1.5)`` (high variance) or
  ``Beta(2, 6)`` (low variance); ``b`` standard Gaussian conditioned on
  ``||b|| <= sqrt(n)`` (Khodak et al., ICLR 2024, section 5).
- :class:`HeatEquation`: 2-D heat equation on the unit square with a
  time-varying diffusion coefficient, Crank-Nicolson steps.
- :func:`variable_diffusion`: ``-div(k_t grad u) = 1`` with coefficient
  fields ``k_t = exp(s_t g)`` of random contrast ``s_t``.
- :func:`anisotropic_laplacians`: ``-(eps_t u_xx + u_yy)`` on a grid, with
  the anisotropy ``eps_t`` log-uniform (context ``log10 eps_t``).
- :func:`graph_laplacians`: a non-grid family: the Laplacian of one random
  geometric graph plus a random diagonal shift ``c_t I`` (not consistently
  ordered, irregular degrees).
- :func:`porous_diffusion_3d`: ``-div(k_t grad u) = b_t`` on a 3-D grid with
  box-shaped no-flux obstacles and coefficient fields of random contrast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._core.validate import check_choice, check_positive, check_rng
from .pde import diffusion, obstacle_mask, poisson

__all__ = [
    "HeatEquation",
    "LinearSystem",
    "anisotropic_laplacians",
    "graph_laplacians",
    "porous_diffusion_3d",
    "shifted_laplacians",
    "variable_diffusion",
]


@dataclass
class LinearSystem:
    """One instance of a sequence: solve ``A x = b``.

    Attributes
    ----------
    A : scipy.sparse.csr_matrix
    b : numpy.ndarray
    context : float or None
        Scalar side information for contextual learners.
    x0 : numpy.ndarray or None
        A natural starting guess (for example the previous time step).
    on_solution : callable or None
        ``on_solution(x)`` must be called with the solution before the next
        system of a time-stepping sequence is requested.
    """

    A: sp.csr_matrix
    b: np.ndarray
    context: float | None = None
    x0: np.ndarray | None = None
    on_solution: Callable | None = None


BETA = {"high": (0.5, 1.5), "low": (2.0, 6.0)}


def _truncated_gaussian(rng, n):
    while True:
        b = rng.standard_normal(n)
        if b @ b <= n:
            return b


def shifted_laplacians(T: int, *, variance: str = "high", shape=(10, 10), seed=None) -> list[LinearSystem]:
    """``T`` i.i.d. systems ``(A + c_t I) x = b_t`` with ``A`` the 2-D 5-point Laplacian.

    Parameters
    ----------
    T : int
        Number of instances.
    variance : {'high', 'low'}
        ``c_t = -0.15 + 0.6 Beta(0.5, 1.5)`` or ``-0.15 + 0.6 Beta(2, 6)``.
    shape : tuple of int
        Grid (default 10 x 10, so ``n = 100``).
    seed : int or Generator, optional

    Returns
    -------
    list of LinearSystem
        With ``context = c_t``, no starting guess.

    Examples
    --------
    >>> seq = shifted_laplacians(3, seed=0)
    >>> len(seq), seq[0].A.shape, bool(-0.15 <= seq[0].context <= 0.45)
    (3, (100, 100), True)
    >>> bool(np.linalg.norm(seq[0].b) <= 10)
    True
    """
    check_positive("T", T, integer=True)
    a, b = BETA[check_choice("variance", variance, BETA)]
    rng = check_rng(seed)
    A = poisson(shape)
    eye = sp.identity(A.shape[0], format="csr")
    out = []
    for _ in range(T):
        c = -0.15 + 0.6 * rng.beta(a, b)
        out.append(LinearSystem((A + c * eye).tocsr(), _truncated_gaussian(rng, A.shape[0]), context=float(c)))
    return out


def _bump(points, center, radius):
    r2 = np.sum((points - np.asarray(center)) ** 2, axis=1) / radius**2
    inside = r2 < 1.0
    out = np.zeros(len(points))
    out[inside] = np.exp(1.0 - 1.0 / (1.0 - r2[inside]))
    return out


def default_coefficient(t):
    """Diffusion coefficient ``max(0.1 sin(2 pi t), -10 sin(2 pi t))``: slow, then fast diffusion."""
    s = np.sin(2 * np.pi * np.asarray(t, dtype=float))
    return np.maximum(0.1 * s, -10.0 * s)


class HeatEquation:
    """Crank-Nicolson steps of ``u_t = kappa(t) Laplace(u) + f(t, x)`` on the unit square, u = 0 on the boundary.

    The grid has ``nx - 1`` interior points per side (spacing ``1 / nx``). Step
    ``t`` solves

        (I + dt/2 kappa_t K) u_{t+1} = (I - dt/2 kappa_t K) u_t + dt f(t + dt/2)

    with ``K`` the 5-point negative Laplacian and ``kappa_t = kappa(t + dt/2)``
    (the context). The default problem follows Khodak et al.: ``kappa`` of
    :func:`default_coefficient`, a bump source circling the centre, a bump as
    the initial state, ``steps`` steps up to time ``stoptime``.

    Iterating yields the systems; each needs ``on_solution(x)`` before the
    next is built. ``x0`` of each system is the current state.

    Examples
    --------
    >>> heat = HeatEquation(nx=8, steps=3)
    >>> for system in heat:
    ...     x = np.linalg.solve(system.A.toarray(), system.b)
    ...     system.on_solution(x)
    >>> heat.step, heat.u.shape
    (3, (49,))
    """

    def __init__(self, nx: int = 25, *, steps: int = 5000, stoptime: float = 5.0, coefficient=None,
                 forcing=None, initial=None):
        check_positive("nx", nx, integer=True)
        if nx < 3:
            raise ValueError(f"nx must be at least 3 (one interior point per side); got {nx}.")
        self.nx = nx
        self.steps = check_positive("steps", steps, integer=True)
        self.dt = check_positive("stoptime", stoptime) / steps
        self.coefficient = default_coefficient if coefficient is None else coefficient
        self.forcing = forcing or (lambda t, p: 32.0 * _bump(
            p, (0.5 + np.cos(16 * np.pi * t) / 4, 0.5 + np.sin(16 * np.pi * t) / 4), 0.125))
        initial = initial or (lambda p: _bump(p, (0.5, 0.5), 0.25))
        m = nx - 1
        self.K = poisson((m, m), h=1.0 / nx)
        self.eye = sp.identity(m * m, format="csr")
        i, j = np.indices((m, m))
        self.points = np.column_stack([(i.ravel() + 1) / nx, (j.ravel() + 1) / nx])
        self.u = np.asarray(initial(self.points), dtype=float)
        self.step = 0

    @property
    def contexts(self) -> np.ndarray:
        """The diffusion coefficient of every step (known in advance)."""
        return np.asarray(self.coefficient((np.arange(self.steps) + 0.5) * self.dt), dtype=float)

    def __iter__(self) -> Iterator[LinearSystem]:
        while self.step < self.steps:
            t = self.step * self.dt
            half = t + 0.5 * self.dt
            kappa = float(self.coefficient(half))
            CK = (0.5 * kappa * self.dt) * self.K
            b = self.u - CK @ self.u + self.dt * self.forcing(half, self.points)
            solved = []
            yield LinearSystem((self.eye + CK).tocsr(), b, context=kappa, x0=self.u.copy(),
                               on_solution=solved.append)
            if not solved:
                raise RuntimeError("HeatEquation: call system.on_solution(x) with the solution of each "
                                   "step before asking for the next one (solve_sequence does this).")
            self.u = np.asarray(solved[-1], dtype=float)
            self.step += 1

    def __len__(self) -> int:
        return self.steps


def variable_diffusion(T: int, *, shape=(16, 16), max_contrast: float = 4.0, seed=None) -> list[LinearSystem]:
    """``T`` systems ``-div(k_t grad u) = 1`` with ``k_t = exp(s_t g)``, ``s_t ~ U(0, max_contrast)``.

    ``g`` is one smooth random field scaled to [-1, 1] (a few random Fourier
    modes); the context is ``s_t`` (``k`` varies by a factor ``exp(2 s_t)``).

    Examples
    --------
    >>> seq = variable_diffusion(2, shape=(6, 6), seed=0)
    >>> seq[0].A.shape, bool(0 <= seq[0].context <= 4)
    ((36, 36), True)
    """
    check_positive("T", T, integer=True)
    check_positive("max_contrast", max_contrast)
    rng = check_rng(seed)
    grids = np.meshgrid(*[(np.arange(s) + 0.5) / s for s in shape], indexing="ij")
    g = np.zeros(tuple(shape))
    for _ in range(6):
        freq = rng.integers(1, 4, size=len(shape))
        g += rng.standard_normal() * np.cos(np.pi * sum(f * x for f, x in zip(freq, grids)) + rng.uniform(0, 6.3))
    g = 2 * (g - g.min()) / max(g.max() - g.min(), 1e-12) - 1
    out = []
    h = 1.0 / max(shape)
    for _ in range(T):
        s = rng.uniform(0.0, max_contrast)
        A = diffusion(np.exp(s * g), h=h)
        out.append(LinearSystem(A.tocsr(), np.ones(A.shape[0]), context=float(s)))
    return out


def anisotropic_laplacians(T: int, *, shape=(40, 12), min_eps: float = 0.01, seed=None) -> list[LinearSystem]:
    """``T`` systems ``-(eps_t u_xx + u_yy) = b_t`` (5-point, Dirichlet) with log-uniform ``eps_t``.

    ``log10 eps_t ~ U(log10 min_eps, -log10 min_eps)``. On a rectangular grid
    the anisotropy moves the Jacobi radius
    ``(eps cos(pi / (nx + 1)) + cos(pi / (ny + 1))) / (1 + eps)`` and hence the
    best SOR relaxation; the matrices stay consistently ordered. ``b_t`` is
    standard Gaussian; the context is ``log10 eps_t``.

    Examples
    --------
    >>> seq = anisotropic_laplacians(2, shape=(4, 4), seed=0)
    >>> seq[0].A.shape, bool(-2 <= seq[0].context <= 2)
    ((16, 16), True)
    """
    check_positive("T", T, integer=True)
    if not 0 < min_eps < 1:
        raise ValueError(f"min_eps must lie in (0, 1); got {min_eps!r}.")
    rng = check_rng(seed)
    nx, ny = (int(s) for s in shape)
    second = lambda m: sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])  # noqa: E731
    Kx = sp.kron(second(nx), sp.identity(ny))
    Ky = sp.kron(sp.identity(nx), second(ny))
    out = []
    for _ in range(T):
        log_eps = rng.uniform(np.log10(min_eps), -np.log10(min_eps))
        A = (10.0**log_eps * Kx + Ky).tocsr()
        out.append(LinearSystem(A, rng.standard_normal(nx * ny), context=float(log_eps)))
    return out


def graph_laplacians(T: int, *, n: int = 300, radius: float | None = None, min_shift: float = 0.2,
                     max_shift: float = 1.0, seed=None) -> list[LinearSystem]:
    """``T`` systems ``(L + c_t I) x = b_t`` with ``L`` the Laplacian of one random geometric graph.

    ``n`` points uniform in the unit square are joined when closer than
    ``radius`` (default ``1.5 sqrt(log n / n)``, connected with high
    probability; the largest connected component is kept), with weights
    ``exp(-(d / radius)^2)``. The shift ``c_t = min_shift + (max_shift -
    min_shift) U^2`` (more systems near the singular end) is the context;
    ``b_t`` is standard Gaussian.
    Rows follow a random numbering, so the matrix is not consistently ordered.

    Examples
    --------
    >>> seq = graph_laplacians(2, n=100, seed=0)
    >>> A = seq[0].A
    >>> bool(abs(A - A.T).max() == 0), bool(np.linalg.eigvalsh(A.toarray()).min() > 0)
    (True, True)
    """
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    check_positive("T", T, integer=True)
    check_positive("n", n, integer=True)
    check_positive("min_shift", min_shift)
    if not max_shift > min_shift:
        raise ValueError(f"max_shift must exceed min_shift={min_shift!r}; got {max_shift!r}.")
    rng = check_rng(seed)
    radius = 1.5 * np.sqrt(np.log(max(n, 2)) / n) if radius is None else check_positive("radius", radius)
    points = rng.random((n, 2))
    pairs = cKDTree(points).query_pairs(radius, output_type="ndarray")
    d = np.linalg.norm(points[pairs[:, 0]] - points[pairs[:, 1]], axis=1)
    w = np.exp(-((d / radius) ** 2))
    W = sp.coo_matrix((np.r_[w, w], (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])),
                      shape=(n, n)).tocsr()
    _, labels = connected_components(W, directed=False)
    keep = np.flatnonzero(labels == np.bincount(labels).argmax())
    W = W[keep][:, keep]
    L = (sp.diags(np.asarray(W.sum(axis=1)).ravel()) - W).tocsr()
    eye = sp.identity(L.shape[0], format="csr")
    out = []
    for _ in range(T):
        c = min_shift + (max_shift - min_shift) * rng.random() ** 2
        out.append(LinearSystem((L + c * eye).tocsr(), rng.standard_normal(L.shape[0]), context=float(c)))
    return out


def porous_diffusion_3d(T: int, *, shape=(10, 10, 10), fraction: float = 0.15, max_contrast: float = 3.0,
                        seed=None) -> list[LinearSystem]:
    """``T`` systems ``-div(k_t grad u) = b_t`` on a 3-D grid with obstacles (7-point, Dirichlet outside).

    Random boxes covering about ``fraction`` of the cells are removed (no-flux
    obstacles, :func:`numopt.problems.pde.obstacle_mask`) and only the largest
    face-connected set of the remaining cells is kept (a pocket enclosed by
    obstacles would make the matrix singular); the coefficient is
    ``k_t = exp(s_t g)`` with ``g`` one smooth random field scaled to [-1, 1]
    and ``s_t ~ U(0, max_contrast)``, the context. ``b_t`` is standard Gaussian.

    Examples
    --------
    >>> seq = porous_diffusion_3d(2, shape=(8, 8, 8), seed=0)
    >>> n = seq[0].A.shape[0]
    >>> 350 < n < 512, bool(0 <= seq[0].context <= 3), bool(seq[0].A.diagonal().min() > 0)
    (True, True, True)
    """
    from scipy import ndimage

    check_positive("T", T, integer=True)
    check_positive("max_contrast", max_contrast)
    rng = check_rng(seed)
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise ValueError(f"shape must have 3 entries; got {shape!r}.")
    mask = obstacle_mask(shape, kind="boxes", fraction=fraction, seed=int(rng.integers(2**31)))
    labels, _ = ndimage.label(mask)
    mask = labels == np.bincount(labels.ravel())[1:].argmax() + 1
    grids = np.meshgrid(*[(np.arange(s) + 0.5) / s for s in shape], indexing="ij")
    g = np.zeros(shape)
    for _ in range(6):
        freq = rng.integers(1, 4, size=3)
        g += rng.standard_normal() * np.cos(np.pi * sum(f * x for f, x in zip(freq, grids)) + rng.uniform(0, 6.3))
    g = 2 * (g - g.min()) / max(g.max() - g.min(), 1e-12) - 1
    h = 1.0 / max(shape)
    out = []
    for _ in range(T):
        s = rng.uniform(0.0, max_contrast)
        A = diffusion(np.exp(s * g), mask=mask, h=h).tocsr()
        out.append(LinearSystem(A, rng.standard_normal(A.shape[0]), context=float(s)))
    return out
