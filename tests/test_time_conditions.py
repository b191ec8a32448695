"""Conditions on the time derivative (pinn.Initial(..., derivative=1)) and causal training (pinn.Causal)."""
import math
from math import pi

import numpy as np
import pytest
import torch

import pinn
from conftest import run_until
from pinn.derivatives.engine import Engine, Site
from pinn.output.files import load_checkpoint, save_checkpoint
from pinn.overrides import apply_overrides
from pinn.pde.build import build_model, loss_conditions
from pinn.pde.losses import LossFunction, draw_points
from pinn.pde.objective import PinnObjective, pinn_trainer
from pinn.pde.problem import ProblemError

SPACE = pinn.Interval(0.0, 1.0)
DOMAIN = SPACE * pinn.TimeInterval(0.5, 1.5)
CPU = torch.device("cpu")


def wave(f):
    return f.u_tt - 4 * f.u_xx


def wave_problem(ends=0.0, initial=lambda x: torch.sin(pi * x), velocity=lambda x: torch.sin(2 * pi * x),
                 exact=True, **settings):
    conditions = {"initial": pinn.Initial(initial, exact=exact),
                  "velocity": pinn.Initial(velocity, derivative=1, exact=exact)}
    if ends is not None:
        conditions["ends"] = pinn.Dirichlet(SPACE.boundary, ends, exact=exact)
    settings.setdefault("net", pinn.MLP(width=8, depth=2))
    settings.setdefault("sampling", pinn.Sampling(interior=64, boundary=16, initial=16))
    return pinn.Problem(name="wave", inputs="x t", outputs="u", domain=DOMAIN, residuals={"wave": wave},
                        conditions=conditions, **settings)


def at_start(n=40, seed=0):
    return torch.as_tensor(DOMAIN.sample_initial(n, "uniform", np.random.default_rng(seed)))


# --------------------------------------------------------------- the rate condition, exact
MOVING_ENDS = {  # a time-dependent boundary value and initial data that agree with it at t0 = 0.5
    "ends": lambda x, t: torch.sin(3 * t) * (1 + x),
    "initial": lambda x: math.sin(1.5) * (1 + x) + torch.sin(pi * x),
    "velocity": lambda x: 3 * math.cos(1.5) * (1 + x) + torch.sin(pi * x) ** 2,
}


@pytest.mark.parametrize("engine", ["autograd", "taylor"])
@pytest.mark.parametrize("case", ["fixed ends", "moving ends", "no ends"])
def test_an_exact_rate_holds_to_round_off(engine, case):
    if case == "moving ends":
        problem = wave_problem(**MOVING_ENDS)
    else:
        problem = wave_problem(ends=0.0 if case == "fixed ends" else None)
    assert loss_conditions(problem) == {}
    assert problem.exact_outputs["u"].rate is problem.conditions["velocity"]
    model = build_model(problem, torch.float64, CPU, seed=4)
    start = at_start()
    site = Site("start", start, None, lambda f: (f.u, f.u_t, f.u_tt))
    f = Engine(model, engine).fields([site])["start"]
    x = start[:, 0]
    initial, velocity = (problem.conditions[n].value for n in ("initial", "velocity"))
    torch.testing.assert_close(f.u.detach(), initial(x), rtol=0, atol=1e-13)
    torch.testing.assert_close(f.u_t.detach(), velocity(x), rtol=0, atol=1e-12)
    assert f.u_tt.detach().abs().max() > 1e-3  # the network still acts on the second derivative
    if case != "no ends":
        t = torch.linspace(0.5, 1.5, 9, dtype=torch.float64)
        walls = torch.cat([torch.stack([torch.zeros_like(t), t], 1), torch.stack([torch.ones_like(t), t], 1)])
        ends = problem.conditions["ends"].value
        want = torch.zeros(18, dtype=torch.float64) if case == "fixed ends" else ends(walls[:, 0], walls[:, 1])
        np.testing.assert_allclose(model.predict(walls)["u"], want.numpy(), atol=1e-13)


