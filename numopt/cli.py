"""The ``numopt`` command: ``info``, ``solve``, ``bench`` and solver-specific tools."""

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
    run_suites(args.suite or None, quick=not args.full, outdir=args.out, progress=not args.no_progress,
               seed=args.seed)
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
    p.set_defaults(func=_cmd_bench)

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
    except (ValueError, TypeError, FileNotFoundError, ImportError, RuntimeError) as exc:
        print(f"numopt {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
