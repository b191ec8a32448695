"""The trainer over any objective: phases as objects, their stopping rules, names and settings.

A least-squares fit with no PDE in it stands for "any model family": if the trainer, its phases,
guard and checkpoints serve it, they know nothing of physics-informed problems.
"""
import math

import pytest
import torch

import pinn
from conftest import run_until
from pinn.output.files import load_checkpoint, save_checkpoint
from pinn.loading import load_problem
from pinn.overrides import apply_overrides
from pinn.train.objective import Objective
from pinn.train.settings import Training
from pinn.train.trainer import Monitor, Trainer


class LeastSquares(Objective):
    """Fit ``w`` so that ``A w = b`` (a consistent system: the loss can reach 0)."""

    def __init__(self, jacobian: bool = True) -> None:
        generator = torch.Generator().manual_seed(0)
        self.A = torch.randn(40, 5, generator=generator, dtype=torch.float64)
        self.truth = torch.randn(5, generator=generator, dtype=torch.float64)
        self.b = self.A @ self.truth
        self.module = torch.nn.Linear(5, 1, bias=False, dtype=torch.float64)
        with torch.no_grad():
            self.module.weight.zero_()
        self.jacobian = jacobian

    def residual(self) -> torch.Tensor:
        return self.A @ self.module.weight[0] - self.b

    def terms(self) -> dict[str, torch.Tensor]:
        return {"fit": self.residual().square().mean()}

    def residuals_and_jacobian(self, weights):
        if not self.jacobian:
            raise NotImplementedError
        scale = math.sqrt(weights.get("fit", 1.0) / self.A.shape[0])
        return scale * self.residual().detach(), scale * self.A


class Rows(Monitor):
    def __init__(self) -> None:
        self.rows = []

    def on_step(self, trainer, row):
        self.rows.append(row)


def trained(objective: Objective, *phases, **concerns) -> tuple[Trainer, list[dict]]:
    trainer = Trainer(objective, Training(list(phases), **concerns))
    rows = Rows()
    trainer.run(rows)
    return trainer, rows.rows


def test_the_trainer_trains_an_objective_that_is_not_a_pde():
    objective = LeastSquares()
    trainer, rows = trained(objective, pinn.Adam(50, learning_rate=1e-2), pinn.LBFGS(20), pinn.LevenbergMarquardt(5))
    assert float(objective.terms()["fit"].detach()) < 1e-20
    assert torch.allclose(objective.module.weight[0], objective.truth, atol=1e-10)
    assert [row["optimizer"] for row in rows][:2] == ["adam", "adam"] and rows[-1]["step"] <= 75


def test_levenberg_marquardt_ends_the_run_when_no_step_lowers_the_loss():
    objective = LeastSquares()
    trainer, rows = trained(objective, pinn.LevenbergMarquardt(50))
    assert trainer.finished and trainer.ended and trainer.step < 50  # a linear fit: done in a few steps
    assert {row["optimizer"] for row in rows} == {"levenberg_marquardt"}


def test_a_stalled_phase_hands_over_to_the_next_at_once():
    stall = pinn.Stall(patience=3, min_decrease=0.9)  # asks for a 90% fall every 3 steps: Adam stalls soon
    trainer, rows = trained(LeastSquares(), pinn.Adam(500, learning_rate=1e-3, stall=stall), pinn.LBFGS(30))
    adam = [row for row in rows if row["optimizer"] == "adam"]
    lbfgs = [row for row in rows if row["optimizer"] == "lbfgs"]
    assert 3 <= len(adam) < 20
    assert adam[-1]["step"] == len(adam)  # steps count what was taken: the stalled phase's rest is not
    assert "adam ended: the loss stalled" in adam[-1]["event"]
    assert lbfgs and lbfgs[0]["step"] > len(adam) and float(trainer.objective.terms()["fit"].detach()) < 1e-12


class ConstantNegative(LeastSquares):
    """A loss that never moves, below zero (as a likelihood's can be)."""

    def terms(self) -> dict[str, torch.Tensor]:
        return {"fit": 0.0 * self.module.weight.sum() - 10.0}


