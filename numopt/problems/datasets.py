"""The real data sets numopt uses: where they come from, whether they are here, and how to fetch them.

Every data set lives under the data folder (``$NUMOPT_DATA``, default ``~/.cache/numopt``) in the
layout the loaders read: ``libsvm/<name>`` for the LIBSVM sets (:mod:`numopt.problems.libsvm`),
``movielens/ml-latest-small/`` for the MovieLens ratings (:mod:`numopt.problems.completion_data`)
and ``sachs/`` for the Sachs flow-cytometry data (:mod:`numopt.problems.sachs`).

:func:`fetch` downloads a data set from its official source and checks it before installing it.
The check is on the parsed content (the numbers, not the bytes), so copies that differ only in
line endings or compression verify alike: for an svmlight file the sparse matrix and the labels
(as -1/+1), for a CSV table its numeric values. A download that does not match is not installed.

From the command line: ``numopt data list`` and ``numopt data fetch NAME...``.

Examples
--------
>>> info = CATALOG["heart_scale"]
>>> info.group, info.source
('libsvm', 'https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/heart_scale')
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["CATALOG", "DataSet", "DownloadError", "data_folder", "fetch", "is_present", "read_url"]

LIBSVM_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/"
MOVIELENS_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
SACHS_URL = "https://raw.githubusercontent.com/FenTechSolutions/CausalDiscoveryToolbox/master/cdt/data/resources/"


class DownloadError(OSError):
    """A data set could not be downloaded (no network, server error) or did not verify."""


def data_folder(data_home: str | os.PathLike | None = None) -> Path:
    """The data folder: ``data_home``, else ``$NUMOPT_DATA``, else ``~/.cache/numopt``.

    Examples
    --------
    >>> str(data_folder("/data"))
    '/data'
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    return Path(os.environ.get("NUMOPT_DATA") or Path.home() / ".cache" / "numopt").expanduser()


