"""OptimizeResult, LinearSolveResult and Status conventions."""

import numpy as np
import pytest

from numopt import LinearSolveResult, OptimizeResult, Status


def test_attribute_and_key_access():
    r = OptimizeResult(x=np.zeros(3), fun=1.5)
    r.nit = 4
    assert r["nit"] == 4 and r.fun == r["fun"] == 1.5
    del r.nit
    assert "nit" not in r
    with pytest.raises(AttributeError, match="nfev"):
        r.nfev
    assert set(dir(r)) == {"x", "fun"}


def test_repr_is_readable():
    r = OptimizeResult(x=np.arange(20.0), fun=0.123456789, success=True, message="done")
    text = repr(r)
    assert "fun: 0.123457" in text and "success: True" in text
    assert "(shape (20,))" in text  # long arrays are abbreviated
    assert repr(OptimizeResult()) == "OptimizeResult()"


def test_linear_solve_result_unpacks_like_scipy():
    res = LinearSolveResult(x=np.ones(2), info=0, nit=7)
    x, info = res
    assert info == 0 and res.nit == 7
    np.testing.assert_array_equal(x, np.ones(2))


def test_status_codes_messages_and_success():
    assert Status.SUCCESS.code == 0 and Status.SUCCESS.success
    assert Status.from_code(Status.NONFINITE.code) is Status.NONFINITE
    assert Status.NO_IMPROVEMENT.success and not Status.MAXITER.success
    codes = [s.code for s in Status]
    assert codes == list(range(len(Status)))
    assert all(s.value.endswith(".") for s in Status)
