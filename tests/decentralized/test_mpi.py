"""The MPI runtime with 4 ranks: converges, keeps DADAO's invariant exactly, shuts down cleanly."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mpi4py")
MPIEXEC = Path(sys.executable).parent / "mpiexec"


@pytest.mark.mpi
@pytest.mark.skipif(not MPIEXEC.exists(), reason="no mpiexec next to the Python interpreter")
def test_mpi_runtime_four_ranks(tmp_path):
    out = tmp_path / "summary.json"
    cmd = [str(MPIEXEC), "-n", "4", sys.executable, "-m", "numopt.decentralized.mpi", "--graph", "cycle",
           "--t-max", "300", "--speed", "150", "--seed", "0", "--json", str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(out.read_text())
    assert summary["ranks"] == 4 and not summary["nonfinite"]
    # every request was answered: sent == received on every rank, and the pairwise jumps cancel exactly
    assert summary["messages_per_rank"] == summary["received_per_rank"]
    assert sum(summary["messages_per_rank"]) == 2 * summary["ncomm"]
    assert summary["invariant"] < 1e-12
    assert abs(summary["ngrad"] / (4 * 300) - 1) < 0.15
    assert summary["rel_error"] < 1e-4  # the simulator reaches 1e-6 by t = 300 on this problem