def read_url(url: str, timeout: float = 60.0) -> bytes:
    """The bytes served at ``url``; a :class:`DownloadError` that names the URL on any failure."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed https sources
            return response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DownloadError(f"could not download {url}: {exc}") from None


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for arr in arrays:
        arr = np.ascontiguousarray(arr)
        h.update(str((arr.dtype.str, arr.shape)).encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _svmlight_digest(path: Path) -> str:
    from .libsvm import read_svmlight

    X, y = read_svmlight(path)
    signs = np.where(y == y.max(), 1, -1).astype(np.int8)
    return _digest(X.indptr.astype(np.int64), X.indices.astype(np.int64), X.data, signs)


def _csv_digest(path: Path, columns) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        rows = list(csv.reader(fh))
    return _digest(np.array([[float(r[c]) for c in columns] for r in rows[1:]]))


def _movielens_digest(folder: Path) -> str:
    found = [p for p in (folder / "ratings.csv.gz", folder / "ratings.csv") if p.is_file()]
    return _csv_digest(found[0], (0, 1, 2, 3))


def _sachs_digest(folder: Path) -> str:
    data = _csv_digest(folder / "cyto_full_data.csv.gz", range(11))
    with open(folder / "cyto_full_target.csv", newline="") as fh:
        edges = sorted(tuple(row) for row in list(csv.reader(fh))[1:])
    return hashlib.sha256((data + repr(edges)).encode()).hexdigest()


@dataclass(frozen=True)
class DataSet:
    """One data set of the catalog.

    Attributes
    ----------
    name : str
        Name used by ``numopt data fetch`` and by the loaders.
    group : str
        ``'libsvm'``, ``'movielens'`` or ``'sachs'`` (the subfolder of the data folder).
    description : str
        What the data are.
    source : str
        The official URL it is downloaded from.
    files : tuple of str
        Files that must exist (relative to the data folder) for the set to count as present; the
        first existing alternative of ``a|b`` counts.
    download_mb : float
        Approximate size of the download in megabytes.
    sha256 : str
        Digest of the parsed content (see the module docstring).
    """

    name: str
    group: str
    description: str
    source: str
    files: tuple[str, ...]
    download_mb: float
    sha256: str

    def paths(self, home: Path) -> list[Path]:
        """The first existing alternative of each required file (or its first name if none exists)."""
        out = []
        for spec in self.files:
            options = [home / s for s in spec.split("|")]
            out.append(next((p for p in options if p.is_file()), options[0]))
        return out

    def target(self, home: Path) -> Path:
        """The folder the set is installed into."""
        return self.paths(home)[0].parent

    def verify(self, home: Path) -> bool:
        """True when the installed files parse to the expected content."""
        folder = self.target(home)
        if self.group == "libsvm":
            got = _svmlight_digest(self.paths(home)[0])
        elif self.group == "movielens":
            got = _movielens_digest(folder)
        else:
            got = _sachs_digest(folder)
        return got == self.sha256


def _libsvm(name: str, description: str, mb: float, sha: str) -> DataSet:
    return DataSet(name, "libsvm", description, LIBSVM_URL + name, (f"libsvm/{name}.gz|libsvm/{name}",), mb, sha)


#: Every data set numopt knows, by name.
CATALOG: dict[str, DataSet] = {d.name: d for d in (
    _libsvm("a9a", "UCI Adult (Platt), training split, 32561 x 123", 2.33,
            "84cf11377a191cf7469e9a43e643daa36969d05e56771badc94dd761ec8547b7"),
    _libsvm("a9a.t", "UCI Adult (Platt), test split, 16281 x 123 (feature 123 unused)", 1.16,
            "8e29bb537edb1317ee3e1a414291b0ad9979e28e790aa8a9ac718a0eb084cc12"),
    _libsvm("w8a", "Platt's web-page data, 49749 x 300", 3.48,
            "4d7161ada37502258883c2f053f2a6a374bf85d36b4ebbdf8854e456ebe3e95d"),
    _libsvm("mushrooms", "UCI Mushroom, one-hot, 8124 x 112", 0.88,
            "aa3571c4b85832050e3c2572eb4949bde94eaabc116e0715656a3630fa03bf5c"),
    _libsvm("phishing", "UCI Phishing Websites, 11055 x 68", 3.62,
            "993b396b7b032da619069d32f9cf21ae924c49115643976d0aece502c48f98c4"),
    _libsvm("ionosphere_scale", "UCI Ionosphere, scaled, 351 x 34", 0.10,
            "2be92d862f5cbf009d14f55602be0ec7431f16de7fe28c1bb0155bbd5f4b33b2"),
    _libsvm("sonar_scale", "UCI Sonar, scaled, 208 x 60", 0.16,
            "23d62e98c5561ad2865caa840ef6cdd60729bc2e03c4762677b8945d31369167"),
    _libsvm("splice_scale", "splice-junction training set, scaled, 1000 x 60", 0.54,
            "8c090bb2dbe039089d5fcf45136e71623ea9d32ee016345f06cc5576dc34d86e"),
    _libsvm("australian_scale", "Statlog Australian credit, scaled, 690 x 14", 0.07,
            "5e1c9569f7d562400477bbdf068d785be807b1bce56a1df2eecccd3f5684b6fe"),
    _libsvm("heart_scale", "Statlog Heart, scaled, 270 x 13", 0.03,
            "17f603cf6911fd35bba2156d9067fb2949934a55ffe72ec555ba375a6ba7fcc4"),
    _libsvm("breast-cancer_scale", "Wisconsin Breast Cancer, scaled, 683 x 10", 0.06,
            "dac3ec56ff4f32a6b716d8dd8800287f171759197ffd5f6bf7cca35be8e3b4b4"),
    _libsvm("diabetes_scale", "Pima Indians Diabetes, scaled, 768 x 8", 0.07,
            "64a84568669b62cb8746ab517582aba37cb1f9ba4b0284d65e64542659e41233"),
    _libsvm("german.numer", "Statlog German credit, numeric, unscaled, 1000 x 24", 0.29,
            "120ec4cd799b304d810bf96869fcd1742011eb476d3afda1865de425f2b7f2a3"),
    DataSet("movielens", "movielens", "MovieLens ml-latest-small: 100836 ratings, 610 users x 9724 movies "
            "(GroupLens research license)", MOVIELENS_URL,
            ("movielens/ml-latest-small/ratings.csv.gz|movielens/ml-latest-small/ratings.csv",), 0.98,
            "f8d23531f5f6880933cc4846c32c3458c0047f15b6d38857f1b6a9ba0761756f"),
    DataSet("sachs", "sachs", "Sachs et al. (2005) flow cytometry, 7466 x 11, and its 18-edge consensus graph",
            SACHS_URL + "cyto_full_data.csv", ("sachs/cyto_full_data.csv.gz", "sachs/cyto_full_target.csv"), 0.43,
            "9c73fe197de8e466319733664c6a2d9d9e64fa9a3c245782d042e536e9c76534"),
)}


def is_present(name: str, data_home: str | os.PathLike | None = None) -> bool:
    """True when every file of data set ``name`` is in the data folder (content not checked)."""
    info = _info(name)
    return all(p.is_file() for p in info.paths(data_folder(data_home)))


def _info(name: str) -> DataSet:
    from .._core.validate import check_choice

    return CATALOG[check_choice("name", name, sorted(CATALOG))]


def _install_libsvm(info: DataSet, payload: bytes, folder: Path) -> None:
    (folder / f"{info.name}.gz").write_bytes(gzip.compress(payload, mtime=0))


def _install_movielens(info: DataSet, payload: bytes, folder: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        for member in ("ratings.csv", "README.txt"):
            (folder / member).write_bytes(archive.read(f"ml-latest-small/{member}"))


def _install_sachs(info: DataSet, payload: bytes, folder: Path, read) -> None:
    (folder / "cyto_full_data.csv.gz").write_bytes(gzip.compress(payload, mtime=0))
    (folder / "cyto_full_target.csv").write_bytes(read(SACHS_URL + "cyto_full_target.csv"))


def fetch(name: str, data_home: str | os.PathLike | None = None, *, force: bool = False,
          read: Callable[[str], bytes] | None = None) -> Path:
    """Download data set ``name`` from its official source, verify it and install it.

    Parameters
    ----------
    name : str
        A key of :data:`CATALOG` (``numopt data list`` shows them).
    data_home : path-like, optional
        Data folder; default ``$NUMOPT_DATA`` or ``~/.cache/numopt``.
    force : bool, default False
        Download again even if the set is present.
    read : callable, optional
        ``read(url) -> bytes``; default :func:`read_url` (:mod:`urllib`). Tests pass a fake source.

    Returns
    -------
    pathlib.Path
        The folder the set was installed into.

    Raises
    ------
    DownloadError
        When the source cannot be reached (the message gives the URL and the target folder) or the
        download does not verify (nothing is installed then).

    Examples
    --------
    >>> import tempfile
    >>> def offline(url):
    ...     raise DownloadError(f"could not download {url}: no network")
    >>> fetch("heart_scale", tempfile.mkdtemp(), read=offline)
    Traceback (most recent call last):
    ...
    numopt.problems.datasets.DownloadError: could not download https://www.csie.ntu.edu.tw/...
    """
    info = _info(name)
    read = read_url if read is None else read
    home = data_folder(data_home)
    folder = info.target(home)
    if not force and is_present(name, home):
        return folder
    try:
        payload = read(info.source)
    except DownloadError as exc:
        raise DownloadError(f"{exc}. Download it by hand from {info.source} and put it in {folder} "
                            f"(see `numopt data list`).") from None
    staging = Path(tempfile.mkdtemp(prefix=f".{info.name}-", dir=_existing_parent(home)))
    try:
        stage_folder = info.target(staging)
        stage_folder.mkdir(parents=True, exist_ok=True)
        try:
            if info.group == "libsvm":
                _install_libsvm(info, payload, stage_folder)
            elif info.group == "movielens":
                _install_movielens(info, payload, stage_folder)
            else:
                _install_sachs(info, payload, stage_folder, read)
            ok = info.verify(staging)
        except (ValueError, OSError, KeyError, IndexError, zipfile.BadZipFile) as exc:
            if isinstance(exc, DownloadError):
                raise
            raise DownloadError(f"{info.source} did not parse as {info.name} ({type(exc).__name__}: {exc}); "
                                f"nothing was installed in {folder}.") from None
        if not ok:
            raise DownloadError(f"{info.source} does not match the expected content of {info.name} "
                                f"(sha256 of the parsed data differs); nothing was installed in {folder}.")
        folder.mkdir(parents=True, exist_ok=True)
        for item in stage_folder.iterdir():
            shutil.move(str(item), folder / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _existing_parent(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
