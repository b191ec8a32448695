"""2-D elasticity: the material, the traction condition, exact conditions on part of the boundary,
derived quantities, the two built-in problems (their exact solutions, a short solve with a real
error bound, the full solve) and bad input on the command line."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import pinn
from pinn.derivatives.fields import Fields
from pinn.loading import load_problem
from pinn.pde.build import build_model, condition_batch, loss_conditions
from pinn.pde.problem import ProblemError

from conftest import ROOT, run_cli

PLATE = ROOT / "problems" / "elasticity_plate.py"
CANTILEVER = ROOT / "problems" / "elasticity_cantilever.py"


def fields_of(solution, points: torch.Tensor, normals=None) -> Fields:
    """The fields of a closed-form displacement (and stress) solution, differentiable like a network's."""
    points = points.clone().requires_grad_(True)
    values = solution(*points.unbind(dim=1))
    names = tuple(values)
    return Fields(points, torch.stack([values[n] for n in names], dim=1), ("x", "y"), names, normals=normals)


def module_of(path):
    """The namespace of a problem file (its functions, material and exact solution)."""
    import runpy

    return runpy.run_path(str(path))


# --- the material ------------------------------------------------------------------------------

def test_engineering_and_lame_constants_agree():
    steel = pinn.LinearElastic(E=210.0, nu=0.3, plane="stress")
    again = pinn.LinearElastic(lam=steel.lam, mu=steel.mu, plane="stress")
    assert again.E == pytest.approx(210.0, rel=1e-12) and again.nu == pytest.approx(0.3, rel=1e-12)
    assert steel.mu == pytest.approx(210.0 / 2.6)
    # Plane stress: sxx = E / (1 - nu^2) (exx + nu eyy), so plane_lam + 2 mu = E / (1 - nu^2).
    assert steel.plane_lam + 2 * steel.mu == pytest.approx(210.0 / (1 - 0.09))
    assert pinn.LinearElastic(E=210.0, nu=0.3, plane="strain").plane_lam == pytest.approx(steel.lam)


@pytest.mark.parametrize("kwargs, message", [
    (dict(E=1.0, nu=0.5, plane="stress"), r"nu \(Poisson's ratio\) must lie in \(-1, 0.5\)"),
    (dict(E=1.0, nu=-1.0, plane="stress"), r"nu \(Poisson's ratio\)"),
    (dict(E=0.0, nu=0.3, plane="stress"), r"E \(Young's modulus\) must be > 0"),
    (dict(E=-5.0, nu=0.3, plane="stress"), "E"),
    (dict(E=float("nan"), nu=0.3, plane="stress"), "E must be a finite number"),
    (dict(E=1.0, plane="stress"), "nu is missing"),
    (dict(E=1.0, nu=0.3, lam=1.0, mu=1.0, plane="stress"), "not both"),
    (dict(plane="stress"), "either E and nu, or lam and mu"),
    (dict(lam=1.0, mu=0.0, plane="strain"), r"mu \(shear modulus\) must be > 0"),
    (dict(lam=-1.0, mu=1.0, plane="strain"), "lam must be > -2 mu / 3"),
    (dict(E=1.0, nu=0.3, plane="plate"), "plane must be 'stress' or 'strain'"),
])
def test_bad_material_is_refused_naming_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pinn.LinearElastic(**kwargs)


def test_plane_must_be_chosen():
    with pytest.raises(TypeError, match="plane"):
        pinn.LinearElastic(E=1.0, nu=0.3)


def test_stress_and_divergence_of_a_polynomial_field():
    material = pinn.LinearElastic(lam=2.0, mu=3.0, plane="strain")

    def u(x, y):
        return {"ux": x**2 * y, "uy": x * y**3}

    f = fields_of(u, torch.rand(20, 2, dtype=torch.float64))
    x, y = f.x.detach(), f.y.detach()
    exx, eyy, gxy = 2 * x * y, 3 * x * y**2, x**2 + y**3
    sxx, syy, sxy = (s.detach() for s in material.stress(f))
    torch.testing.assert_close(sxx, 8 * exx + 2 * eyy)
    torch.testing.assert_close(syy, 2 * exx + 8 * eyy)
    torch.testing.assert_close(sxy, 3 * gxy)
    dx, dy = (d.detach() for d in material.divergence(f))
    # div sigma by hand: d(sxx)/dx + d(sxy)/dy and d(sxy)/dx + d(syy)/dy.
    torch.testing.assert_close(dx, 8 * 2 * y + 2 * 3 * y**2 + 3 * 3 * y**2)
    torch.testing.assert_close(dy, 3 * 2 * x + 2 * 2 * x + 8 * 6 * x * y)


