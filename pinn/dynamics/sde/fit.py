"""Training and validating an SDE problem in memory, without a run folder (``pinn.fit`` makes one)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from pinn.dynamics.sde.problem import SDEProblem
from pinn.dynamics.sde.validator import SDEValidator
from pinn.train.trainer import Monitor, Trainer
from pinn.validation import FieldError

logger = logging.getLogger(__name__)


@dataclass
class SDEFit:
    """What :func:`fit_sde` returns: the trainer (model, steps), the verdicts and the full report."""

    trainer: Trainer
    validator: SDEValidator
    errors: dict[str, FieldError]
    report: dict[str, Any]
    training_time_s: float

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.errors.values())


def fit_sde(problem: SDEProblem, monitor: Monitor | None = None, state: dict | None = None) -> SDEFit:
    """Train ``problem`` (continuing from a trainer ``state`` if given) and validate the result."""
    objective, validator = problem.build()
    trainer = Trainer(objective, problem.training)
    if state is not None:
        trainer.load_state_dict(state)
    started = time.perf_counter()
    trainer.run(monitor)
    training_time = time.perf_counter() - started
    report = validator.report()
    for name, error in report["errors"].items():
        logger.info("%s: %.4g (tolerance %s) %s", name, error.rel_l2, error.tolerance,
                    "passed" if error.passed else "FAILED")
    return SDEFit(trainer, validator, report["errors"], report, training_time)
