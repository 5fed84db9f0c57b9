import numpy as np
import pytest

from numopt.bilevel.sets import Ball, Box, Projection, Reals, Simplex, as_set


def _brute_projection(points_in_set, v):
    d = np.linalg.norm(points_in_set - v, axis=1)
    return points_in_set[np.argmin(d)]


def test_box_ball_simplex_are_projections():
    rng = np.random.default_rng(0)
    for S in (Box(-1.0, [0.5, 2.0, 1.0]), Ball(1.5, center=np.array([0.2, 0.0, -0.1])), Simplex(2.0)):
        for _ in range(20):
            v = 3 * rng.standard_normal(3)
            p = S.project(v)
            np.testing.assert_allclose(S.project(p), p, atol=1e-12)
            # variational inequality of a projection onto a convex set: <v - p, q - p> <= 0 for q in S
            for _ in range(20):
                q = S.project(3 * rng.standard_normal(3))
                assert (v - p) @ (q - p) <= 1e-10


def test_simplex_projection_matches_brute_force_on_grid():
    grid = np.array([[a, b, 1 - a - b] for a in np.linspace(0, 1, 201) for b in np.linspace(0, 1, 201)
                     if a + b <= 1 + 1e-12])
    v = np.array([0.9, 0.5, -0.3])
    np.testing.assert_allclose(Simplex().project(v), _brute_projection(grid, v), atol=6e-3)
    assert np.isclose(Simplex().project(v).sum(), 1.0)


def test_ball_projection_radius():
    p = Ball(2.0).project(np.array([3.0, 4.0]))
    np.testing.assert_allclose(p, [1.2, 1.6])
    assert Reals().project(np.array([5.0]))[0] == 5.0


def test_user_projection_accepted_when_convex():
    S = as_set(lambda v: np.clip(v, 0, 1), "proj_y", np.zeros(4))
    assert isinstance(S, Projection)
    np.testing.assert_allclose(S.project(np.array([-1.0, 0.5, 2.0, 0.2])), [0, 0.5, 1, 0.2])


@pytest.mark.parametrize("proj, match", [
    (lambda v: v / np.linalg.norm(v), "not convex"),         # sphere: idempotent, not convex
    (lambda v: np.round(v), "not convex"),                   # integer lattice
    (lambda v: 2.0 * v, "not idempotent"),                    # not a projection at all
    (lambda v: None, "returned None"),
    (lambda v: v[:2], "shape"),
    (lambda v: np.full_like(v, np.nan), "NaN"),
])
def test_user_projection_problems_are_reported(proj, match):
    with pytest.raises(ValueError, match=match):
        as_set(proj, "proj_x", np.ones(3))


def test_expansive_map_is_reported():
    # idempotent (a retraction onto the x-axis through a shear), but expansive: not a metric projection
    def shear(v):
        return np.array([v[0] + 3.0 * v[1], 0.0])

    with pytest.raises(ValueError, match="expansive"):
        as_set(shear, "proj_y", np.zeros(2))


def test_bad_specs():
    with pytest.raises(TypeError, match="not a name"):
        as_set("box", "proj_x", np.zeros(2))
    with pytest.raises(TypeError, match="proj_y must be"):
        as_set(3.0, "proj_y", np.zeros(2))
    with pytest.raises(ValueError, match="empty"):
        Box(1.0, 0.0)
    with pytest.raises(ValueError, match="expected \\(3,\\)"):
        as_set(Box(np.zeros(2), np.ones(2)), "proj_x", np.zeros(3))
    with pytest.raises(ValueError, match="radius"):
        Ball(-1.0)
