import numpy as np
import pytest

from numopt.causal import count_accuracy, is_dag, remove_cycles, shd, simulate_dag, to_binary


def test_hand_computed_counts():
    T = np.zeros((4, 4), int)
    T[0, 1] = T[1, 2] = T[2, 3] = 1
    E = np.zeros((4, 4))
    E[0, 1] = 0.7  # correct
    E[3, 2] = -1.2  # reversed
    E[0, 3] = 0.4  # extra
    # missing: 1 -> 2
    acc = count_accuracy(T, E)
    assert acc == {"shd": 3, "fdr": pytest.approx(2 / 3), "tpr": pytest.approx(1 / 3),
                   "fpr": pytest.approx(2 / 3), "nnz": 3}
    assert shd(T, T) == 0
    assert shd(T, np.zeros((4, 4))) == 3
    assert shd(T, T.T) == 3


def test_shd_counts_each_pair_once():
    T = np.array([[0, 1], [0, 0]])
    both = np.array([[0, 1], [1, 0]])
    assert shd(T, both) == 1


def test_is_dag_and_remove_cycles():
    B = simulate_dag(10, 20, "ER", seed=0)
    assert is_dag(B)
    C = B.astype(float).copy()
    i, j = np.argwhere(B)[0]
    C[j, i] = 0.01
    assert not is_dag(C)
    D, removed = remove_cycles(C)
    assert is_dag(D) and removed == 1 and D[j, i] == 0.0
    assert not is_dag(np.eye(2))


def test_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        shd(np.zeros((3, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="square"):
        to_binary(np.zeros((2, 3)))
