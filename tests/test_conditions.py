"""Conditions: their residuals vanish on the true solution and not elsewhere; exact imposition holds."""
import dataclasses
import math

import h5py
import numpy as np
import pytest
import torch

import pinn
from pinn.pde.build import build_model, condition_batch, loss_conditions
from pinn.pde.problem import ProblemError
from pinn.pde.losses import LossFunction, draw_points


class ExactNet(torch.nn.Module):
    """A 'network' that returns a known function, to check residuals and conditions on it."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.dummy = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x):
        return self.fn(*x.unbind(1)) + 0 * self.dummy


def with_network(problem, fn):
    model = build_model(problem, torch.float64, torch.device("cpu"), seed=0)
    model.net = ExactNet(fn)
    return model


def terms_for(problem, fn, seed=0):
    points = draw_points(problem, np.random.default_rng(seed), torch.float64, torch.device("cpu"))
    return {k: float(v.detach()) for k, v in LossFunction(problem, with_network(problem, fn), "autograd")(points).items()}


SPACE = pinn.Rectangle((0.0, 0.0), (1.0, 2.0))


def steady(conditions, outputs="u", residual=None):
    return pinn.Problem(
        name="steady", inputs="x y", outputs=outputs, domain=SPACE,
        residuals={"pde": residual or (lambda f: f.u_xx + f.u_yy)}, conditions=conditions,
        sampling=pinn.Sampling(interior=64, boundary=64),
    )


def harmonic(x, y):  # u = e^x sin y: Laplace's equation holds
    return (torch.exp(x) * torch.sin(y))[:, None]


def test_dirichlet_neumann_robin_vanish_on_the_solution_and_only_there():
    right = SPACE.side(0, "upper")
    top = SPACE.side(1, "upper")
    conditions = {
        "left": pinn.Dirichlet(SPACE.side(0, "lower"), lambda x, y: torch.sin(y)),
        "right": pinn.Neumann(right, lambda x, y: torch.exp(x) * torch.sin(y)),  # du/dn = u_x at x=1
        "top": pinn.Robin(top, a=2.0, b=1.0, value=lambda x, y: torch.exp(x) * (2 * torch.sin(y) + torch.cos(y))),
    }
    problem = steady(conditions)
    good = terms_for(problem, harmonic)
    assert max(good.values()) < 1e-24
    bad = terms_for(problem, lambda x, y: harmonic(x, y) + (0.01 * (1 + x**2) * (1 + y))[:, None])
    assert all(v > 1e-8 for v in bad.values())


def test_condition_weight_scales_its_term():
    base = steady({"walls": pinn.Dirichlet(SPACE.boundary, 1.0, exact=False)})  # a loss term: weight applies
    heavy = steady({"walls": pinn.Dirichlet(SPACE.boundary, 1.0, weight=10.0, exact=False)})
    fn = lambda x, y: (x + y)[:, None]  # noqa: E731
    assert terms_for(heavy, fn)["walls"] == pytest.approx(10 * terms_for(base, fn)["walls"], rel=1e-12)


def test_exact_dirichlet_and_initial_hold_to_round_off():
    space = pinn.Interval(0.0, 2.0)
    domain = space * pinn.TimeInterval(0.0, 1.0)
    problem = pinn.Problem(
        name="exact", inputs="x t", outputs="u", domain=domain, residuals={"pde": lambda f: f.u_t - f.u_xx},
        conditions={"ends": pinn.Dirichlet(space.boundary, lambda x, t: 3 * t, exact=True),
                    "initial": pinn.Initial(lambda x: torch.zeros_like(x), exact=True)},
    )
    assert loss_conditions(problem) == {}
    model = build_model(problem, torch.float64, torch.device("cpu"), seed=3)
    rng = np.random.default_rng(0)
    walls, _ = domain.sample_lateral(space.boundary, 50, "uniform", rng)
    start = domain.sample_initial(50, "uniform", rng)
    predicted = model.predict(walls)["u"]
    np.testing.assert_allclose(predicted, 3 * walls[:, 1], atol=1e-13)
    np.testing.assert_allclose(model.predict(start)["u"], 0.0, atol=1e-13)
    inside = domain.sample_interior(50, "uniform", rng)
    assert np.abs(model.predict(inside)["u"] - 3 * inside[:, 1]).max() > 1e-3  # the network still acts inside


def test_exact_conditions_that_disagree_at_t0_are_rejected():
    space = pinn.Interval(0.0, 1.0)
    with pytest.raises(ProblemError, match="exact initial value differs from the exact boundary value"):
        pinn.Problem(name="clash", inputs="x t", outputs="u", domain=space * pinn.TimeInterval(0, 1),
                     residuals={"pde": lambda f: f.u_t - f.u_xx},
                     conditions={"ends": pinn.Dirichlet(space.boundary, 1.0, exact=True),
                                 "initial": pinn.Initial(lambda x: torch.zeros_like(x), exact=True)})


def test_exact_dirichlet_on_part_of_the_boundary_is_rejected():
    with pytest.raises(ProblemError, match="exact=True needs the whole boundary"):
        steady({"left": pinn.Dirichlet(SPACE.side(0, "lower"), 0.0, exact=True)})


L_SHAPE = pinn.Polygon([(-1, -1), (0, -1), (0, 0), (1, 0), (1, 1), (-1, 1)])


def exact_names(problem):
    return sorted(name for name, c in problem.conditions.items() if c.exact)


@pytest.mark.parametrize("domain", [SPACE, L_SHAPE, pinn.Disk((0, 0), 1) - pinn.Disk((0.2, 0), 0.3),
                                    pinn.Rectangle((0, 0), (2, 1)) | pinn.Rectangle((1, 0.5), (1.5, 2))], ids=repr)
def test_dirichlet_on_the_whole_boundary_is_exact_by_default(domain):
    problem = pinn.Problem(name="default", inputs="x y", outputs="u", domain=domain,
                           residuals={"pde": lambda f: f.u_xx + f.u_yy + 1},
                           conditions={"walls": pinn.Dirichlet(domain.boundary, lambda x, y: x * y)})
    assert exact_names(problem) == ["walls"] and loss_conditions(problem) == {}
    model = build_model(problem, torch.float64, torch.device("cpu"), seed=1)
    boundary, _ = domain.sample_boundary(300, "uniform", np.random.default_rng(0))
    np.testing.assert_allclose(model.predict(boundary)["u"], boundary[:, 0] * boundary[:, 1], atol=1e-12)


def test_what_stays_a_loss_term_by_default():
    top, rest = SPACE.side(1, "upper"), SPACE.boundary.where(lambda x, y: y < 2 - 1e-9)
    problem = steady({"top": pinn.Dirichlet(top, 1.0), "rest": pinn.Dirichlet(rest, 0.0)})
    assert exact_names(problem) == []  # parts of the boundary: loss terms, whatever they add up to
    lid = steady({"walls": pinn.Dirichlet(SPACE.boundary, lambda x, y: torch.where(y == 2.0, 1.0, 0.0) + 0 * x)})
    assert exact_names(lid) == []  # a value written for the boundary only: inside it would jump
    box3 = pinn.Box((0, 0, 0), (1, 1, 1)) - pinn.Box((0, 0, 0), (0.5, 0.5, 0.5))
    no_factor = pinn.Problem(name="no-factor", inputs="x y z", outputs="u", domain=box3,
                             residuals={"pde": lambda f: f.u_xx}, conditions={"walls": pinn.Dirichlet(box3.boundary)})
    assert exact_names(no_factor) == []  # no distance factor in 3-D differences
    forced = steady({"walls": pinn.Dirichlet(SPACE.boundary, 0.0, exact=False)})
    assert exact_names(forced) == [] and list(loss_conditions(forced)) == ["walls"]
    twice = steady({"a": pinn.Dirichlet(SPACE.boundary, 0.0), "b": pinn.Dirichlet(SPACE.boundary, 0.0)})
    assert exact_names(twice) == ["a"]  # one exact condition per field; the other stays a loss term
    known = pinn.Problem(name="known", inputs="x y", outputs="u", domain=SPACE, residuals={"pde": lambda f: f.u_xx},
                         conditions={"walls": pinn.Dirichlet(SPACE.boundary, 0.0)}, known={"u": lambda x, y: x})
    assert exact_names(known) == []
    with pytest.raises(ProblemError, match="exact=True is not available on this geometry"):
        pinn.Problem(name="refused", inputs="x y z", outputs="u", domain=box3, residuals={"pde": lambda f: f.u_xx},
                     conditions={"walls": pinn.Dirichlet(box3.boundary, exact=True)})
    with pytest.raises(ValueError, match="exact must be None"):
        pinn.Dirichlet(SPACE.boundary, exact="yes")
    with pytest.raises(ValueError, match="distance is used only for an exact condition"):
        pinn.Dirichlet(SPACE.side(0, "lower"), exact=False, distance=lambda x, y: x)
    clamp = steady({"left": pinn.Dirichlet(SPACE.side(0, "lower"), 0.0, distance=lambda x, y: x)})
    assert exact_names(clamp) == ["left"]  # a distance function makes it exact


def test_initial_is_exact_by_default_unless_it_disagrees_with_an_exact_wall():
    space = pinn.Interval(0.0, 1.0)
    domain = space * pinn.TimeInterval(0, 1)

    def problem(initial, walls=0.0):
        return pinn.Problem(name="heat", inputs="x t", outputs="u", domain=domain,
                            residuals={"pde": lambda f: f.u_t - f.u_xx},
                            conditions={"walls": pinn.Dirichlet(space.boundary, walls), "initial": pinn.Initial(initial)})

    assert exact_names(problem(lambda x: torch.sin(math.pi * x))) == ["initial", "walls"]
    # u0 = 1 against walls at 0: the walls win, the initial condition is a loss term (no error raised).
    clash = problem(1.0)
    assert exact_names(clash) == ["walls"] and list(loss_conditions(clash)) == ["initial"]
    forced = pinn.Problem(name="soft", inputs="x t", outputs="u", domain=domain, residuals={"pde": lambda f: f.u_t},
                          conditions={"initial": pinn.Initial(0.0, exact=False)})
    assert exact_names(forced) == []


def test_config_lists_the_exact_conditions_and_the_singular_corners():
    from pinn.output.config import singular_corner_list

    problem = pinn.Problem(name="corner", inputs="x y", outputs="u", domain=L_SHAPE,
                           residuals={"pde": lambda f: f.u_xx + f.u_yy + 1},
                           conditions={"walls": pinn.Dirichlet(L_SHAPE.boundary, 0.0)})
    assert singular_corner_list(problem) == [{"field": "u", "vertex": [0.0, 0.0], "angle_degrees": 270.0}]
    off = pinn.Problem(name="corner", inputs="x y", outputs="u", domain=L_SHAPE,
                       residuals={"pde": lambda f: f.u_xx + f.u_yy + 1},
                       conditions={"walls": pinn.Dirichlet(L_SHAPE.boundary, 0.0, singular_corners=False)})
    assert singular_corner_list(off) == []
    assert build_model(off, torch.float64, torch.device("cpu"), 0).transform.extra_outputs == 0


def test_singular_corner_term_keeps_the_condition_exact_and_reaches_the_corner():
    problem = pinn.Problem(name="corner", inputs="x y", outputs="u", domain=L_SHAPE,
                           residuals={"pde": lambda f: f.u_xx + f.u_yy + 1},
                           conditions={"walls": pinn.Dirichlet(L_SHAPE.boundary, lambda x, y: 1 + x)})
    model = build_model(problem, torch.float64, torch.device("cpu"), seed=2)
    assert model.transform.fold == (0,)
    # Only the corner column of the network: the output is g + chi psi M with M = 1.
    model.net = ExactNet(lambda x, y: torch.stack([0 * x, 1 + 0 * x], dim=1))
    boundary, _ = L_SHAPE.sample_boundary(400, "uniform", np.random.default_rng(0))
    np.testing.assert_allclose(model.predict(boundary)["u"], 1 + boundary[:, 0], atol=1e-14)
    r, theta = 0.01, 0.75 * math.pi  # on the bisector, psi = r^(2/3) sin(pi/2)
    point = np.array([[r * math.cos(theta), r * math.sin(theta)]])
    expected = 1 + point[0, 0] + r ** (2 / 3) * (1 - r**2) ** 3
    assert model.predict(point)["u"][0] == pytest.approx(expected, rel=1e-12)
    far = np.array([[-0.9, -0.9], [0.5, 0.9]])  # beyond the cut-off radius (1, the nearest other edge)
    np.testing.assert_allclose(model.predict(far)["u"], 1 + far[:, 0], atol=1e-15)
    at_corner = model.fields(torch.zeros(1, 2, dtype=torch.float64))
    assert torch.isfinite(at_corner.u_x).all() and torch.isfinite(at_corner.u_xx).all()


def test_periodic_condition_matches_values_and_derivatives():
    domain = pinn.Rectangle((0.0, 0.0), (2 * math.pi, 1.0))
    problem = pinn.Problem(name="periodic", inputs="x y", outputs="u", domain=domain,
                           residuals={"pde": lambda f: f.u_xx + f.u_yy},
                           conditions={"x": pinn.Periodic("x", derivatives=2)},
                           net=pinn.MLP(width=8, depth=2),  # not periodic itself: the condition is a loss term
                           sampling=pinn.Sampling(interior=32, boundary=32))
    assert terms_for(problem, lambda x, y: (torch.sin(x) * torch.exp(y))[:, None])["x"] < 1e-26
    assert terms_for(problem, lambda x, y: (torch.sin(x / 2) * torch.exp(y))[:, None])["x"] > 1e-3
    with pytest.raises(ProblemError, match="Periodic axis 'z' is not an input"):
        pinn.Problem(name="p", inputs="x y", outputs="u", domain=domain, residuals={"pde": lambda f: f.u_xx},
                     conditions={"z": pinn.Periodic("z")})


def test_a_periodic_condition_without_a_field_holds_for_every_output():
    domain = pinn.Rectangle((0.0, 0.0), (2 * math.pi, 1.0))
    problem = pinn.Problem(name="periodic", inputs="x y", outputs="u v", domain=domain,
                           residuals={"pde": lambda f: f.u_xx + f.v_yy},
                           conditions={"x": pinn.Periodic("x")},  # u and v both
                           net=pinn.MLP(width=8, depth=2), sampling=pinn.Sampling(interior=32, boundary=32))
    assert problem.conditions["x"].fields == ("u", "v")
    both = terms_for(problem, lambda x, y: torch.stack([torch.sin(x) * y, torch.cos(x) + y], 1))["x"]
    assert both < 1e-26
    # either field alone aperiodic is caught
    assert terms_for(problem, lambda x, y: torch.stack([torch.sin(x) * y, x * y], 1))["x"] > 1e-3
    assert terms_for(problem, lambda x, y: torch.stack([torch.sin(x / 2), torch.cos(x)], 1))["x"] > 1e-3
    named = pinn.Problem(name="p", inputs="x y", outputs="u v", domain=domain, residuals={"pde": lambda f: f.u_xx},
                         conditions={"x": pinn.Periodic("x", field="u")})  # a field named: that field only
    assert named.conditions["x"].fields == ("u",)


def observations(n=30, seed=0):
    rng = np.random.default_rng(seed)
    points = np.column_stack([rng.uniform(0, 1, n), rng.uniform(0, 2, n)])
    values = np.exp(points[:, 0]) * np.sin(points[:, 1])
    return points, values


def test_data_from_arrays_csv_and_hdf5_agree(tmp_path):
    points, values = observations()
    csv_path = tmp_path / "obs.csv"
    np.savetxt(csv_path, np.column_stack([points, values]), delimiter=",", header="x,y,u", comments="")
    h5_path = tmp_path / "obs.h5"
    with h5py.File(h5_path, "w") as handle:
        handle["x"], handle["y"], handle["u"] = points[:, 0], points[:, 1], values
    sources = [pinn.Data(points, {"u": values}), pinn.Data.from_csv(csv_path), pinn.Data.from_hdf5(h5_path)]
    for data in sources:
        problem = steady({"data": data})
        assert terms_for(problem, harmonic)["data"] < 1e-24
        assert terms_for(problem, lambda x, y: harmonic(x, y) + 0.1)["data"] == pytest.approx(0.01, rel=1e-9)


@pytest.mark.parametrize("edit, message", [
    (lambda p, v: (np.vstack([p, [[5.0, 0.5]]]), np.append(v, 1.0)), "lie outside the domain"),
    (lambda p, v: (p, np.where(np.arange(len(v)) == 3, np.nan, v)), "contains NaN"),
    (lambda p, v: (p[:, :1], v), "must have shape"),
])
def test_bad_data_is_rejected_with_a_reason(edit, message):
    points, values = edit(*observations())
    with pytest.raises(ProblemError, match=message):
        steady({"data": pinn.Data(points, {"u": values})})


def test_data_file_with_wrong_columns(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("x,z,u\n0.1,0.2,0.3\n")
    with pytest.raises(ProblemError, match="no column for input"):
        steady({"data": pinn.Data.from_csv(path)})
    with pytest.raises(ValueError, match="does not exist"):
        pinn.Data.from_csv(tmp_path / "missing.csv")


def test_several_outputs_need_a_field_name():
    with pytest.raises(ProblemError, match="must say which field it constrains"):
        steady({"walls": pinn.Dirichlet(SPACE.boundary, 0.0)}, outputs="u v",
               residual=lambda f: f.u_xx + f.v_yy)


def test_a_csv_file_with_a_byte_order_mark_reads_like_one_without(tmp_path):
    text = "x,y,u\n0.5,0.5,0.1\n0.25,1.5,0.2\n"
    plain, marked = tmp_path / "plain.csv", tmp_path / "marked.csv"
    plain.write_text(text, encoding="utf-8")
    marked.write_text(text, encoding="utf-8-sig")  # as spreadsheets export "CSV UTF-8"
    assert marked.read_bytes().startswith(b"\xef\xbb\xbf")
    read = [pinn.Data.from_csv(path).columns for path in (plain, marked)]
    assert list(read[1]) == ["x", "y", "u"]
    assert all(np.array_equal(read[0][name], read[1][name]) for name in read[0])


@pytest.mark.parametrize("text, message", [
    ("x,y,u\n0.5,0.5,abc\n", r"obs.csv, line 2, column 'u': 'abc' is not a number"),
    ("x,y,u\n0.5,0.5,\n", r"obs.csv, line 2, column 'u': '' is not a number"),
    ("x,,u\n0.5,0.5,0.1\n", r"obs.csv: column 2 of the header has no name"),
    ("x,y,u\n\n0.5,0.5,0.1,7\n", r"obs.csv, line 3: 4 values, but the header names 3 columns"),  # blank lines count
    ("x,y,u\n", r"needs a header row of column names and at least one data row"),
])
def test_csv_mistakes_name_the_line_and_the_column(tmp_path, text, message):
    path = tmp_path / "obs.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        pinn.Data.from_csv(path)


def test_data_in_a_float32_run_must_leave_room_to_square_it():
    points = [[0.5, 0.5], [0.5, 1.5]]
    large = {"u": [1e18, 0.0]}  # fine in float64, beyond float32's largest square
    steady({"data": pinn.Data(points, large)})
    with pytest.raises(ProblemError, match="beyond what a float32 run can square and sum"):
        dataclasses.replace(steady({"data": pinn.Data(points, large)}), training=pinn.Training(numerics=pinn.Numerics(dtype="float32")))


@pytest.mark.parametrize("value", [
    lambda x, y: (x + y)[:, None],  # (N, 1)
    lambda x, y: torch.tensor([2.0]),  # one number, wrapped
    lambda x, y: 2.0,
])
def test_condition_values_of_one_column_or_one_number_are_accepted(value):
    problem = steady({"left": pinn.Dirichlet(SPACE.side(0, "lower"), value)})
    batch = condition_batch(problem, problem.conditions["left"], 5, "uniform", np.random.default_rng(0),
                                    torch.float64, torch.device("cpu"))
    assert batch.target.shape == (5,)


def test_a_residual_must_return_the_dtype_of_the_run():
    cast = lambda f: (f.u_xx + f.u_yy).float()  # noqa: E731
    with pytest.raises(ProblemError, match="residual 'pde' returned float32 values, but the run computes in float64"):
        steady({}, residual=cast)
    float32 = dataclasses.replace(steady({}), training=pinn.Training(numerics=pinn.Numerics(dtype="float32")))
    dataclasses.replace(float32, residuals={"pde": cast})  # a no-op cast in a float32 run
    with pytest.raises(ProblemError, match="residual 'pde' returned bfloat16 values, but the run computes in float32"):
        dataclasses.replace(float32, residuals={"pde": lambda f: (f.u_xx + f.u_yy).bfloat16()})