def test_von_mises_of_simple_states():
    stress = pinn.LinearElastic(E=1.0, nu=0.3, plane="stress")
    strain = pinn.LinearElastic(E=1.0, nu=0.3, plane="strain")
    assert stress.von_mises(2.0, 0.0, 0.0) == pytest.approx(2.0)  # uniaxial
    assert stress.von_mises(0.0, 0.0, 1.0) == pytest.approx(3**0.5)  # pure shear
    # Plane strain: szz = nu (sxx + syy) = 0.6 for sxx = syy = 1: von Mises = |1 - 0.6| = 0.4.
    assert strain.von_mises(1.0, 1.0, 0.0) == pytest.approx(0.4)


# --- the built-in problems: their exact solutions satisfy every residual and condition ----------

@pytest.mark.parametrize("path", [PLATE, CANTILEVER], ids=["plate", "cantilever"])
def test_the_exact_solution_satisfies_the_problem(path):
    problem = load_problem(path)
    namespace = module_of(path)
    exact = namespace["exact"] if "exact" in namespace else _timoshenko(namespace)
    rng = np.random.default_rng(0)
    interior = torch.as_tensor(problem.domain.sample_interior(200, "uniform", rng))
    outputs = problem.outputs  # displacements (plate), or displacements and stresses (cantilever, mixed form)
    f = fields_of(lambda x, y: {k: exact(x, y)[k] for k in outputs}, interior)
    scale = max(float(exact(*interior.unbind(1))["sxx"].abs().max()), 1.0)
    for name, residual in problem.residuals.items():
        assert float(residual(f).detach().abs().max()) < 1e-11 * scale, name
    for name, derived in problem.derived.items():
        truth = exact(*interior.unbind(1))[name]
        assert float((derived(f).detach() - truth).abs().max()) < 1e-11 * scale, name
    for name, condition in problem.conditions.items():
        batch = condition_batch(problem, condition, 50, "uniform", rng, torch.float64, torch.device("cpu"))
        fc = fields_of(lambda x, y: {k: exact(x, y)[k] for k in outputs}, batch.coordinates, batch.normals)
        assert float(condition.residual(fc, batch).detach().abs().max()) < 1e-11 * scale, name


def _timoshenko(namespace):
    """The closed form quoted in problems/elasticity_cantilever.py."""
    L, D, P, I, E, nu = (namespace[k] for k in ("L", "D", "P", "I", "E", "nu"))

    def exact(x, y):
        return {"ux": P * y * ((6 * L - 3 * x) * x + (2 + nu) * (y**2 - D**2 / 4)) / (6 * E * I),
                "uy": -P * (3 * nu * y**2 * (L - x) + (4 + 5 * nu) * D**2 * x / 4 + (3 * L - x) * x**2) / (6 * E * I),
                "sxx": P * (L - x) * y / I, "syy": 0 * x, "sxy": -P * (D**2 / 4 - y**2) / (2 * I)}

    return exact


def test_cantilever_reference_is_the_closed_form_within_a_tenth_of_the_tolerance():
    problem = load_problem(CANTILEVER)
    reference = problem.reference.build(problem.inputs, problem.outputs + tuple(problem.derived), problem.domain)
    x, y = (torch.as_tensor(a) for a in np.meshgrid(*reference.axes.values(), indexing="ij"))
    truth = _timoshenko(module_of(CANTILEVER))(x, y)
    for name, values in reference.fields.items():
        error = np.linalg.norm(values - truth[name].numpy()) / np.linalg.norm(truth[name].numpy())
        assert error < problem.tolerance.get(name, 1e-3) / 10, (name, error)


