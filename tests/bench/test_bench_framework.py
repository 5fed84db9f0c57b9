"""Suite registry, runner and report writer of ``numopt bench``."""

import numpy as np
import pytest

import numopt.bench as bench
from numopt.bench import BenchContext, list_suites, run_suites, suite
from numopt.bench.report import convergence_plot, markdown_table, performance_profile
from numopt.cli import main


def test_markdown_table_formats_values():
    text = markdown_table([{"solver": "a|b", "ok": True, "t": 1.23456e-5, "n": np.int64(3)},
                           {"solver": "c", "extra": float("nan")}])
    lines = text.splitlines()
    assert lines[0] == "| solver | ok | t | n | extra |"
    assert lines[2] == "| a\\|b | yes | 1.23e-05 | 3 |  |"
    assert lines[3] == "| c |  |  |  | nan |"
    assert markdown_table([{"a": 1}], columns=["b"]).splitlines()[-1] == "|  |"


def test_performance_profile_writes_png(tmp_path):
    fig = performance_profile({"fast": [1.0, 2.0, np.inf], "slow": [2.0, 2.0, 5.0]}, title="t")
    ax = fig.axes[0]
    fast, slow = (line.get_ydata() for line in ax.get_lines())
    # tau = 1: fast is best on problems 1 and 2 (a tie), slow on 2 and 3; fast never solves problem 3
    assert fast[0] == pytest.approx(2 / 3) and fast[-1] == pytest.approx(2 / 3)
    assert slow[0] == pytest.approx(2 / 3) and slow[-1] == pytest.approx(1.0)
    ctx = BenchContext(quick=True, outdir=tmp_path, echo=False)
    path = ctx.figure("profile", fig, "profile")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ctx.figure("curves", convergence_plot({"a": ([0, 1], [1.0, 0.1])}, xlabel="it", ylabel="r"), "curves")
    assert (tmp_path / "curves.png").exists()


@pytest.fixture
def dummy_suites():
    @suite("test-dummy", family="testing")
    def dummy(ctx):
        """A dummy suite."""
        ctx.table("numbers", [{"mode": "quick" if ctx.quick else "full", "seed": ctx.seed}])
        ctx.text("some *text*")

    @suite("test-skipping", family="testing", quick=False)
    def skipping(ctx):
        """Always skips."""
        ctx.skip("peer missing")

    @suite("test-partial", family="testing", quick=False)
    def partial(ctx):
        """Runs one part, skips the other."""
        ctx.table("part one", [{"x": 1}])
        ctx.skip_part("part two needs the MovieLens data")

    @suite("test-broken", family="testing", quick=False)
    def broken(ctx):
        """Raises."""
        raise RuntimeError("boom")

    yield
    for name in ("test-dummy", "test-skipping", "test-partial", "test-broken"):
        bench._REGISTRY.pop(name)


def test_registry_lists_the_cutest_baseline():
    names = [s.name for s in list_suites()]
    assert "cutest-baseline" in names


def test_run_suites_writes_report(tmp_path, dummy_suites, capsys):
    path, statuses = run_suites(["testing"], quick=False, outdir=tmp_path, progress=False, seed=7)
    report = path.read_text()
    assert "| test-dummy | testing | full | ok |" in report
    assert "| test-skipping | testing | full | skipped: peer missing |" in report
    assert "| test-partial | testing | full | skipped: part two needs the MovieLens data |" in report
    assert "| test-broken | testing | full | failed: RuntimeError: boom |" in report
    assert "| full | 7 |" in report and "some *text*" in report and "### part one" in report
    assert sorted(statuses) == sorted(["ok", "skipped: peer missing", "failed: RuntimeError: boom",
                                       "skipped: part two needs the MovieLens data"])
    out = capsys.readouterr().out
    assert "### numbers" in out and "skipped: peer missing" in out


def test_running_one_suite_merges_into_the_existing_report(tmp_path, dummy_suites):
    run_suites(["test-dummy", "test-skipping"], quick=False, outdir=tmp_path, echo=False)
    path, _ = run_suites(["test-dummy"], quick=True, outdir=tmp_path, echo=False)
    report = path.read_text()
    assert "| test-dummy | testing | quick | ok |" in report
    assert "| test-skipping | testing | full | skipped: peer missing |" in report
    assert report.count("## test-dummy") == 1 and "| quick | 0 |" in report


def test_cli_bench_strict_exits_nonzero_when_something_was_skipped(tmp_path, dummy_suites, capsys):
    args = ["bench", "--suite", "test-partial", "--out", str(tmp_path), "--no-progress"]
    assert main(args) == 0
    assert main([*args, "--strict"]) == 1
    assert "skipped all or part" in capsys.readouterr().err
    assert main(["bench", "--suite", "test-broken", "--out", str(tmp_path)]) == 1


def test_quick_run_leaves_out_full_only_suites(tmp_path, dummy_suites):
    selected = [s.name for s in list_suites() if s.quick]
    assert "test-dummy" in selected and "test-skipping" not in selected


def test_unknown_suite_lists_close_matches(tmp_path, dummy_suites):
    with pytest.raises(ValueError, match="suite='test-dumy' is not valid.*Did you mean 'test-dummy'"):
        run_suites(["test-dumy"], outdir=tmp_path, echo=False)
