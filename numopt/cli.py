"""The numopt command line: info, data, solve, bench and solver-specific tools."""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

#: Modules that add subcommands: each has ``register_cli(subparsers)``, which adds its parser
#: and sets ``func`` on it. A module whose optional dependencies are missing still registers
#: and reports the missing dependency when the command is run.
EXTRA_COMMANDS: tuple[str, ...] = ("numopt.linalg.dcdm_train",)


def _cmd_info(args) -> int:
    from ._core.backend import show_config

    show_config()
    return 0


def _cmd_bench(args) -> int:
    from .bench import list_suites, run_suites

    if args.list:
        for s in list_suites():
            mode = "quick+full" if s.quick else "full only"
            print(f"{s.name:28s} {s.family:16s} {mode:10s} {s.description}")
        return 0
    _, statuses = run_suites(args.suite or None, quick=not args.full, outdir=args.out,
                             progress=not args.no_progress, seed=args.seed)
    failed = [s for s in statuses if s.startswith("failed")]
    skipped = [s for s in statuses if s.startswith("skipped")]
    if failed or skipped:
        print(f"{len(failed)} suite(s) failed, {len(skipped)} skipped all or part of their runs "
              f"(see the status column of the report).", file=sys.stderr)
    return 1 if failed or (args.strict and skipped) else 0


def _cmd_data(args) -> int:
    from .problems import datasets

    home = datasets.data_folder(args.data_home)
    if args.action == "list":
        print(f"data folder: {home} (set NUMOPT_DATA or --data-home to change it)")
        print(f"{'name':20s} {'present':8s} {'MB':>5s}  source / description")
        for name, info in datasets.CATALOG.items():
            present = "yes" if datasets.is_present(name, home) else "no"
            print(f"{name:20s} {present:8s} {info.download_mb:5.2f}  {info.source}\n{'':36s}{info.description}")
        return 0
    names = list(datasets.CATALOG) if args.names == ["all"] else args.names
    if not names:
        raise ValueError("numopt data fetch needs data set names (or 'all'); see `numopt data list`.")
    for name in names:
        folder = datasets.fetch(name, home, force=args.force)
        print(f"{name}: verified and installed in {folder}")
    return 0


def _cmd_solve(args) -> int:
    import numpy as np

    from . import minimize
    from .problems import cutest

    options = {}
    for item in args.option or []:
        key, _, value = item.partition("=")
        try:
            options[key] = int(value)
        except ValueError:
            try:
                options[key] = float(value)
            except ValueError:
                options[key] = value
    options.setdefault("progress", True)
    problem = cutest.load(args.problem)
    res = minimize(problem, method=args.method, options=options)
    np.set_printoptions(precision=6, threshold=10)
    print(res)
    return 0 if res.success else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="numopt", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="what numopt can use here (numba, CuPy/GPU, MPI, peers)")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("bench", help="run benchmark suites side by side with peers and write a report")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes (default)")
    mode.add_argument("--full", action="store_true", help="the full sizes of the issue/paper")
    p.add_argument("--suite", action="append", help="suite or family name (repeatable); default: all")
    p.add_argument("--out", default="bench-report", help="report folder (default: bench-report)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--list", action="store_true", help="list the suites and exit")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 1 when a suite skipped all or part of its runs")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("data", help="list the data sets numopt uses, or fetch them from their official sources")
    p.add_argument("action", choices=["list", "fetch"], help="list: name, size, source, present or not; "
                   "fetch: download, verify and install")
    p.add_argument("names", nargs="*", help="data sets to fetch ('all' for every one)")
    p.add_argument("--data-home", default=None, help="data folder (default: $NUMOPT_DATA or ~/.cache/numopt)")
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("solve", help="solve a CUTEst problem (through S2MPJ) with a numopt method")
    p.add_argument("problem", help="CUTEst problem name, e.g. HS28")
    p.add_argument("--method", default="adasketch-newton")
    p.add_argument("--option", "-o", action="append", help="solver option key=value (repeatable)")
    p.set_defaults(func=_cmd_solve)

    for name in EXTRA_COMMANDS:
        importlib.import_module(name).register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``numopt`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, OSError, ImportError, RuntimeError) as exc:
        print(f"numopt {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
