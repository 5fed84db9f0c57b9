"""Adapters to peer packages, returning numopt results: DAGMA (``dagma``), NOTEARS and GOLEM (``gcastle``).

Each adapter takes ``X`` (n, d), runs the peer with its own defaults unless
told otherwise, and returns an :class:`~numopt.OptimizeResult` whose ``x`` is
the thresholded weighted adjacency with any remaining cycle broken (weakest
edges first, counted in ``n_removed``), so every returned graph is a DAG.
The gcastle examples are not run as doctests (importing gcastle takes tens of
seconds); ``benchmarks/test_causal.py`` runs them against numopt's NOTEARS.
:func:`available_peers` says which are installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import time

import numpy as np

from .._core.result import OptimizeResult, Status
from .._core.validate import as_float_array
from .metrics import remove_cycles

__all__ = ["available_peers", "dagma_linear", "gcastle_golem", "gcastle_notears"]


def available_peers() -> dict[str, bool]:
    """Which peer packages can run here (found, with the dependencies they import).

    Examples
    --------
    >>> from numopt.causal.peers import available_peers
    >>> sorted(available_peers())
    ['dagma', 'gcastle']
    """
    found = {name: importlib.util.find_spec(name) is not None for name in ("dagma", "castle", "torch")}
    # dagma's linear model needs only NumPy/SciPy; gcastle's algorithms package imports torch
    return {"dagma": found["dagma"], "gcastle": found["castle"] and found["torch"]}


def _need(name):
    if not available_peers()[name]:
        extra = " (and torch, which it imports)" if name == "gcastle" else ""
        raise ImportError(f"This adapter needs the {name!r} package{extra}: pip install {name}.")


def _result(W_raw, threshold, t0, method):
    W_raw = np.asarray(W_raw, dtype=float)
    W = np.where(np.abs(W_raw) > threshold, W_raw, 0.0)
    W, removed = remove_cycles(W)
    return OptimizeResult(x=W, W_raw=W_raw, success=True, status=Status.SUCCESS.code,
                          message=Status.SUCCESS.value, n_removed=removed, time=time.perf_counter() - t0,
                          method=method)


def dagma_linear(X, lambda1: float = 0.03, w_threshold: float = 0.3, **kwargs) -> OptimizeResult:
    """DAGMA linear (Bello et al. 2022), least squares loss, through the ``dagma`` package.

    ``kwargs`` go to ``DagmaLinear.fit`` (``T``, ``warm_iter``, ``max_iter``, ``s``, ...).

    Examples
    --------
    >>> from numopt.causal.peers import dagma_linear
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=300); X = np.c_[x0, 1.5 * x0 + rng.normal(size=300)]
    >>> dagma_linear(X, T=2, warm_iter=2000, max_iter=4000).x.round(1)
    array([[0. , 1.3],
           [0. , 0. ]])
    """
    _need("dagma")
    from dagma.linear import DagmaLinear

    X = as_float_array(X, "X", ndim=2)
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        W = DagmaLinear(loss_type="l2").fit(X - X.mean(axis=0), lambda1=lambda1, w_threshold=0.0, **kwargs)
    return _result(W, w_threshold, t0, "dagma")


def _castle():
    logging.getLogger().setLevel(logging.WARNING)
    import castle.algorithms as ca

    return ca


def gcastle_notears(X, lambda1: float = 0.1, w_threshold: float = 0.3, **kwargs) -> OptimizeResult:
    """NOTEARS linear as implemented in ``gcastle`` (``castle.algorithms.Notears``).

    Examples
    --------
    >>> from numopt.causal.peers import gcastle_notears
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=300); X = np.c_[x0, 1.5 * x0 + rng.normal(size=300)]
    >>> gcastle_notears(X).x.round(1)  # doctest: +SKIP
    array([[0. , 1.4],
           [0. , 0. ]])
    """
    _need("gcastle")
    X = as_float_array(X, "X", ndim=2)
    t0 = time.perf_counter()
    model = _castle().Notears(lambda1=lambda1, w_threshold=0.0, **kwargs)
    model.learn(X - X.mean(axis=0))
    return _result(np.asarray(model.weight_causal_matrix), w_threshold, t0, "gcastle-notears")


def gcastle_golem(X, lambda_1: float = 0.02, lambda_2: float = 5.0, num_iter: int = 10000,
                  w_threshold: float = 0.3, seed: int = 1, **kwargs) -> OptimizeResult:
    """GOLEM-EV (Ng et al. 2020) from ``gcastle`` (PyTorch, CPU); ``num_iter`` Adam steps.

    Examples
    --------
    >>> from numopt.causal.peers import gcastle_golem
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=300); X = np.c_[x0, 1.5 * x0 + rng.normal(size=300)]
    >>> gcastle_golem(X, num_iter=2000).x.shape  # doctest: +SKIP
    (2, 2)
    """
    _need("gcastle")
    X = as_float_array(X, "X", ndim=2)
    t0 = time.perf_counter()
    model = _castle().GOLEM(lambda_1=lambda_1, lambda_2=lambda_2, num_iter=num_iter, graph_thres=0.0,
                            seed=seed, **kwargs)
    model.learn(X - X.mean(axis=0))
    return _result(np.asarray(model.weight_causal_matrix), w_threshold, t0, "gcastle-golem")