# --- traction conditions -----------------------------------------------------------------------

SQUARE = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))
MATERIAL = pinn.LinearElastic(E=1.0, nu=0.25, plane="stress")


def small_problem(**changes):
    settings = dict(
        name="pulled", inputs="x y", outputs="ux uy", domain=SQUARE,
        residuals={"ex": lambda f: MATERIAL.divergence(f)[0], "ey": lambda f: MATERIAL.divergence(f)[1]},
        conditions={"held": pinn.Dirichlet(SQUARE.side(0, "lower"), 0.0, field="ux"),
                    "pulled": pinn.Traction(SQUARE.side(0, "upper"), (1.0, None), material=MATERIAL)})
    settings.update(changes)
    return pinn.Problem(**settings)


def test_traction_in_displacement_and_mixed_form():
    # Uniaxial tension sxx = 1: ux = x / E, uy = -nu y / E.
    def u(x, y):
        return {"ux": x, "uy": -0.25 * y, "sxx": 1 + 0 * x, "syy": 0 * x, "sxy": 0 * x}

    side = SQUARE.side(0, "upper")
    points = torch.tensor([[1.0, 0.2], [1.0, 0.7]], dtype=torch.float64)
    normals = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    f = fields_of(u, points, normals)
    displacement = pinn.Traction(side, (1.0, 0.0), material=MATERIAL)
    mixed = pinn.Traction(side, (1.0, 0.0), stress="sxx syy sxy")
    for condition in (displacement, mixed):
        target = condition.target(points, ("x", "y"), None)
        assert target.shape == (2, 2)
        residual = condition.residual(f, pinn.pde.conditions.Batch(points, normals, target))
        assert float(residual.detach().abs().max()) < 1e-14
    half = pinn.Traction(side, (None, 0.5), material=MATERIAL)  # only t_y, which is 0 here: residual -0.5
    target = half.target(points, ("x", "y"), None)
    torch.testing.assert_close(half.residual(f, pinn.pde.conditions.Batch(points, normals, target)),
                               torch.full((2,), -0.5, dtype=torch.float64))
    assert displacement.fields_used() == ("ux", "uy") and mixed.fields_used() == ("sxx", "syy", "sxy")


@pytest.mark.parametrize("kwargs, message", [
    (dict(value=(None, None)), "at least one not None"),
    (dict(value=1.0), "pair"),
    (dict(value=(0.0, "a")), "t_y must be a finite number"),
    (dict(value=(0.0, 0.0), material=None), "either material="),
    (dict(value=(0.0, 0.0), stress="sxx syy sxy"), "not both"),
    (dict(value=(0.0, 0.0), material="steel"), "pinn.LinearElastic"),
    (dict(value=(0.0, 0.0), displacement="u"), "displacement must name ux, uy"),
    (dict(value=(0.0, 0.0), weight=-1.0), "weight"),
])
def test_bad_traction_is_refused(kwargs, message):
    settings = dict(material=MATERIAL)
    settings.update(kwargs)
    with pytest.raises(ValueError, match=message):
        pinn.Traction(SQUARE.side(0, "upper"), **settings)


def test_traction_on_a_boundary_not_in_the_domain_is_refused():
    other = pinn.Rectangle((0.0, 0.0), (2.0, 1.0))
    with pytest.raises(ProblemError, match="condition 'pulled': the traction is on the boundary of Rectangle"):
        small_problem(conditions={"pulled": pinn.Traction(other.side(0, "upper"), (1.0, 0.0), material=MATERIAL)})
    with pytest.raises(ProblemError, match="constrains field 'u', which is not an output"):
        small_problem(conditions={"pulled": pinn.Traction(SQUARE.side(0, "upper"), (1.0, 0.0), material=MATERIAL,
                                                          displacement="u v")})


# --- exact conditions on part of the boundary ---------------------------------------------------

