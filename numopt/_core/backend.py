"""Array backends: ``'numpy'``, ``'numba'`` (CPU kernels) and ``'cupy'`` (GPU).

The backend follows the input array type (a CuPy array selects ``'cupy'``)
unless ``backend=`` says otherwise; on NumPy input the default is ``'numba'``
when Numba imports, else ``'numpy'``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import platform

import numpy as np

from .validate import check_choice

__all__ = [
    "BACKENDS",
    "array_namespace",
    "available_backends",
    "cupy_status",
    "is_gpu_array",
    "resolve_backend",
    "show_config",
    "to_device",
    "to_host",
]

BACKENDS = ("numpy", "numba", "cupy")


@functools.cache
def _import(name: str):
    try:
        return importlib.import_module(name), None
    except Exception as exc:  # ImportError, or a CUDA runtime failure inside cupy
        return None, f"{type(exc).__name__}: {exc}"


@functools.cache
def cupy_status() -> tuple[bool, str]:
    """``(usable, description)``: GPU name when CuPy works, else why not."""
    cupy, err = _import("cupy")
    if cupy is None:
        return False, f"CuPy not installed ({err.splitlines()[0]})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count == 0:
            return False, "CuPy installed but no CUDA device found"
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        return True, f"CuPy {cupy.__version__} on {name} ({count} device(s))"
    except Exception as exc:  # no driver, no device
        return False, f"CuPy {cupy.__version__} installed but unusable: {exc}"


def available_backends() -> list[str]:
    """Backends that work on this machine."""
    out = ["numpy"]
    if _import("numba")[0] is not None:
        out.append("numba")
    if cupy_status()[0]:
        out.append("cupy")
    return out


def is_gpu_array(x) -> bool:
    """True when ``x`` is a CuPy array or a cupyx sparse matrix (the only place that tells).

    Examples
    --------
    >>> import numpy as np
    >>> is_gpu_array(np.zeros(2))
    False
    """
    return type(x).__module__.split(".")[0] in ("cupy", "cupyx")


def resolve_backend(*arrays, backend: str | None = None) -> str:
    """Pick the backend for ``arrays``: explicit ``backend`` wins, else the array type decides.

    Examples
    --------
    >>> import numpy as np
    >>> resolve_backend(np.zeros(3), backend="numpy")
    'numpy'
    """
    on_gpu = any(is_gpu_array(a) for a in arrays)
    if backend is None:
        if on_gpu:
            return "cupy"
        return "numba" if "numba" in available_backends() else "numpy"
    check_choice("backend", backend, BACKENDS)
    if backend not in available_backends():
        reason = cupy_status()[1] if backend == "cupy" else _import(backend)[1]
        raise RuntimeError(f"backend={backend!r} is not available here: {reason}.")
    if on_gpu and backend != "cupy":
        raise ValueError(f"backend={backend!r} was asked for but the input is a CuPy (GPU) array; "
                         "move it to the host with numopt.to_host or use backend='cupy'.")
    return backend


def array_namespace(x):
    """The module (``numpy`` or ``cupy``) that operates on ``x``."""
    if is_gpu_array(x):
        return _import("cupy")[0]
    return np


def to_host(x):
    """Return ``x`` as a NumPy array (copies from the GPU when needed)."""
    return x.get() if is_gpu_array(x) and hasattr(x, "get") else np.asarray(x)


def to_device(x, backend: str):
    """Move ``x`` to where ``backend`` computes (the GPU for ``'cupy'``)."""
    if backend == "cupy":
        import cupy

        return cupy.asarray(x)
    return to_host(x)


def _version(name: str) -> str:
    # Read from the installed metadata: importing jax, cvxpy, ... only to print a version takes seconds.
    try:
        return importlib.metadata.version({"sklearn": "scikit-learn"}.get(name, name))
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def config_info() -> dict[str, str]:
    """What numopt can use here: versions, GPU, MPI, optional peers."""
    import numopt

    info = {
        "numopt": numopt.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scipy": _version("scipy"),
        "numba": _version("numba"),
        "cupy": cupy_status()[1],
        "backends": ", ".join(available_backends()),
    }
    mpi, err = _import("mpi4py")
    if mpi is None:
        info["mpi"] = "mpi4py not installed"
    else:
        try:
            from mpi4py import MPI

            info["mpi"] = f"mpi4py {mpi.__version__}, {MPI.Get_library_version().splitlines()[0].strip()}"
        except Exception as exc:
            info["mpi"] = f"mpi4py {mpi.__version__} installed but MPI failed: {exc}"
    for name in ("jax", "cvxpy", "optiprofiler", "cyipopt", "pyamg", "skglm", "sklearn", "networkx",
                 "matplotlib"):
        info[name] = _version(name)
    return info


def show_config() -> None:
    """Print what numopt can use on this machine (the same as ``numopt info``).

    Examples
    --------
    >>> import numopt
    >>> numopt.show_config()  # doctest: +ELLIPSIS
    numopt ...
    """
    info = config_info()
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key.ljust(width)}  {value}")
