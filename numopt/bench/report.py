"""Report writing for ``numopt bench``: Markdown tables, performance profiles, convergence plots."""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import numpy as np

__all__ = ["convergence_plot", "markdown_table", "performance_profile", "record_suite", "write_report"]


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.2e}"
        return f"{v:.4g}"
    return str(value).replace("|", "\\|")


def markdown_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table of ``rows`` (dicts), columns in first-seen order.

    Examples
    --------
    >>> print(markdown_table([{"solver": "a", "time": 0.5}, {"solver": "b", "time": 2.0}]))
    | solver | time |
    | --- | --- |
    | a | 0.5 |
    | b | 2 |
    """
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def performance_profile(costs: dict[str, list[float]], *, title: str = "", xlabel: str = "tau",
                        ax=None):
    """Dolan-Moré performance profile of solvers on a common problem set.

    ``costs[solver][p]`` is the cost (time, iterations) of ``solver`` on problem
    ``p``, with ``inf`` or ``nan`` for a failure. For each solver the curve is the
    fraction of problems solved within a factor ``tau`` of the best solver.
    Returns the matplotlib figure.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    names = list(costs)
    C = np.array([[np.inf if (c is None or not np.isfinite(c)) else max(float(c), 1e-12) for c in costs[n]]
                  for n in names])
    best = C.min(axis=0)
    solvable = np.isfinite(best)
    ratios = np.where(np.isfinite(C) & solvable, C / np.where(solvable, best, 1.0), np.inf)
    finite = ratios[np.isfinite(ratios)]
    tau_max = max(2.0, float(finite.max()) * 1.1) if finite.size else 2.0
    taus = np.logspace(0, np.log10(tau_max), 200)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    nprob = max(C.shape[1], 1)
    for name, r in zip(names, ratios):
        frac = [(r <= t).sum() / nprob for t in taus]
        ax.step(taus, frac, where="post", label=name)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of problems")
    ax.set_title(title or "Performance profile")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def convergence_plot(curves: dict[str, tuple], *, xlabel: str, ylabel: str, title: str = "", logy=True):
    """One line per entry of ``curves`` (label -> (x values, y values)); returns the figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (xs, ys) in curves.items():
        ax.plot(xs, ys, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def record_suite(outdir: Path, suite, ctx, status: str, seconds: float, *, quick: bool) -> None:
    """Save one suite's section as ``outdir/<suite>/section.md`` and its row in ``outdir/index.json``."""
    from .. import __version__
    from .._core.backend import config_info

    outdir = Path(outdir)
    lines = [f"## {suite.name}", "", suite.description, ""]
    if status != "ok":
        lines += [f"_{status}_", ""]
    for kind, title, payload in ctx.sections:
        if kind == "table":
            lines += [f"### {title}", "", payload, ""]
        elif kind == "figure":
            rel = Path(payload).relative_to(outdir)
            lines += [f"### {title}", "", f"![{title}]({rel.as_posix()})", ""]
        else:
            lines += [payload, ""]
    folder = outdir / suite.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "section.md").write_text("\n".join(lines))
    index = _read_index(outdir)
    info = config_info()
    index[suite.name] = {
        "family": suite.family, "status": status, "seconds": round(seconds, 1),
        "mode": "quick" if quick else "full",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "versions": f"numopt {__version__}, numpy {info['numpy']}, scipy {info['scipy']}, numba {info['numba']}",
        "backends": f"{info['backends']}; GPU: {info['cupy']}",
    }
    (outdir / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True))


def _read_index(outdir: Path) -> dict:
    path = Path(outdir) / "index.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}


def write_report(outdir: Path) -> Path:
    """Write ``outdir/report.md`` from every suite recorded in ``outdir/index.json``; returns its path."""
    outdir = Path(outdir)
    index = _read_index(outdir)
    names = sorted(index, key=lambda n: (index[n]["family"], n))
    environments = sorted({f"{e['versions']}; backends: {e['backends']}" for e in index.values()})
    lines = ["# numopt benchmark report", ""]
    lines += [f"- {env}" for env in environments]
    lines += ["", "| suite | family | mode | status | seconds | date |", "| --- | --- | --- | --- | --- | --- |"]
    for n in names:
        e = index[n]
        status = e["status"].replace("|", "\\|")
        lines.append(f"| {n} | {e['family']} | {e['mode']} | {status} | {e['seconds']:.1f} | {e['date']} |")
    for n in names:
        section = outdir / n / "section.md"
        if section.is_file():
            lines += ["", section.read_text()]
    path = outdir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