def test_engines_agree_through_an_exact_rate():
    problem = wave_problem(**MOVING_ENDS)
    points = draw_points(problem, np.random.default_rng(0), torch.float64, CPU)
    results = {}
    for engine in ("autograd", "taylor"):
        model = build_model(problem, torch.float64, CPU, seed=2)
        loss = LossFunction(problem, model, engine)
        terms = loss(points)
        gradient = torch.autograd.grad(terms["wave"], list(model.parameters()))
        results[engine] = (terms["wave"].detach(), torch.cat([g.reshape(-1) for g in gradient]))
        assert (loss.engine.plans["residuals"] is None) == (engine == "autograd")
    torch.testing.assert_close(results["taylor"][0], results["autograd"][0], rtol=1e-10, atol=0)
    torch.testing.assert_close(results["taylor"][1], results["autograd"][1], rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- the rate condition, soft
def standing_wave(x, t):  # solves u_tt = 4 u_xx with u = 0 at the ends
    return torch.sin(pi * x) * torch.cos(2 * pi * t) + torch.sin(2 * pi * x) * torch.sin(4 * pi * t) / (4 * pi)


class FixedNet(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.dummy = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x):
        return self.fn(*x.unbind(1))[:, None] + 0 * self.dummy


def test_a_soft_rate_is_a_loss_term_that_vanishes_on_the_solution_only():
    t0 = torch.tensor(0.5, dtype=torch.float64)
    problem = wave_problem(initial=lambda x: standing_wave(x, t0),
                           velocity=lambda x: torch.sin(2 * pi * x) * torch.cos(4 * pi * t0) - 0.0 * x, exact=False)
    assert set(loss_conditions(problem)) == {"initial", "velocity", "ends"}
    points = draw_points(problem, np.random.default_rng(0), torch.float64, CPU)
    for fn, small in ((standing_wave, True), (lambda x, t: standing_wave(x, t) + 0.01 * t * x, False)):
        model = build_model(problem, torch.float64, CPU, seed=0)
        model.net = FixedNet(fn)
        velocity = float(LossFunction(problem, model, "autograd")(points)["velocity"].detach())
        assert (velocity < 1e-24) if small else (velocity > 1e-6)
    values = {}
    for engine in ("autograd", "taylor"):  # Taylor mode plans u_t at the initial points, and agrees
        loss = LossFunction(problem, build_model(problem, torch.float64, CPU, seed=0), engine)
        values[engine] = loss(points)["velocity"].detach()
        assert (loss.engine.plans["velocity"] is None) == (engine == "autograd")
    torch.testing.assert_close(values["taylor"], values["autograd"], rtol=1e-12, atol=0)


def test_a_rate_is_a_loss_term_unless_told_exact():
    # exact=None on a rate: a loss term, even where the value is exact (it trained better, pinn.Initial)
    default = pinn.Problem(name="w", inputs="x t", outputs="u", domain=DOMAIN, residuals={"wave": wave},
                           conditions={"initial": pinn.Initial(lambda x: torch.sin(pi * x)),
                                       "velocity": pinn.Initial(0.0, derivative=1)})
    assert default.conditions["initial"].exact is True and default.conditions["velocity"].exact is False
    assert default.exact_outputs["u"].rate is None and "velocity" in loss_conditions(default)
    both = pinn.Problem(name="w", inputs="x t", outputs="u", domain=DOMAIN, residuals={"wave": wave},
                        conditions={"initial": pinn.Initial(lambda x: torch.sin(pi * x)),
                                    "velocity": pinn.Initial(0.0, derivative=1, exact=True)})
    assert both.conditions["velocity"].exact is True and both.exact_outputs["u"].rate is not None
    soft = pinn.Problem(name="w", inputs="x t", outputs="u", domain=DOMAIN, residuals={"wave": wave},
                        conditions={"initial": pinn.Initial(lambda x: torch.sin(pi * x), exact=False),
                                    "velocity": pinn.Initial(0.0, derivative=1, exact=None)})
    assert soft.conditions["velocity"].exact is False and "velocity" in loss_conditions(soft)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("derivative", [2, -1, True, 0.5])
def test_a_derivative_other_than_0_or_1_is_refused(derivative):
    with pytest.raises(ValueError, match="Initial derivative must be 0 .* or 1"):
        pinn.Initial(0.0, derivative=derivative)


def test_bad_rate_conditions_are_refused_by_name():
    square = pinn.Rectangle((0, 0), (1, 1))
    with pytest.raises(ProblemError, match="condition 'velocity': an initial rate condition .* needs a space-time"):
        pinn.Problem(name="s", inputs="x y", outputs="u", domain=square, residuals={"p": lambda f: f.u_xx + f.u_yy},
                     conditions={"velocity": pinn.Initial(0.0, derivative=1)})
    with pytest.raises(ProblemError, match="condition 'velocity': an exact initial rate .* needs an exact initial value"):
        pinn.Problem(name="w", inputs="x t", outputs="u", domain=DOMAIN, residuals={"wave": wave},
                     conditions={"initial": pinn.Initial(0.0, exact=False),
                                 "velocity": pinn.Initial(0.0, derivative=1, exact=True)})
    with pytest.raises(ProblemError, match="condition 'again': field 'u' already has an initial rate condition"):
        pinn.Problem(name="w", inputs="x t", outputs="u", domain=DOMAIN, residuals={"wave": wave},
                     conditions={"velocity": pinn.Initial(0.0, derivative=1), "again": pinn.Initial(1.0, derivative=1)})
    with pytest.raises(ProblemError, match="rate 'velocity' differs from the time derivative of the exact boundary"):
        wave_problem(**{**MOVING_ENDS, "velocity": lambda x: 2 * (1 + x)})


@pytest.mark.parametrize("ends", [
    lambda x, t: torch.as_tensor(np.sin(3 * t.detach().numpy())) * (1 + x),  # numpy: no gradient in t
    lambda x, t: torch.sin(3 * t.detach()) * (1 + x),  # detached: autograd sees no time dependence
])
def test_an_exact_rate_needs_a_boundary_value_differentiable_in_time(ends):
    with pytest.raises(ProblemError, match="condition 'ends'.*time.*exact=False"):
        wave_problem(**{**MOVING_ENDS, "ends": ends})


# --------------------------------------------------------------------------- causal weights
def heat_problem(causal=pinn.Causal(slabs=4, epsilon=2.0, update_every=5), schedule=None, interior=128):
    return pinn.Problem(
        name="heat", inputs="x t", outputs="u", domain=DOMAIN, residuals={"heat": lambda f: f.u_t - 0.1 * f.u_xx},
        conditions={"ends": pinn.Dirichlet(SPACE.boundary, 0.0), "initial": pinn.Initial(lambda x: torch.sin(pi * x))},
        net=pinn.MLP(width=8, depth=2), sampling=pinn.Sampling(interior=interior, boundary=16, initial=16, causal=causal),
        training=pinn.Training(schedule or [pinn.Adam(12, learning_rate=1e-2), pinn.LBFGS(20),
                                            pinn.LevenbergMarquardt(3)]))


def test_causal_weights_follow_the_slab_losses():
    causal = pinn.Causal(slabs=4, epsilon=2.0)
    torch.testing.assert_close(causal.weights(torch.tensor([0.5, 1.0, 0.0, 3.0], dtype=torch.float64)),
                               torch.exp(-2.0 * torch.tensor([0.0, 0.5, 1.5, 1.5], dtype=torch.float64)))
    slab = causal.slab_of(torch.tensor([0.5, 0.74, 0.75, 1.2, 1.5], dtype=torch.float64), 0.5, 1.5)
    assert slab.tolist() == [0, 0, 1, 2, 3]

    problem = heat_problem()
    objective = PinnObjective(problem, problem.training.numerics, CPU, 0)
    points = objective.points
    t = points.interior[:, 1]
    slab = ((t - 0.5) * 4).floor().long().clamp(0, 3)
    squared = objective.loss.squared_residuals(points)
    losses = torch.stack([squared[slab == k].mean() for k in range(4)])
    want = torch.exp(-2.0 * torch.cat([torch.zeros(1, dtype=torch.float64), losses.cumsum(0)[:-1]]))
    torch.testing.assert_close(objective.slab_weights, want)
    assert objective.slab_weights[0] == 1 and (objective.slab_weights.diff() < 0).all()
    torch.testing.assert_close(points.interior_weights, want[slab])
    # the term is the weighted mean, and Levenberg-Marquardt's residual vector gives the same loss
    terms = objective.terms()
    torch.testing.assert_close(terms["heat"].detach(), (want[slab] * squared).mean())
    r, jacobian = objective.residuals_and_jacobian({})
    torch.testing.assert_close(r @ r, sum(t.detach() for t in terms.values()))
    assert jacobian.shape[0] == r.numel()


def test_causal_weights_update_on_schedule_and_resume_exactly(tmp_path):
    whole = pinn_trainer(heat_problem())
    before = whole.objective.slab_weights.clone()
    whole.run()
    assert whole.objective._calls > 0 and not torch.equal(before, whole.objective.slab_weights)
    first = pinn_trainer(heat_problem())
    run_until(first, 8)
    save_checkpoint(tmp_path / "checkpoint.pt", first.state_dict())
    resumed = pinn_trainer(heat_problem())
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))
    resumed.run()
    assert resumed.step == whole.step
    assert torch.equal(resumed.objective.slab_weights, whole.objective.slab_weights)
    for a, b in zip(resumed.objective.module.parameters(), whole.objective.module.parameters()):
        assert torch.equal(a, b)
    plain = pinn_trainer(heat_problem(causal=None))
    with pytest.raises(ValueError, match="saved with causal weights"):
        plain.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))


