"""Random DAGs and structural equation models (the NOTEARS simulation protocol).

Graphs: Erdos-Renyi (``'ER'``), scale-free Barabasi-Albert (``'SF'``) and
bipartite (``'BP'``), each with ``s0`` expected edges and a random node
order. Linear SEMs ``X_j = X_pa(j) W_pa(j),j + noise`` with weights uniform on
``+-[0.5, 2]`` and noise ``gauss``, ``exp``, ``gumbel``, ``uniform``, or a
generalized linear link ``logistic`` (binary data) or ``poisson`` (counts).
Nonlinear SEMs: ``mlp`` (one hidden layer of 100 sigmoid units), ``mim``
(index model) and ``gp`` (a Gaussian-process draw) plus Gaussian noise.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import as_float_array, check_choice, check_positive, check_rng

__all__ = ["simulate_dag", "simulate_linear_sem", "simulate_nonlinear_sem", "simulate_parameter"]

GRAPHS = ("ER", "SF", "BP")
LINEAR_NOISE = ("gauss", "exp", "gumbel", "uniform", "logistic", "poisson")
NONLINEAR = ("mlp", "mim", "gp")


def _permute(B, rng):
    P = rng.permutation(B.shape[0])
    return B[np.ix_(P, P)]


def max_edges(d: int, graph_type: str = "ER") -> int:
    """Most edges a ``graph_type`` DAG on ``d`` nodes can have: ``d (d - 1) / 2``, or ``top (d - top)``
    for the bipartite type (``top = max(1, int(0.2 d))`` source nodes).

    Examples
    --------
    >>> from numopt.causal.simulate import max_edges
    >>> max_edges(3), max_edges(10, "BP")
    (3, 16)
    """
    if graph_type == "BP":
        top = max(1, int(0.2 * d))
        return top * (d - top)
    return d * (d - 1) // 2


def simulate_dag(d: int, s0: int, graph_type: str = "ER", seed=0) -> np.ndarray:
    """Random DAG with ``d`` nodes and about ``s0`` edges, as a 0/1 matrix (``B[i, j]``: ``i -> j``).

    ``'ER'``: each of the ``d (d - 1) / 2`` pairs is an edge with probability chosen so that the
    expected number of edges is ``s0``. ``'SF'``: preferential attachment, each new node linked to
    ``round(s0 / d)`` earlier ones (about ``s0`` edges). ``'BP'``: edges from the first 20% of the
    nodes to the rest, ``s0`` expected. Asking for more edges than the graph type can hold
    (:func:`~numopt.causal.simulate.max_edges`) is an error. ``seed`` defaults to 0 (``None``: fresh
    entropy).

    Examples
    --------
    >>> from numopt.causal import simulate_dag, is_dag
    >>> B = simulate_dag(10, 20, "SF", seed=0)
    >>> B.shape, bool(is_dag(B))
    ((10, 10), True)
    """
    check_positive("d", d, integer=True)
    check_positive("s0", s0, strict=False, integer=True)
    check_choice("graph_type", graph_type, GRAPHS)
    most = max_edges(d, graph_type)
    if s0 > most:
        raise ValueError(
            f"s0={s0} edges asked for, but a {graph_type!r} DAG on d={d} nodes has at most {most} edges; "
            f"pass s0 <= {most} or more nodes."
        )
    rng = check_rng(seed)
    B = np.zeros((d, d), dtype=int)
    if graph_type == "ER":
        p = min(1.0, 2.0 * s0 / max(d * (d - 1), 1))
        B = np.tril(rng.random((d, d)) < p, k=-1).astype(int)
    elif graph_type == "SF":
        m = max(1, int(round(s0 / d)))
        degree = np.zeros(d)
        for k in range(1, d):
            weights = degree[:k] + 1.0
            targets = rng.choice(k, size=min(m, k), replace=False, p=weights / weights.sum())
            B[k, targets] = 1
            degree[targets] += 1
            degree[k] += len(targets)
    else:
        top = max(1, int(0.2 * d))
        p = min(1.0, s0 / max(top * (d - top), 1))
        B[:top, top:] = rng.random((top, d - top)) < p
    return _permute(B, rng)


def simulate_parameter(B, w_ranges=((-2.0, -0.5), (0.5, 2.0)), seed=0) -> np.ndarray:
    """Edge weights uniform on the union of ``w_ranges`` on the support of ``B`` (``seed`` defaults to 0).

    Examples
    --------
    >>> from numopt.causal import simulate_parameter
    >>> W = simulate_parameter(np.array([[0, 1], [0, 0]]), seed=0)
    >>> bool(0.5 <= abs(W[0, 1]) <= 2.0), float(W[1, 0])
    (True, 0.0)
    """
    B = _check_graph(B, "B")
    rng = check_rng(seed)
    W = np.zeros(B.shape)
    pick = rng.integers(len(w_ranges), size=B.shape)
    for k, (low, high) in enumerate(w_ranges):
        W += B * (pick == k) * rng.uniform(low, high, size=B.shape)
    return W


def _check_graph(W, name):
    W = as_float_array(W, name, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) matrix; got shape {W.shape}.")
    return W


def _noise_scales(noise_scale, d):
    if noise_scale is None:
        return np.ones(d)
    scale = as_float_array(noise_scale, "noise_scale")
    if scale.ndim > 1 or scale.size not in (1, d):
        raise ValueError(f"noise_scale must be a number or a ({d},) array; got shape {scale.shape}.")
    if np.any(scale < 0):
        raise ValueError(f"noise_scale must be >= 0; got {scale.min()}.")
    return np.ones(d) * scale


def _topological_order(B):
    import networkx as nx

    G = nx.DiGraph(np.asarray(B) != 0)
    if not nx.is_directed_acyclic_graph(G):
        raise ValueError("W must be the weight matrix of a DAG; its support has a cycle.")
    G.add_nodes_from(range(B.shape[0]))
    return list(nx.topological_sort(G))


def simulate_linear_sem(W, n: int, sem_type: str = "gauss", noise_scale=None, seed=0) -> np.ndarray:
    """Sample ``n`` rows of the linear SEM with weights ``W``.

    Parameters
    ----------
    W : (d, d) array
        Weights of a DAG.
    n : int
        Number of samples.
    sem_type : str
        ``'gauss'``, ``'exp'``, ``'gumbel'``, ``'uniform'`` (additive noise),
        ``'logistic'`` (Bernoulli with a sigmoid link) or ``'poisson'`` (log link).
    noise_scale : float or (d,) array, optional
        Noise scale per node (default 1).
    seed : None, int or numpy.random.Generator, default 0
        ``None`` draws fresh entropy.

    Examples
    --------
    >>> from numopt.causal import simulate_linear_sem
    >>> X = simulate_linear_sem(np.array([[0, 1.0], [0, 0]]), 2000, "gauss", seed=0)
    >>> round(float(np.var(X[:, 1])), 1)     # 1 + 1^2
    2.0
    """
    W = _check_graph(W, "W")
    check_positive("n", n, integer=True)
    check_choice("sem_type", sem_type, LINEAR_NOISE)
    rng = check_rng(seed)
    d = W.shape[0]
    scale = _noise_scales(noise_scale, d)
    X = np.zeros((n, d))
    for j in _topological_order(W):
        eta = X @ W[:, j]
        if sem_type == "gauss":
            X[:, j] = eta + rng.normal(scale=scale[j], size=n)
        elif sem_type == "exp":
            X[:, j] = eta + rng.exponential(scale=scale[j], size=n)
        elif sem_type == "gumbel":
            X[:, j] = eta + rng.gumbel(scale=scale[j], size=n)
        elif sem_type == "uniform":
            X[:, j] = eta + rng.uniform(-scale[j], scale[j], size=n)
        elif sem_type == "logistic":
            X[:, j] = rng.binomial(1, 1.0 / (1.0 + np.exp(-eta))).astype(float)
        else:
            X[:, j] = rng.poisson(np.exp(np.clip(eta, -10.0, 10.0))).astype(float)
    return X


def simulate_nonlinear_sem(B, n: int, sem_type: str = "mlp", noise_scale=None, seed=0) -> np.ndarray:
    """Sample ``n`` rows of a nonlinear additive-noise SEM on the DAG ``B``.

    ``'mlp'``: one hidden layer of 100 sigmoid units with weights uniform on
    ``+-[0.5, 2]``; ``'mim'``: ``tanh(X w1) + cos(X w2) + sin(X w3)``; ``'gp'``:
    a draw from a Gaussian process with an RBF kernel on the parents. Gaussian
    noise of scale ``noise_scale`` (default 1). ``seed`` defaults to 0 (``None``: fresh entropy).

    Examples
    --------
    >>> from numopt.causal import simulate_nonlinear_sem
    >>> X = simulate_nonlinear_sem(np.array([[0, 1], [0, 0]]), 50, "mlp", seed=0)
    >>> X.shape
    (50, 2)
    """
    B = _check_graph(B, "B")
    check_positive("n", n, integer=True)
    check_choice("sem_type", sem_type, NONLINEAR)
    rng = check_rng(seed)
    d = B.shape[0]
    scale = _noise_scales(noise_scale, d)
    X = np.zeros((n, d))
    for j in _topological_order(B):
        parents = np.flatnonzero(B[:, j])
        noise = rng.normal(scale=scale[j], size=n)
        if parents.size == 0:
            X[:, j] = noise
            continue
        Xp = X[:, parents]
        k = parents.size
        if sem_type == "mlp":
            W1 = rng.uniform(0.5, 2.0, size=(k, 100)) * rng.choice([-1, 1], size=(k, 100))
            w2 = rng.uniform(0.5, 2.0, size=100) * rng.choice([-1, 1], size=100)
            X[:, j] = (1.0 / (1.0 + np.exp(-Xp @ W1))) @ w2 + noise
        elif sem_type == "mim":
            w = rng.uniform(0.5, 2.0, size=(k, 3)) * rng.choice([-1, 1], size=(k, 3))
            Z = Xp @ w
            X[:, j] = np.tanh(Z[:, 0]) + np.cos(Z[:, 1]) + np.sin(Z[:, 2]) + noise
        else:
            sq = np.sum(Xp**2, axis=1)
            K = np.exp(-0.5 * (sq[:, None] + sq[None, :] - 2.0 * Xp @ Xp.T))
            Lk = np.linalg.cholesky(K + 1e-6 * np.eye(n))
            X[:, j] = Lk @ rng.normal(size=n) + noise
    return X
