"""The discrepancy principle: a phase with ``stop_at_noise`` ends (or does not start) once the observations
of declared noise are fitted down to that noise, and the noise floor a Data condition declares."""
import math

import numpy as np
import pytest
import torch

import pinn
from pinn.train.trainer import NOISE_REACHED
from test_phases import LeastSquares, trained

SIGMA = 0.1


class NoisyLeastSquares(LeastSquares):
    """``A w = b + noise`` with 400 rows and 5 unknowns: the best fit leaves a mean square residual of about
    ``SIGMA^2 (1 - 5/400)``, just under the noise's variance."""

    def __init__(self, declared: bool = True) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(1)
        self.A = torch.randn(400, 5, generator=generator, dtype=torch.float64)
        self.b = self.A @ self.truth + SIGMA * torch.randn(400, generator=generator, dtype=torch.float64)
        self.declared = declared

    def noise_floors(self):
        return {"fit": (SIGMA**2, 400)} if self.declared else {}


def test_a_phase_that_stops_at_noise_ends_when_the_fit_reaches_the_noise():
    objective = NoisyLeastSquares()
    trainer, rows = trained(objective, pinn.Adam(5000, learning_rate=1e-2, stop_at_noise=True))
    assert NOISE_REACHED in rows[-1]["event"] and trainer.step < 5000
    assert rows[-1]["loss_fit"] <= SIGMA**2 * (1 + 2 * math.sqrt(2 / 400))
    assert rows[-2]["loss_fit"] > SIGMA**2 * (1 + 2 * math.sqrt(2 / 400))  # it ended at the first step within


class NoisyFitWithPhysics(NoisyLeastSquares):
    """The noisy fit of five weights, and a noise-free "physics" term on a sixth weight, which the true
    solution meets exactly: ``(w6 - 5)^2``, starting at 25: Adam at 1e-2 needs hundreds of steps to bring it down."""

    def __init__(self) -> None:
        super().__init__()
        self.module = torch.nn.Linear(6, 1, bias=False, dtype=torch.float64)
        with torch.no_grad():
            self.module.weight.zero_()

    def residual(self) -> torch.Tensor:
        return self.A @ self.module.weight[0, :5] - self.b

    def terms(self):
        return {"fit": self.residual().square().mean(), "physics": (self.module.weight[0, 5] - 5).square()}


def test_a_phase_that_stops_at_noise_goes_on_while_the_rest_of_the_loss_is_above_the_noise():
    limit = SIGMA**2 * (1 + 2 * math.sqrt(2 / 400))
    trainer, rows = trained(NoisyFitWithPhysics(), pinn.Adam(5000, learning_rate=1e-2, stop_at_noise=True))
    assert NOISE_REACHED in rows[-1]["event"] and trainer.step < 5000
    # the data reached their noise long before the physics term came down: the phase went on
    data_at_noise = [row for row in rows if row["loss_fit"] <= limit]
    assert data_at_noise[0]["loss_physics"] > limit and len(data_at_noise) > 20
    assert rows[-1]["loss_fit"] + rows[-1]["loss_physics"] <= limit
    assert rows[-2]["loss_fit"] + rows[-2]["loss_physics"] > limit  # it ended at the first step within


def test_a_phase_that_stops_at_noise_does_not_start_when_the_phase_before_reached_it():
    trainer, rows = trained(NoisyLeastSquares(), pinn.LBFGS(50), pinn.LevenbergMarquardt(10, stop_at_noise=True))
    assert {row["optimizer"] for row in rows} == {"lbfgs"} and trainer.finished
    assert f"levenberg_marquardt skipped: {NOISE_REACHED}" in rows[-1]["event"]
    assert trainer.taken[1] == 0 and 1 in trainer.closed  # a resumed run skips it too


def _fitted() -> NoisyLeastSquares:
    """The noisy system with its weights at the least-squares solution: within the noise from the start."""
    objective = NoisyLeastSquares()
    with torch.no_grad():
        objective.module.weight[0] = torch.linalg.lstsq(objective.A, objective.b).solution
    return objective