def test_exact_dirichlet_with_a_distance_holds_on_its_part_only():
    problem = small_problem(conditions={
        "held": pinn.Dirichlet(SQUARE.side(0, "lower"), lambda x, y: 0.1 * y, field="ux", exact=True,
                               distance=lambda x, y: x),
        "pulled": pinn.Traction(SQUARE.side(0, "upper"), (1.0, None), material=MATERIAL)})
    assert "held" not in loss_conditions(problem)
    model = build_model(problem, torch.float64, torch.device("cpu"), seed=3)
    y = torch.linspace(0, 1, 11, dtype=torch.float64)
    left = model.predict(torch.stack([0 * y, y], 1))
    np.testing.assert_allclose(left["ux"], 0.1 * y.numpy(), atol=1e-15)
    right = model.predict(torch.stack([1 + 0 * y, y], 1))
    assert np.abs(right["ux"] - 0.1 * y.numpy()).max() > 1e-3  # free elsewhere


@pytest.mark.parametrize("distance, message", [
    (lambda x, y: x + 0.1, "must vanish on the condition's boundary"),
    (lambda x, y: -x, "must be positive inside the domain"),
    (lambda x, y: x * (1 - x), "positive on the rest of the boundary"),
    (lambda x: x, "distance function failed"),
])
def test_bad_distance_is_refused(distance, message):
    with pytest.raises(ProblemError, match=message):
        small_problem(conditions={"held": pinn.Dirichlet(SQUARE.side(0, "lower"), 0.0, field="ux", exact=True,
                                                         distance=distance)})


def test_distance_needs_exact_and_part_needs_distance():
    with pytest.raises(ValueError, match="distance is used only for an exact condition"):
        pinn.Dirichlet(SQUARE.side(0, "lower"), 0.0, field="ux", distance=lambda x, y: x, exact=False)
    with pytest.raises(ProblemError, match="or a distance function for part of it"):
        small_problem(conditions={"held": pinn.Dirichlet(SQUARE.side(0, "lower"), 0.0, field="ux", exact=True)})


# --- derived quantities ------------------------------------------------------------------------

def test_derived_quantities_are_predicted_and_checked():
    problem = small_problem(derived=MATERIAL.stress_fields(), tolerance={"ux": 1.0, "sxx": 0.5})
    model = build_model(problem, torch.float64, torch.device("cpu"), seed=0)
    points = np.random.default_rng(0).random((10, 2))
    predicted = model.predict(points)
    assert set(predicted) == {"ux", "uy", "sxx", "syy", "sxy"}
    f = model.fields(torch.as_tensor(points))
    np.testing.assert_allclose(predicted["sxy"], MATERIAL.stress(f)[2].detach().numpy(), rtol=1e-12)
    with torch.no_grad():  # derived quantities need derivatives even under no_grad
        assert model.predict(points)["sxx"].shape == (10,)


@pytest.mark.parametrize("changes, message", [
    (dict(derived={"s_xx": lambda f: f.ux_x}), "no '_'"),
    (dict(derived={"ux": lambda f: f.ux_x}), "has the name of an output"),
    (dict(derived={"s": 3.0}), "must be a function"),
    (dict(derived={"s": lambda f: f.ux_z}), "derived quantity 's': unknown field name 'ux_z'"),
    (dict(tolerance={"sxx": 1e-3}), "neither an output nor a derived quantity"),
    (dict(plots=lambda s, r, f: None), "plots must be a list"),
])
def test_bad_derived_quantities_and_plots_are_refused(changes, message):
    with pytest.raises(ProblemError, match=message):
        small_problem(**changes)


# --- end to end ---------------------------------------------------------------------------------

# Short versions of the two problems (a tenth of their steps, a quarter of their points). The bounds
# sit a factor 3-4 above what these settings reach (plate 4.9e-3, cantilever 2.3e-3 to 5.4e-3,
# worst field) and far below an untrained network's error (~1): a broken stress, traction,
# exact condition or reference fails them.
SHORT = {
    "elasticity_plate.py": (["--set", "adam.steps=100", "--set", "lbfgs.steps=400",
                             "--set", "sampling.interior=500", "--set", "sampling.boundary=100"], 1.5e-2),
    "elasticity_cantilever.py": (["--set", "adam.steps=100", "--set", "lbfgs.steps=900",
                                  "--set", "sampling.interior=500"], 2e-2),
}


