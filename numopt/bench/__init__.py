"""Benchmark suites run by ``numopt bench``: registry, run context and runner.

A suite is a function decorated with :func:`suite`; it receives a
:class:`BenchContext` and reports through ``ctx.table``, ``ctx.figure`` and
``ctx.text``. Suites live in modules named ``numopt/bench/suite_*.py`` and are
found automatically. A suite that cannot run at all (missing peer library or
data) calls ``ctx.skip(reason)``; one that runs only some of its parts calls
``ctx.skip_part(reason)`` for each part left out. Either way the report says
``skipped: <reason>`` for that suite, never ``ok``. A suite that raises is
recorded as ``failed: <error>`` and the other suites still run.

Every run updates ``<out>/index.json`` and rewrites ``<out>/report.md`` from it,
so running one suite replaces that suite's section and keeps the others.

Examples
--------
>>> from numopt.bench import list_suites
>>> "cutest-baseline" in [s.name for s in list_suites()]
True
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .report import markdown_table, record_suite, write_report

__all__ = ["BenchContext", "SuiteSkipped", "list_suites", "run_suites", "suite"]


class SuiteSkipped(Exception):
    """Raised by :meth:`BenchContext.skip`: the suite cannot run here (missing peer, data)."""


@dataclass
class Suite:
    name: str
    family: str
    func: Callable
    description: str
    quick: bool = True


_REGISTRY: dict[str, Suite] = {}


def suite(name: str, family: str, *, quick: bool = True):
    """Register a benchmark suite; ``quick=False`` keeps it out of ``numopt bench --quick``."""

    def deco(func):
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Suite(name, family, func, doc[0] if doc else "", quick)
        return func

    return deco


def _discover() -> None:
    package = Path(__file__).parent
    for info in pkgutil.iter_modules([str(package)]):
        if info.name.startswith("suite_"):
            importlib.import_module(f"{__name__}.{info.name}")


def list_suites() -> list[Suite]:
    """Every registered suite, sorted by family then name."""
    _discover()
    return sorted(_REGISTRY.values(), key=lambda s: (s.family, s.name))


@dataclass
class BenchContext:
    """What a suite gets: mode, output folder, and the means to report.

    Attributes
    ----------
    quick : bool
        Small sizes that finish in a minute or two.
    outdir : pathlib.Path
        Folder of this suite's files (figures, raw results).
    progress : bool
        Show tqdm progress bars.
    seed : int
        Base seed for every random choice in the suite.
    """

    quick: bool
    outdir: Path
    progress: bool = True
    seed: int = 0
    echo: bool = True
    sections: list = field(default_factory=list)
    skipped_parts: list = field(default_factory=list)

    def table(self, title: str, rows: list[dict], columns: list[str] | None = None) -> None:
        """Add a table (a list of dicts, one per row); it is also printed when ``echo`` is on."""
        md = markdown_table(rows, columns)
        self.sections.append(("table", title, md))
        if self.echo:
            print(f"\n### {title}\n\n{md}\n", flush=True)

    def figure(self, title: str, fig, name: str) -> Path:
        """Save a matplotlib figure as ``name``.png in the suite folder and link it in the report."""
        import matplotlib.pyplot as plt

        self.outdir.mkdir(parents=True, exist_ok=True)
        path = self.outdir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.sections.append(("figure", title, path))
        return path

    def text(self, markdown: str) -> None:
        """Add a paragraph of Markdown."""
        self.sections.append(("text", "", markdown))
        if self.echo:
            print(markdown, flush=True)

    def skip(self, reason: str):
        """Stop this suite and record why (for example a missing peer library)."""
        raise SuiteSkipped(reason)

    def skip_part(self, reason: str) -> None:
        """Record that a part of this suite did not run (the suite goes on); the status says so."""
        self.skipped_parts.append(reason)
        if self.echo:
            print(f"  skipped: {reason}", flush=True)

    @property
    def status(self) -> str:
        """``'ok'``, or ``'skipped: ...'`` listing the parts that did not run."""
        return f"skipped: {'; '.join(self.skipped_parts)}" if self.skipped_parts else "ok"


def run_suites(names: list[str] | None = None, *, quick: bool = True, outdir: str | Path = "bench-report",
               progress: bool = True, seed: int = 0, echo: bool = True) -> tuple[Path, list[str]]:
    """Run the selected suites (all quick ones by default) and merge them into ``outdir/report.md``.

    Returns the report's path and the status of each suite run (``'ok'``, ``'skipped: ...'`` or
    ``'failed: ...'``), in run order.
    """
    from .._core.validate import check_choice

    suites = list_suites()
    if names:
        valid = [s.name for s in suites] + sorted({s.family for s in suites})
        for n in names:
            check_choice("suite", n, valid)
        suites = [s for s in suites if s.name in names or s.family in names]
    elif quick:
        suites = [s for s in suites if s.quick]
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    statuses = []
    for s in suites:
        if echo:
            print(f"\n## {s.name} ({s.family}): {s.description}", flush=True)
        ctx = BenchContext(quick=quick, outdir=outdir / s.name, progress=progress, seed=seed, echo=echo)
        t0 = time.perf_counter()
        try:
            s.func(ctx)
            status = ctx.status
        except SuiteSkipped as exc:
            status = f"skipped: {'; '.join([*ctx.skipped_parts, str(exc)])}"
            if echo:
                print(f"  skipped: {exc}", flush=True)
        except Exception as exc:  # noqa: BLE001 - one broken suite must not hide the others' results
            status = f"failed: {type(exc).__name__}: {exc}"
            if echo:
                print(f"  {status}", flush=True)
        record_suite(outdir, s, ctx, status, time.perf_counter() - t0, quick=quick)
        statuses.append(status)
    path = write_report(outdir)
    if echo:
        print(f"\nReport written to {path}", flush=True)
    return path, statuses
