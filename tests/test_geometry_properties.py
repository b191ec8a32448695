"""Property tests of geometry and sampling (hypothesis): for random domains, every sampling method
and any seed, sampled points lie in their domain, boundary points on the boundary with outward unit
normals, and unions and differences agree with their parts."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pinn.geometry import (
    SAMPLING_METHODS,
    Box,
    Difference,
    Disk,
    Geometry,
    Interval,
    Polygon,
    Rectangle,
    SpaceTime,
    TimeInterval,
    Union,
)

# Deterministic (the same examples every run) and writing no example database into the repository.
FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# Sizes from 1e-2 to 1e2 anywhere in [-1e3, 1e3]: small domains far from the origin included.
coordinate = st.floats(-1e3, 1e3, allow_nan=False)
size = st.floats(1e-2, 1e2, allow_nan=False)
methods = st.sampled_from(SAMPLING_METHODS)
counts = st.integers(1, 200)
seeds = st.integers(0, 2**32 - 1)


def _vector(dim):
    return st.lists(coordinate, min_size=dim, max_size=dim)


@st.composite
def boxes(draw, dim):
    lower = np.array(draw(_vector(dim)))
    upper = lower + np.array(draw(st.lists(size, min_size=dim, max_size=dim)))
    if dim == 1:
        return Interval(lower[0], upper[0])
    return Rectangle(lower, upper) if dim == 2 else Box(lower, upper)


@st.composite
def disks(draw):
    return Disk(draw(_vector(2)), draw(size))


@st.composite
def polygons(draw):
    """Star-shaped around a centre (so simple), in either orientation, angles not too sharp."""
    n = draw(st.integers(3, 9))
    steps = np.array(draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n)))
    angles = np.cumsum(steps / steps.sum() * 2 * np.pi) + draw(st.floats(0, 2 * np.pi))
    assume(np.max(steps / steps.sum() * 2 * np.pi) < 0.9 * np.pi)
    radii = np.array(draw(st.lists(st.floats(0.4, 1.0), min_size=n, max_size=n))) * draw(size)
    centre = np.array(draw(_vector(2)))
    vertices = centre + radii[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Polygon(vertices[::-1] if draw(st.booleans()) else vertices)


planar = st.one_of(boxes(2), disks(), polygons())


def _area_fraction(geometry: Geometry) -> float:
    lower, upper = geometry.bbox
    x = lower + np.random.default_rng(1).random((4000, geometry.dim)) * (upper - lower)
    return float(np.mean(geometry.inside(x)))


@st.composite
def combined(draw):
    """A union or difference of two planar parts, not (nearly) empty."""
    a, b = draw(planar), draw(planar)
    geometry = a | b if draw(st.booleans()) else a - b
    assume(_area_fraction(geometry) > 0.05)
    return geometry


domains = st.one_of(boxes(1), boxes(2), boxes(3), disks(), polygons(), combined())


def _scale(geometry: Geometry) -> float:
    lower, upper = geometry.bbox
    return float(np.max(upper - lower))


def _magnitude(geometry: Geometry) -> float:
    """The size or the coordinates' magnitude, whichever is larger: round-off scales with it."""
    lower, upper = geometry.bbox
    return max(_scale(geometry), float(np.max(np.abs(lower))), float(np.max(np.abs(upper))))


def _smallest_extent(geometry: Geometry) -> float:
    if isinstance(geometry, (Union, Difference)):
        return min(_smallest_extent(geometry.a), _smallest_extent(geometry.b))
    lower, upper = geometry.bbox
    return float(np.min(upper - lower))


def _undecidable(geometry: Geometry, points: np.ndarray, radius: float) -> np.ndarray:
    """Points near a corner or where two parts' boundaries meet: there a step along one face's
    normal may enter the domain through another face, so the outward test does not apply."""
    if isinstance(geometry, Polygon):
        vertices = np.asarray(geometry.vertices)
        return np.min(np.linalg.norm(points[:, None, :] - vertices[None], axis=2), axis=1) < radius
    if isinstance(geometry, (Union, Difference)):
        seam = geometry.a.on_boundary(points, radius) & geometry.b.on_boundary(points, radius)
        return seam | _undecidable(geometry.a, points, radius) | _undecidable(geometry.b, points, radius)
    return np.zeros(len(points), dtype=bool)


