"""DADAO over MPI: one node per rank, local Poisson clocks in real time, pairwise gossip by handshake.

Run it with (for example)::

    mpiexec -n 8 python -m numopt.decentralized.mpi --graph cycle --t-max 300 --speed 100

Every rank builds the same problem and graph from the seed and keeps the six DADAO vectors of its
own node. Local time is ``tau = speed * (wall time since the start barrier)``; the rank's gradient
clock (rate 1) and the clocks of the edges it owns (edge (i, j), i < j, is owned by i; rate
``lambda_e``) are Poisson processes in tau. Events missed while a rank was busy are caught up in
order, so the event counts per unit of tau match the simulator.

Pairwise update (handshake). The initiator i advances its state to now, sends ``REQ(v_i)`` with
``v_i = y_i + z_i`` and waits for the answer before starting another handshake (gradient events
and answers to other requests go on meanwhile). The responder j advances to now, computes
``m = v_j - v_i``, applies ``z_j -= m/2, z~_j -= beta~ m`` and answers ``ACK(v_j)``; on the ACK,
i applies ``z_i += m/2, z~_i += beta~ m`` with the same m. Both ends apply exactly opposite jumps
computed from the same two values, so the invariant sum_i (alpha~ z_i + alpha z~_i) = 0 of DADAO
holds exactly, whatever the message delays; a responder never waits, so there is no deadlock.

Shutdown: when tau reaches ``t_max`` a rank stops starting events, finishes its own handshake,
then enters a non-blocking barrier while it keeps answering requests; once every rank is in the
barrier no request is in flight. All ranks then advance to the same final time (the largest
local time), and rank 0 gathers the iterates and reports the error (1/n) sum ||x_i - x*||^2,
the gradients, communications and messages per rank as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from .._core.driver import _wants_intermediate_result
from .._core.result import OptimizeResult, Status
from .._core.validate import check_positive

__all__ = ["main", "run_rank", "summary"]

REQ, ACK, STOP = 11, 12, 13


def _build(args, n):
    from .graphs import edge_array, make_graph
    from .problem import logistic_problem, ridge_problem
    from .rates import resolve_rates

    build = ridge_problem if args.problem == "ridge" else logistic_problem
    problem = build(n, m_per_node=args.m_per_node, dim=args.dim, reg=args.reg, seed=args.seed)
    kind = args.graph if n >= 3 or args.graph in ("complete", "path", "star") else "path"
    G = make_graph(kind, n, seed=args.seed)
    rates = resolve_rates(G, args.rates)
    return problem, G, edge_array(G), rates


def _options(args) -> argparse.Namespace:
    defaults = _parser().parse_args([])
    if args is None:
        return defaults
    given = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    unknown = sorted(set(given) - set(vars(defaults)))
    if unknown:
        raise ValueError(f"args has unknown options {unknown}; valid: {sorted(vars(defaults))}.")
    args = argparse.Namespace(**{**vars(defaults), **given})
    for name in ("t_max", "speed"):
        check_positive(name, getattr(args, name))
    check_positive("tol", args.tol, strict=False)
    check_positive("poll", args.poll, strict=False)
    if args.record_every is not None:
        check_positive("record_every", args.record_every)
    return args


def run_rank(comm, args=None, *, callback=None) -> OptimizeResult:
    """Run one rank of the MPI runtime; every rank returns the same OptimizeResult.

    Parameters
    ----------
    comm : mpi4py communicator
        One node of the graph per rank.
    args : argparse.Namespace or dict, optional
        Options of the command line (``--t-max`` is ``t_max``, ...); missing ones take their defaults.
    callback : callable, optional
        ``callback(intermediate_result)`` (``x`` of this rank's node, ``t``, ``nit``, ``rank``) or
        ``callback(xk)``, every ``record_every`` units of local time; ``StopIteration`` stops every rank.

    Returns
    -------
    OptimizeResult
        ``x`` (ranks, dim), ``x_mean``, ``error``, ``rel_error``, ``t``, ``ngrad``, ``ncomm``, ``success``,
        ``status``, ``message``, ``nit`` (recording windows), ``time`` (wall seconds), ``ranks``,
        ``graph``, ``messages_per_rank``, ``received_per_rank``, ``nonfinite`` and ``invariant``
        (the largest entry of sum_i (alpha~ z_i + alpha z~_i), zero up to rounding).
    """
    from .dadao import Propagator, dadao_constants, ode_matrix
    from .graphs import graph_constants

    args = _options(args)
    rank, n = comm.Get_rank(), comm.Get_size()
    problem, G, E, rates = _build(args, n)
    chi1, _ = graph_constants(G, rates)
    c = dadao_constants(problem.L, problem.mu, chi1)
    prop = Propagator(ode_matrix(c))
    nu, beta, beta_t = c["nu"], c["beta"], c["beta_t"]
    gamma, gamma_t, delta = c["gamma"], c["gamma_t"], c["delta"]
    rng = np.random.default_rng([args.seed, rank])
    record_every = args.record_every if args.record_every is not None else args.t_max / 100
    wants_result = callback is not None and _wants_intermediate_result(callback)

    owned = np.flatnonzero(E[:, 0] == rank)
    own_rates = rates[owned]
    own_total = float(own_rates.sum())
    cdf = np.cumsum(own_rates) / own_total if own_total > 0 else None

    d = problem.dim
    S = np.zeros((6, d))
    state = {"t": 0.0, "nit": 0, "stopped": False}

    def advance(t):
        dt = t - state["t"]
        if dt > 0:
            S[:] = prop.expm(dt) @ S
            state["t"] = t

    counts = {"ngrad": 0, "ncomm": 0, "sent": 0, "received": 0, "bad": 0}
    stops_sent = np.zeros(n, dtype=np.int64)
    stops_received = 0
    pending_sends = []
    waiting = None  # (peer, v_i) while a handshake started here is open

    def isend(vec, dest, tag):
        buf = np.ascontiguousarray(vec, dtype=float)
        pending_sends.append((comm.Isend(buf, dest=dest, tag=tag), buf))
        if tag == STOP:
            stops_sent[dest] += 1
        else:
            counts["sent"] += 1

    def notify_callback(t):
        state["nit"] += 1
        if callback is None:
            return
        try:
            if wants_result:
                callback(intermediate_result=OptimizeResult(x=S[0].copy(), t=t, nit=state["nit"], rank=rank))
            else:
                callback(S[0].copy())
        except StopIteration:
            state["stopped"] = True
            for peer in range(n):
                if peer != rank:
                    isend(np.zeros(d), peer, STOP)

    from mpi4py import MPI

    status = MPI.Status()
    inbox = np.empty(d)
    comm.Barrier()
    t0 = MPI.Wtime()

    def now():
        return (MPI.Wtime() - t0) * args.speed

    next_grad = rng.exponential(1.0)
    next_comm = rng.exponential(1.0 / own_total) if own_total > 0 else np.inf
    next_record = record_every
    barrier = None
    while True:
        busy = False
        while comm.Iprobe(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status):
            src, tag = status.Get_source(), status.Get_tag()
            comm.Recv(inbox, source=src, tag=tag)
            busy = True
            if tag == STOP:
                stops_received += 1
                state["stopped"] = True
                continue
            counts["received"] += 1
            advance(max(now(), state["t"]))
            if tag == REQ:
                v_j = S[2] + S[4]
                m = v_j - inbox
                S[4] -= beta * m
                S[5] -= beta_t * m
                isend(v_j, src, ACK)
            else:
                peer, v_i = waiting
                m = v_i - inbox
                S[4] -= beta * m
                S[5] -= beta_t * m
                counts["ncomm"] += 1
                waiting = None
        pending_sends[:] = [(r, b) for r, b in pending_sends if not r.Test()]
        tau = now()
        if barrier is None:
            go = not counts["bad"] and not state["stopped"]
            while go and next_grad <= min(tau, args.t_max):
                advance(max(next_grad, state["t"]))
                g = problem.local_grad(rank, S[0].copy())
                counts["ngrad"] += 1
                if not np.all(np.isfinite(g)):
                    counts["bad"] = 1
                    break
                g = g - nu * S[0] - S[3]
                S[0] -= gamma * g
                S[1] -= gamma_t * g
                S[3] += delta * g
                next_grad += rng.exponential(1.0)
                busy = True
            go = not counts["bad"] and not state["stopped"]
            if go and waiting is None and next_comm <= min(tau, args.t_max):
                e = owned[min(int(np.searchsorted(cdf, rng.random(), side="right")), len(owned) - 1)]
                peer = int(E[e, 1])
                advance(max(next_comm, state["t"]))
                v_i = (S[2] + S[4]).copy()
                isend(v_i, peer, REQ)
                waiting = (peer, v_i)
                next_comm += rng.exponential(1.0 / own_total)
                busy = True
            while not counts["bad"] and not state["stopped"] and next_record <= min(tau, args.t_max):
                advance(max(next_record, state["t"]))
                notify_callback(state["t"])
                next_record += record_every
            finished = tau >= args.t_max and next_comm > args.t_max
            if waiting is None and (finished or counts["bad"] or state["stopped"]):
                barrier = comm.Ibarrier()
        elif barrier.Test():
            break
        if not busy:
            time.sleep(args.poll)
    # a STOP sent before its sender entered the barrier may still be on its way: collect it
    expected = comm.allreduce(stops_sent, op=MPI.SUM)[rank]
    while stops_received < expected:
        comm.Recv(inbox, source=MPI.ANY_SOURCE, tag=STOP)
        stops_received += 1
    for r, _ in pending_sends:
        r.Wait()
    t_final = comm.allreduce(state["t"], op=MPI.MAX)
    advance(t_final)
    stopped = bool(comm.allreduce(int(state["stopped"]), op=MPI.MAX))
    nit = comm.allreduce(state["nit"], op=MPI.MAX)
    gathered = comm.allgather((S.copy(), counts))
    wall = float(MPI.Wtime() - t0)
    X = np.stack([s[0] for s, _ in gathered])
    xs = problem.x_star()
    err = float(np.mean(np.sum((X - xs) ** 2, axis=1)))
    rel = err / max(float(xs @ xs), np.finfo(float).tiny)
    inv = sum(c["alpha_t"] * s[4] + c["alpha"] * s[5] for s, _ in gathered)
    per = [cnt for _, cnt in gathered]
    nonfinite = any(p["bad"] for p in per)
    if nonfinite:
        outcome = Status.NONFINITE
    elif stopped:
        outcome = Status.CALLBACK
    elif rel <= args.tol:
        outcome = Status.SUCCESS
    else:
        outcome = Status.MAXITER
    return OptimizeResult(
        x=X, x_mean=X.mean(axis=0), success=outcome.success, status=outcome.code, message=outcome.value,
        nit=int(nit), time=wall, t=float(t_final), error=err, rel_error=rel,
        ngrad=sum(p["ngrad"] for p in per), ncomm=sum(p["ncomm"] for p in per), ranks=n,
        graph=G.graph.get("kind"), messages_per_rank=[p["sent"] for p in per],
        received_per_rank=[p["received"] for p in per], nonfinite=nonfinite, invariant=float(np.abs(inv).max()),
        method="dadao-mpi")


def summary(result: OptimizeResult) -> dict:
    """The JSON-ready fields of a result of :func:`run_rank` (everything but the iterates).

    Examples
    --------
    >>> import numpy as np
    >>> summary(OptimizeResult(x=np.zeros((2, 3)), x_mean=np.zeros(3), error=0.5, ranks=2))
    {'error': 0.5, 'ranks': 2}
    """
    return {key: value for key, value in result.items() if key not in ("x", "x_mean")}


def _parser():
    ap = argparse.ArgumentParser(prog="python -m numopt.decentralized.mpi",
                                 description="DADAO with one node per MPI rank (see the module notes).")
    ap.add_argument("--graph", default="cycle", help="star, complete, cycle, path, grid, barbell, geometric, "
                    "erdos-renyi (2 ranks use a path)")
    ap.add_argument("--problem", default="ridge", choices=("ridge", "logistic"))
    ap.add_argument("--m-per-node", type=int, default=20)
    ap.add_argument("--dim", type=int, default=10)
    ap.add_argument("--reg", type=float, default=0.1)
    ap.add_argument("--rates", default="uniform", choices=("uniform", "sdp"))
    ap.add_argument("--t-max", type=float, default=300.0, help="simulated time horizon")
    ap.add_argument("--tol", type=float, default=1e-6,
                    help="success when the final (1/n) sum ||x_i - x*||^2 <= tol ||x*||^2")
    ap.add_argument("--record-every", type=float, default=None,
                    help="local time between two callback calls (default t_max / 100)")
    ap.add_argument("--speed", type=float, default=100.0, help="simulated time units per second")
    ap.add_argument("--poll", type=float, default=2e-4, help="idle sleep in seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the summary to this file")
    return ap


def main(argv=None) -> int:
    """Entry point of ``python -m numopt.decentralized.mpi`` (run under mpiexec).

    Rank 0 parses the command line (so ``--help`` and usage errors print once) and hands the
    options to the other ranks; rank 0 prints the summary.
    """
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    parsed = None
    if comm.Get_rank() == 0:
        try:
            parsed = ("run", _parser().parse_args(argv))
        except SystemExit as exc:
            parsed = ("exit", exc.code)
    kind, value = comm.bcast(parsed, root=0)
    if kind == "exit":
        return int(value or 0) if not isinstance(value, str) else 2
    result = run_rank(comm, value)
    if comm.Get_rank() == 0:
        line = json.dumps(summary(result))
        print(line, flush=True)
        if value.json:
            with open(value.json, "w") as fh:
                fh.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
