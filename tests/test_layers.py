"""The layers point one way: families use the shared layers, never each other's private names.

- ``numopt.problems`` depends only on the shared layers (``_core``, ``oracles``, ``losses``, ``linalg``).
- No module imports a private name (or a private module) of another family. The shared layers' private
  Numba kernels (e.g. ``numopt.losses._kernels``) are meant to be called from the families' kernels.
- The shared layers import no solver family.
- The benchmark suites (``numopt.bench`` and ``benchmarks/``) use public names only, except the kernel
  micro-benchmarks listed in ``KERNEL_BENCHMARKS``, whose subject is a private Numba/CuPy kernel itself.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "numopt"
SHARED = {"_core", "oracles", "losses", "linalg"}
#: (file, private module) pairs allowed because the benchmark times that kernel directly.
KERNEL_BENCHMARKS = {
    ("numopt/bench/suite_bcd.py", "bcd._kernels"),  # tree-elimination solve time per block size
    ("numopt/bench/suite_causal.py", "causal._kernels"),  # one swap's incremental update vs refits
    ("benchmarks/gpu_speedups.py", "completion._kernels"),  # CPU side of the GPU-vs-CPU kernel ratios
    ("benchmarks/gpu_speedups.py", "completion._gpu"),
    ("benchmarks/gpu_speedups.py", "causal._kernels"),
    ("benchmarks/gpu_speedups.py", "causal._gpu"),
    ("benchmarks/test_causal.py", "causal._kernels"),
    ("benchmarks/test_decentralized.py", "decentralized._kernels"),  # the event-simulation kernel
}
FAMILIES = {"bcd", "bilevel", "causal", "completion", "constrained", "decentralized", "tuning"}


def _package(module_path: Path, root: Path) -> str:
    if not module_path.is_relative_to(root):
        return "bench"  # the pytest-benchmark suites in benchmarks/
    rel = module_path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else ""


def _imports(path: Path, root: Path):
    """(target module parts, imported names, line) of every numopt import in ``path``."""
    tree = ast.parse(path.read_text())
    here = list(path.relative_to(root.parent).with_suffix("").parts) if path.is_relative_to(root) else []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "numopt":
                target = node.module.split(".")
            else:
                continue
            yield target, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "numopt":
                    yield alias.name.split("."), [], node.lineno


def _violations(root: Path = ROOT):
    found = []
    for path in sorted(root.rglob("*.py")) + sorted((root.parent / "benchmarks").glob("*.py")):
        own = _package(path, root)
        for target, names, line in _imports(path, root):
            other = target[1] if len(target) > 1 else ""
            where = f"{path.relative_to(root.parent)}:{line}"
            if own == "problems" and other in FAMILIES:
                found.append(f"{where}: problems imports the {other} family")
            if own in SHARED and other in FAMILIES:
                found.append(f"{where}: shared layer {own} imports the {other} family")
            if other in FAMILIES and other != own:
                private = [p for p in target[2:] if p.startswith("_")] + [n for n in names if n.startswith("_")]
                rel = str(path.relative_to(root.parent))
                if own == "bench" and all((rel, f"{other}.{p}") in KERNEL_BENCHMARKS for p in private):
                    continue
                if private:
                    found.append(f"{where}: {own or 'numopt'} imports private {private} of {other}")
    return found


def test_layers_point_one_way():
    violations = _violations()
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("source, message", [
    ("from numopt.bcd._kernels import row_loss\n", "imports private ['_kernels'] of bcd"),
    ("from ..bilevel import minimize_bilevel\n", "problems imports the bilevel family"),
])
def test_the_checker_finds_violations(tmp_path, source, message):
    fake = tmp_path / "numopt"
    (fake / "problems").mkdir(parents=True)
    (fake / "problems" / "bad.py").write_text(source)
    assert any(message in v for v in _violations(fake))
