import numpy as np
import pytest
import scipy.sparse as sp

from numopt.bilevel._kernels import LOSSES, glm_batch_grad, glm_batch_grad_reference


@pytest.mark.parametrize("loss", list(LOSSES))
def test_glm_batch_grad_matches_reference(loss):
    rng = np.random.default_rng(0)
    A = sp.random(50, 12, density=0.3, format="csr", random_state=1)
    labels = np.where(rng.random(50) < 0.5, -1.0, 1.0)
    w = 3 * rng.standard_normal(12)
    rows = rng.integers(0, 50, size=17)  # with repeats
    got = glm_batch_grad(A.data, A.indices, A.indptr, rows, w, labels, LOSSES[loss])
    want = glm_batch_grad_reference(A, rows, w, labels, LOSSES[loss])
    assert np.isclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-14)


def test_logistic_kernel_is_stable_for_large_margins():
    A = sp.csr_matrix(np.array([[1.0e3], [-1.0e3]]))
    loss, grad = glm_batch_grad(A.data, A.indices, A.indptr, np.array([0, 1]), np.array([1.0]),
                                np.array([-1.0, -1.0]), LOSSES["logistic"])
    assert np.isfinite(loss) and np.isfinite(grad).all()
    assert np.isclose(loss, 500.0)
