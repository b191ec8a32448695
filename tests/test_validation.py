"""Error metrics against a reference grid."""
import numpy as np
import pytest

import pinn
from pinn.output.metrics import UNTRAINED_PASSED

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


def _poisson(value, exact_walls=None, scale=None):
    space = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))
    exact = lambda x, y: x**2 + y**2  # noqa: E731 - the closed form, -Δu = -4
    return pinn.Problem(
        name="square", inputs="x y", outputs="u", domain=space,
        residuals={"poisson": lambda f: f.u_xx + f.u_yy - 4.0},
        conditions={"walls": pinn.Dirichlet(space.boundary, value, exact=exact_walls)},
        reference=pinn.references.analytic(exact, resolution=21), tolerance=1e-3,
        net=pinn.MLP(width=8, depth=2, output_scale=scale), sampling=pinn.Sampling(interior=64, boundary=16),
        training=pinn.Training([pinn.Adam(3)]))


def test_a_pass_the_untrained_model_already_had_is_flagged(tmp_path):
    # the solution given as the walls' value: the exact walls evaluate it inside too, and with a network
    # whose part starts negligible (an output scale of round-off) the untrained model is the solution
    handed = pinn.fit(_poisson(lambda x, y: x**2 + y**2, scale=(1e-14,)), tmp_path / "handed", progress=False)
    assert handed.metrics["untrained"]["passed"] and handed.metrics["warning"] == UNTRAINED_PASSED
    assert "warning: the untrained model already met every tolerance" in handed.summary()
    honest = pinn.fit(_poisson(lambda x, y: x**2 + y**2, exact_walls=False), tmp_path / "honest", progress=False)
    assert not honest.metrics["untrained"]["passed"] and honest.metrics["warning"] is None
