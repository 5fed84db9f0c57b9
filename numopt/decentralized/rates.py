"""Per-edge gossip rates: uniform, or minimal total rate by a semidefinite program.

DADAO's analysis needs the gossip Laplacian ``Lam = sum_e lambda_e (e_i - e_j)(e_i - e_j)^T`` to satisfy
``chi1(Lam) chi2(Lam) <= 1/2``. Uniform rates meet it with the total rate ``sqrt(2 chi1 chi2)``
(constants of the |E|-normalized Laplacian). :func:`sdp_rates` minimizes the total rate
``sum_e lambda_e`` under the same condition, written with an auxiliary scalar ``a`` and matrix ``X``:

    minimize    sum_e lambda_e
    subject to  Lam - a (I - 11^T/n)  >= 0                      (lambda_2(Lam) >= a, chi1 <= 1/a)
                [[Lam + 11^T/n, I], [I, X]] >= 0                (X >= Lam^+ on the range of Lam)
                (e_i - e_j)^T X (e_i - e_j) <= a  for every edge (chi2 <= a/2)
                lambda >= 0.

Every feasible point satisfies ``chi1 chi2 <= 1/2``, and every rate vector that satisfies it is
feasible with ``a = lambda_2(Lam)`` and ``X = (Lam + 11^T/n)^{-1}``, so the SDP returns the exact
minimum of the total rate under the condition (the paper calls its program a relaxation).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .graphs import as_graph, edge_array, graph_constants

__all__ = ["resolve_rates", "sdp_rates", "uniform_rates"]


def uniform_rates(G) -> np.ndarray:
    """Equal rates on every edge with total ``sqrt(2 chi1 chi2)``, so that chi1 chi2 = 1/2.

    Examples
    --------
    >>> from numopt.decentralized import make_graph
    >>> r = uniform_rates(make_graph("complete", 5))
    >>> r.size, round(float(r.sum()), 6)
    (10, 2.828427)
    """
    E = edge_array(as_graph(G))
    chi1, chi2 = graph_constants(G)
    return np.full(len(E), np.sqrt(2.0 * chi1 * chi2) / len(E))


def sdp_rates(G, solver: str | None = None, **solver_options) -> np.ndarray:
    """Per-edge rates of minimal total with chi1(Lam) chi2(Lam) <= 1/2 (see the module notes).

    Parameters
    ----------
    G : networkx.Graph
        Connected graph on nodes 0..n-1.
    solver : str, optional
        A cvxpy SDP solver ('CLARABEL' by default, 'SCS' for large graphs).

    Returns
    -------
    ndarray
        Rates in the order of :func:`~numopt.decentralized.graphs.edge_array`.

    Examples
    --------
    On an edge-transitive graph the uniform rates are optimal:

    >>> from numopt.decentralized import make_graph
    >>> G = make_graph("cycle", 6)
    >>> bool(np.allclose(sdp_rates(G), uniform_rates(G), rtol=1e-4))
    True
    """
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover - cvxpy is in the 'sdp' extra
        raise ImportError("sdp_rates needs cvxpy: pip install 'numopt[sdp]'.") from exc
    G = as_graph(G)
    E = edge_array(G)
    n, m = G.number_of_nodes(), len(E)
    i, j, e = E[:, 0], E[:, 1], np.arange(m)
    # vec(Lam) = K lam with K sparse (four entries per edge; column-major vec as in cvxpy)
    rows = np.r_[i + n * i, j + n * j, i + n * j, j + n * i]
    K = sp.csc_matrix((np.r_[np.ones(2 * m), -np.ones(2 * m)], (rows, np.r_[e, e, e, e])), shape=(n * n, m))
    lam = cp.Variable(m, nonneg=True)
    a = cp.Variable(nonneg=True)
    X = cp.Variable((n, n), symmetric=True)
    Lam = cp.reshape(K @ lam, (n, n), order="F")
    J = np.ones((n, n)) / n
    I = np.eye(n)
    cons = [
        Lam - a * (I - J) >> 0,
        cp.bmat([[Lam + J, I], [I, X]]) >> 0,
        cp.diag(X)[E[:, 0]] + cp.diag(X)[E[:, 1]] - 2 * X[E[:, 0], E[:, 1]] <= a,
    ]
    prob = cp.Problem(cp.Minimize(cp.sum(lam)), cons)
    prob.solve(solver=solver or "CLARABEL", **solver_options)
    if prob.status not in ("optimal", "optimal_inaccurate") or lam.value is None:
        raise RuntimeError(f"the gossip-rate SDP did not solve: cvxpy status {prob.status!r}.")
    rates = np.maximum(np.asarray(lam.value, float), 0.0)
    # rescale so that chi1 chi2 = 1/2 holds exactly despite the solver's tolerance
    chi1, chi2 = graph_constants(G, rates)
    return rates * np.sqrt(2.0 * chi1 * chi2)


def resolve_rates(G, rates) -> np.ndarray:
    """Absolute per-edge rates from 'uniform', 'sdp' or an array (one positive-or-zero rate per edge).

    Examples
    --------
    >>> from numopt.decentralized import make_graph
    >>> resolve_rates(make_graph("path", 3), [1.0, 2.0])
    array([1., 2.])
    """
    if isinstance(rates, str):
        if rates == "uniform":
            return uniform_rates(G)
        if rates == "sdp":
            return sdp_rates(G)
        raise ValueError(f"rates={rates!r} is not valid; expected 'uniform', 'sdp' or an array of edge rates.")
    E = edge_array(as_graph(G))
    r = np.asarray(rates, dtype=float)
    if r.shape != (len(E),) or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValueError(f"rates must be 'uniform', 'sdp' or {len(E)} finite nonnegative edge rates "
                         f"(order of edge_array); got shape {r.shape}.")
    graph_constants(G, r)  # raises if the positive-rate edges do not connect the graph
    return r
