"""The iteration driver: limits, callbacks, non-finite iterates, history, progress."""

import numpy as np
import pytest

from numopt import OptimizeResult, Status
from numopt._core.driver import IterativeSolver, SolverState, run
from numopt.oracles import ScalarFunction, UnconstrainedProblem


class GradientDescent(IterativeSolver):
    """Fixed-step gradient descent on an UnconstrainedProblem (a minimal solver for the tests)."""

    name = "gd"
    requires = ("grad",)
    default_options = {"step": 0.1, "tol": 1e-8}

    def validate_options(self, options):
        if options["step"] <= 0:
            raise ValueError("step must be > 0")

    def init(self, problem, x0):
        x = np.asarray(x0, dtype=float)
        self.problem = problem
        return SolverState(x=x, fun=problem.objective.fun(x), g=problem.objective.grad(x))

    def step(self, state):
        state.x = state.x - self.options["step"] * state.g
        state.fun = self.problem.objective.fun(state.x)
        state.g = self.problem.objective.grad(state.x)
        return state

    def terminate(self, state):
        return Status.SUCCESS if np.linalg.norm(state.g) <= self.options["tol"] else None


def quadratic(scale=1.0):
    f = ScalarFunction(lambda x: scale * 0.5 * x @ x, grad=lambda x: scale * x)
    return UnconstrainedProblem(f, n=2, x0=np.ones(2))


def test_converges_and_reports_counts():
    res = run(GradientDescent(step=0.5), quadratic(), np.ones(2))
    assert res.success and res.status == 0 and res.message == Status.SUCCESS.value
    assert np.linalg.norm(res.x) <= 1e-8
    # x_k = 0.5^k: the gradient norm sqrt(2) 0.5^k drops below 1e-8 at k = 28.
    assert res.nit == 28
    assert res.nfev == 29 and res.njev == 29
    assert res.time >= 0


def test_maxiter():
    res = run(GradientDescent(step=0.01, maxiter=5), quadratic(), np.ones(2))
    assert not res.success and res.nit == 5
    assert res.status == Status.MAXITER.code and res.message == Status.MAXITER.value


def test_maxtime_stops_before_first_step():
    solver = GradientDescent(step=0.01, maxtime=1e-12)
    res = run(solver, quadratic(), np.ones(2))
    assert res.status == Status.MAXTIME.code
    assert res.nit <= 1


def test_callback_intermediate_result_and_stopiteration():
    seen = []

    def callback(intermediate_result):
        assert isinstance(intermediate_result, OptimizeResult)
        seen.append((intermediate_result.nit, intermediate_result.fun))
        if intermediate_result.nit == 3:
            raise StopIteration

    res = run(GradientDescent(step=0.1), quadratic(), np.ones(2), callback=callback)
    assert res.nit == 3 and res.status == Status.CALLBACK.code and not res.success
    assert [k for k, _ in seen] == [1, 2, 3]
    assert seen[0][1] == pytest.approx(0.5 * 2 * 0.9**2)


def test_legacy_callback_gets_a_copy_of_xk():
    xs = []
    run(GradientDescent(step=0.5, maxiter=3), quadratic(), np.ones(2), callback=lambda xk: xs.append(xk))
    assert len(xs) == 3
    np.testing.assert_allclose(xs[0], [0.5, 0.5])
    xs[0][:] = 99.0  # a copy: mutating it does not touch the solver
    np.testing.assert_allclose(xs[1], [0.25, 0.25])


def test_nonfinite_iterate_ends_with_status():
    with np.errstate(over="ignore", invalid="ignore"):
        res = run(GradientDescent(step=3.0), quadratic(scale=1e200), np.ones(2))
    assert res.status == Status.NONFINITE.code and not res.success
    assert "NaN or inf" in res.message


def test_nonfinite_start():
    res = run(GradientDescent(), quadratic(), np.array([np.nan, 1.0]))
    assert res.status == Status.NONFINITE.code and res.nit == 0


def test_history_records_each_iteration():
    res = run(GradientDescent(step=0.5, maxiter=4, record_history=True), quadratic(), np.ones(2))
    h = res.history
    assert h["nit"] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(h["fun"], [0.5 * 2 * 0.25**k for k in range(5)])
    assert len(h["time"]) == 5 and "5 records" in repr(res)


def test_progress_bar_shows_the_solver_and_its_objective(capsys):
    res = run(GradientDescent(step=0.5, progress=True), quadratic(), np.ones(2))
    assert res.success
    err = capsys.readouterr().err
    assert f"{GradientDescent.name}:" in err and "/1000" in err  # the bar counts towards maxiter
    run(GradientDescent(step=0.5), quadratic(), np.ones(2))
    assert capsys.readouterr().err == ""  # off by default in library calls


def test_unknown_option_lists_valid_ones():
    with pytest.raises(ValueError, match="Unknown option 'stpe'.*Valid options: maxiter, maxtime, progress, "
                                         "record_history, step, tol.*Did you mean 'step'"):
        GradientDescent(stpe=0.1)


@pytest.mark.parametrize("options, match", [
    ({"maxiter": -1}, "maxiter must be finite and >= 0"),
    ({"maxiter": 2.5}, "maxiter must be an integer"),
    ({"maxtime": 0}, "maxtime must be a positive number"),
    ({"step": -1.0}, "step must be > 0"),
])
def test_option_values_are_checked(options, match):
    with pytest.raises((ValueError, TypeError), match=match):
        GradientDescent(**options)


def test_missing_capability_is_named():
    class NeedsHessian(GradientDescent):
        requires = ("hess|hessp", "grad")

    with pytest.raises(TypeError, match="gd needs hess or hessp from the problem.*provides only: fun, grad"):
        run(NeedsHessian(), quadratic(), np.ones(2))


def test_solver_repr_is_a_table():
    text = repr(GradientDescent(step=0.2))
    assert text.splitlines()[0] == "GradientDescent (gd)"
    assert "step" in text and "0.2" in text
