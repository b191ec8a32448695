"""The run of a :class:`~pinn.declaration.Declaration` (a family other than physics-informed networks): its
reference, config.json and the end of the run, where they differ from a :class:`pinn.Problem`'s. The rest of
the run (folder, trainer, checkpoints, history, signals, faults) is :mod:`pinn.api`'s, the same for every family."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from pinn.declaration import Declaration
from pinn.faults import culprit, user_frame
from pinn.loading import ProblemSource, UserError
from pinn.output.files import write_json
from pinn.output.folder import RunFolder
from pinn.output.metrics import metrics, trainer_facts, versions
from pinn.output.report import write_run_report
from pinn.output.summary import summary
from pinn.solution import Solution
from pinn.train import distributed

logger = logging.getLogger(__name__)


def reference(problem: Declaration) -> tuple[Any | None, float]:
    """The problem's reference and the seconds it took; a UserError naming the problem if it cannot be built."""
    started = time.perf_counter()
    try:
        built = problem.build_reference()
    except (ValueError, TypeError) as err:
        raise UserError(f"problem {problem.name!r}: the reference could not be built: {err}") from None
    except (Exception, SystemExit) as err:
        if user_frame(err) is None:  # pinn's own bug: re-raised as it is
            raise
        raise UserError(f"problem {problem.name!r}: the reference could not be built: {culprit(err, problem)}") \
            from None
    return built, time.perf_counter() - started


def run_config(problem: Declaration, source: ProblemSource | None, overrides: dict, training: dict, device: str,
               identity: dict) -> dict:
    """config.json: the same keys as a PDE problem's where they apply, and the declaration's own facts."""
    return {
        **problem.identity(),
        "run_id": identity["id"],
        "problem_file": None if source is None else str(Path(source.path).resolve()),
        "problem_sha256": None if source is None else source.sha256,
        "local_modules": [] if source is None else sorted(source.modules),
        "overrides": dict(overrides),
        "training": training,
        "dtype": problem.training.numerics.dtype,
        "device": device,
        "tolerance": dict(problem.tolerance),
        "declaration": problem.describe(),
        "versions": versions(),
    }


def finish(problem: Declaration, trainer, folder: RunFolder, config: dict, rows: list[dict], reference: Any,
           reference_time: float, failure: str | None, stopped_early_at: int | None) -> Solution:
    """Validate (the family's :meth:`~pinn.declaration.Declaration.finish`), draw the history, write report.html,
    then metrics.json last, and log the summary."""
    from pinn.plots import plot_history

    outcome = problem.finish(trainer, reference, folder)
    try:
        plot_history(folder.plots / "history.png", rows, tolerances={
            k: v for k, v in problem.tolerance.items() if k in outcome.errors})
    except Exception as err:  # a plot must never cost the user the run's numbers
        logger.warning("warning: plotting failed (%s: %s); the numbers are unaffected", type(err).__name__, err)
    result = metrics(problem, outcome.errors, outcome.parameters, failure, rows, reference, reference_time,
                     trainer_facts(problem.training, trainer), stopped_early_at)
    result["family"] = problem.family
    result["processes"] = distributed.world_size()  # as a physics-informed run's
    result.update(outcome.extra)
    write_run_report(folder.path, result)
    write_json(folder.metrics, result)
    logger.info("%s", summary(result, folder.path))
    return Solution(trainer.objective.module, result, config, folder.path)
