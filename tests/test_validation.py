"""Error metrics against a reference grid."""
import numpy as np
import pytest

from pinn.references import GridReference, analytic
from pinn.geometry import Disk
from pinn.validation import field_errors, worst


def grid(values):
    axes = {"x": np.linspace(0, 1, values.shape[0]), "y": np.linspace(0, 1, values.shape[1])}
    return GridReference(axes, {"u": values})


def test_relative_l2_and_max_error_by_hand():
    reference = grid(np.array([[3.0, 0.0], [0.0, 4.0]]))
    predicted = {"u": np.array([3.0, 1.0, 0.0, 2.0])}  # differences 0, 1, 0, -2
    errors = field_errors(predicted, reference, {"u": 0.5})
    assert errors["u"].rel_l2 == pytest.approx(np.sqrt(5) / 5)
    assert errors["u"].max_abs == pytest.approx(2.0)
    assert errors["u"].passed  # 0.447 <= 0.5
    assert not field_errors(predicted, reference, {"u": 0.4})["u"].passed
    assert field_errors(predicted, reference, {})["u"].tolerance is None


def test_points_outside_the_domain_are_left_out():
    disk = Disk((0.5, 0.5), 0.3)
    reference = analytic(lambda x, y: x + y, resolution=41).build(("x", "y"), ("u",), disk)
    inside = np.isfinite(reference.fields["u"]).ravel()
    assert 0.7 < inside.mean() < 0.85  # the grid spans the bounding box: pi/4 of it is inside
    predicted = reference.fields["u"].ravel().copy()
    predicted[~inside] = 1e6  # garbage outside must not count
    predicted[inside] *= 1.01
    errors = field_errors({"u": predicted}, reference, {})
    assert errors["u"].rel_l2 == pytest.approx(0.01, rel=1e-9)


def test_worst_is_the_largest_field_error():
    reference = GridReference({"x": np.linspace(0, 1, 3)}, {"u": np.ones(3), "v": np.full(3, 2.0)})
    errors = field_errors({"u": np.full(3, 1.1), "v": np.full(3, 2.0)}, reference, {})
    assert worst(errors) == pytest.approx(0.1)


def test_grid_reference_checks_shapes():
    with pytest.raises(ValueError, match="reference field 'u' has shape"):
        GridReference({"x": np.linspace(0, 1, 3)}, {"u": np.ones(4)})
