"""The one method registry and the stable status codes."""

import pytest

from numopt import METHODS, Status
from numopt._core.registry import get_solver, methods, register_method
from numopt._core.result import STATUS_CODES


def test_every_status_has_a_fixed_unique_code():
    assert set(STATUS_CODES) == {s.name for s in Status}
    assert len(set(STATUS_CODES.values())) == len(STATUS_CODES)
    # public codes never move: these are the numbers users may have stored
    assert (Status.SUCCESS.code, Status.MAXITER.code, Status.CALLBACK.code, Status.SINGULAR.code) == (0, 1, 3, 7)
    for s in Status:
        assert Status.from_code(s.code) is s
    with pytest.raises(ValueError, match="code=99"):
        Status.from_code(99)


def test_registry_kinds_and_errors():
    assert {"adasketch-newton", "bcd"} <= set(methods("minimize"))
    assert get_solver("BCD").__name__ == "BlockCoordinateDescent"
    with pytest.raises(ValueError, match="kind='nope'"):
        methods("nope")
    with pytest.raises(ValueError, match="'module:Class'"):
        register_method("x", "no-colon")
    with pytest.raises(ValueError, match="method='bdc'.*Did you mean 'bcd'"):
        get_solver("bdc")
    register_method("demo-linear", "numopt.linalg.krylov:ConjugateGradient", kind="linear")
    try:
        assert get_solver("demo-linear", kind="linear").__name__ == "ConjugateGradient"
        assert "demo-linear" not in METHODS
    finally:
        from numopt._core.registry import REGISTRY

        REGISTRY["linear"].pop("demo-linear")


def test_register_method_rejects_a_target_that_cannot_be_imported():
    from numopt._core.registry import methods, register_method
    from numopt.testing import assert_names_argument

    assert_names_argument(register_method, "ghost", "no_such_module_xyz:Solver", names="target",
                          seen="no_such_module_xyz")
    assert_names_argument(register_method, "ghost", "numopt.bcd:Missing", names="target", seen="Missing")
    assert_names_argument(register_method, "ghost", "numopt.bcd", names="target", seen="module:Class")
    assert "ghost" not in methods("minimize")


def test_every_builtin_method_of_every_kind_resolves_to_a_solver_class():
    from numopt._core.driver import IterativeSolver
    from numopt._core.registry import KINDS, get_method

    for kind in KINDS:
        assert methods(kind), f"no methods registered for kind {kind!r}"
        for name in methods(kind):
            cls, fixed = get_method(name, kind=kind)
            assert issubclass(cls, IterativeSolver), (kind, name, cls)
            assert set(fixed) <= set(cls.default_options), (kind, name, fixed)  # real options of the class


def test_family_front_doors_read_the_one_registry():
    from numopt._core.registry import REGISTRY
    from numopt.bilevel import BILEVEL_METHODS
    from numopt.decentralized import METHODS as DECENTRALIZED

    assert BILEVEL_METHODS is REGISTRY["bilevel"] and DECENTRALIZED is REGISTRY["decentralized"]
