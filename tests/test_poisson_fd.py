"""Tests of the finite-difference Poisson reference on rectilinear polygons: second order on a smooth
solution, the reduced order at the L-shape's re-entrant corner (about 4/3 in L2, from the exact
singular solution r^(2/3) sin(2 theta/3)), the Richardson error estimate against the true error, and
argument validation."""
from __future__ import annotations

import numpy as np
import pytest

import pinn
from pinn.references.poisson_fd_solver import poisson_fd

L_SHAPE = [(-1, -1), (0, -1), (0, 0), (1, 0), (1, 1), (-1, 1)]
U_SHAPE = [(0, 0), (3, 0), (3, 2), (2, 2), (2, 1), (1, 1), (1, 2), (0, 2)]


def smooth(x, y):
    return np.sin(2 * x + 1) * np.cos(y) + x * y  # -lap = 5 sin(2x + 1) cos(y)


def corner(x, y):
    """The L-shape's singular harmonic function about its re-entrant corner (0, 0), theta from the
    edge towards (1, 0), through the domain."""
    theta = np.mod(np.arctan2(y, x), 2 * np.pi)
    return np.hypot(x, y) ** (2 / 3) * np.sin(2 * theta / 3)


def true_error(reference, exact):
    x, y = np.meshgrid(*reference.axes.values(), indexing="ij")
    u, keep = reference.fields["u"], reference.inside
    return np.linalg.norm((u - exact(x, y))[keep]) / np.linalg.norm(exact(x, y)[keep])


def observed_order(errors):
    return np.log2(errors[:-1] / errors[1:])


def test_second_order_on_a_smooth_solution_with_its_estimate():
    errors = []
    for cells in (48, 96, 192):
        reference = poisson_fd(vertices=U_SHAPE, source=lambda x, y: 5 * np.sin(2 * x + 1) * np.cos(y),
                               boundary=smooth, cells=cells)
        errors.append(true_error(reference, smooth))
        assert reference.error_estimate["u"] == pytest.approx(errors[-1], rel=0.2)
    np.testing.assert_allclose(observed_order(np.array(errors)), 2.0, atol=0.1)


def test_four_thirds_order_at_the_reentrant_corner_with_its_estimate():
    errors = []
    for cells in (32, 64, 128, 256):
        reference = poisson_fd(vertices=L_SHAPE, source=0.0, boundary=corner, cells=cells)
        errors.append(true_error(reference, corner))
        assert "observed order" in reference.description
        # The estimate is of the right size: within a factor 1.5 of the true error.
        assert errors[-1] / 1.5 < reference.error_estimate["u"] < 1.5 * errors[-1]
    orders = observed_order(np.array(errors))
    assert np.all((orders > 1.2) & (orders < 1.6)), orders


def test_the_grid_holds_nan_outside_and_the_boundary_values_on_it():
    reference = poisson_fd(vertices=L_SHAPE, source=1.0, boundary=0.0, cells=16, output_stride=2)
    assert reference.shape == (9, 9)
    x, y = np.meshgrid(*reference.axes.values(), indexing="ij")
    outside = (x > 0) & (y < 0)
    u = reference.fields["u"]
    assert np.all(np.isnan(u[outside])) and not np.any(reference.inside[outside])
    polygon = pinn.Polygon(L_SHAPE)
    on = polygon.on_boundary(np.stack([x.ravel(), y.ravel()], axis=1)).reshape(x.shape)
    assert np.all(u[on] == 0.0) and np.all(u[reference.inside & ~on] > 0)
    # The reference validates a problem on that polygon: only its nodes are compared.
    within = reference.within(polygon)
    np.testing.assert_array_equal(within.inside, reference.inside)


@pytest.mark.parametrize("kwargs, message", [
    (dict(vertices=[(0, 0), (1, 0), (0, 1)]), "neither horizontal nor vertical"),
    (dict(vertices=L_SHAPE, cells=12), "vertices fall between grid nodes"),
    (dict(vertices=L_SHAPE, cells=6), "divisible by 4"),
    (dict(vertices=L_SHAPE, cells=8, output_stride=3), "output_stride"),
    (dict(vertices=L_SHAPE, source=float("nan")), "source must be a finite number"),
    (dict(vertices=L_SHAPE, boundary=lambda x, y: np.ones(3)), "boundary returned shape"),
    (dict(vertices=L_SHAPE, names=("x", "x")), "names"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        poisson_fd(**{"cells": 8, **kwargs})


def test_the_deferred_reference_takes_torch_functions():
    import torch

    reference = pinn.references.poisson_fd(vertices=L_SHAPE, source=lambda x, y: 1 + 0 * x,
                                           boundary=lambda x, y: torch.zeros_like(x), cells=16)
    assert "poisson_fd" in repr(reference)
    grid = reference.build(("x", "y"), ("u",), pinn.Polygon(L_SHAPE))
    assert grid.error_estimate["u"] > 0 and np.nanmax(grid.fields["u"]) > 0
