"""Array backends: which ones this machine has, which one an array belongs to, and moving data between them.

``backend=None`` everywhere in numopt means "follow the input arrays": CuPy input runs on the GPU,
NumPy input on the CPU (with Numba kernels where a family has them).

Examples
--------
>>> import numpy as np
>>> from numopt.backends import array_namespace, available_backends, is_gpu_array
>>> array_namespace(np.ones(2)).__name__, is_gpu_array(np.ones(2))
('numpy', False)
>>> "numpy" in available_backends()
True
"""

from ._core import backend as _backend
from ._core.backend import *  # noqa: F403 - this module is the public face of numopt._core.backend

__all__ = list(_backend.__all__)
