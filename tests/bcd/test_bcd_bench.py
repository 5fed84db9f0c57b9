"""The bcd benchmark helpers: one gap judge for every solver, fair timing, honest claims."""

import numpy as np

from numopt.bcd.datasets import synthetic_sparse
from numopt.bench.suite_bcd import claim_verdict, l1_rows


def test_l1_rows_judge_every_solver_by_the_same_gap():
    X, y = synthetic_sparse(120, 40, 1500, loss="logistic", n_informative=5, seed=0)
    curves = {}
    rows = l1_rows("tiny", X, y, "logistic", (0.1,), repeats=2, curves=curves)
    solvers = {r["solver"] for r in rows}
    assert {"numopt", "sklearn liblinear"} <= solvers
    for r in rows:
        assert r["relative gap"] <= 1e-6 and r["best time (s)"] > 0  # every solver reached the target
        assert r["median time (s)"] >= r["best time (s)"]
    ours = next(r for r in rows if r["solver"] == "numopt")
    assert ours["time / numopt (median)"] == 1.0
    for label, (seconds, gaps) in curves.items():
        assert gaps.min() <= 1e-10 or label != "numopt"  # the curve of numopt goes below the floor
        assert np.all(seconds > 0)


def test_claim_holds_only_when_both_runs_reached_the_target():
    assert claim_verdict(None, None) == ("undecided", None)
    assert claim_verdict(10, None)[0] == "undecided"
    assert claim_verdict(100, 100.5)[0] == "tie"
    assert claim_verdict(80, 100) == ("yes", "20.0% fewer")
    assert claim_verdict(120, 100) == ("no", "20.0% more")


def test_interleaved_times_on_the_cpu_clock_time_every_solver_and_refuse_other_clocks():
    import time

    import pytest

    from numopt.bench.suite_bcd import interleaved_times

    class Busy:  # spends about 5 ms of CPU per fit
        def __init__(self, tol):
            self.tol = tol

        def fit(self, X, y):
            t0 = time.process_time()
            while time.process_time() - t0 < 0.005:
                pass
            return self

    times = interleaved_times({"a": Busy, "b": Busy, "c": Busy}, {"a": 1e-3, "b": 1e-4, "c": None}, None, None, 3,
                              clock="cpu")
    assert set(times) == {"a", "b"} and all(t.size == 3 for t in times.values())
    assert all(np.all(t >= 0.005) for t in times.values())  # the CPU time each fit spent, at least
    with pytest.raises(ValueError, match="clock"):
        interleaved_times({"a": Busy}, {"a": 1e-3}, None, None, 1, clock="gpu")
