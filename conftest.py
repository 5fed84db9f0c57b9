"""Test collection rules shared by the tests, the doctests and the notebooks."""

import os
from pathlib import Path

import numpy as np
import pytest

_here = Path(__file__).parent
os.environ.setdefault("NUMOPT_DATA", str((_here.parent / "shared" / "data").resolve()))
os.environ.setdefault("MPLBACKEND", "Agg")

try:
    import cupy  # noqa: F401

    _have_cupy = cupy.cuda.runtime.getDeviceCount() > 0
except Exception:
    _have_cupy = False

# GPU kernels import CuPy at module level: their doctests only run where a GPU is present.
collect_ignore_glob = [] if _have_cupy else ["numopt/**/*_gpu.py", "numopt/**/_gpu.py"]
# Adapters to peers of the `bench` extra: their examples run only where the peer is installed.
for _module, _path in (("dagma", "numopt/causal/peers.py"),):
    try:
        __import__(_module)
    except ImportError:
        collect_ignore_glob.append(_path)
# Entry points that run on import.
collect_ignore_glob += ["numopt/__main__.py", "numopt/**/__main__.py"]


# Items that read the real data sets of $NUMOPT_DATA (LIBSVM, MovieLens, Sachs): on a fresh clone without
# them (and without a network to download them) they are skipped with a message saying where to put them.
_DATA_ITEMS = {
    "libsvm": ("test_libsvm_rows_split_over_nodes", "decentralized.problem.libsvm_problem",
               "constrained_logistic.load", "libsvm.py::numopt.problems.libsvm",
               "libsvm.load", "constrained_newton.ipynb"),
    "movielens": ("completion_data.movielens",),
    "sachs": ("sachs.load_sachs", "dag_learning.ipynb"),
}


def _have_data(folder: str) -> bool:
    path = Path(os.environ["NUMOPT_DATA"]) / folder
    return path.is_dir() and any(path.iterdir())


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU with CuPy")
    missing = {folder for folder in _DATA_ITEMS if not _have_data(folder)}
    for item in items:
        if "gpu" in item.keywords and not _have_cupy:
            item.add_marker(skip_gpu)
        for folder in missing:
            if any(item.nodeid.endswith(name) for name in _DATA_ITEMS[folder]):
                item.add_marker(pytest.mark.skip(
                    reason=f"needs the {folder} data in $NUMOPT_DATA/{folder} (see README, 'Data sets')"))


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
