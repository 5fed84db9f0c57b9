"""Finite-volume diffusion matrices against hand-built stencils."""

import numpy as np
import pytest
import scipy.sparse as sp

from numopt.problems.pde import diffusion, grid_index, obstacle_mask, poisson


def five_point(N):
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(N, N))
    I = sp.identity(N)
    return (sp.kron(T, I) + sp.kron(I, T)).toarray()


def test_poisson_2d_is_the_five_point_stencil():
    np.testing.assert_array_equal(poisson((4, 4)).toarray(), five_point(4))
    np.testing.assert_allclose(poisson((3, 3), h=0.5).toarray(), 4 * five_point(3))


def test_poisson_3d_seven_point():
    A = poisson((3, 3, 3)).toarray()
    assert A[13, 13] == 6.0  # the centre cell
    assert sorted(A[13][A[13] != 0]) == [-1.0] * 6 + [6.0]
    np.testing.assert_array_equal(A, A.T)


def test_dirichlet_is_spd_and_neumann_has_constant_null_space():
    A = poisson((5, 4)).toarray()
    np.testing.assert_array_equal(A, A.T)
    assert np.linalg.eigvalsh(A).min() > 0
    B = poisson((5, 4), bc="neumann")
    np.testing.assert_allclose(B @ np.ones(20), 0.0)
    assert np.linalg.eigvalsh(B.toarray()).min() > -1e-12


def test_harmonic_mean_coefficients_by_hand():
    A = diffusion(np.array([[1.0, 3.0]])).toarray()
    # face: 2*1*3/(1+3) = 1.5; Dirichlet walls add k per boundary face (cell 0: 3 faces, cell 1: 3 faces)
    np.testing.assert_allclose(A, [[1.5 + 3 * 1.0, -1.5], [-1.5, 1.5 + 3 * 3.0]])


def test_mask_removes_cells_and_their_fluxes():
    mask = np.ones((3, 3), dtype=bool)
    mask[1, 1] = False
    idx = grid_index(mask)
    assert idx[1, 1] == -1 and idx.max() == 7
    B = diffusion(np.ones((3, 3)), bc="neumann", mask=mask)
    assert B.shape == (8, 8)
    np.testing.assert_allclose(B @ np.ones(8), 0.0)  # no flux into the obstacle


def test_obstacle_mask_fraction_and_seed():
    m = obstacle_mask((40, 40), kind="boxes", fraction=0.1, seed=3)
    assert 0.1 <= 1 - m.mean() < 0.3
    np.testing.assert_array_equal(m, obstacle_mask((40, 40), kind="boxes", fraction=0.1, seed=3))


def test_obstacle_boxes_reach_the_largest_removable_fraction_on_a_small_grid():
    # on a 5 x 5 grid the boxes can only cover the 2 x 2 cells at indices 1..2
    m = obstacle_mask((5, 5), kind="boxes", fraction=0.16, seed=0)
    assert 1 - m.mean() == pytest.approx(0.16)
    assert m[0].all() and m[:, 0].all() and m[3:].all() and m[:, 3:].all()


@pytest.mark.parametrize("call, match", [
    (lambda: diffusion(np.ones(4)), "coeff must be a 2-D or 3-D grid"),
    (lambda: diffusion(-np.ones((2, 2))), "coeff must be positive"),
    (lambda: diffusion(np.ones((2, 2)), bc="robin"), "bc='robin' is not valid"),
    (lambda: diffusion(np.ones((2, 2)), mask=np.ones((3, 3), bool)), "mask has shape"),
    (lambda: poisson((0, 3)), "shape must be 2 or 3 positive integer sizes"),
    (lambda: obstacle_mask((4, 4), fraction=0.95), "fraction must lie in"),
    (lambda: obstacle_mask((5, 5, 5), kind="boxes", fraction=0.15), "fraction must be at most 0.064"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_poisson_refuses_fractional_sizes_instead_of_truncating():
    from numopt.testing import assert_names_argument

    assert_names_argument(poisson, (2.5, 3), names="shape", seen="2.5")


def test_poisson_refuses_zero_spacing_with_a_value_error():
    from numopt.testing import assert_names_argument

    assert_names_argument(poisson, (4, 4), h=0, names="h", seen="0", errors=ValueError)
