"""Low-rank matrix completion by exact and robust (approximate-update) alternating minimization.

``complete(rows, cols, values, shape, rank, method='robust' | 'exact')`` returns the
factors ``U``, ``V`` of ``M ~ U V^T`` and diagnostics; :class:`MatrixCompleter` is the
scikit-learn regressor on ``(row id, column id)`` pairs for ratings (mean and biases, validated
ridge, clipped predictions). Observed entries are kept in CSR form by rows and by
columns (never a dense mask); per-row regressions run as Numba kernels (``prange``
over rows) or as batched CuPy solves on a GPU.
"""

from .altmin import AltMin, complete
from .estimator import MatrixCompleter, observed_entries
from .metrics import heldout_rmse, relative_error
from .observations import Observations, observations
from .selection import select_rank
from .spectral import randomized_svd, spectral_init

__all__ = [
    "AltMin",
    "MatrixCompleter",
    "Observations",
    "complete",
    "heldout_rmse",
    "observations",
    "observed_entries",
    "randomized_svd",
    "relative_error",
    "select_rank",
    "spectral_init",
]
