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

__all__ = ["main", "run_rank"]

REQ, ACK = 11, 12


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


def run_rank(comm, args) -> dict | None:
    """Run one rank of the MPI runtime; rank 0 returns the summary dict, the others ``None``."""
    from .dadao import Propagator, dadao_constants, ode_matrix
    from .graphs import graph_constants

    rank, n = comm.Get_rank(), comm.Get_size()
    problem, G, E, rates = _build(args, n)
    chi1, _ = graph_constants(G, rates)
    c = dadao_constants(problem.L, problem.mu, chi1)
    prop = Propagator(ode_matrix(c))
    nu, beta, beta_t = c["nu"], c["beta"], c["beta_t"]
    gamma, gamma_t, delta = c["gamma"], c["gamma_t"], c["delta"]
    rng = np.random.default_rng([args.seed, rank])

    owned = np.flatnonzero(E[:, 0] == rank)
    own_rates = rates[owned]
    own_total = float(own_rates.sum())
    cdf = np.cumsum(own_rates) / own_total if own_total > 0 else None

    d = problem.dim
    S = np.zeros((6, d))
    state = {"t": 0.0}

    def advance(t):
        dt = t - state["t"]
        if dt > 0:
            S[:] = prop.expm(dt) @ S
            state["t"] = t

    counts = {"ngrad": 0, "ncomm": 0, "sent": 0, "received": 0, "bad": 0}
    pending_sends = []
    waiting = None  # (peer, v_i) while a handshake started here is open

    def isend(vec, dest, tag):
        buf = np.ascontiguousarray(vec, dtype=float)
        pending_sends.append((comm.Isend(buf, dest=dest, tag=tag), buf))
        counts["sent"] += 1

    from mpi4py import MPI

    status = MPI.Status()
    inbox = np.empty(d)
    comm.Barrier()
    t0 = MPI.Wtime()

    def now():
        return (MPI.Wtime() - t0) * args.speed

    next_grad = rng.exponential(1.0)
    next_comm = rng.exponential(1.0 / own_total) if own_total > 0 else np.inf
    barrier = None
    while True:
        busy = False
        while comm.Iprobe(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status):
            src, tag = status.Get_source(), status.Get_tag()
            comm.Recv(inbox, source=src, tag=tag)
            counts["received"] += 1
            busy = True
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
            while next_grad <= min(tau, args.t_max) and not counts["bad"]:
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
            if waiting is None and next_comm <= min(tau, args.t_max) and not counts["bad"]:
                e = owned[min(int(np.searchsorted(cdf, rng.random(), side="right")), len(owned) - 1)]
                peer = int(E[e, 1])
                advance(max(next_comm, state["t"]))
                v_i = (S[2] + S[4]).copy()
                isend(v_i, peer, REQ)
                waiting = (peer, v_i)
                next_comm += rng.exponential(1.0 / own_total)
                busy = True
            if waiting is None and ((tau >= args.t_max and next_comm > args.t_max) or counts["bad"]):
                barrier = comm.Ibarrier()
        elif barrier.Test():
            break
        if not busy:
            time.sleep(args.poll)
    for r, _ in pending_sends:
        r.Wait()
    t_final = comm.allreduce(state["t"], op=MPI.MAX)
    advance(t_final)
    gathered = comm.gather((S.copy(), counts), root=0)
    if rank != 0:
        return None
    X = np.stack([s[0] for s, _ in gathered])
    xs = problem.x_star()
    err = float(np.mean(np.sum((X - xs) ** 2, axis=1)))
    inv = sum(c["alpha_t"] * s[4] + c["alpha"] * s[5] for s, _ in gathered)
    per = [cnt for _, cnt in gathered]
    return {"ranks": n, "graph": G.graph.get("kind"), "t_final": t_final, "error": err,
            "rel_error": err / float(xs @ xs), "ngrad": sum(p["ngrad"] for p in per),
            "ncomm": sum(p["ncomm"] for p in per), "messages_per_rank": [p["sent"] for p in per],
            "received_per_rank": [p["received"] for p in per], "nonfinite": any(p["bad"] for p in per),
            "invariant": float(np.abs(inv).max()), "wall_s": float(MPI.Wtime() - t0)}


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
    ap.add_argument("--speed", type=float, default=100.0, help="simulated time units per second")
    ap.add_argument("--poll", type=float, default=2e-4, help="idle sleep in seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the summary to this file")
    return ap


def main(argv=None) -> int:
    """Entry point of ``python -m numopt.decentralized.mpi`` (run under mpiexec)."""
    from mpi4py import MPI

    args = _parser().parse_args(argv)
    summary = run_rank(MPI.COMM_WORLD, args)
    if summary is not None:
        line = json.dumps(summary)
        print(line, flush=True)
        if args.json:
            with open(args.json, "w") as fh:
                fh.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
