"""The one place where :func:`pinn.fit` builds a trainer and reads what only this trainer knows.

The rest of ``pinn/api.py`` and ``pinn/output/`` uses a trainer only through this loop protocol:

- ``trainer.run(monitor)`` trains to the end of the schedule or to ``trainer.request_stop()``, calling
  ``monitor.on_step(trainer, row)``, ``monitor.on_check(trainer, errors)`` and
  ``monitor.on_checkpoint(trainer)`` (a :class:`Monitor`); it raises :class:`TrainingDiverged` when
  steps keep diverging, the trainer then holding its last good state;
- ``trainer.stopped_early``: the last ``run`` ended on ``request_stop()`` rather than by finishing;
- ``trainer.step``, ``trainer.elapsed`` (training seconds, carried over a resume), ``trainer.model``;
- ``trainer.state_dict()`` and ``trainer.load_state_dict(state)`` (KeyError for a missing part;
  ValueError, RuntimeError or TypeError for a state that does not fit).

Swapping in another trainer changes the functions below (and the imports) only.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pinn.training.config import LARGEST_SEED
from pinn.training.trainer import Monitor, Trainer, TrainingDiverged, resolve_device

if TYPE_CHECKING:
    from pinn.problem import Problem
    from pinn.references.grid import GridReference

__all__ = ["LARGEST_SEED", "Monitor", "Trainer", "TrainingDiverged", "build_trainer", "run_device", "schedule",
           "step_overrides", "total_steps", "trainer_facts"]


def run_device(problem: Problem) -> str:
    """The device the problem trains on (``auto`` resolved); ValueError if it cannot be had (cuda asked for,
    none present)."""
    return str(resolve_device(problem.training.device))


def build_trainer(problem: Problem, reference: GridReference | None) -> Trainer:
    """A trainer at step 0 for ``problem``, checking against ``reference`` as it trains."""
    return Trainer(problem, problem.training, reference)


def step_overrides(problem: Problem, steps: int) -> dict[str, int]:
    """``--steps N``: the settings that make the schedule ``steps`` long in total (Adam keeps its share of
    the default); ValueError if it cannot be."""
    training = problem.training.with_total_steps(steps)
    return {"training.adam_steps": training.adam_steps, "training.lbfgs_steps": training.lbfgs_steps,
            "training.gauss_newton_steps": training.gauss_newton_steps}


def total_steps(problem: Problem) -> int:
    """The steps of the whole schedule (the progress bar's length)."""
    return problem.training.steps


def schedule(problem: Problem) -> dict:
    """config.json ``training``: every training setting."""
    return dataclasses.asdict(problem.training)


def trainer_facts(problem: Problem, trainer: Trainer) -> dict:
    """What metrics.json and config.json record of the training, in metrics.json's order."""
    return {
        "steps": trainer.step,
        "training_time_s": trainer.elapsed,
        "device": str(trainer.device),
        "dtype": problem.training.dtype,
        "seed": problem.training.seed,
        "best": trainer.best,
        "recoveries": trainer.guard.recoveries,
        "derivatives": trainer.loss.engine.summary,
        "compile": trainer.loss.compile_status,
    }
