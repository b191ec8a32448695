"""Nothing in a reference or a prediction can fake a pass (issue 21): validation runs over the reference's
explicit ``inside`` mask, never over whatever happens to be finite; a reference is checked before a run."""
from __future__ import annotations

import numpy as np
import pytest

import pinn
from pinn.geometry import Disk, Interval, Rectangle, TimeInterval
from pinn.pde.problem import ProblemError
from pinn.references import GridReference, analytic, cavity_fd
from pinn.validation import field_errors

from conftest import ROOT

XS = np.linspace(0.0, 1.0, 5)


def line(values, inside=None) -> GridReference:
    mask = {} if inside is None else {"inside": inside}
    return GridReference({"x": XS}, {"u": np.asarray(values, dtype=float)}, **mask)


def test_a_reference_nan_inside_the_domain_never_passes():
    reference = line([1.0, 2.0, np.nan, 4.0, 5.0])
    error = field_errors({"u": np.array([1.0, 2.0, 3.0, 4.0, 5.0])}, reference, {"u": 0.5})["u"]
    assert error.rel_l2 == np.inf and error.max_abs == np.inf and not error.passed


def test_a_reference_nan_everywhere_never_passes():
    error = field_errors({"u": np.zeros(5)}, line(np.full(5, np.nan)), {"u": 0.5})["u"]
    assert error.rel_l2 == np.inf and not error.passed


def test_points_left_out_by_the_mask_do_not_count_whatever_they_hold():
    inside = np.array([True, True, True, False, False])
    reference = line([1.0, 2.0, 2.0, np.nan, 1e6], inside)
    predicted = np.array([1.1, 2.2, 2.2, np.nan, -1e6])  # outside: NaN and garbage, both ignored
    error = field_errors({"u": predicted}, reference, {"u": 0.5})["u"]
    assert error.rel_l2 == pytest.approx(0.1) and error.max_abs == pytest.approx(0.2) and error.passed


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_prediction_nan_or_infinite_inside_fails(bad):
    predicted = np.array([1.0, 2.0, bad, 4.0, 5.0])
    error = field_errors({"u": predicted}, line([1.0, 2.0, 3.0, 4.0, 5.0]), {"u": 0.5})["u"]
    assert error.rel_l2 == np.inf and error.max_abs == np.inf and not error.passed


def test_a_zero_reference_field_has_no_relative_error_to_pass_with():
    reference = line(np.zeros(5))
    near = field_errors({"u": np.full(5, 1e-3)}, reference, {"u": 0.5})["u"]
    assert near.rel_l2 == np.inf and near.max_abs == pytest.approx(1e-3) and not near.passed  # not 2.2e-3 "relative"
    assert field_errors({"u": np.zeros(5)}, reference, {"u": 0.5})["u"].rel_l2 == 0.0  # an exact match is one


def test_a_reference_with_no_point_inside_validates_nothing_and_cannot_pass():
    error = field_errors({"u": np.ones(5)}, line(np.ones(5), np.zeros(5, dtype=bool)), {"u": 0.5})["u"]
    assert error.rel_l2 == np.inf and not error.passed


@pytest.mark.parametrize("axes, fields, inside, message", [
    (dict(zip("xy", np.meshgrid(XS, XS[:4], indexing="ij"))), {"u": np.ones((5, 4))}, None,
     r"reference axis 'x' has shape \(5, 4\): axes must be 1-D arrays of coordinates"),
    ({"x": XS[::-1]}, {"u": np.ones(5)}, None, "reference axis 'x' must be strictly increasing"),
    ({"x": np.array([0.0, 0.5, 0.5, 1.0])}, {"u": np.ones(4)}, None, "'x' must be strictly increasing"),
    ({"x": np.array([0.0, np.nan, 1.0])}, {"u": np.ones(3)}, None, "'x' must hold at least one coordinate, all finite"),
    ({"x": np.array([])}, {"u": np.ones(0)}, None, "'x' must hold at least one coordinate"),
    ({"x": ["a", "b"]}, {"u": np.ones(2)}, None, "reference axis 'x' must be an array of real numbers"),
    ({}, {}, None, "reference axes must be a non-empty dict"),
    ({"x": XS}, {"u": np.ones(4)}, None, r"reference field 'u' has shape \(4,\), expected \(5,\)"),
    ({"x": XS}, {"u": np.ones(5)}, np.ones(5), r"inside must be a boolean array of the grid's shape \(5,\), got float64"),
    ({"x": XS}, {"u": np.ones(5)}, np.ones(4, dtype=bool), r"boolean array of the grid's shape \(5,\), got bool of shape"),
])
def test_grid_reference_checks_its_axes_fields_and_mask(axes, fields, inside, message):
    with pytest.raises(ValueError, match=message):
        GridReference(axes, fields, **({} if inside is None else {"inside": inside}))


