"""Baselines for DADAO under the same accounting of local gradients and edge communications.

- :class:`ADOMPlus`: ADOM+ of Kovalev, Gasanov, Gasnikov & Richtarik (NeurIPS 2021), synchronous,
  with or without multi-consensus (``ceil(chi ln 2)`` gossip rounds per gradient round, which
  brings the gossip condition number down to 2).
- :class:`MSDA`: multi-step dual accelerated method of Scaman et al. (ICML 2017, Algorithm 2):
  accelerated gradient on the dual with Chebyshev-accelerated gossip (``floor(1/sqrt(gamma))``
  gossip rounds per iteration). Needs the conjugate gradients grad f_i^* (ridge problems).
- :class:`Continuized`: continuized accelerated gossip of Even et al. (2021, appendix on
  decentralized optimization): one Poisson clock on the edges, at each event the two nodes take
  a dual gradient step coupled with an accelerating ODE. Needs grad f_i^*; static graphs.
  The method evaluates its primal iterate at the gradient point ``grad f_i^*(y_i)`` (the
  reference code records ``grad f_i^*(z_i)`` while running, which is not the Nesterov output).
- :class:`GradientTracking`: DIGing / gradient tracking with the gossip matrix
  ``W = I - Lap / lambda_max(Lap)``.

Accounting: a synchronous gradient round is n local gradients and one unit of time; a gossip
round over graph G is |E| communications (each edge exchanges its vectors once in both
directions). A continuized event is 2 (dual) gradients and 1 communication; its clock runs at
total rate n/2 so that each node computes about one gradient per unit of time.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .._core.validate import check_choice
from ..linalg.eigen import extreme_eigenvalues, largest_eigenvalue
from ._kernels import continuized_events, continuized_events_reference
from .base import GossipSolver
from .events import EventStream
from .graphs import edge_array, edge_resistances

__all__ = ["ADOMPlus", "Continuized", "GradientTracking", "MSDA"]


def _laplacian(G) -> sp.csr_matrix:
    return nx.laplacian_matrix(G, nodelist=range(G.number_of_nodes())).astype(float).tocsr()


def _extreme_eigs(Lap) -> tuple[float, float]:
    """(lambda_2, lambda_max) of a connected graph Laplacian."""
    lmax = largest_eigenvalue(Lap)
    low, _ = extreme_eigenvalues(Lap, k=2, which="smallest", sigma=-1e-3 * lmax)
    return float(low[1]), float(lmax)


class _Synchronous(GossipSolver):
    """Synchronous rounds: one gradient round per unit of time, graphs switching with the period."""

    def setup(self, state):
        state.laps = [_laplacian(G) for G in self.graphs]
        state.nedges = [G.number_of_edges() for G in self.graphs]
        state.eigs = [_extreme_eigs(Lp) for Lp in state.laps]
        state.rounds = 0
        state.gossips = 0
        self.init_method(state)

    def graph_index(self, k: int) -> int:
        return 0 if not np.isfinite(self.period) else int(np.floor(k / self.period)) % len(self.graphs)

    def advance(self, state, t_end):
        while state.rounds + 1 <= t_end + 1e-9:
            G = self.round(state)
            state.rounds += 1
            state.ngrad += state.n
            if not np.all(np.isfinite(G)):
                state.bad = True
                return

    def grads(self, state, X):
        return state.problem.grad_all(X)


class GradientTracking(_Synchronous):
    """Gradient tracking (DIGing): X <- W X - step S, S <- W S + grad(X_new) - grad(X).

    Options: ``step`` (default ``(1 - rho) / (4 L)`` with rho the mixing rate of W).

    Examples
    --------
    >>> from numopt._core.driver import run
    >>> from numopt.decentralized import make_graph, ridge_problem
    >>> res = run(GradientTracking(graph=make_graph("complete", 4), t_max=300.0), ridge_problem(4, seed=0), None)
    >>> res.success
    True
    """

    name = "gradient-tracking"
    default_options = {**GossipSolver.default_options, "step": None}

    def mix(self, state, V):
        k = self.graph_index(state.rounds)
        lam2, lmax = state.eigs[k]
        state.ncomm += state.nedges[k]
        return V - (state.laps[k] @ V) / lmax

    def init_method(self, state):
        rho = max(1.0 - lam2 / lmax for lam2, lmax in state.eigs)
        L = state.problem.L
        state.step_size = self.options["step"] or (1.0 - rho) / (4.0 * L)
        state.G = self.grads(state, state.X)
        state.ngrad += state.n
        state.S = state.G.copy()

    def round(self, state):
        Xn = self.mix(state, state.X) - state.step_size * state.S
        Gn = self.grads(state, Xn)
        k = self.graph_index(state.rounds)
        state.S = state.S - (state.laps[k] @ state.S) / state.eigs[k][1] + Gn - state.G
        state.X, state.G = Xn, Gn
        return Gn


class ADOMPlus(_Synchronous):
    """ADOM+ (Kovalev et al., 2021, Algorithm 1) with the parameters of their Theorem 1.

    The implicit x- and y-updates are solved jointly in closed form. The gossip matrix of a
    graph is ``Lap / lambda_max(Lap)``; chi is the worst ``lambda_max / lambda_2`` over the graphs.

    Options: ``multi_consensus`` (bool).

    Examples
    --------
    >>> from numopt._core.driver import run
    >>> from numopt.decentralized import make_graph, ridge_problem
    >>> res = run(ADOMPlus(graph=make_graph("complete", 4), t_max=400.0, multi_consensus=True),
    ...           ridge_problem(4, seed=0), None)
    >>> res.success
    True
    """

    name = "adom+"
    default_options = {**GossipSolver.default_options, "multi_consensus": False}

    def init_method(self, state):
        L, mu = state.problem.L, state.problem.mu
        chi = max(lmax / lam2 for lam2, lmax in state.eigs)
        state.n_gossip = 1
        if self.options["multi_consensus"]:
            state.n_gossip = max(1, int(np.ceil(chi * np.log(2.0))))
            if state.n_gossip > 1:
                chi = 2.0
        state.chi = chi
        tau2 = np.sqrt(mu / L)
        sigma2 = tau2 / (16.0 * chi)
        state.params = dict(tau1=1.0 / (1.0 / tau2 + 0.5), tau2=tau2, eta=1.0 / (L * tau2), alpha=mu, nu=mu / 2,
                      sigma2=sigma2, sigma1=1.0 / (1.0 / sigma2 + 0.5), beta=1.0 / (2 * L), delta=1.0 / (17 * L),
                      gamma=(mu / 2) / (14.0 * sigma2 * chi**2), theta=(mu / 2) / (4.0 * sigma2), zeta=0.5)
        Z0 = np.zeros_like(state.X)
        state.Xf = state.X.copy()
        state.Y, state.Yf, state.Z, state.Zf, state.M = Z0.copy(), Z0.copy(), Z0.copy(), Z0.copy(), Z0.copy()

    def gossip(self, state, V):
        """(I - prod_q (I - W_q)) V over the next ``n_gossip`` graphs of the sequence."""
        out = V
        for _ in range(state.n_gossip):
            k = self.graph_index(state.gossips)
            out = out - (state.laps[k] @ out) / state.eigs[k][1]
            state.ncomm += state.nedges[k]
            state.gossips += 1
        return V - out

    def round(self, state):
        p = state.params
        tau1, tau2, eta, alpha, nu = p["tau1"], p["tau2"], p["eta"], p["alpha"], p["nu"]
        sigma1, sigma2, beta, delta, gamma, theta = (p["sigma1"], p["sigma2"], p["beta"], p["delta"],
                                                     p["gamma"], p["theta"])
        X, Y, Z = state.X, state.Y, state.Z
        Xg = tau1 * X + (1 - tau1) * state.Xf
        G = self.grads(state, Xg)
        Yg = sigma1 * Y + (1 - sigma1) * state.Yf
        Zg = sigma1 * Z + (1 - sigma1) * state.Zf
        c5 = 1.0 / (1.0 + eta * alpha)
        a = theta * beta + theta * eta * c5
        Yn = (Y + a * (G - nu * Xg) - theta * c5 * (X + eta * alpha * Xg) - (theta / nu) * (Yg + Zg)) / (1.0 + a)
        Xn = c5 * (X + eta * alpha * Xg - eta * (G - nu * Xg - Yn))
        YZ = Yg + Zg
        D = self.gossip(state, (gamma / nu) * YZ + state.M)
        Zn = Z + gamma * delta * (Zg - Z) - D
        state.M = (gamma / nu) * YZ + state.M - D
        state.Xf = Xg + tau2 * (Xn - X)
        state.Yf = Yg + sigma2 * (Yn - Y)
        state.Zf = Zg - p["zeta"] * self.gossip(state, YZ)
        state.X, state.Y, state.Z = Xn, Yn, Zn
        return G

    def extra_result(self, state):
        return {"chi": state.chi, "gossip_per_round": 2 * state.n_gossip}


class MSDA(_Synchronous):
    """Multi-step dual accelerated method (Scaman et al., 2017, Algorithm 2).

    Dual iterates ``x`` (rows in the range of the Laplacian), primal estimates
    ``theta_i = grad f_i^*(x_i)``; ``K = floor(1/sqrt(gamma))`` Chebyshev gossip rounds per iteration
    with ``gamma = lambda_2 / lambda_max`` of the Laplacian. Static graphs.

    Examples
    --------
    >>> from numopt._core.driver import run
    >>> from numopt.decentralized import make_graph, ridge_problem
    >>> res = run(MSDA(graph=make_graph("cycle", 5), t_max=300.0), ridge_problem(5, seed=0), None)
    >>> res.success
    True
    """

    name = "msda"
    requires = ("local_conj_grad", "x_star")

    def init_method(self, state):
        if len(self.graphs) > 1:
            raise ValueError("MSDA runs on a static graph; got a time-varying sequence.")
        lam2, lmax = state.eigs[0]
        g = lam2 / lmax
        state.K = max(1, int(np.floor(1.0 / np.sqrt(g))))
        c1 = (1 - np.sqrt(g)) / (1 + np.sqrt(g))
        state.c2 = (1 + g) / (1 - g) if state.K > 1 else 1.0
        state.c3 = 2.0 / ((1 + g) * lmax)
        cK = c1**state.K
        kappa = state.problem.L / state.problem.mu
        state.eta = state.problem.mu * (1 + cK**2) / (1 + cK) ** 2
        state.momentum = ((1 + cK) * np.sqrt(kappa) - 1 + cK) / ((1 + cK) * np.sqrt(kappa) + 1 - cK)
        state.Xd = np.zeros_like(state.X)
        state.Yd = np.zeros_like(state.X)

    def chebyshev(self, state, V):
        """P_K(W) V = V - T_K(c2 (I - c3 W)) V / T_K(c2), by the three-term recurrence."""
        Lap = state.laps[0]
        state.ncomm += state.K * state.nedges[0]
        if state.K == 1:  # P_1(W) = c3 W
            return state.c3 * (Lap @ V)
        a_prev, a = 1.0, state.c2
        x_prev, x = V, state.c2 * (V - state.c3 * (Lap @ V))
        for _ in range(1, state.K):
            a_prev, a = a, 2 * state.c2 * a - a_prev
            x_prev, x = x, 2 * state.c2 * (x - state.c3 * (Lap @ x)) - x_prev
        return V - x / a

    def round(self, state):
        Theta = state.problem.conj_grad_all(state.Xd)
        state.X = Theta
        Yp = state.Xd - state.eta * self.chebyshev(state, Theta)
        state.Xd = (1 + state.momentum) * Yp - state.momentum * state.Yd
        state.Yd = Yp
        return Theta


class Continuized(GossipSolver):
    """Continuized accelerated gossip on the dual (Even et al., 2021) for ridge local objectives.

    With the |E|-normalized Laplacian (lambda_2 = 1/chi1, chi2) and edge resistances R_e:
    ``eta = sqrt(1/(2 chi1 chi2)) sqrt(mu/L)``, ``gamma = mu/(4 chi2)``,
    ``gamma~ = sqrt(L mu chi1 / (4 chi2))`` (the reference code's corrected eq. (63)).

    Examples
    --------
    >>> from numopt._core.driver import run
    >>> from numopt.decentralized import make_graph, ridge_problem
    >>> res = run(Continuized(graph=make_graph("cycle", 5), t_max=300.0, seed=0), ridge_problem(5, seed=0), None)
    >>> res.success
    True
    """

    name = "continuized"
    requires = ("local_conj_grad", "x_star")
    default_options = {**GossipSolver.default_options, "backend": None}

    def validate_options(self, options):
        check_choice("backend", options["backend"], (None, "numba", "numpy"))

    def setup(self, state):
        if len(self.graphs) > 1:
            raise ValueError("the continuized method runs on a static graph; got a time-varying sequence.")
        G = self.graphs[0]
        E = edge_array(G)
        R, lam2 = edge_resistances(G)
        chi1, chi2 = 1.0 / lam2, 0.5 * R.max()
        L, mu = state.problem.L, state.problem.mu
        state.eta = np.sqrt(1.0 / (2 * chi1 * chi2)) * np.sqrt(mu / L)
        state.gamma = mu / (4 * chi2)
        state.gamma_t = np.sqrt(L * mu * chi1 / (4 * chi2))
        state.resist = R
        state.time_scale = state.n / 2.0  # events per unit of time
        state.stream = EventStream(state.n, [(E, np.full(len(E), state.time_scale / len(E)))], grad_rate=0.0,
                                  seed=self.options["seed"])
        state.Y = np.zeros_like(state.X)
        state.Z = np.zeros_like(state.X)
        state.tlast = np.zeros(state.n)
        p = state.problem
        state.fast = self.options["backend"] != "numpy" and hasattr(p, "Hinv")

    def advance(self, state, t_end):
        times, _, ids = state.stream.window(state.t, t_end)
        tau = times * state.time_scale
        args = (state.Y, state.Z, state.tlast, tau, ids, state.stream.edges, state.resist, state.eta, state.gamma,
                state.gamma_t)
        p = state.problem
        if state.fast:
            continuized_events(*args, p.Hinv, p.c)
            p._count("ngrad", 2 * len(times))
        else:
            continuized_events_reference(*args, p.local_conj_grad)
        state.ngrad += 2 * len(times)
        state.ncomm += len(times)
        tau_end = t_end * state.time_scale
        w = (0.5 * (1.0 - np.exp(-2.0 * state.eta * (tau_end - state.tlast))))[:, None]
        state.Y, state.Z = state.Y + w * (state.Z - state.Y), state.Z + w * (state.Y - state.Z)
        state.tlast[:] = tau_end
        X = p.conj_grad_all(state.Y)
        p._count("ngrad", -state.n)  # measuring the primal iterate is not part of the method
        if not np.all(np.isfinite(X)):
            state.bad = True
            return
        state.X = X
