"""Distance factors of polygons, unions and differences (:mod:`pinn.geometry.adf`): zero on the
boundary, positive and smooth inside, of order 1, with the inward normal as gradient direction on the
boundary; and the re-entrant corners a polygon reports."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pinn.geometry import Box, Difference, Disk, Interval, Polygon, Rectangle, SpaceTime, TimeInterval, Union

L_SHAPE = Polygon([(-1, -1), (0, -1), (0, 0), (1, 0), (1, 1), (-1, 1)])

DOMAINS = {
    "L-shape": L_SHAPE,
    "L-shape clockwise, far from the origin": Polygon([(99, 51), (101, 51), (101, 49), (100, 49), (100, 50), (99, 50)]),
    "L-shape as a difference": Rectangle((-1, -1), (1, 1)) - Rectangle((0, -1), (1, 0)),
    "polygon with holes": Polygon([(0, 0), (3, 0), (3, 2), (0, 2)]) - Polygon([(0.5, 0.5), (1, 0.5), (0.8, 1.2)])
    - Disk((2, 1), 0.4),
    "union of rectangles": Rectangle((0, 0), (2, 1)) | Rectangle((1, 0.5), (1.5, 2)),
    "disk minus disk": Disk((0, 0), 1) - Disk((0.3, 0), 0.3),
    "rectangle minus disks": Rectangle((0, 0), (2, 1)) - Disk((0.5, 0.5), 0.2) - Disk((1.5, 0.5), 0.2),
    "small triangle": Polygon([(0, 0), (1e-2, 0), (0, 2e-2)]),
    "union of intervals": Interval(0, 1) | Interval(0.5, 2),
}


def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("name", list(DOMAINS))
def test_zero_on_the_boundary_positive_inside_and_of_order_one(name):
    domain = DOMAINS[name]
    boundary, normals = domain.sample_boundary(1000, "uniform", rng())
    on = domain.distance_factor(torch.tensor(boundary))
    assert on.shape == (1000,) and float(on.abs().max()) < 1e-12
    inside = domain.sample_interior(2000, "sobol", rng())
    inside = inside[~domain.on_boundary(inside, 1e-9 * float(np.max(np.ptp(np.stack(domain.bbox), axis=0))))]
    d = domain.distance_factor(torch.tensor(inside))
    assert float(d.min()) > 0
    assert 0.9 < float(d.max()) < 1.1  # normalised by the domain's size


@pytest.mark.parametrize("name", [n for n in DOMAINS if DOMAINS[n].dim == 2])
def test_gradient_on_the_boundary_points_inward(name):
    domain = DOMAINS[name]
    boundary, normals = domain.sample_boundary(500, "uniform", rng())
    x = torch.tensor(boundary, requires_grad=True)
    (grad,) = torch.autograd.grad(domain.distance_factor(x).sum(), x)
    assert torch.isfinite(grad).all()
    norm = np.linalg.norm(grad.numpy(), axis=1)
    inward = (grad.numpy() * -normals).sum(axis=1) / np.maximum(norm, 1e-300)
    # All but points near corners, and the zero-width walls a difference keeps where its parts' walls
    # coincide (the square minus a quadrant: x = 1 and y = -1 below the quadrant), where D has a crease.
    share = 0.7 if name == "L-shape as a difference" else 0.95
    assert np.median(inward) > 1 - 1e-9 and np.mean(inward > 0.99) > share


@pytest.mark.parametrize("name", [n for n in DOMAINS if DOMAINS[n].dim == 2])
def test_smooth_inside_second_derivatives_match_finite_differences(name):
    domain = DOMAINS[name]
    points = domain.sample_interior(200, "sobol", rng())
    scale = float(np.max(np.ptp(np.stack(domain.bbox), axis=0)))
    # Away from the boundary by more than the finite-difference step.
    points = points[~domain.on_boundary(points, 0.02 * scale)]
    x = torch.tensor(points, requires_grad=True)
    (grad,) = torch.autograd.grad(domain.distance_factor(x).sum(), x, create_graph=True)
    hessian = torch.stack([torch.autograd.grad(grad[:, i].sum(), x, retain_graph=True)[0] for i in range(2)], dim=1)
    h = 1e-4 * scale
    base = torch.tensor(points)
    for i in range(2):
        for j in range(2):
            ei, ej = (h * torch.eye(2, dtype=torch.float64)[k] for k in (i, j))
            fd = (domain.distance_factor(base + ei + ej) - domain.distance_factor(base + ei - ej)
                  - domain.distance_factor(base - ei + ej) + domain.distance_factor(base - ei - ej)) / (4 * h * h)
            torch.testing.assert_close(hessian[:, i, j].detach(), fd, rtol=5e-3, atol=1e-3 / scale**2)


def test_polygon_vanishes_linearly_at_its_edges_and_is_negative_outside():
    feet = torch.tensor([[-0.5, 1.0], [-1.0, 0.2], [0.5, 0.0]], dtype=torch.float64)
    inward = torch.tensor([[0.0, -1.0], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    slopes = [L_SHAPE._signed_adf(feet + eps * inward) / eps for eps in (1e-3, 1e-5)]
    assert torch.all(slopes[1] > 0)
    torch.testing.assert_close(slopes[0], slopes[1], rtol=1e-2, atol=0)
    outside = L_SHAPE._signed_adf(torch.tensor([[0.5, -0.5], [2.0, 2.0], [-1.5, 0.0]], dtype=torch.float64))
    assert torch.all(outside < 0)


def test_many_edges_do_not_underflow_in_float32():
    angles = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    gear = Polygon(np.stack([np.cos(angles), np.sin(angles)], axis=1) * np.where(np.arange(200) % 2, 1.0, 0.95)[:, None])
    inside = gear.sample_interior(500, "sobol", rng())
    d = gear.distance_factor(torch.tensor(inside, dtype=torch.float32))
    assert d.dtype == torch.float32 and float(d.min()) > 0 and 0.5 < float(d.max()) < 1.5


def test_reentrant_corners_of_a_polygon():
    (corner,) = L_SHAPE.reentrant_corners()
    assert corner.vertex == (0.0, 0.0)
    assert corner.omega == pytest.approx(1.5 * np.pi)
    assert corner.reach == pytest.approx(1.0)
    # theta = 0 along the edge leaving the corner counter-clockwise, (0, 0) -> (1, 0)
    assert corner.start == pytest.approx(0.0)
    assert Polygon([(0, 0), (1, 0), (1, 1), (0, 1)]).reentrant_corners() == []
    star = Polygon([(np.cos(a) * r, np.sin(a) * r) for a, r in zip(np.linspace(0, 2 * np.pi, 10, endpoint=False),
                                                                   [1, 0.4] * 5)])
    assert len(star.reentrant_corners()) == 5


def test_unsupported_domains_say_where_it_is_supported():
    three_d = Box((0, 0, 0), (1, 1, 1)) - Box((0, 0, 0), (0.5, 0.5, 0.5))
    with pytest.raises(NotImplementedError, match="polygons"):
        three_d.distance_factor(torch.zeros(2, 3))
    with pytest.raises(NotImplementedError, match="space.distance_factor"):
        SpaceTime(L_SHAPE, TimeInterval(0, 1)).distance_factor(torch.zeros(2, 3))
    assert isinstance(DOMAINS["union of rectangles"], Union) and isinstance(DOMAINS["disk minus disk"], Difference)
