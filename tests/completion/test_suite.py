"""The completion benchmark suite: honest status when data or peers are missing; the SoftImpute peer."""

import numpy as np
import pytest

from numopt.bench import BenchContext
from numopt.bench.suite_completion import movielens_comparison, softimpute_peer
from numopt.problems.completion_data import synthetic_completion


def test_missing_movielens_is_reported_as_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMOPT_DATA", str(tmp_path))
    ctx = BenchContext(quick=True, outdir=tmp_path / "out", progress=False, seed=0, echo=False)
    rows, skipped = movielens_comparison(ctx)
    assert rows is None and len(skipped) == 1 and "MovieLens data not found" in skipped[0]


@pytest.mark.peers
def test_softimpute_peer_gets_our_rank_and_reports_measured_iterations():
    pytest.importorskip("fancyimpute", reason="fancyimpute (the SoftImpute peer) is not installed")
    d = synthetic_completion(60, 50, 3, nnz=1500, seed=0)
    try:
        filled, iterations, cpu, wall = softimpute_peer((d.rows, d.cols, d.values), d.shape, 3, max_iters=200)
    except ImportError as exc:  # installed but unusable with this scikit-learn: the suite reports it skipped
        assert "cannot run with scikit-learn" in str(exc)
        pytest.skip(str(exc))
    assert iterations is not None and 1 <= iterations < 200
    M = d.U_true @ d.V_true.T
    assert np.linalg.norm(filled - M) < 0.2 * np.linalg.norm(M)


def test_softimpute_peer_without_fancyimpute_raises_import_error():
    try:
        import fancyimpute  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError):
            softimpute_peer(([0], [0], [1.0]), (2, 2), 1, max_iters=5)
    else:
        pytest.skip("fancyimpute is installed; the missing-peer path cannot be exercised here")
