"""Levenberg-Marquardt rows of the loss conditions: point by point (vmap) for every condition whose
residual at a point depends on that point alone, by reverse mode for the others, the same Jacobian
either way."""
from dataclasses import dataclass
from math import pi

import numpy as np
import pytest
import torch

import pinn
from conftest import ROOT, phases, trainer_of
from pinn.loading import load_problem
from pinn.overrides import apply_overrides
from pinn.pde.conditions import OnBoundary


@dataclass(frozen=True)
class Scaled(OnBoundary):
    """``u = kappa * value`` on the boundary: a pointwise condition that reads the unknown."""

    boundary: object = None
    value: float = 0.5
    field: str | None = None
    weight: float = 1.0
    points: int | None = None

    def residual(self, f, batch):
        return f.u - f.kappa * batch.target


@dataclass(frozen=True)
class Centred(OnBoundary):
    """``u - mean(u) = 0``: couples its points, yet (wrongly) declares itself pointwise."""

    boundary: object = None
    field: str | None = None
    weight: float = 1.0
    points: int | None = None

    def residual(self, f, batch):
        return f.u - f.u.mean()


def every_kind():
    space = pinn.Interval(0.0, 1.0)
    rng = np.random.default_rng(1)
    observed = rng.uniform(0.0, 1.0, (30, 2))

    def heat(f):
        return f.u_t - f.kappa * f.u_xx

    problem = pinn.Problem(
        name="every_kind",
        inputs="x t",
        outputs="u",
        domain=space * pinn.TimeInterval(0.0, 1.0),
        residuals={"heat": heat},
        unknowns=[pinn.Unknown("kappa", initial=0.05, positive=True)],
        conditions={
            "ends": pinn.Dirichlet(space.boundary, lambda x: x, exact=False),
            "initial": pinn.Initial(lambda x: torch.sin(pi * x), exact=False),
            "rate": pinn.Initial(lambda x: x, derivative=1),
            "flux": pinn.Neumann(space.boundary, 0.5),
            "robin": pinn.Robin(space.boundary, a=1.0, b=0.5, value=0.2),
            "scaled": Scaled(space.boundary),
            "observed": pinn.Data(observed, {"u": np.sin(pi * observed[:, 0])}, noise=np.linspace(0.01, 0.02, 30)),
            "periodic": pinn.Periodic("x"),
            "centred": Centred(space.boundary),
        },
        net=pinn.MLP(width=8, depth=2),
        sampling=pinn.Sampling(interior=20, boundary=12, initial=10),
    )
    return apply_overrides(problem, {"numerics.dtype": "float64"})


def both_routes(problem, weights):
    trainer = trainer_of(problem, schedule=phases(problem, adam=3, levenberg_marquardt=1))
    trainer.run()
    objective = trainer.objective
    newton = objective.jacobian
    fast = newton(objective.points, weights)
    served = set(newton._checked)
    newton._per_point_conditions = False  # every condition by reverse mode
    slow = newton(objective.points, weights)
    return objective, served, fast, slow


def test_every_pointwise_condition_kind_by_vmap_equals_reverse_mode():
    problem = every_kind()
    objective, served, (residuals, jacobian), (slow_residuals, slow_jacobian) = both_routes(
        problem, {"observed": 3.0, "flux": 0.5})
    assert served == {"ends", "initial", "rate", "flux", "robin", "scaled", "observed"}
    # Periodic couples two points and declares so; Centred declared itself pointwise but its values
    # point by point (zero) are not its values at once: both by reverse mode
    assert objective.jacobian._by_rows == {"centred"}
    assert torch.allclose(residuals, slow_residuals, rtol=1e-12, atol=1e-14)
    assert torch.allclose(jacobian, slow_jacobian, rtol=1e-12, atol=1e-14)
    assert float(residuals @ residuals) == pytest.approx(
        sum(float(v.detach()) * {"observed": 3.0, "flux": 0.5}.get(k, 1.0) for k, v in objective.terms().items()), rel=1e-12)
    # the unknown's column in the rows of the condition that reads it is really tested
    names = list(problem.conditions)
    before = names[:names.index("scaled")]  # each one value per point
    start = objective.points.interior.shape[0] + sum(objective.points.conditions[n].coordinates.shape[0] for n in before)
    rows = slice(start, start + objective.points.conditions["scaled"].coordinates.shape[0])
    assert float(slow_jacobian[rows, -1].abs().max()) > 1e-3


def test_traction_with_unknown_material_and_data_by_vmap_equals_reverse_mode():
    problem = apply_overrides(load_problem(ROOT / "problems" / "elasticity_inverse.py"),
                              {"net.width": 8, "net.depth": 2, "sampling.interior": 30, "numerics.dtype": "float64"})
    objective, served, (residuals, jacobian), (slow_residuals, slow_jacobian) = both_routes(problem, {})
    assert {"observed", "sides_free", "top_load"} <= served
    assert torch.allclose(residuals, slow_residuals, rtol=1e-12, atol=1e-14)
    assert torch.allclose(jacobian, slow_jacobian, rtol=1e-12, atol=1e-14)
    interior = len(problem.residuals) * objective.points.interior.shape[0]
    unknowns = len(problem.unknowns)
    assert float(slow_jacobian[interior:, -unknowns:].abs().max()) > 1e-3  # the material enters the tractions
