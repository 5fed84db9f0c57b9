"""One module for the losses of generalized linear models: squared, logistic and softmax.

:class:`GLM` evaluates ``red_i loss(x_i^T W, y_i) + (l2/2) ||w||^2`` (``red`` the mean or the
sum over all rows, a contiguous row range or a minibatch) with its gradient, Hessian,
Hessian-vector products and curvature constants, on dense or sparse data. The loss names are
``'squared'``, ``'logistic'`` and ``'softmax'`` (codes in :data:`LOSS_CODES`, taken by the
kernels). The Numba kernels of :mod:`numopt.losses._kernels` take plain arrays (CSR as
``data, indices, indptr``) and their scalar row functions can be called from other Numba
kernels; :mod:`numopt.losses._reference` holds their NumPy twins.

Examples
--------
>>> from numopt.losses import GLM
>>> f = GLM(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0]), "logistic")
>>> value, grad = f.value_and_grad(np.zeros(2))
>>> round(value, 6), grad
(0.693147, array([-0.25,  0.25]))
"""

from .glm import GLM, LOSS_CODES, check_loss, kernels, loss_code

__all__ = ["GLM", "LOSS_CODES", "check_loss", "kernels", "loss_code"]
