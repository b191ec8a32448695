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


def test_a_phase_that_stops_at_noise_does_not_start_when_the_phase_before_reached_it():
    trainer, rows = trained(NoisyLeastSquares(), pinn.LBFGS(50), pinn.LevenbergMarquardt(10, stop_at_noise=True))
    assert {row["optimizer"] for row in rows} == {"lbfgs"} and trainer.finished
    assert f"levenberg_marquardt skipped: {NOISE_REACHED}" in rows[-1]["event"]
    assert trainer.taken[1] == 0 and 1 in trainer.closed  # a resumed run skips it too


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