def test_a_negative_loss_that_does_not_fall_stalls():
    # (1 - d) * best would put the bar above -10 and count every step at -10 as progress.
    trainer, rows = trained(ConstantNegative(), pinn.Adam(200, stall=pinn.Stall(patience=5, min_decrease=1e-3)))
    assert len(rows) == 6 and "adam ended: the loss stalled" in rows[-1]["event"]


def test_a_stall_rule_resumes_exactly(tmp_path):
    phases = (pinn.Adam(60, learning_rate=3e-2, stall=pinn.Stall(patience=4, min_decrease=0.05)), pinn.LBFGS(10))
    whole, _ = trained(LeastSquares(), *phases)
    first = Trainer(LeastSquares(), Training(list(phases)))
    run_until(first, 5)
    save_checkpoint(tmp_path / "checkpoint.pt", first.state_dict())
    resumed = Trainer(LeastSquares(), Training(list(phases)))
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))
    resumed.run()
    assert resumed.step == whole.step
    assert torch.equal(resumed.objective.module.weight, whole.objective.module.weight)


def test_levenberg_marquardt_says_when_an_objective_has_no_residual_vector():
    with pytest.raises(TypeError, match="LeastSquares gives no residual vector.*remove that phase"):
        trained(LeastSquares(jacobian=False), pinn.LevenbergMarquardt(3))


def test_phases_are_named_by_kind_and_numbered_when_a_kind_repeats():
    training = Training([pinn.Adam(5), pinn.LBFGS(5), pinn.Adam(5, learning_rate=1e-4), pinn.Adam(1, name="polish")])
    assert [p.name for p in training.schedule] == ["adam", "lbfgs", "adam_2", "polish"]
    with pytest.raises(ValueError, match="more than one phase is named 'fine'"):
        Training([pinn.Adam(5, name="fine"), pinn.LBFGS(5, name="fine")])
    with pytest.raises(ValueError, match="is not a phase"):
        Training([pinn.Adam(5), "lbfgs"])
    with pytest.raises(ValueError, match="Stall patience must be a whole number >= 1"):
        pinn.Stall(patience=0)


def test_total_steps_keep_every_phase_s_share():
    training = Training([pinn.Adam(500), pinn.LBFGS(2500), pinn.LevenbergMarquardt(40)])
    assert [p.steps for p in training.with_total_steps(300).schedule] == [49, 247, 4]
    only_adam = Training([pinn.Adam(100), pinn.LevenbergMarquardt(100)])
    assert [p.steps for p in only_adam.with_total_steps(50).schedule] == [25, 25]


def test_set_reaches_every_phase_and_concern_setting(write_problem):
    problem = load_problem(write_problem())
    problem = apply_overrides(problem, {"adam.learning_rate": "3e-3", "lbfgs.history": "7", "lbfgs.stall": "40,1e-4",
                                        "numerics.seed": "5", "checks.check_every": "2", "guard.max_recoveries": "1",
                                        "balance.every": "10", "width": "6"})
    adam, lbfgs = problem.training.schedule
    assert (adam.learning_rate, lbfgs.history, lbfgs.stall) == (3e-3, 7, pinn.Stall(40, 1e-4))
    training = problem.training
    assert (training.numerics.seed, training.checks.check_every, training.guard.max_recoveries,
            training.balance.every, problem.net.width) == (5, 2, 1, 10, 6)
    assert apply_overrides(problem, {"lbfgs.stall": "none"}).training.schedule[1].stall is None


def test_set_names_what_a_flat_training_key_became(write_problem):
    problem = load_problem(write_problem())
    with pytest.raises(ValueError, match=r"'training.adam_steps' \(renamed: adam.steps\)"):
        apply_overrides(problem, {"training.adam_steps": 5})
    with pytest.raises(ValueError, match=r"renamed: levenberg_marquardt.steps, where the schedule has that phase"):
        apply_overrides(problem, {"gauss_newton_steps": 5})
    with pytest.raises(ValueError, match=r"ambiguous: adam.steps, lbfgs.steps"):
        apply_overrides(problem, {"steps": 5})