def _assert_outward_normals(geometry: Geometry, points: np.ndarray, normals: np.ndarray) -> None:
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)
    step = 1e-7 * _magnitude(geometry)  # well above round-off, ...
    assume(step < 0.1 * _smallest_extent(geometry))  # ... and well below the size of every part
    checked = ~_undecidable(geometry, points, max(1e-3 * _scale(geometry), 1e3 * step))
    p, n = points[checked], normals[checked]
    assert not geometry.inside(p + step * n).any(), "a normal points into the domain"
    assert geometry.inside(p - step * n).all(), "a normal points away from the domain's inside"


@FAST
@given(domains, methods, counts, seeds)
def test_sampled_interior_points_lie_inside(geometry, method, n, seed):
    x = geometry.sample_interior(n, method, np.random.default_rng(seed))
    assert x.shape == (n, geometry.dim) and np.isfinite(x).all()
    assert geometry.inside(x).all()


@FAST
@given(domains, methods, counts, seeds)
def test_boundary_points_lie_on_the_boundary_with_unit_outward_normals(geometry, method, n, seed):
    points, normals = geometry.sample_boundary(n, method, np.random.default_rng(seed))
    assert points.shape == normals.shape == (n, geometry.dim)
    assert geometry.on_boundary(points, 1e-9 * _scale(geometry)).all()
    assert geometry.inside(points).all()
    _assert_outward_normals(geometry, points, normals)


@FAST
@given(planar, planar, seeds)
def test_union_and_difference_agree_with_their_parts(a, b, seed):
    rng = np.random.default_rng(seed)
    lower, upper = (a | b).bbox
    x = lower + rng.random((500, 2)) * (upper - lower)
    in_a, in_b = a.inside(x), b.inside(x)
    np.testing.assert_array_equal((a | b).inside(x), in_a | in_b)
    np.testing.assert_array_equal((a | b).inside(x), (b | a).inside(x))
    difference = (a - b).inside(x)
    assert not (difference & ~in_a).any()  # nothing outside a
    clear_of_b = ~b.on_boundary(x, 1e-9 * _scale(a | b))  # on b's boundary the difference keeps the point
    np.testing.assert_array_equal(difference[clear_of_b], (in_a & ~in_b)[clear_of_b])
    np.testing.assert_array_equal(((a - b) | b).inside(x), in_a | in_b)


@FAST
@given(combined(), methods, seeds)
def test_combined_boundary_points_come_from_the_right_parts(geometry, method, seed):
    points, _ = geometry.sample_boundary(100, method, np.random.default_rng(seed))
    atol = 1e-9 * _scale(geometry)
    a, b = geometry.a, geometry.b
    on_a, on_b = a.on_boundary(points, atol), b.on_boundary(points, atol)
    within_a = a.inside(points) & ~on_a  # strictly inside, beyond round-off
    within_b = b.inside(points) & ~on_b
    if isinstance(geometry, Union):
        assert ((on_a | on_b) & ~within_a & ~within_b).all()
    else:
        assert ((on_a & ~within_b) | (on_b & a.inside(points))).all()


@FAST
@given(st.one_of(boxes(1), boxes(2), disks(), polygons()), coordinate, size, methods, counts, seeds)
def test_space_time_samples(space, t0, length, method, n, seed):
    domain = space * TimeInterval(t0, t0 + length)
    assert isinstance(domain, SpaceTime)
    rng = np.random.default_rng(seed)
    assert domain.inside(domain.sample_interior(n, method, rng)).all()
    initial = domain.sample_initial(n, method, rng)
    assert (initial[:, -1] == t0).all() and space.inside(initial[:, :-1]).all()
    lateral, normals = domain.sample_lateral(space.boundary, n, method, rng)
    t = lateral[:, -1]
    assert ((t >= t0) & (t <= t0 + length)).all()
    assert space.on_boundary(lateral[:, :-1], 1e-9 * _scale(space)).all()
    _assert_outward_normals(space, lateral[:, :-1], normals)


@FAST
@given(boxes(2), st.floats(0.1, 0.9), methods, counts, seeds)
def test_restricted_boundaries_keep_only_their_part(rectangle, fraction, method, n, seed):
    cut = rectangle.lower[0] + fraction * (rectangle.upper[0] - rectangle.lower[0])
    part = rectangle.boundary.where(lambda x, y: x <= cut)
    points, normals = part.sample(n, method, np.random.default_rng(seed))
    assert (points[:, 0] <= cut).all() and part.contains(points).all()
    _assert_outward_normals(rectangle, points, normals)
    wall, _ = rectangle.side(1, "upper").sample(n, method, np.random.default_rng(seed))
    assert (wall[:, 1] == rectangle.upper[1]).all()
