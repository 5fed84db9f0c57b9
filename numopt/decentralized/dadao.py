"""DADAO (Nabli & Oyallon, ICML 2023): decoupled accelerated decentralized asynchronous optimization.

Two independent Poisson point processes drive the method: gradient events (rate 1 at every node)
and communication events on the edges (per-edge rates ``lambda_e``, total ``sqrt(2 chi1 chi2)`` for
uniform rates). Each node keeps six vectors ``x, x~, y, y~, z, z~``; between events they follow

    x' = eta (x~ - x),        x~' = eta (x - x~),
    y' = alpha (y~ - y),      y~' = -theta (nu x~ + y + z),
    z' = alpha (z~ - z),      z~' = alpha~ (z - z~),

with ``nu = mu/2``, ``alpha = sqrt(nu/L)/4``, ``alpha~ = eta = sqrt(nu/L)/8``, ``theta = sqrt(L/nu)/2``.
This linear ODE is integrated exactly and lazily: a node is advanced with ``exp(M dt)`` only
when it takes part in an event. Events:

- gradient at i, ``g = grad f_i(x_i) - nu x_i - y~_i``: ``x_i -= g/(4L)``,
  ``x~_i -= g/(4 sqrt(L nu))``, ``y~_i += (sqrt(nu/L)/4 + 1) g``;
- communication on (i, j), ``m = (y_i + z_i) - (y_j + z_j)``: ``z_i -= m/2``,
  ``z~_i -= beta~ m`` and the opposite at j, with ``beta~ = 2 chi1(Lam) sqrt(L/nu)`` where
  ``chi1(Lam)`` is the inverse spectral gap of the rate-weighted Laplacian (``chi1 / lambda_mix``
  for uniform rates).

Initialization: ``x = x~ = x0`` and ``y = y~ = z = z~ = 0`` (the reference code starts ``x~`` at 0;
any start with sum_i (alpha~ z_i + alpha z~_i) = 0 is valid, and zero dual variables satisfy it).
"""

from __future__ import annotations

import numpy as np

from .._core.validate import check_choice
from ._kernels import dadao_events, dadao_events_reference, sync_nodes
from .base import GossipSolver
from .events import EventStream
from .graphs import edge_array, graph_constants
from .problem import check_constants
from .rates import resolve_rates

__all__ = ["DADAO", "Propagator", "dadao_constants", "ode_matrix"]


def dadao_constants(L: float, mu: float, chi1: float) -> dict:
    """ODE and jump constants of DADAO for smoothness L, strong convexity mu and chi1 of the rate Laplacian.

    Examples
    --------
    >>> c = dadao_constants(L=4.0, mu=2.0, chi1=1.0)
    >>> c["nu"], c["alpha"], c["eta"], c["theta"], c["beta_t"]
    (1.0, 0.125, 0.0625, 1.0, 4.0)
    """
    L, mu = check_constants(L, mu)
    nu = mu / 2
    r = float(np.sqrt(nu / L))
    return {"nu": nu, "alpha": r / 4, "alpha_t": r / 8, "eta": r / 8, "theta": 0.5 / r,
            "gamma": 1 / (4 * L), "gamma_t": 1 / (4 * float(np.sqrt(L * nu))), "delta": r / 4 + 1.0,
            "beta": 0.5, "beta_t": 2.0 * chi1 / r}


def ode_matrix(c: dict) -> np.ndarray:
    """The 6x6 matrix M of the between-event dynamics on the stack [x, x~, y, y~, z, z~]."""
    M = np.zeros((6, 6))
    M[0, 0], M[0, 1] = -c["eta"], c["eta"]
    M[1, 0], M[1, 1] = c["eta"], -c["eta"]
    M[2, 2], M[2, 3] = -c["alpha"], c["alpha"]
    M[3, 1], M[3, 2], M[3, 4] = -c["theta"] * c["nu"], -c["theta"], -c["theta"]
    M[4, 4], M[4, 5] = -c["alpha"], c["alpha"]
    M[5, 4], M[5, 5] = c["alpha_t"], -c["alpha_t"]
    return M


class Propagator:
    """exp(M dt) for the block-triangular DADAO matrix through its spectral projectors.

    M acts on [x-block, y-block, z-block] (pairs of rows); the x- and z-blocks evolve alone and
    feed the y-block. Each 2x2 diagonal block has distinct eigenvalues and the y-block's are
    disjoint from the others', so M is diagonalizable: an eigenvector of the x-block (z-block)
    with eigenvalue l extends to M by the y-part b solving (l I - B) b = C a. Building the
    eigenvectors block by block keeps them well conditioned where a general eigensolver returns
    nearly parallel vectors for the double eigenvalue 0.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.linalg import expm
    >>> M = ode_matrix(dadao_constants(L=10.0, mu=1.0, chi1=2.0))
    >>> bool(np.allclose(Propagator(M).expm(3.7), expm(3.7 * M), atol=1e-12))
    True
    """

    def __init__(self, M):
        M = np.asarray(M, float)
        if M.shape != (6, 6) or np.any(M[0:2, 2:]) or np.any(M[4:6, :4]) or np.any(M[2:4, 2:4] == np.inf):
            raise ValueError("Propagator expects the 6x6 block-triangular DADAO matrix (see ode_matrix).")
        B = M[2:4, 2:4]
        V = np.zeros((6, 6), complex)
        lam = np.zeros(6, complex)
        col = 0
        for blk in (slice(0, 2), slice(2, 4), slice(4, 6)):
            w, U = np.linalg.eig(M[blk, blk])
            for k in range(2):
                lam[col] = w[k]
                V[blk, col] = U[:, k]
                if blk.start != 2:
                    V[2:4, col] = np.linalg.solve(w[k] * np.eye(2) - B, M[2:4, blk] @ U[:, k])
                col += 1
        Vinv = np.linalg.inv(V)
        self.M = M
        self.lam = np.ascontiguousarray(lam)
        self.P = np.ascontiguousarray(np.einsum("ak,kb->kab", V, Vinv))

    def expm(self, dt: float) -> np.ndarray:
        return np.einsum("k,kab->ab", np.exp(self.lam * dt), self.P).real