def test_a_share_of_the_budget_kept_for_phases_skipped_at_the_noise_goes_to_the_phase_under_way():
    # Adam's share ends at once (a 1e-12 share of the budget), but the phases after it would be skipped
    # at the noise: it is the last phase to run, and runs its steps
    adam = pinn.Adam(30, learning_rate=1e-6, time_share=1e-12)
    trainer, rows = trained(_fitted(), adam, pinn.LBFGS(20, stop_at_noise=True), time_budget=1e6)
    assert [row["optimizer"] for row in rows] == ["adam"] * 30 and trainer.finished
    assert f"lbfgs skipped: {NOISE_REACHED}" in rows[-1]["event"]
    # a phase after it that would run takes its time as before (the first step sets the clock's start)
    trainer, rows = trained(_fitted(), adam, pinn.LBFGS(20), time_budget=1e6)
    assert [row["optimizer"] for row in rows[:3]] == ["adam", "adam", "lbfgs"]
    assert "its share of the time budget is spent" in rows[1]["event"]


def test_without_declared_noise_the_rule_never_ends_a_phase():
    trainer, rows = trained(NoisyLeastSquares(declared=False), pinn.LBFGS(50),
                            pinn.LevenbergMarquardt(3, stop_at_noise=True))
    assert [row["optimizer"] for row in rows].count("levenberg_marquardt") >= 1
    assert not any(NOISE_REACHED in row.get("event", "") for row in rows)


def test_stop_at_noise_is_checked():
    with pytest.raises(ValueError, match="stop_at_noise must be True or False"):
        pinn.LevenbergMarquardt(10, stop_at_noise="yes")


def _bound(condition, domain):
    return condition.bind(("x",), ("u", "v"), domain)


def test_a_data_condition_declares_the_loss_its_noise_leaves():
    domain = pinn.Interval(0.0, 1.0)
    points = np.linspace(0.1, 0.9, 50)[:, None]
    values = {"u": np.zeros(50), "v": np.ones(50)}
    assert _bound(pinn.Data(points, values), domain).noise_floor() is None  # no noise declared
    assert _bound(pinn.Data(points, values, noise=0.3, weight=2.0), domain).noise_floor() == \
        pytest.approx((2.0 * 0.09, 100))  # the condition's weight times the variance; 50 points x 2 fields
    sigma = np.where(np.arange(50) < 25, 0.1, 0.2)
    floor, count = _bound(pinn.Data(points, values, noise=sigma), domain).noise_floor()
    assert floor == pytest.approx(1 / np.mean(1 / sigma**2)) and count == 100  # the harmonic mean of the variances


def test_the_floor_is_what_the_exact_solution_leaves_of_synthetic_noisy_data():
    # the data loss of the true values against the noisy ones is the floor, within its sampling spread
    domain = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))
    truth = pinn.references.analytic(lambda x, y: {"u": torch.sin(3 * x) + y, "v": 2 + x * y}, resolution=101)
    condition = pinn.observe(truth, points=4000, fields="u v", noise=0.2).bind(("x", "y"), ("u", "v"), domain)
    observed = condition._binding.observed()
    x, y = observed.points.T
    exact = {"u": np.sin(3 * x) + y, "v": 2 + x * y}
    mean_square = np.mean([np.mean((exact[n] - observed.values[n]) ** 2) for n in ("u", "v")])
    floor, count = condition.noise_floor()
    assert count == 8000
    assert mean_square == pytest.approx(floor, rel=2 * math.sqrt(2 / count))
    assert floor == pytest.approx(0.04 * np.mean([np.mean(exact[n] ** 2) for n in ("u", "v")]), rel=1e-12)


def test_a_pinn_objective_offers_the_floor_of_each_noisy_data_term():
    from test_inverse import exact, inverse_problem
    from pinn.pde.objective import pinn_trainer
    reference = pinn.references.analytic(exact, resolution=21)
    noisy = pinn_trainer(inverse_problem(observations=pinn.observe(reference, points=60, noise=0.05, weight=3.0)))
    floor, count = noisy.objective.noise_floors()["observed"]
    values = noisy.objective.problem.conditions["observed"]._binding.observed().values["u"]
    assert count == 60 and floor == pytest.approx(3.0 * 0.0025 * np.mean(values**2), rel=0.2)  # rms of the noisy values
    exact_data = pinn_trainer(inverse_problem(observations=pinn.observe(reference, points=60, noise=0.0)))
    assert exact_data.objective.noise_floors() == {}  # no noise declared: the rule stays off
