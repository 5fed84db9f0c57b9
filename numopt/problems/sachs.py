"""Sachs et al. (2005) protein-signalling data with its 18-edge consensus graph.

Reads ``$NUMOPT_DATA/sachs/cyto_full_data.csv.gz`` (7466 single-cell
measurements of 11 phosphoproteins and phospholipids) and
``cyto_full_target.csv`` (the consensus network, ``Cause,Effect`` rows), the
files of the Causal Discovery Toolbox (``cdt`` 0.6.0). See the data README for
the license; cite Sachs, Perez, Pe'er, Lauffenburger & Nolan, Science 308:523, 2005.
"""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["load_sachs"]

DATA_FILE = "cyto_full_data.csv.gz"
TARGET_FILE = "cyto_full_target.csv"


def _folder() -> Path:
    return Path(os.environ.get("NUMOPT_DATA", Path.home() / ".cache" / "numopt")) / "sachs"


def load_sachs(log: bool = False):
    """Load the Sachs data and its consensus graph.

    Parameters
    ----------
    log : bool, default False
        Return ``log(X)`` (the measurements are positive and heavy-tailed).

    Returns
    -------
    X : (7466, 11) ndarray
    B : (11, 11) int ndarray
        Consensus graph, ``B[i, j] = 1`` for ``names[i] -> names[j]`` (18 edges).
    names : list of str

    Raises
    ------
    FileNotFoundError
        When the files are not under ``$NUMOPT_DATA/sachs``; the message says where to put them.

    Examples
    --------
    >>> from numopt.problems.sachs import load_sachs
    >>> X, B, names = load_sachs()
    >>> X.shape, int(B.sum()), names[:3]
    ((7466, 11), 18, ['praf', 'pmek', 'plcg'])
    """
    folder = _folder()
    data, target = folder / DATA_FILE, folder / TARGET_FILE
    for path in (data, target):
        if not path.exists():
            raise FileNotFoundError(
                f"Sachs data file {path} not found. Put {DATA_FILE} and {TARGET_FILE} (from the cdt package, "
                "cdt/data/resources/) in $NUMOPT_DATA/sachs, or set NUMOPT_DATA to the folder that holds sachs/."
            )
    with gzip.open(data, "rt") as fh:
        rows = list(csv.reader(fh))
    names = rows[0]
    X = np.array(rows[1:], dtype=float)
    index = {name: k for k, name in enumerate(names)}
    B = np.zeros((len(names), len(names)), dtype=int)
    with open(target, newline="") as fh:
        for row in csv.DictReader(fh):
            B[index[row["Cause"]], index[row["Effect"]]] = 1
    if log:
        X = np.log(X)
    return X, B, names