def test_bad_causal_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="Causal slabs must be a whole number >= 2"):
        pinn.Causal(slabs=1)
    for epsilon in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="Causal epsilon must be a positive number"):
            pinn.Causal(epsilon=epsilon)
    with pytest.raises(ValueError, match="Sampling causal must be a pinn.Causal"):
        pinn.Sampling(causal=16)
    square = pinn.Rectangle((0, 0), (1, 1))
    with pytest.raises(ProblemError, match="sampling.causal .* needs a time-dependent problem"):
        pinn.Problem(name="s", inputs="x y", outputs="u", domain=square, residuals={"p": lambda f: f.u_xx + f.u_yy},
                     sampling=pinn.Sampling(causal=pinn.Causal()))


def test_causal_is_reachable_from_the_command_line():
    problem = heat_problem(causal=None)
    assert apply_overrides(problem, {"sampling.causal": "8,0.5"}).sampling.causal == pinn.Causal(8, 0.5)
    assert apply_overrides(problem, {"sampling.causal": "8,0.5,50"}).sampling.causal == pinn.Causal(8, 0.5, 50)
    assert apply_overrides(heat_problem(), {"sampling.causal": "none"}).sampling.causal is None
    with pytest.raises(ValueError, match="sampling.causal=1,0.5.*Causal slabs must be a whole number >= 2"):
        apply_overrides(problem, {"sampling.causal": "1,0.5"})
