"""Tests for pinn.geometry: membership, sampling, normals, CSG, space-time and validation."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from scipy.stats import kstest, qmc

from pinn.geometry import (
    SAMPLING_METHODS,
    Box,
    Boundary,
    Difference,
    Disk,
    Geometry,
    Interval,
    Polygon,
    Rectangle,
    SpaceTime,
    TimeInterval,
    Union,
    unit_samples,
)

L_SHAPE = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]
TRIANGLE = [(0, 0), (3, 0), (0, 2)]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _near_points(kinks):
    """Mask of points within ``radius`` of any of the given kink points."""

    def near(x, radius):
        k = np.asarray(kinks, dtype=float)
        return np.min(np.linalg.norm(x[:, None, :] - k[None], axis=2), axis=1) < radius

    return near


def _near_box_edge(lower, upper):
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)

    def near(x, radius):
        close = (np.abs(x - lower) < radius) | (np.abs(x - upper) < radius)
        return close.sum(axis=1) >= 2

    return near


# name -> (factory, predicate marking points near corners/kinks where normals are ambiguous)
CASES = {
    "interval": (lambda: Interval(-1, 2), lambda x, r: np.zeros(len(x), bool)),
    "rectangle": (lambda: Rectangle((0, 0), (2, 1)), _near_box_edge((0, 0), (2, 1))),
    "box": (lambda: Box((0, -1, 0), (1, 1, 3)), _near_box_edge((0, -1, 0), (1, 1, 3))),
    "disk": (lambda: Disk((1, -2), 0.5), lambda x, r: np.zeros(len(x), bool)),
    "l_shape": (lambda: Polygon(L_SHAPE), _near_points(L_SHAPE)),
    "triangle_ccw": (lambda: Polygon(TRIANGLE), _near_points(TRIANGLE)),
    "triangle_cw": (lambda: Polygon(TRIANGLE[::-1]), _near_points(TRIANGLE)),
    "square_with_hole": (
        lambda: Rectangle((0, 0), (1, 1)) - Disk((0.5, 0.5), 0.2),
        _near_box_edge((0, 0), (1, 1)),
    ),
    "rect_union_disk": (
        lambda: Rectangle((0, 0), (1, 1)) | Disk((1, 1), 0.5),
        _near_points([(0, 0), (1, 0), (0, 1), (0.5, 1), (1, 0.5)]),
    ),
}


@pytest.fixture(params=list(CASES), ids=list(CASES))
def case(request):
    factory, near_kink = CASES[request.param]
    return factory(), near_kink


# ----- unit samples -------------------------------------------------------------------


@pytest.mark.parametrize("method", SAMPLING_METHODS)
def test_unit_samples_shape_range_and_reproducibility(method):
    u = unit_samples(100, 3, method, rng(1))
    assert u.shape == (100, 3) and u.dtype == np.float64
    assert np.all((u >= 0) & (u < 1))
    np.testing.assert_array_equal(u, unit_samples(100, 3, method, rng(1)))
    assert not np.array_equal(u, unit_samples(100, 3, method, rng(2)))
    # Successive draws from one generator differ too (the generator advances).
    g = rng(3)
    assert not np.array_equal(unit_samples(8, 2, method, g), unit_samples(8, 2, method, g))


def test_sobol_with_any_count_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert unit_samples(100, 2, "sobol", rng()).shape == (100, 2)
        Disk((0, 0), 1).sample_interior(37, "sobol", rng())


@pytest.mark.parametrize("method", ["lhs", "sobol", "halton"])
def test_low_discrepancy_methods_beat_uniform(method):
    def median_discrepancy(m):
        return np.median([qmc.discrepancy(unit_samples(256, 2, m, rng(s))) for s in range(5)])

    assert median_discrepancy(method) < 0.5 * median_discrepancy("uniform")


def test_lhs_is_stratified():
    u = unit_samples(50, 2, "lhs", rng())
    for column in u.T:
        assert sorted(np.floor(column * 50).astype(int)) == list(range(50))


# ----- interior and boundary of every geometry ----------------------------------------


@pytest.mark.parametrize("method", SAMPLING_METHODS)
def test_interior_points_inside_and_in_bbox(case, method):
    geometry, _ = case
    x = geometry.sample_interior(203, method, rng())
    assert x.shape == (203, geometry.dim)
    assert geometry.inside(x).all()
    lower, upper = geometry.bbox
    assert np.all(x >= lower) and np.all(x <= upper)


@pytest.mark.parametrize("method", SAMPLING_METHODS)
def test_boundary_points_and_outward_unit_normals(case, method):
    geometry, near_kink = case
    x, n = geometry.sample_boundary(203, method, rng())
    assert x.shape == n.shape == (203, geometry.dim)
    assert geometry.on_boundary(x).all()
    assert geometry.inside(x).all()  # closed set
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-12)
    eps = 1e-6 * geometry._scale
    regular = ~near_kink(x, 10 * eps)
    assert regular.sum() > 190
    assert not geometry.inside(x[regular] + eps * n[regular]).any()
    assert geometry.inside(x[regular] - eps * n[regular]).all()
    assert not geometry.on_boundary(x[regular] - eps * n[regular]).any()


def test_inside_rejects_outside_points(case):
    geometry, _ = case
    lower, upper = geometry.bbox
    far = np.vstack([lower - 1.0, upper + 1.0])
    assert not geometry.inside(far).any()
    assert not geometry.on_boundary(far).any()


@pytest.mark.parametrize("method", ["uniform", "sobol"])
def test_same_seed_same_points_other_seed_other_points(case, method):
    geometry, _ = case
    a = geometry.sample_interior(64, method, rng(5))
    np.testing.assert_array_equal(a, geometry.sample_interior(64, method, rng(5)))
    assert not np.array_equal(a, geometry.sample_interior(64, method, rng(6)))
    (b, nb), (c, nc) = (geometry.sample_boundary(64, method, rng(5)) for _ in range(2))
    np.testing.assert_array_equal(b, c)
    np.testing.assert_array_equal(nb, nc)
    if geometry.dim > 1:  # an interval's boundary is two points: Sobol orders may coincide
        assert not np.array_equal(b, geometry.sample_boundary(64, method, rng(6))[0])


# ----- densities ----------------------------------------------------------------------


@pytest.mark.parametrize("method", SAMPLING_METHODS)
def test_rectangle_boundary_density_follows_length(method):
    x, n = Rectangle((0, 0), (2, 1)).sample_boundary(6000, method, rng())
    long_sides = np.abs(n[:, 1]) == 1
    assert abs(long_sides.mean() - 2 / 3) < 0.02
    # Uniform along each side too.
    bottom = x[n[:, 1] == -1, 0]
    assert kstest(bottom / 2, "uniform").pvalue > 1e-3


def test_box_boundary_density_follows_face_area():
    box = Box((0, 0, 0), (1, 2, 3))
    _, n = box.sample_boundary(22000, "uniform", rng())
    for axis, area in enumerate([6, 3, 2]):
        assert abs(np.mean(np.abs(n[:, axis]) == 1) - 2 * area / 22) < 0.015
    assert box.boundary_measure() == 22


def test_interval_boundary_is_the_two_end_points():
    x, n = Interval(-1, 2).sample_boundary(64, "sobol", rng())
    left = x[:, 0] == -1
    assert np.all(left | (x[:, 0] == 2))
    assert left.sum() == 32  # Sobol splits a power of two exactly
    np.testing.assert_array_equal(n[:, 0], np.where(left, -1.0, 1.0))
    assert Interval(-1, 2).boundary_measure() == 2


def test_disk_boundary_uniform_in_angle_and_interior_uniform_in_area():
    disk = Disk((1, -2), 0.5)
    x, n = disk.sample_boundary(3000, "uniform", rng())
    angle = np.mod(np.arctan2(n[:, 1], n[:, 0]), 2 * np.pi)
    assert kstest(angle / (2 * np.pi), "uniform").pvalue > 1e-3
    np.testing.assert_allclose(x, disk.center + 0.5 * n)
    inner = np.linalg.norm(disk.sample_interior(8000, "uniform", rng()) - disk.center, axis=1) < 0.25
    assert abs(inner.mean() - 0.25) < 0.02
    assert disk.boundary_measure() == pytest.approx(np.pi)


def test_l_shape_densities():
    poly = Polygon(L_SHAPE)
    x = poly.sample_interior(6000, "sobol", rng())
    for lo in [(0, 0), (1, 0), (0, 1)]:
        in_square = np.all((x >= lo) & (x <= np.add(lo, 1)), axis=1)
        assert abs(in_square.mean() - 1 / 3) < 0.02
    assert poly.boundary_measure() == 8
    xb, n = poly.sample_boundary(8000, "uniform", rng())
    bottom = (xb[:, 1] == 0) & (n[:, 1] == -1)
    assert abs(bottom.mean() - 2 / 8) < 0.02
    assert poly.area == 3


def test_polygon_membership_and_orientation():
    poly = Polygon(L_SHAPE)
    pts = np.array([[0.5, 1.5], [1.5, 0.5], [1.5, 1.5], [1, 1], [2, 2], [0, 2], [-0.1, 1]])
    np.testing.assert_array_equal(poly.inside(pts), [True, True, False, True, False, True, False])
    np.testing.assert_array_equal(poly.on_boundary(pts), [False, False, False, True, False, True, False])
    cw, ccw = Polygon(TRIANGLE[::-1]), Polygon(TRIANGLE)
    probe = rng().uniform(-1, 4, size=(500, 2))
    np.testing.assert_array_equal(cw.inside(probe), ccw.inside(probe))
    # The hypotenuse normal points away from the origin in both orientations.
    for tri in (cw, ccw):
        x, n = tri.sample_boundary(200, "uniform", rng())
        hyp = (x[:, 0] > 1e-9) & (x[:, 1] > 1e-9)
        np.testing.assert_allclose(n[hyp], np.tile([2, 3] / np.sqrt(13), (hyp.sum(), 1)))


def test_polygon_accepts_closed_ring():
    assert Polygon(TRIANGLE + [TRIANGLE[0]]).vertices.shape == (3, 2)


# ----- unions and differences ----------------------------------------------------------


def test_square_with_hole():
    square, hole = Rectangle((0, 0), (1, 1)), Disk((0.5, 0.5), 0.2)
    plate = square - hole
    assert isinstance(plate, Difference) and plate.dim == 2
    pts = np.array([[0.5, 0.5], [0.5, 0.71], [0.5, 0.7], [0.05, 0.05], [1.2, 0.5]])
    np.testing.assert_array_equal(plate.inside(pts), [False, True, True, True, False])
    np.testing.assert_array_equal(plate.on_boundary(pts), [False, False, True, False, False])
    in_hole = hole.sample_interior(500, "uniform", rng())
    assert not plate.inside(in_hole[~hole.on_boundary(in_hole)]).any()
    assert plate.sample_interior(2000, "sobol", rng()).shape == (2000, 2)
    x, n = plate.sample_boundary(4000, "sobol", rng())
    on_hole = hole.on_boundary(x)
    # Normals on the hole point into it, towards its centre.
    towards = np.sum(n[on_hole] * (hole.center - x[on_hole]), axis=1)
    assert np.all(towards > 0)
    expected = 2 * np.pi * 0.2 / (4 + 2 * np.pi * 0.2)
    assert abs(on_hole.mean() - expected) < 0.02
    assert plate.boundary_measure() == pytest.approx(4 + 2 * np.pi * 0.2, rel=1e-3)


def test_union_of_rectangle_and_disk():
    rect, disk = Rectangle((0, 0), (1, 1)), Disk((1, 1), 0.5)
    both = rect | disk
    assert isinstance(both, Union)
    np.testing.assert_array_equal(both.inside(np.array([[0.1, 0.1], [1.4, 1.0], [0.9, 0.9], [1.4, 0.3]])),
                                  [True, True, True, False])
    x, _ = both.sample_boundary(3000, "uniform", rng())
    # No boundary point lies strictly inside the other part.
    assert not (rect._strictly_inside(x, 1e-9) | disk._strictly_inside(x, 1e-9)).any()
    exact = 3 + 0.75 * np.pi
    # Uniform over the whole union boundary: the arc (3/4 of the circle) gets its share.
    on_arc = disk.on_boundary(x) & ~rect.on_boundary(x)
    assert abs(on_arc.mean() - 0.75 * np.pi / exact) < 0.03
    assert both.boundary_measure() == pytest.approx(exact, rel=1e-3)
    np.testing.assert_array_equal(both.bbox[0], [0, 0])
    np.testing.assert_array_equal(both.bbox[1], [1.5, 1.5])


def test_nested_csg_and_give_up_on_tiny_domains():
    shape = (Rectangle((0, 0), (2, 2)) - Disk((0.5, 0.5), 0.2)) - Polygon([(1.2, 1.2), (1.8, 1.2), (1.5, 1.8)])
    x = shape.sample_interior(300, "halton", rng())
    assert shape.inside(x).all()
    xb, _ = shape.sample_boundary(300, "halton", rng())
    assert shape.on_boundary(xb).all()
    specks = Disk((0, 0), 1e-3) | Disk((1000, 1000), 1e-3)
    with pytest.raises(RuntimeError, match="bounding box"):
        specks.sample_interior(10, "uniform", rng())


# ----- boundaries and their parts ------------------------------------------------------


def test_boundary_where_restricts_and_composes():
    rect = Rectangle((0, 0), (2, 1))
    whole = rect.boundary
    assert isinstance(whole, Boundary) and whole.is_whole and whole.geometry is rect
    top_right = whole.where(lambda x, y: y > 0.5).where(lambda x, y: x > 1)
    assert not top_right.is_whole and top_right.geometry is rect
    x, n = top_right.sample(101, "sobol", rng())
    assert x.shape == (101, 2)
    assert np.all((x[:, 1] > 0.5) & (x[:, 0] > 1)) and rect.on_boundary(x).all()
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1)
    np.testing.assert_array_equal(top_right.contains(np.array([[1.5, 1.0], [0.5, 1.0], [1.5, 0.5]])),
                                  [True, False, False])
    # The part's points are uniform on it: the top edge (length 1) and the right wall above y=0.5 (0.5).
    x, _ = top_right.sample(3000, "uniform", rng())
    assert abs(np.mean(x[:, 1] == 1) - 2 / 3) < 0.03


def test_boundary_where_errors():
    boundary = Rectangle((0, 0), (1, 1)).boundary
    with pytest.raises(ValueError, match="selects"):
        boundary.where(lambda x, y: x == 0.3).sample(10, "uniform", rng())
    with pytest.raises(ValueError, match="predicate"):
        boundary.where("left")
    with pytest.raises(ValueError, match="predicate"):
        boundary.where(lambda x, y: np.ones(3, bool)).sample(10, "uniform", rng())
    with pytest.raises(ValueError, match="geometry"):
        Boundary("square")


def test_sides_of_boxes():
    rect = Rectangle((0, 0), (2, 1))
    left = rect.side(0, "lower")
    x, n = left.sample(50, "lhs", rng())
    assert np.all(x[:, 0] == 0) and np.all((x[:, 1] >= 0) & (x[:, 1] <= 1))
    np.testing.assert_array_equal(n, np.tile([-1.0, 0.0], (50, 1)))
    _, n = rect.side(1, "upper").sample(20, "uniform", rng())
    np.testing.assert_array_equal(n, np.tile([0.0, 1.0], (20, 1)))
    x, n = Box((0, 0, 0), (1, 1, 1)).side(2, "upper").sample(30, "halton", rng())
    assert np.all(x[:, 2] == 1) and np.all(n[:, 2] == 1)
    assert left.geometry is rect
    with pytest.raises(ValueError, match="axis"):
        rect.side(2, "lower")
    with pytest.raises(ValueError, match="which"):
        rect.side(0, "left")


# ----- space-time ---------------------------------------------------------------------


@pytest.mark.parametrize("space", [Rectangle((0, 0), (1, 2)), Disk((0, 0), 1), Interval(0, 1)], ids=repr)
@pytest.mark.parametrize("method", SAMPLING_METHODS)
def test_space_time_sampling(space, method):
    domain = space * TimeInterval(0.5, 2)
    assert isinstance(domain, SpaceTime) and domain.dim == space.dim + 1
    assert domain.space is space and domain.time == TimeInterval(0.5, 2)
    x = domain.sample_interior(301, method, rng())
    assert x.shape == (301, space.dim + 1) and domain.inside(x).all()
    assert np.all((x[:, -1] >= 0.5) & (x[:, -1] <= 2))
    assert abs(np.mean(x[:, -1] < 1.25) - 0.5) < 0.1
    x0 = domain.sample_initial(50, method, rng())
    assert x0.shape == (50, space.dim + 1) and np.all(x0[:, -1] == 0.5)
    assert space.inside(x0[:, :-1]).all() and domain.on_boundary(x0).all()
    xl, nl = domain.sample_lateral(space.boundary, 400, method, rng())
    assert xl.shape == (400, space.dim + 1) and nl.shape == (400, space.dim)
    assert space.on_boundary(xl[:, :-1]).all() and domain.on_boundary(xl).all()
    assert np.all((xl[:, -1] >= 0.5) & (xl[:, -1] <= 2))
    assert abs(np.mean(xl[:, -1] < 1.25) - 0.5) < 0.1
    np.testing.assert_allclose(np.linalg.norm(nl, axis=1), 1)


def test_space_time_membership_and_lateral_parts():
    space = Rectangle((0, 0), (1, 1))
    domain = space * TimeInterval(0, 1)
    pts = np.array([[0.5, 0.5, 0.5], [0.5, 0.5, 1.5], [1.5, 0.5, 0.5], [0.0, 0.5, 0.5], [0.5, 0.5, 1.0]])
    np.testing.assert_array_equal(domain.inside(pts), [True, False, False, True, True])
    np.testing.assert_array_equal(domain.on_boundary(pts), [False, False, False, True, True])
    x, n = domain.sample_lateral(space.side(0, "upper"), 64, "sobol", rng())
    assert np.all(x[:, 0] == 1) and np.all(n == [1.0, 0.0])
    # Sobol's joint sample spreads (y, t) evenly over the wall: every quadrant gets a quarter.
    quadrant = (x[:, 1] < 0.5).astype(int) * 2 + (x[:, 2] < 0.5)
    np.testing.assert_array_equal(np.bincount(quadrant, minlength=4), [16, 16, 16, 16])
    with pytest.raises(ValueError, match="boundary"):
        domain.sample_lateral(Rectangle((0, 0), (1, 1)).boundary, 10, "uniform", rng())
    with pytest.raises(NotImplementedError):
        domain.sample_boundary(10, "uniform", rng())
    with pytest.raises(NotImplementedError, match="space.distance_factor"):
        domain.distance_factor(torch.zeros(3, 3))


# ----- distance factor ----------------------------------------------------------------


@pytest.mark.parametrize(
    "geometry, centre",
    [(Interval(-1, 3), [1.0]), (Rectangle((0, 0), (2, 1)), [1.0, 0.5]),
     (Box((0, 0, 0), (1, 2, 3)), [0.5, 1, 1.5]), (Disk((1, -1), 2), [1.0, -1.0])],
    ids=repr,
)
def test_distance_factor(geometry, centre):
    xb, _ = geometry.sample_boundary(200, "uniform", rng())
    d_boundary = geometry.distance_factor(torch.tensor(xb))
    assert d_boundary.shape == (200,)
    assert torch.max(torch.abs(d_boundary)) < 1e-12
    xi = geometry.sample_interior(500, "uniform", rng())
    xi = xi[~geometry.on_boundary(xi, 1e-6)]
    d = geometry.distance_factor(torch.tensor(xi))
    assert torch.all(d > 0) and torch.all(d <= 1)
    assert geometry.distance_factor(torch.tensor([centre])).item() == pytest.approx(1.0)
    beyond = np.array([centre], dtype=float)
    beyond[0, 0] = geometry.bbox[1][0] + 0.1  # past one face only (the product form is even in pairs)
    outside = torch.tensor(beyond)
    assert geometry.distance_factor(outside).item() < 0


def test_distance_factor_second_derivatives():
    x = torch.tensor([[0.3, 0.2], [1.0, -1.0]], dtype=torch.float64, requires_grad=True)
    d = Disk((1, -1), 2).distance_factor(x)
    (grad,) = torch.autograd.grad(d.sum(), x, create_graph=True)
    torch.testing.assert_close(grad, -2 * (x.detach() - torch.tensor([1.0, -1.0], dtype=torch.float64)) / 4)
    lap = sum(torch.autograd.grad(grad[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(2))
    torch.testing.assert_close(lap, torch.full((2,), -1.0, dtype=torch.float64))
    t = torch.tensor([[0.5]], dtype=torch.float64, requires_grad=True)
    d = Interval(-1, 3).distance_factor(t)  # (t + 1)(3 - t) / 4
    (g,) = torch.autograd.grad(d.sum(), t, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), t)
    assert g.item() == pytest.approx(0.25) and h.item() == pytest.approx(-0.5)


def test_distance_factor_unsupported_and_bad_input():
    # Polygons, unions and differences have one (tests/test_geometry_adf.py); 3-D combinations do not.
    with pytest.raises(NotImplementedError, match="polygons"):
        (Box((0, 0, 0), (1, 1, 1)) | Box((0.5, 0.5, 0.5), (2, 2, 2))).distance_factor(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        Rectangle((0, 0), (1, 1)).distance_factor(torch.zeros(4, 3))


# ----- validation and repr ------------------------------------------------------------

SQUARE = Rectangle((0, 0), (1, 1))


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: Interval(1, 0), ["a < b", "a=1.0"]),
        (lambda: Interval(float("nan"), 1), ["a must be"]),
        (lambda: Interval(0, "x"), ["b must be"]),
        (lambda: Rectangle((0, 0), (1,)), ["upper"]),
        (lambda: Rectangle((0, 1), (1, 1)), ["axis 1", "lower"]),
        (lambda: Rectangle((0, 0), (1, np.inf)), ["upper", "finite"]),
        (lambda: Box((0, 0), (1, 1)), ["lower"]),
        (lambda: Disk((0, 0), 0), ["radius"]),
        (lambda: Disk((0, 0), -1), ["radius"]),
        (lambda: Disk((0, 0, 0), 1), ["center"]),
        (lambda: Polygon([(0, 0), (1, 0)]), ["vertices", "at least 3"]),
        (lambda: Polygon([(0, 0), (1, 1), (2, 2)]), ["vertices", "zero area"]),
        (lambda: Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), ["vertices", "self-intersecting"]),
        (lambda: Polygon([(0, 0), (2, 0), (2, 2), (1, 0.0), (0, 2)]), ["vertices"]),
        (lambda: Polygon([(0, 0), (1, 0), (1, 0), (0, 1)]), ["vertices", "coincide"]),
        (lambda: Polygon([(0, 0), (2, 0), (1, 0), (1, 1)]), ["vertices", "fold"]),
        (lambda: Polygon([(0, 0), (1, np.nan), (0, 1)]), ["vertices", "finite"]),
        (lambda: Polygon([0, 1, 2]), ["vertices", "shape"]),
        (lambda: TimeInterval(1, 1), ["t0 < t1"]),
        (lambda: TimeInterval(0, float("inf")), ["t1"]),
        (lambda: Union(SQUARE, Interval(0, 1)), ["b has dimension 1"]),
        (lambda: Difference("disk", SQUARE), ["a must be a Geometry"]),
        (lambda: SpaceTime(SQUARE, (0, 1)), ["time"]),
        (lambda: SpaceTime(SQUARE * TimeInterval(0, 1), TimeInterval(0, 1)), ["space"]),
        (lambda: SQUARE.sample_interior(0, "uniform", rng()), ["n must be"]),
        (lambda: SQUARE.sample_interior(True, "uniform", rng()), ["n must be"]),
        (lambda: SQUARE.sample_boundary(2.5, "uniform", rng()), ["n must be"]),
        (lambda: SQUARE.sample_interior(10, "random", rng()), ["method", "uniform, lhs, sobol, halton"]),
        (lambda: SQUARE.sample_boundary(10, "uniform"), ["rng"]),
        (lambda: SQUARE.sample_interior(10, "uniform", 42), ["rng"]),
        (lambda: SQUARE.inside(np.zeros((3, 3))), ["x must have shape (N, 2)"]),
        (lambda: SQUARE.boundary.sample(-1, "uniform", rng()), ["n must be"]),
        (lambda: unit_samples(10, 0, "uniform", rng()), ["d must be"]),
        (lambda: unit_samples(10, 2, "grid", rng()), ["method"]),
    ],
)
def test_validation_errors_name_the_argument(build, words):
    with pytest.raises(ValueError) as info:
        build()
    for word in words:
        assert word in str(info.value)


def test_operators_reject_non_geometries():
    with pytest.raises(TypeError):
        SQUARE | 3
    with pytest.raises(TypeError):
        SQUARE * (0, 1)


@pytest.mark.parametrize("key", list(CASES))
def test_repr_reads_like_the_constructor(key):
    geometry = CASES[key][0]()
    namespace = {cls.__name__: cls for cls in (Interval, Rectangle, Box, Disk, Polygon, Union, Difference)}
    assert repr(eval(repr(geometry), namespace)) == repr(geometry)
    domain = geometry * TimeInterval(0, 1)
    namespace.update(SpaceTime=SpaceTime, TimeInterval=TimeInterval)
    assert repr(eval(repr(domain), namespace)) == repr(domain)
    assert repr(SQUARE.side(0, "lower")) == "Rectangle((0.0, 0.0), (1.0, 1.0)).boundary.where(side(0, 'lower'))"


def test_every_geometry_is_a_geometry():
    assert all(isinstance(factory(), Geometry) for factory, _ in CASES.values())


def test_rectangle_extends_boundary_values_from_the_boundary_alone():
    rect = Rectangle((-0.5, -0.5), (1.0, 1.5))
    g = lambda x, y: torch.exp(x) * torch.sin(3 * y)  # noqa: E731
    extended = rect.extend_boundary_values(g)
    t = torch.linspace(0, 1, 7, dtype=torch.float64)
    for x, y in ((-0.5 + 1.5 * t, torch.full_like(t, -0.5)), (-0.5 + 1.5 * t, torch.full_like(t, 1.5)),
                 (torch.full_like(t, -0.5), -0.5 + 2 * t), (torch.full_like(t, 1.0), -0.5 + 2 * t)):
        assert torch.allclose(extended(x, y), g(x, y), rtol=0, atol=1e-14)
    inside = torch.tensor([0.25]), torch.tensor([0.5])
    assert abs(float(extended(*inside) - g(*inside))) > 1e-2  # not the function itself inside
