"""The MPI runtime: converges, keeps DADAO's invariant exactly, shuts down cleanly, returns the result
contract, stops every rank on StopIteration and prints its help once."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mpi4py")
MPIEXEC = Path(sys.executable).parent / "mpiexec"
ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.mpi,
              pytest.mark.skipif(not MPIEXEC.exists(), reason="no mpiexec next to the Python interpreter")]


def _mpiexec(n, *args, timeout=240):
    cmd = [str(MPIEXEC), "-n", str(n), sys.executable, *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def test_mpi_runtime_four_ranks(tmp_path):
    out = tmp_path / "summary.json"
    proc = _mpiexec(4, "-m", "numopt.decentralized.mpi", "--graph", "cycle", "--t-max", "300", "--speed", "150",
                    "--seed", "0", "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(proc.stdout.strip().splitlines()) == 1  # one summary line, from rank 0
    summary = json.loads(out.read_text())
    assert summary["ranks"] == 4 and not summary["nonfinite"]
    # every request was answered: sent == received on every rank, and the pairwise jumps cancel exactly
    assert summary["messages_per_rank"] == summary["received_per_rank"]
    assert sum(summary["messages_per_rank"]) == 2 * summary["ncomm"]
    assert summary["invariant"] < 1e-12
    assert abs(summary["ngrad"] / (4 * 300) - 1) < 0.15
    assert summary["rel_error"] < 1e-4  # the simulator reaches 1e-6 by t = 300 on this problem
    # the result contract, with the status the final error earns (tol 1e-6 by default)
    assert summary["success"] == (summary["rel_error"] <= 1e-6)
    assert summary["status"] == (0 if summary["success"] else 1) and summary["message"]
    assert summary["nit"] == 100 and summary["time"] > 0 and summary["t"] >= 300


def test_stop_iteration_on_one_rank_stops_every_rank(tmp_path):
    script = tmp_path / "stop.py"
    out = tmp_path / "result.json"
    script.write_text(textwrap.dedent(f"""
        import json
        import numpy as np
        from mpi4py import MPI
        from numopt import OptimizeResult, Status
        from numopt.decentralized.mpi import run_rank, summary

        comm = MPI.COMM_WORLD
        seen = []

        def callback(intermediate_result):
            seen.append(intermediate_result.t)
            if comm.Get_rank() == 1 and intermediate_result.nit == 3:
                raise StopIteration

        res = run_rank(comm, {{"graph": "path", "t_max": 1000.0, "record_every": 10.0, "speed": 200.0}},
                       callback=callback)
        assert isinstance(res, OptimizeResult)
        assert res.status == Status.CALLBACK.code and not res.success, res.message
        assert res.x.shape == (comm.Get_size(), 10)
        if comm.Get_rank() == 0:
            with open({str(out)!r}, "w") as fh:
                json.dump({{**summary(res), "calls": len(seen)}}, fh)
    """))
    proc = _mpiexec(3, str(script))
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    # stopped after about 3 windows of 10 time units, far before t_max = 1000
    assert result["t"] < 200 and result["nit"] < 20 and result["calls"] < 20
    assert result["messages_per_rank"] == result["received_per_rank"] and result["invariant"] < 1e-12


def test_help_is_printed_once():
    proc = _mpiexec(3, "-m", "numopt.decentralized.mpi", "--help", timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("usage:") == 1 and "--t-max" in proc.stdout


def test_usage_error_is_reported_once_with_exit_status_2():
    proc = _mpiexec(2, "-m", "numopt.decentralized.mpi", "--t-max", "soon", timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("invalid float value: 'soon'") == 1