@pytest.mark.parametrize("name", list(SHORT))
def test_short_solve_reaches_a_real_error_bound(name, tmp_path):
    extra, bound = SHORT[name]
    out = tmp_path / "run"
    result = run_cli(ROOT / "problems" / name, "--out", out, "--quiet", *extra)
    assert result.returncode in (0, 1), result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    fields = metrics["fields"]
    assert {"ux", "uy", "sxx", "sxy"} <= set(fields)  # the stresses are validated too
    assert metrics["rel_l2"] < bound, fields
    plots = {p.name for p in (out / "plots").iterdir()}
    assert {"deformed.png", "stresses.png", "errors.png", "sxx.png"} <= plots
    solution = pinn.load(out)
    values = solution.predict(np.array([[0.5, 0.0]]))
    assert {"ux", "uy", "sxx", "syy", "sxy"} <= set(values)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["elasticity_plate.py", "elasticity_cantilever.py"])
def test_full_solve_meets_the_declared_tolerance(name, tmp_path):
    out = tmp_path / "run"
    result = run_cli(ROOT / "problems" / name, "--out", out, "--quiet", timeout=1200)
    metrics = json.loads((out / "metrics.json").read_text())
    assert result.returncode == 0, (metrics["fields"], result.stderr)
    assert all(f["rel_l2"] <= f["tolerance"] for f in metrics["fields"].values() if f["tolerance"] is not None)


@pytest.mark.parametrize("replace, message", [
    (('pinn.LinearElastic(lam=lam, mu=mu, plane="strain")', 'pinn.LinearElastic(E=1.0, nu=0.5, plane="strain")'),
     r"nu \(Poisson's ratio\) must lie in \(-1, 0.5\), got 0.5"),
    (('pinn.LinearElastic(lam=lam, mu=mu, plane="strain")', 'pinn.LinearElastic(E=0.0, nu=0.3, plane="strain")'),
     r"E \(Young's modulus\) must be > 0, got 0.0"),
    (('pinn.Traction(square.side(1, "upper")', 'pinn.Traction(pinn.Rectangle((0, 0), (1, 2)).side(1, "upper")'),
     "condition 'top_load': the traction is on the boundary of Rectangle"),
])
def test_bad_input_exits_2_with_a_clear_message(replace, message, write_problem, tmp_path):
    path = write_problem(PLATE.read_text(), replace=replace)
    out = tmp_path / "run"
    result = run_cli(path, "--out", out)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    import re

    assert re.search(message, result.stderr), result.stderr
    assert not out.exists()


# --- the plot hook ------------------------------------------------------------------------------

def test_problem_plots_receive_the_solution_and_reference_and_never_cost_the_run(write_problem, tmp_path, capsys):
    from conftest import TINY_PROBLEM

    from pinn.solve import main

    hook = ('plots=[lambda solution, reference, folder: (folder / "custom.txt").write_text('
            'str(sorted(solution.predict(reference.points()[:2])))), lambda solution, reference, folder: 1 / 0],\n'
            '    training=pinn.Training(')
    path = write_problem(TINY_PROBLEM, replace=("training=pinn.Training(", hook))
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out), "--quiet"]) == 0
    assert (out / "plots" / "custom.txt").read_text() == "['u']"
    assert "warning: plot <lambda> failed (ZeroDivisionError" in capsys.readouterr().err


def test_elasticity_plots_without_a_reference(tmp_path):
    from pinn.solution import Solution

    problem = small_problem(derived=MATERIAL.stress_fields())
    solution = Solution(build_model(problem, torch.float64, torch.device("cpu"), seed=0), None, {})
    written = pinn.elasticity_plots(MATERIAL, domain=SQUARE, resolution=21)(solution, None, tmp_path)
    assert {p.name for p in written} == {"deformed.png", "stresses.png", "errors.png"}
    assert all(p.stat().st_size > 0 for p in written)
    with pytest.raises(ValueError, match="needs the domain"):
        pinn.elasticity_plots(MATERIAL)(solution, None, tmp_path)
    with pytest.raises(ValueError, match="magnification must be > 0"):
        pinn.elasticity_plots(MATERIAL, magnification=0.0)