def test_grid_reference_holds_numpy_arrays_and_validates_everywhere_by_default():
    import torch

    reference = GridReference({"x": torch.linspace(0, 1, 3)}, {"u": torch.ones(3)})
    assert all(isinstance(a, np.ndarray) for a in (*reference.axes.values(), *reference.fields.values()))
    assert reference.inside.dtype == bool and reference.inside.all()


def test_within_and_analytic_leave_out_the_points_outside_the_domain():
    disk = Disk((0.5, 0.5), 0.3)
    built = analytic(lambda x, y: x + y, resolution=21).build(("x", "y"), ("u",), disk)
    in_disk = disk.inside(built.points()).reshape(built.shape)
    assert np.array_equal(built.inside, in_disk) and np.isnan(built.fields["u"][~in_disk]).all()
    box = GridReference(built.axes, {"u": np.ones(built.shape)})  # finite everywhere, the disk unknown to it
    assert np.array_equal(box.within(disk).inside, in_disk)


def test_usable_reference_checks_what_a_run_validates_against():
    from pinn.validation import usable_reference

    square = Rectangle((0.0, 0.0), (1.0, 1.0))
    grid = GridReference({"x": XS, "y": XS}, {"u": np.ones((5, 5))})
    assert usable_reference(grid, square, ("x", "y"), ("u",), ("u",)).inside.all()
    with pytest.raises(ValueError, match=r"the tolerance names v, but the reference has no such field \(it has u\)"):
        usable_reference(grid, square, ("x", "y"), ("u", "v"), ("u", "v"))
    with pytest.raises(ValueError, match="must return a pinn.references.GridReference, got dict"):
        usable_reference({"u": 1}, square, ("x", "y"), ("u",), ("u",))
    # NaN outside the domain is what a grid over a disk's bounding box holds: left out, not an error
    disk = Disk((0.5, 0.5), 0.5)
    values = np.where(disk.inside(grid.points()), 1.0, np.nan).reshape(5, 5)
    used = usable_reference(GridReference(grid.axes, {"u": values}), disk, ("x", "y"), ("u",), ("u",))
    assert np.array_equal(used.inside, np.isfinite(values))


def test_the_cavity_reference_leaves_out_its_singular_corners_and_the_problem_keeps_them_out():
    from pinn.loading import load_problem
    from pinn.validation import usable_reference

    problem = load_problem(ROOT / "problems" / "cavity.py")
    solver = cavity_fd(cells=16, estimate_error=False)
    reference = solver.build(problem.inputs, problem.outputs, problem.domain)
    assert np.flatnonzero(~reference.inside).tolist() == [8, 80]  # (0, 1) and (1, 1) of the 9 x 9 nodes
    with_speed = type(problem.reference)(solver).build(problem.inputs, problem.outputs, problem.domain)
    used = usable_reference(with_speed, problem.domain, problem.inputs, ("u", "v", "p", "speed"), ("speed",))
    assert np.array_equal(used.inside, reference.inside)


@pytest.mark.parametrize("inputs, expected", [("t x", 'inputs="x t"'), ("x time y", 'inputs="x y time"')])
def test_time_must_be_the_last_input_of_a_space_time_domain(inputs, expected):
    space = Interval(0.0, 1.0) if len(inputs.split()) == 2 else Rectangle((0.0, 0.0), (1.0, 1.0))
    with pytest.raises(ProblemError, match="time must be the last input") as caught:
        pinn.Problem(name="order", inputs=inputs, outputs="u", domain=space * TimeInterval(0.0, 1.0),
                     residuals={"r": lambda f: f.u})
    assert expected in str(caught.value)
