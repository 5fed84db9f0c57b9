"""LIBSVM data sets: an svmlight reader, a registry of binary data sets, and problems built on them.

Files are looked up in ``$NUMOPT_DATA`` (default ``~/.cache/numopt``), either in
that folder or in its ``libsvm/`` subfolder, plain or gzip-compressed
(``a9a`` or ``a9a.gz``). A registered data set that is missing is downloaded
from the LIBSVM site (https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/)
into ``$NUMOPT_DATA/libsvm/`` when the network allows; otherwise the error
says where to put the file. Every registered file is checked against its
expected shape when loaded.

On top of the data: :func:`logistic_regression` and :func:`least_squares`
(smooth, with exact gradient, Hessian and Hessian-vector product) and
:func:`l1_regularized`, which pairs a smooth problem with an L1 penalty
``lam * ||w||_1`` and its proximal map. These problems run under
``numopt.minimize(..., method='bcd')`` (L1 least squares and L1 logistic
regression by block coordinate descent) and under the smooth solvers.

Examples
--------
>>> X, y = load("heart_scale")
>>> X.shape, np.unique(y).tolist()
((270, 13), [-1.0, 1.0])
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .._core.validate import check_positive, close_matches
from ..losses import GLM
from ..oracles import Problem, ScalarFunction, UnconstrainedProblem
from .datasets import LIBSVM_URL, DownloadError, data_folder, fetch

__all__ = [
    "DATASETS",
    "DataFitProblem",
    "DatasetInfo",
    "L1Problem",
    "data_folder",
    "l1_regularized",
    "least_squares",
    "load",
    "logistic_regression",
    "read_svmlight",
]

@dataclass(frozen=True)
class DatasetInfo:
    """A registered LIBSVM data set: file name and expected shape.

    Examples
    --------
    >>> DATASETS["a9a"].n_features, DATASETS["a9a"].url.endswith("binary/a9a")
    (123, True)
    """

    filename: str
    n_samples: int
    n_features: int
    description: str

    @property
    def url(self) -> str:
        """Where the LIBSVM site serves the file."""
        return LIBSVM_URL + self.filename


#: Binary classification sets of the LIBSVM page, with their shapes (rows x features).
DATASETS: dict[str, DatasetInfo] = {
    "a9a": DatasetInfo("a9a", 32561, 123, "UCI Adult (Platt), training split"),
    "a9a.t": DatasetInfo("a9a.t", 16281, 123, "UCI Adult (Platt), test split (feature 123 unused)"),
    "w8a": DatasetInfo("w8a", 49749, 300, "Platt's web-page data"),
    "mushrooms": DatasetInfo("mushrooms", 8124, 112, "UCI Mushroom, one-hot"),
    "phishing": DatasetInfo("phishing", 11055, 68, "UCI Phishing Websites"),
    "ionosphere_scale": DatasetInfo("ionosphere_scale", 351, 34, "UCI Ionosphere, scaled to [-1, 1]"),
    "sonar_scale": DatasetInfo("sonar_scale", 208, 60, "UCI Sonar, scaled to [-1, 1]"),
    "splice_scale": DatasetInfo("splice_scale", 1000, 60, "splice-junction training set, scaled"),
    "australian_scale": DatasetInfo("australian_scale", 690, 14, "Statlog Australian credit, scaled"),
    "heart_scale": DatasetInfo("heart_scale", 270, 13, "Statlog Heart, scaled"),
    "breast-cancer_scale": DatasetInfo("breast-cancer_scale", 683, 10, "Wisconsin Breast Cancer, scaled"),
    "diabetes_scale": DatasetInfo("diabetes_scale", 768, 8, "Pima Indians Diabetes, scaled"),
    "german.numer": DatasetInfo("german.numer", 1000, 24, "Statlog German credit, numeric, unscaled"),
}


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _parse_line(line: str):
    """(label, indices, values) of one svmlight line, or None for a blank/comment line."""
    line = line.split("#", 1)[0].strip()
    if not line:
        return None
    tokens = line.split()
    try:
        label = float(tokens[0])
    except ValueError:
        raise ValueError(f"the label {tokens[0]!r} is not a number") from None
    idx, val = [], []
    for tok in tokens[1:]:
        key, sep, value = tok.partition(":")
        if not sep:
            raise ValueError(f"token {tok!r} is not of the form index:value")
        if key == "qid":
            continue
        try:
            i, v = int(key), float(value)
        except ValueError:
            raise ValueError(f"token {tok!r} is not of the form <integer index>:<number>") from None
        if i < 1:
            raise ValueError(f"feature index {i} in {tok!r}; LIBSVM indices start at 1")
        if idx and i - 1 <= idx[-1]:
            problem = "repeated" if i - 1 == idx[-1] or i - 1 in idx else "out of increasing order"
            raise ValueError(f"feature index {i} in {tok!r} is {problem}; indices must increase along a line")
        idx.append(i - 1)
        val.append(v)
    if not np.isfinite(label) or not np.all(np.isfinite(val)):
        raise ValueError("NaN or inf in the label or a feature value")
    return label, idx, val


def _lines(path: Path):
    """Numbered text lines of ``path``, with errors that name the file (bad gzip, bad UTF-8)."""
    try:
        with _open_text(path) as fh:
            yield from enumerate(fh, start=1)
    except (OSError, EOFError) as exc:
        if path.suffix == ".gz":
            raise ValueError(f"{path} is not a valid gzip file ({exc}); expected a gzip-compressed "
                             "svmlight file.") from None
        raise
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} "
                         f"at offset {exc.start} of a read block); expected an svmlight text file.") from None


def read_svmlight(path: str | os.PathLike, n_features: int | None = None):
    """Read an svmlight/LIBSVM file (plain or ``.gz``) into a CSR matrix and a label vector.

    Parameters
    ----------
    path : path-like
        File with lines ``<label> <index>:<value> ...`` (1-based indices;
        ``# comments`` and ``qid:`` tokens are ignored, blank lines skipped).
    n_features : int, optional
        Number of columns; by default the largest index found. A file that
        uses a larger index is an error.

    Returns
    -------
    X : scipy.sparse.csr_matrix of float64, shape (n_samples, n_features)
    y : numpy.ndarray of float64, the labels as written in the file

    Raises
    ------
    ValueError
        On a malformed line (including a feature index repeated or out of order on one line), with
        the file name and the line number; on a file with no data lines, a ``.gz`` file that is not
        gzip, or text that is not UTF-8.
    FileNotFoundError
        If ``path`` is not a file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.svm"
    >>> _ = path.write_text("+1 1:0.5 3:2\\n-1 2:1\\n")
    >>> X, y = read_svmlight(path)
    >>> X.toarray(), y
    (array([[0.5, 0. , 2. ],
           [0. , 1. , 0. ]]), array([ 1., -1.]))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path={str(path)!r} does not exist or is not a file.")
    labels, indptr, indices, values = [], [0], [], []
    for lineno, line in _lines(path):
        try:
            parsed = _parse_line(line)
        except ValueError as exc:
            shown = line.strip()
            shown = shown if len(shown) <= 120 else shown[:117] + "..."
            raise ValueError(f"{path}: line {lineno} is not valid svmlight ({exc}): {shown!r}") from None
        if parsed is None:
            continue
        label, idx, val = parsed
        labels.append(label)
        indices.extend(idx)
        values.extend(val)
        indptr.append(len(indices))
    if not labels:
        raise ValueError(f"{path} holds no data lines; expected lines '<label> <index>:<value> ...'.")
    indices_arr = np.asarray(indices, dtype=np.int64)
    width = int(indices_arr.max()) + 1 if indices_arr.size else 0
    if n_features is None:
        n_features = width
    elif width > n_features:
        raise ValueError(f"{path} uses feature index {width}, but n_features={n_features}.")
    X = sp.csr_matrix((np.asarray(values, dtype=np.float64), indices_arr, np.asarray(indptr, dtype=np.int64)),
                      shape=(len(labels), n_features))
    return X, np.asarray(labels, dtype=np.float64)


def _find(name: str, home: Path) -> Path | None:
    for folder in (home, home / "libsvm"):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def load(name: str, *, data_home: str | os.PathLike | None = None, download: bool = True):
    """Load a registered LIBSVM binary data set with labels in {-1, +1}.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS` (for example ``'a9a'``, ``'w8a'``, ``'mushrooms'``).
    data_home : path-like, optional
        Folder to read from (default ``$NUMOPT_DATA``, else ``~/.cache/numopt``);
        the file may sit in it or in its ``libsvm/`` subfolder, plain or ``.gz``.
    download : bool
        Fetch a missing file from the LIBSVM site into ``data_home/libsvm/``.

    Returns
    -------
    X : scipy.sparse.csr_matrix of float64, shape (n_samples, n_features)
        ``n_features`` is the registered width (``a9a.t`` gets 123 columns, like ``a9a``).
    y : numpy.ndarray of float64
        The two labels of the file mapped to -1 (the smaller) and +1 (the larger).

    Examples
    --------
    >>> X, y = load("a9a.t")
    >>> X.shape
    (16281, 123)
    """
    if name not in DATASETS:
        hint = close_matches(name, DATASETS, n=5)
        extra = f" Close matches: {', '.join(hint)}." if hint else ""
        raise ValueError(f"Unknown LIBSVM data set {name!r}.{extra} Registered: {', '.join(sorted(DATASETS))}.")
    meta = DATASETS[name]
    home = data_folder(data_home)
    path = _find(meta.filename, home)
    if path is None:
        where = f"{home / 'libsvm' / meta.filename} (or {meta.filename}.gz, or directly in {home})"
        if not download:
            raise FileNotFoundError(f"LIBSVM data set {name!r} not found. Put the file at {where}; "
                                    f"it is served at {meta.url}. Set NUMOPT_DATA to use another folder.")
        try:
            fetch(name, home)
        except DownloadError as exc:
            raise FileNotFoundError(f"LIBSVM data set {name!r} not found and the download failed ({exc}). "
                                    f"Put the file at {where}; set NUMOPT_DATA to use another folder.") from exc
        path = _find(meta.filename, home)
    X, y = read_svmlight(path, n_features=meta.n_features)
    if X.shape != (meta.n_samples, meta.n_features):
        raise ValueError(f"{path} holds a {X.shape[0]} x {X.shape[1]} data set; {name!r} should be "
                         f"{meta.n_samples} x {meta.n_features} (a truncated file or another version?).")
    return X, _binary_labels(y, path)


def _binary_labels(y: np.ndarray, path) -> np.ndarray:
    classes = np.unique(y)
    if classes.size != 2:
        raise ValueError(f"{path} has {classes.size} distinct labels ({classes[:5]}); expected a binary data set.")
    return np.where(y == classes[1], 1.0, -1.0)


# ---------------------------------------------------------------------------------------------
# Problems built on a data matrix
# ---------------------------------------------------------------------------------------------


class DataFitProblem(UnconstrainedProblem):
    """Smooth empirical risk ``(1/N) sum_i loss(x_i^T w, y_i) + (l2/2) ||w||^2`` on data ``(X, y)``.

    The oracle is a :class:`numopt.losses.GLM` (kept as ``glm``). Besides it the problem
    keeps ``X``, ``y``, ``loss`` (``'logistic'`` or ``'squared'``) and ``l2``, and gives
    curvature bounds that coordinate and first-order methods use: :meth:`lipschitz` (of the
    whole gradient) and :meth:`coordinate_lipschitz` (of each partial derivative).

    Examples
    --------
    >>> p = least_squares(np.array([[1.0, 0.0], [0.0, 2.0]]), np.zeros(2))
    >>> p.loss, p.coordinate_lipschitz(), round(p.lipschitz(), 6)
    ('squared', array([0.5, 2. ]), 2.0)
    """

    def __init__(self, glm: GLM, name: str):
        objective = ScalarFunction(glm.value, grad=glm.grad, hess=glm.hess, hessp=glm.hessp)
        super().__init__(objective, n=glm.n_variables, x0=np.zeros(glm.n_variables), name=name)
        self.glm = glm
        self.X, self.y, self.loss, self.l2 = glm.X, glm.y, glm.loss, glm.l2

    @property
    def capabilities(self):
        return self.objective.capabilities | {"glm"}

    def coordinate_lipschitz(self) -> np.ndarray:
        """L_j = c ||X[:, j]||^2 / N + l2 (c = 1/4 for logistic, 1 for squared loss)."""
        return self.glm.coordinate_lipschitz()

    def lipschitz(self) -> float:
        """c ||X||_2^2 / N + l2, the spectral norm exact for small dense X, else from ``svds``."""
        return self.glm.lipschitz()


def logistic_regression(X, y, l2: float = 0.0) -> DataFitProblem:
    """Mean logistic loss ``(1/N) sum_i log(1 + exp(-y_i x_i^T w)) + (l2/2)||w||^2``.

    Evaluated stably for any margin. Labels must be -1 or +1 (``load`` maps them).
    The Hessian is sparse when ``X`` is.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]); y = np.array([1.0, -1.0, 1.0])
    >>> p = logistic_regression(X, y, l2=0.1)
    >>> round(p.objective.fun(np.zeros(2)), 6)  # log 2
    0.693147
    """
    return DataFitProblem(GLM(X, y, "logistic", l2=l2), "logistic regression")


def least_squares(X, y, l2: float = 0.0) -> DataFitProblem:
    """``(1/(2N)) ||X w - y||^2 + (l2/2)||w||^2`` with its constant Hessian ``X^T X / N + l2 I``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]]); y = np.array([1.0, 2.0])
    >>> p = least_squares(X, y)
    >>> p.objective.fun(np.array([1.0, 1.0])), p.objective.grad(np.zeros(2))
    (0.0, array([-0.5, -2. ]))
    """
    return DataFitProblem(GLM(X, y, "squared", l2=l2), "least squares")


class L1Problem(Problem):
    """Composite problem ``min_w smooth(w) + lam * ||w||_1``.

    Solved by ``numopt.minimize(problem, method='bcd')`` when ``smooth`` is a
    :class:`DataFitProblem` (the data and loss are then available to block
    coordinate descent: capability ``'glm'``). Evaluations are counted by the
    smooth part's oracle (:meth:`counts`).

    Attributes
    ----------
    smooth : UnconstrainedProblem
        The differentiable part (its oracle counts evaluations).
    lam : float
        L1 weight (>= 0).

    Examples
    --------
    >>> prob = L1Problem(least_squares(np.eye(2), np.array([1.0, -0.05])), lam=0.1)
    >>> prob.optimality(np.array([0.8, 0.0]))  # the minimizer of (1/4)||w - y||^2 + 0.1 ||w||_1
    0.0
    """

    def __init__(self, smooth: UnconstrainedProblem, lam: float):
        self.smooth = smooth
        self.lam = float(lam)
        self.n = smooth.n
        self.x0 = None if smooth.x0 is None else np.array(smooth.x0, dtype=float)
        self.name = f"L1-regularized {smooth.name}"

    def __repr__(self) -> str:
        return f"L1Problem(smooth={self.smooth.name!r}, lam={self.lam!r})"

    @property
    def capabilities(self):
        caps = {"fun", "prox"} | ({"glm"} if isinstance(self.smooth, DataFitProblem) else set())
        return frozenset(caps)

    @property
    def glm(self) -> GLM:
        """The loss of the smooth part (for a :class:`DataFitProblem`)."""
        if not isinstance(self.smooth, DataFitProblem):
            raise AttributeError(f"the smooth part {self.smooth.name!r} is not a data-fitting problem; "
                                 "it has no glm.")
        return self.smooth.glm

    def fun(self, w) -> float:
        """Full objective ``smooth(w) + lam ||w||_1``."""
        return self.smooth.objective.fun(w) + self.lam * float(np.abs(w).sum())

    def prox(self, w, step: float) -> np.ndarray:
        """Proximal map of ``step * lam * ||.||_1`` (soft thresholding)."""
        return np.sign(w) * np.maximum(np.abs(w) - step * self.lam, 0.0)

    def optimality(self, w) -> float:
        """``||w - prox(w - grad(w), 1)||_inf``: zero exactly at a minimizer."""
        g = self.smooth.objective.grad(w)
        return float(np.max(np.abs(w - self.prox(w - g, 1.0)), initial=0.0))

    def lam_max(self) -> float:
        """Smallest ``lam`` for which ``w = 0`` is optimal: ``||grad smooth(0)||_inf``."""
        return float(np.max(np.abs(self.smooth.objective.grad(np.zeros(self.n)))))

    def counts(self) -> dict[str, int]:
        """Evaluation counts of the smooth part's oracle."""
        return self.smooth.counts()

    def reset_counts(self) -> None:
        """Set the smooth part's counters back to zero."""
        self.smooth.reset_counts()


def l1_regularized(smooth: UnconstrainedProblem, lam: float) -> L1Problem:
    """Pair a smooth problem with the penalty ``lam * ||w||_1`` (lasso, sparse logistic regression).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); y = np.array([3.0, 0.1])
    >>> prob = l1_regularized(least_squares(X, y), lam=0.1)
    >>> prob.lam_max(), prob.prox(np.array([0.5, -0.05]), 1.0)
    (1.5, array([ 0.4, -0. ]))
    """
    check_positive("lam", lam, strict=False)
    if not isinstance(smooth, UnconstrainedProblem):
        raise TypeError(f"smooth must be an UnconstrainedProblem; got {type(smooth).__name__}.")
    return L1Problem(smooth, float(lam))