class DADAO(GossipSolver):
    """DADAO event simulator (see the module notes); run it through :func:`numopt.decentralized.minimize`.

    Options
    -------
    graph : networkx.Graph or TimeVaryingGraph
    t_max : float
        Simulated time horizon (each node takes about one gradient per unit of time).
    tol : float
        Stop when (1/n) sum ||x_i - x*||^2 <= tol ||x*||^2.
    rates : 'uniform', 'sdp' or array
        Per-edge communication rates (arrays follow ``edge_array`` order; static graphs only).
    record_every : float
        Length of the recording windows (default t_max / 500).
    backend : None, 'numba' or 'numpy'
        None (default) uses the Numba kernel when the problem provides local data, else the NumPy path.
    seed : int or Generator

    Examples
    --------
    >>> from numopt._core.driver import run
    >>> from numopt.decentralized import make_graph, ridge_problem
    >>> p = ridge_problem(4, seed=0)
    >>> res = run(DADAO(graph=make_graph("cycle", 4), t_max=500.0, seed=0), p, None)
    >>> res.success, res.rel_error < 1e-6
    (True, True)
    """

    name = "dadao"
    default_options = {**GossipSolver.default_options, "rates": "uniform", "backend": None}

    def validate_options(self, options):
        check_choice("backend", options["backend"], (None, "numba", "numpy"))

    def setup(self, state):
        p = state.problem
        o = self.options
        if not isinstance(o["rates"], str) and len(self.graphs) > 1:
            raise ValueError("a time-varying graph takes rates='uniform' or 'sdp', not an array.")
        rates = [resolve_rates(G, o["rates"]) for G in self.graphs]
        consts = [graph_constants(G, r) for G, r in zip(self.graphs, rates)]
        state.chi1 = max(c[0] for c in consts)
        state.chi2 = max(c[1] for c in consts)
        state.rates = rates[0] if len(rates) == 1 else rates
        c = dadao_constants(p.L, p.mu, state.chi1)
        state.consts = np.array([c["gamma"], c["gamma_t"], c["delta"], c["nu"], c["beta"], c["beta_t"]])
        state.prop = Propagator(ode_matrix(c))
        state.stream = EventStream(state.n, [(edge_array(G), r) for G, r in zip(self.graphs, rates)],
                                  period=self.period, grad_rate=1.0, seed=o["seed"])
        S = np.zeros((state.n, 6, state.d))
        S[:, 0] = state.X
        S[:, 1] = state.X
        state.S = S
        state.tlast = np.zeros(state.n)
        kd = p.kernel_data()
        if o["backend"] == "numba" and kd is None:
            raise ValueError("backend='numba' needs a problem with local data (LocalDataProblem).")
        state.kernel = kd if o["backend"] != "numpy" else None

    def advance(self, state, t_end):
        times, kinds, ids = state.stream.window(state.t, t_end)
        edges = state.stream.edges
        if state.kernel is not None:
            kind, data, indices, indptr, node_ptr, b, reg = state.kernel
            stop = dadao_events(state.S, state.tlast, times, kinds, ids, edges, state.prop.P, state.prop.lam,
                                state.consts, kind, data, indices, indptr, node_ptr, b, reg)
        else:
            stop = dadao_events_reference(state.S, state.tlast, times, kinds, ids, edges, state.prop.expm,
                                          state.consts, state.problem.local_grad)
        done = len(times) if stop < 0 else stop
        ng = int(np.count_nonzero(kinds[:done] == 0)) + (stop >= 0)
        if state.kernel is not None:
            state.problem._count("ngrad", ng)
        state.ngrad += ng
        state.ncomm += int(np.count_nonzero(kinds[:done] == 1))
        if stop >= 0:
            state.bad = True
            return
        sync_nodes(state.S, state.tlast, t_end, state.prop.P, state.prop.lam)
        state.X = state.S[:, 0].copy()

    def extra_result(self, state):
        return {"chi1": state.chi1, "chi2": state.chi2, "rates": state.rates,
                "total_rate": float(np.sum(state.rates)) if len(self.graphs) == 1 else None}
