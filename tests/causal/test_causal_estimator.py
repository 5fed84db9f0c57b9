"""TopoDAG as a scikit-learn estimator: the full check_estimator suite, clone, GridSearchCV, the
renamed ``score_type`` parameter and its deprecated alias."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from numopt.causal import TopoDAG, shd, simulate_dag, simulate_linear_sem, simulate_parameter, topo

#: Checks we expect to fail, each with its reason: none. (scikit-learn itself skips
#: check_array_api_input unless SCIPY_ARRAY_API=1 is set; TopoDAG takes NumPy input only.)
SKIPPED = {}


@parametrize_with_checks([TopoDAG()], expected_failed_checks=lambda est: SKIPPED)
def test_scikit_learn_check_estimator(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def sem():
    B = simulate_dag(6, 6, "ER", seed=2)
    return B, simulate_linear_sem(simulate_parameter(B, seed=2), 800, seed=2)


def test_score_method_and_score_type_parameter_both_work(sem):
    B, X = sem
    est = TopoDAG(score_type="linear").fit(X)
    assert shd(B, est.adjacency_) == 0
    assert est.get_params()["score_type"] == "linear"
    # the learned SEM fits held-out data from the same model better than the empty graph
    X_test = simulate_linear_sem(simulate_parameter(B, seed=2), 800, seed=9)
    empty = TopoDAG(threshold=1e9).fit(X)
    assert est.score(X_test) > empty.score(X_test) + 0.1


def test_deprecated_score_keyword_of_topo_still_works(sem):
    B, X = sem
    with pytest.warns(FutureWarning, match="score_type"):
        res = topo(X, score="linear")
    assert shd(B, res.x) == 0
    est = TopoDAG(score_type="linear", options={"size_small": 5})
    assert callable(est.score) and shd(B, clone(est).fit(X).adjacency_) == 0
    with pytest.raises(ValueError, match="size_smal"):
        TopoDAG(options={"size_smal": 3}).fit(X)


def test_not_fitted_error_and_grid_search(sem):
    B, X = sem
    with pytest.raises(NotFittedError):
        TopoDAG().score(X)
    search = GridSearchCV(TopoDAG(), {"threshold": [0.3, 1e9]}, cv=3).fit(X)
    assert search.best_params_["threshold"] == 0.3
    assert shd(B, search.best_estimator_.adjacency_) == 0


def test_pipeline_and_cross_val_score(sem):
    B, X = sem
    # centering only: rescaling each column to unit variance changes the noise variances that make
    # an equal-variance linear SEM identifiable (TOPO then finds another graph, SHD 7 here)
    pipe = make_pipeline(StandardScaler(with_std=False), TopoDAG())
    pipe.fit(X)
    assert shd(B, pipe[-1].adjacency_) == 0
    assert shd(B, make_pipeline(StandardScaler(), TopoDAG()).fit(X)[-1].adjacency_) > 0
    scores = cross_val_score(pipe, X, cv=3)
    empty = cross_val_score(make_pipeline(StandardScaler(with_std=False), TopoDAG(threshold=1e9)), X, cv=3)
    assert np.all(scores > empty)          # the learned SEM beats the empty graph on every held-out fold
