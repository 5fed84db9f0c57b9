"""MatrixCompleter as a scikit-learn regressor on (row id, column id) pairs.

Input convention: one observed entry per sample, ``X`` of shape ``(n_obs, 2)`` holding (row id,
column id) and ``y`` the values. scikit-learn's generic checks generate ``X`` with 1, 3, 4, 5 or 10
feature columns; every check that fits on such data is listed in ``EXPECTED_FAILED`` with that
reason, and the property it stands for is tested below on valid two-column input
(pickling, pipelines, sample order and subset invariance, parameters left unchanged, dtype and
contiguity, NaN/inf rejection, one-sample fits, 1-D input).
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from numopt.completion import MatrixCompleter, heldout_rmse
from numopt.completion.estimator import observed_entries
from numopt.problems.completion_data import synthetic_completion

WRONG_WIDTH = "generic check fits on X with other than 2 columns; X holds (row id, column id) pairs"
EXPECTED_FAILED = {name: WRONG_WIDTH for name in (
    "check_fit_score_takes_y", "check_dont_overwrite_parameters", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_pipeline_consistency",
    "check_estimators_nan_inf", "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_regressors_train", "check_regressor_data_not_an_array", "check_regressors_no_decision_function",
    "check_supervised_y_2d", "check_regressors_int", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_fit2d_predict1d", "check_dtype_object",
)}


@parametrize_with_checks([MatrixCompleter()], expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def ratings_problem(seed=0, m=150, n=120, rank=3, nnz=6000, noise=0.3):
    """Low-rank plus row/column biases plus a global offset, observed with noise; train/test split."""
    d = synthetic_completion(m, n, rank, nnz=nnz, noise=noise, seed=seed)
    rng = np.random.default_rng(seed + 100)
    b, c = rng.standard_normal(m), rng.standard_normal(n)
    y = 3.0 + d.values + b[d.rows] + c[d.cols]
    X = np.column_stack([d.rows, d.cols])
    test = rng.random(y.size) < 0.2
    return X[~test], y[~test], X[test], y[test]


def biases_only_rmse(X, y, X_test, y_test, regs=(0.1, 1.0, 3.0, 10.0, 30.0)):
    """Held-out RMSE of mean + row bias + column bias (ridge, alternating), with the best ridge on the test set."""
    rows, cols = X[:, 0].astype(int), X[:, 1].astype(int)
    m, n = rows.max() + 1, cols.max() + 1
    mu = y.mean()
    best = np.inf
    for reg in regs:
        b, c = np.zeros(m), np.zeros(n)
        for _ in range(50):
            b = np.bincount(rows, y - mu - c[cols], m) / (np.bincount(rows, minlength=m) + reg)
            c = np.bincount(cols, y - mu - b[rows], n) / (np.bincount(cols, minlength=n) + reg)
        tr, tc = X_test[:, 0].astype(int), X_test[:, 1].astype(int)
        pred = mu + np.where(tr < m, b[np.minimum(tr, m - 1)], 0) + np.where(tc < n, c[np.minimum(tc, n - 1)], 0)
        best = min(best, float(np.sqrt(np.mean((pred - y_test) ** 2))))
    return best


def test_default_estimator_beats_biases_only_baseline_on_low_rank_plus_bias():
    X, y, X_test, y_test = ratings_problem()
    model = MatrixCompleter().fit(X, y)
    ours = model.rmse(X_test, y_test)
    baseline = biases_only_rmse(X, y, X_test, y_test)
    # the low-rank part carries most of the variance left after the biases: a clear margin
    assert ours < 0.8 * baseline
    assert model.reg_ > 0 and set(model.validation_rmse_) and model.rank_ == 10


def test_default_estimator_beats_biases_only_baseline_on_movielens():
    from numopt.problems.completion_data import movielens

    try:
        d = movielens(seed=0)
    except FileNotFoundError as exc:
        pytest.skip(f"MovieLens not available: {exc}")
    X = np.column_stack([d.rows, d.cols])
    X_test = np.column_stack(d.test[:2])
    ours = MatrixCompleter().fit(X, d.values).rmse(X_test, d.test[2])
    baseline = biases_only_rmse(X, d.values, X_test, d.test[2])
    assert ours < baseline
    assert ours < 0.86


def test_predictions_are_clipped_to_observed_range_and_unknown_ids_fall_back_to_biases():
    X, y, _, _ = ratings_problem(seed=1)
    model = MatrixCompleter(rank=3).fit(X, y)
    far = np.column_stack([np.arange(150), np.arange(150) % 120])
    pred = model.predict(far)
    assert pred.min() >= y.min() and pred.max() <= y.max()
    unclipped = MatrixCompleter(rank=3, clip=False).fit(X, y).predict(far)
    np.testing.assert_allclose(pred, np.clip(unclipped, y.min(), y.max()))
    # an unseen row id: mean + column bias only
    col = 5
    k = np.searchsorted(model.col_ids_, col)
    assert model.predict([[1000, col]])[0] == pytest.approx(np.clip(model.mean_ + model.col_bias_[k], y.min(),
                                                                    y.max()))


def test_ids_are_labels_not_positions():
    X, y, X_test, y_test = ratings_problem(seed=2)
    shifted = MatrixCompleter(rank=3).fit(X * 7 + 1000, y)
    plain = MatrixCompleter(rank=3).fit(X, y)
    np.testing.assert_array_equal(shifted.predict(X_test * 7 + 1000), plain.predict(X_test))


def test_works_in_pipeline_cross_val_and_grid_search():
    X, y, X_test, y_test = ratings_problem(seed=3)
    folds = KFold(3, shuffle=True, random_state=0)  # entries are sorted by row: unshuffled folds drop whole rows
    scores = cross_val_score(MatrixCompleter(rank=3, reg=0.2), X, y, cv=folds,
                             scoring="neg_root_mean_squared_error")
    assert np.all(-scores < 0.7 * biases_only_rmse(X, y, X_test, y_test))
    grid = GridSearchCV(MatrixCompleter(reg=0.2), {"rank": [1, 3]}, cv=folds,
                        scoring="neg_root_mean_squared_error").fit(X, y)
    assert grid.best_params_ == {"rank": 3}
    pipe = make_pipeline(MatrixCompleter(rank=3, reg=0.2)).fit(X, y)
    np.testing.assert_array_equal(pipe.predict(X[:10]), MatrixCompleter(rank=3, reg=0.2).fit(X, y).predict(X[:10]))


def test_generic_properties_on_two_column_input():
    X, y, X_test, _ = ratings_problem(seed=4, nnz=2000)
    est = MatrixCompleter(rank=3, reg=2.0)
    params = est.get_params()
    model = clone(est).fit(X, y)
    assert est.get_params() == params and model.n_features_in_ == 2
    pred = model.predict(X_test)
    # pickling, sample order and subset invariance, Fortran order, float ids, refitting
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X_test), pred)
    order = np.random.default_rng(0).permutation(len(X_test))
    np.testing.assert_array_equal(model.predict(X_test[order]), pred[order])
    np.testing.assert_array_equal(model.predict(X_test[:7]), pred[:7])
    np.testing.assert_array_equal(model.predict(np.asfortranarray(X_test)), pred)
    np.testing.assert_array_equal(model.predict(X_test.astype(float)), pred)
    np.testing.assert_array_equal(clone(est).fit(X, y).predict(X_test), pred)
    # one observation: a rank-1 fit that predicts the observed value
    one = MatrixCompleter(rank=5).fit([[3, 4]], [2.5])
    assert one.rank_ == 1 and one.predict([[3, 4]])[0] == pytest.approx(2.5)


def test_bad_input_errors_name_the_argument():
    X, y, _, _ = ratings_problem(seed=5, nnz=500)
    with pytest.raises(NotFittedError):
        MatrixCompleter().predict(X)
    with pytest.raises(ValueError, match=r"X must have 2 columns.*got shape \(3, 3\)"):
        MatrixCompleter().fit(np.ones((3, 3)), np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        MatrixCompleter().fit(np.array([[0.0, np.nan]]), [1.0])
    with pytest.raises(ValueError, match="Input y contains infinity"):
        MatrixCompleter().fit([[0, 0]], [np.inf])
    with pytest.raises(TypeError, match="sparse matrix.*observed_entries"):
        import scipy.sparse as sp

        MatrixCompleter().fit(sp.csr_matrix(np.ones((3, 2))), np.ones(3))
    with pytest.raises(ValueError, match="X has 3 features, but MatrixCompleter is expecting 2"):
        MatrixCompleter(rank=2, reg=1.0).fit(X, y).predict(np.ones((2, 3)))


def test_observed_entries_of_a_sparse_matrix_fit_like_pairs():
    import scipy.sparse as sp

    X, y, X_test, y_test = ratings_problem(seed=6, nnz=2000)
    M = sp.coo_matrix((y, (X[:, 0], X[:, 1])))
    Xs, ys = observed_entries(M)
    a = MatrixCompleter(rank=3, reg=2.0).fit(Xs, ys)
    b = MatrixCompleter(rank=3, reg=2.0).fit(X, y)
    np.testing.assert_allclose(a.predict(X_test), b.predict(X_test), rtol=1e-10)
    assert heldout_rmse(a, X_test[:, 0], X_test[:, 1], y_test) == pytest.approx(a.rmse(X_test, y_test))


def test_unconverged_fit_warns_and_says_why():
    X, y, _, _ = ratings_problem(seed=7, nnz=1000)
    with pytest.warns(ConvergenceWarning, match=r"did not converge: Maximum number of iterations.*\(1 sweeps"):
        model = MatrixCompleter(rank=2, reg=1.0, maxiter=1).fit(X, y)
    assert model.n_iter_ == 1 and not model.result_.success
