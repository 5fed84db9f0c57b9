"""Every completion entry point names the argument (and what it saw) when given bad input."""

import numpy as np
import pytest

from numopt.completion import (
    MatrixCompleter,
    complete,
    heldout_rmse,
    observations,
    randomized_svd,
    relative_error,
    select_rank,
    spectral_init,
)
from numopt.problems.completion_data import movielens, synthetic_completion, train_test_split
from numopt.testing import assert_names_argument

R, C, X = [0, 1, 2, 2], [0, 1, 0, 2], [1.0, 2.0, 3.0, 4.0]
ONE = ([[0, 0]], [1.0])

CASES = {
    "complete seed": (lambda: complete(R, C, X, (3, 3), 1, seed="abc"), "seed", "'abc'"),
    "complete reg": (lambda: complete(R, C, X, (3, 3), 1, reg=-1), "reg", "-1"),
    "complete reg type": (lambda: complete(R, C, X, (3, 3), 1, reg="a"), "reg", "'a'"),
    "complete biases": (lambda: complete(R, C, X, (3, 3), 1, biases="yes"), "biases", "'yes'"),
    "complete backend": (lambda: complete(R, C, X, (3, 3), 1, backend="tpu"), "backend", "tpu"),
    "complete duplicates": (lambda: complete(R, C, X, (3, 3), 1, duplicates="x"), "duplicates", "'x'"),
    "complete shape": (lambda: complete(R, C, X, "ab", 1), "shape", "'ab'"),
    "complete rank": (lambda: complete(R, C, X, (3, 3), 0), "rank", "0"),
    "complete values dtype": (lambda: complete(R, C, list("abcd"), (3, 3), 1), "values", "<U1"),
    "complete values shape": (lambda: complete(R, C, np.ones((4, 1)), (3, 3), 1), "values", "(4, 1)"),
    "complete rows range": (lambda: complete([0, 5, 0, 0], C, X, (3, 3), 1), "rows", "5"),
    "complete x0": (lambda: complete(R, C, X, (3, 3), 1, x0="ab"), "x0", "str"),
    "complete callback": (lambda: complete(R, C, X, (3, 3), 1, callback=3), "callback", "int"),
    "complete maxiter": (lambda: complete(R, C, X, (3, 3), 1, maxiter=-1), "maxiter", "-1"),
    "complete tol": (lambda: complete(R, C, X, (3, 3), 1, tol="x"), "tol", "'x'"),
    "select_rank seed": (lambda: select_rank(R, C, X, (3, 3), [1], seed="abc"), "seed", "'abc'"),
    "select_rank test_size": (lambda: select_rank(R, C, X, (3, 3), [1], test_size=2.0), "test_size", "2.0"),
    "select_rank ranks": (lambda: select_rank(R, C, X, (3, 3), "a"), "ranks", "'a'"),
    "synthetic_completion seed": (lambda: synthetic_completion(10, 10, 2, seed="abc"), "seed", "'abc'"),
    "train_test_split seed": (lambda: train_test_split(R, C, X, seed="abc"), "seed", "'abc'"),
    "train_test_split test_size": (lambda: train_test_split(R, C, X, test_size=1.5), "test_size", "1.5"),
    "train_test_split lengths": (lambda: train_test_split(R, C[:2], X), "cols", "(2,)"),
    "movielens seed": (lambda: movielens(seed="abc"), "seed", "'abc'"),
    "movielens test_size": (lambda: movielens(test_size=2), "test_size", "2"),
    "MatrixCompleter seed": (lambda: MatrixCompleter(seed="abc").fit(*ONE), "seed", "'abc'"),
    "MatrixCompleter rank": (lambda: MatrixCompleter(rank=0).fit(*ONE), "rank", "0"),
    "MatrixCompleter reg": (lambda: MatrixCompleter(reg="x").fit(*ONE), "reg", "'x'"),
    "MatrixCompleter reg sign": (lambda: MatrixCompleter(reg=-1.0).fit(*ONE), "reg", "-1.0"),
    "MatrixCompleter method": (lambda: MatrixCompleter(method="x").fit(*ONE), "method", "'x'"),
    "MatrixCompleter validation_fraction": (lambda: MatrixCompleter(validation_fraction=1.5).fit(*ONE),
                                            "validation_fraction", "1.5"),
    "MatrixCompleter biases": (lambda: MatrixCompleter(biases=1).fit(*ONE), "biases", "1"),
    "MatrixCompleter y length": (lambda: MatrixCompleter().fit([[0, 0]], [1.0, 2.0]), "y", "2 values"),
    "MatrixCompleter X width": (lambda: MatrixCompleter().fit(np.ones((3, 3)), np.ones(3)), "X", "(3, 3)"),
    "heldout_rmse values": (lambda: heldout_rmse((np.ones((3, 1)), np.ones((3, 1))), [0], [0], ["a"]), "values",
                            "<U1"),
    "relative_error shapes": (lambda: relative_error(np.ones((3, 1)), np.ones((2, 1)), np.ones((4, 1)),
                                                     np.ones((2, 1))), "U", "(3, 1)"),
    "randomized_svd rank": (lambda: randomized_svd(np.ones((3, 3)), 5), "rank", "5"),
    "spectral_init seed": (lambda: spectral_init(observations(R, C, X, (3, 3)).csr(), 1, seed="abc"), "seed",
                           "'abc'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_names_the_argument(case):
    func, name, seen = CASES[case]
    assert_names_argument(func, names=name, seen=seen)
