"""Numba event kernels of the decentralized simulators, each with a readable NumPy reference.

State of DADAO: ``S[i]`` is the (6, d) stack ``[x, x~, y, y~, z, z~]`` of node i at its last event
time ``tlast[i]``. Between events the stack follows ``S' = M S`` with a fixed 6x6 matrix M; the
kernels advance a node lazily at its next event with ``exp(M dt) = Re(sum_k exp(lam_k dt) P[k])``
(M is diagonalizable, ``P[k]`` the spectral projectors). Local data are a CSR matrix
(data/indices/indptr) whose rows ``node_ptr[i]:node_ptr[i+1]`` belong to node i; ``kind`` is the
loss code of :mod:`numopt.losses` (0 squared, 1 logistic), whose CSR kernels give the local gradients.

Event arrays: ``times`` (sorted), ``kinds`` (0 gradient, 1 communication) and ``ids`` (node of
a gradient event, edge index into ``edges`` of a communication event).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..losses import kernels

_csr_range_loss_grad = kernels("numba").csr_range_loss_grad

__all__ = ["continuized_events", "continuized_events_reference", "dadao_events", "dadao_events_reference",
           "local_grad", "propagate", "sync_nodes"]


@njit(cache=True)
def local_grad(kind, data, indices, indptr, node_ptr, b, reg, i, x, out):
    """out <- gradient of f_i at x: the GLM loss ``kind`` (0 squared, 1 logistic) of node i's rows, plus reg x."""
    _csr_range_loss_grad(kind, data, indices, indptr, b, x, 1, node_ptr[i], node_ptr[i + 1], True, out)
    for c in range(x.shape[0]):
        out[c] += reg * x[c]


@njit(cache=True)
def _expm(P, lam, dt, E):
    k6 = lam.shape[0]
    for a in range(k6):
        for c in range(k6):
            E[a, c] = 0.0
    for k in range(k6):
        w = np.exp(lam[k] * dt)
        for a in range(k6):
            for c in range(k6):
                E[a, c] += (w * P[k, a, c]).real


@njit(cache=True)
def _advance(S, tlast, i, t, P, lam, E, tmp):
    dt = t - tlast[i]
    if dt > 0.0:
        _expm(P, lam, dt, E)
        k6, d = S.shape[1], S.shape[2]
        for c in range(d):
            for a in range(k6):
                acc = 0.0
                for q in range(k6):
                    acc += E[a, q] * S[i, q, c]
                tmp[a] = acc
            for a in range(k6):
                S[i, a, c] = tmp[a]
    tlast[i] = t


@njit(cache=True)
def sync_nodes(S, tlast, t, P, lam):
    """Advance every node to time t (in place)."""
    E = np.empty((lam.shape[0], lam.shape[0]))
    tmp = np.empty(lam.shape[0])
    for i in range(S.shape[0]):
        _advance(S, tlast, i, t, P, lam, E, tmp)


@njit(cache=True)
def propagate(P, lam, dt):
    """exp(M dt) from the spectral projectors P and eigenvalues lam of M."""
    E = np.empty((lam.shape[0], lam.shape[0]))
    _expm(P, lam, dt, E)
    return E


@njit(cache=True)
def dadao_events(S, tlast, times, kinds, ids, edges, P, lam, consts, kind, data, indices, indptr, node_ptr,
                 b, reg):
    """Process DADAO events in order; return the index of the first event with a non-finite gradient, or -1.

    ``consts = [gamma, gamma~, delta + delta~, nu, beta, beta~]``.
    """
    gamma, gamma_t, delta, nu, beta, beta_t = consts[0], consts[1], consts[2], consts[3], consts[4], consts[5]
    d = S.shape[2]
    E = np.empty((lam.shape[0], lam.shape[0]))
    tmp = np.empty(lam.shape[0])
    g = np.empty(d)
    for k in range(times.shape[0]):
        t = times[k]
        if kinds[k] == 0:
            i = ids[k]
            _advance(S, tlast, i, t, P, lam, E, tmp)
            local_grad(kind, data, indices, indptr, node_ptr, b, reg, i, S[i, 0], g)
            for c in range(d):
                if not np.isfinite(g[c]):
                    return k
            for c in range(d):
                gc = g[c] - nu * S[i, 0, c] - S[i, 3, c]
                S[i, 0, c] -= gamma * gc
                S[i, 1, c] -= gamma_t * gc
                S[i, 3, c] += delta * gc
        else:
            i, j = edges[ids[k], 0], edges[ids[k], 1]
            _advance(S, tlast, i, t, P, lam, E, tmp)
            _advance(S, tlast, j, t, P, lam, E, tmp)
            for c in range(d):
                m = S[i, 2, c] + S[i, 4, c] - S[j, 2, c] - S[j, 4, c]
                S[i, 4, c] -= beta * m
                S[i, 5, c] -= beta_t * m
                S[j, 4, c] += beta * m
                S[j, 5, c] += beta_t * m
    return -1


def dadao_events_reference(S, tlast, times, kinds, ids, edges, expm, consts, grad):
    """NumPy reference of :func:`dadao_events`; ``expm(dt)`` gives exp(M dt), ``grad(i, x)`` the local gradient."""
    gamma, gamma_t, delta, nu, beta, beta_t = consts
    for k in range(len(times)):
        t = times[k]
        nodes = [ids[k]] if kinds[k] == 0 else list(edges[ids[k]])
        for i in nodes:
            S[i] = expm(t - tlast[i]) @ S[i]
            tlast[i] = t
        if kinds[k] == 0:
            i = ids[k]
            gr = grad(i, S[i, 0].copy())
            if not np.all(np.isfinite(gr)):
                return k
            g = gr - nu * S[i, 0] - S[i, 3]
            S[i, 0] -= gamma * g
            S[i, 1] -= gamma_t * g
            S[i, 3] += delta * g
        else:
            i, j = nodes
            m = S[i, 2] + S[i, 4] - S[j, 2] - S[j, 4]
            S[i, 4] -= beta * m
            S[i, 5] -= beta_t * m
            S[j, 4] += beta * m
            S[j, 5] += beta_t * m
    return -1


@njit(cache=True)
def continuized_events(Y, Z, tlast, times, ids, edges, resist, eta, gamma, gamma_t, Hinv, c):
    """Continuized accelerated gossip on the dual (ridge local objectives).

    Between events (y, z) of every node follow y' = eta (z - y), z' = eta (y - z); at an event on
    edge e = (i, j): G = grad f_i^*(y_i) - grad f_j^*(y_j) with grad f_i^*(y) = Hinv[i] (y + c[i]),
    then y_i -= gamma R_e G, z_i -= gamma~ G and the opposite at j.
    """
    d = Y.shape[1]
    gi = np.empty(d)
    gj = np.empty(d)
    for k in range(times.shape[0]):
        t = times[k]
        e = ids[k]
        i, j = edges[e, 0], edges[e, 1]
        for node in (i, j):
            dt = t - tlast[node]
            w = 0.5 * (1.0 - np.exp(-2.0 * eta * dt))
            for q in range(d):
                yq, zq = Y[node, q], Z[node, q]
                Y[node, q] = yq + w * (zq - yq)
                Z[node, q] = zq + w * (yq - zq)
            tlast[node] = t
        for q in range(d):
            si = 0.0
            sj = 0.0
            for r in range(d):
                si += Hinv[i, q, r] * (Y[i, r] + c[i, r])
                sj += Hinv[j, q, r] * (Y[j, r] + c[j, r])
            gi[q] = si
            gj[q] = sj
        for q in range(d):
            G = gi[q] - gj[q]
            Y[i, q] -= gamma * resist[e] * G
            Y[j, q] += gamma * resist[e] * G
            Z[i, q] -= gamma_t * G
            Z[j, q] += gamma_t * G


def continuized_events_reference(Y, Z, tlast, times, ids, edges, resist, eta, gamma, gamma_t, conj_grad):
    """NumPy reference of :func:`continuized_events`; ``conj_grad(i, y)`` is grad f_i^*(y)."""
    for k in range(len(times)):
        t, e = times[k], ids[k]
        i, j = edges[e]
        for node in (i, j):
            w = 0.5 * (1.0 - np.exp(-2.0 * eta * (t - tlast[node])))
            Y[node], Z[node] = Y[node] + w * (Z[node] - Y[node]), Z[node] + w * (Y[node] - Z[node])
            tlast[node] = t
        G = conj_grad(i, Y[i]) - conj_grad(j, Y[j])
        Y[i] -= gamma * resist[e] * G
        Y[j] += gamma * resist[e] * G
        Z[i] -= gamma_t * G
        Z[j] += gamma_t * G
