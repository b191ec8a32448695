"""The verdict of a finished run and metrics.json: the errors against the reference, the recovered
parameters against their true values, and the facts of the run (steps, times, device, versions)."""
from __future__ import annotations

import platform

import numpy as np
import torch

from pinn.pde.problem import Problem
from pinn.references.grid import GridReference
from pinn.train.settings import Training
from pinn.train.trainer import Trainer
from pinn.validation import FieldError, worst


def prediction_grid(problem: Problem, points_per_axis: int = 33) -> GridReference:
    """The grid a run without a reference is evaluated on: its bounding box, no reference values."""
    lower, upper = problem.domain.bbox
    axes = {n: np.linspace(lo, hi, points_per_axis) for n, lo, hi in zip(problem.inputs, lower, upper)}
    return GridReference(axes, {}, {}, "no reference: prediction only")


def parameters_report(problem: Problem, values: dict[str, float]) -> dict[str, dict]:
    """metrics.json ``parameters``: each unknown's value (from ``values``, by name), initial guess, true
    value, relative error, tolerance (from ``Problem(tolerance=...)``) and whether it was met (None
    without a tolerance)."""
    report = {}
    for unknown in problem.unknowns:
        entry = unknown.report(values[unknown.name])
        tolerance = problem.tolerance.get(unknown.name)
        entry.update(tolerance=tolerance,
                     passed=None if tolerance is None else bool(entry["rel_error"] <= tolerance))
        report[unknown.name] = entry
    return report


UNTRAINED_PASSED = ("the untrained model already met every tolerance, so this check proves nothing of the "
                    "training: most often a boundary or initial value function equal to the solution inside the "
                    "domain too (exact conditions evaluate it there) with a network part that starts negligible; "
                    "give the values the boundary really has (0.0 where the solution vanishes there)")


def verdict(errors: dict[str, FieldError], parameters: dict[str, dict], failure: str | None) -> bool:
    """Whether the run passed: it did not fail, and every tolerance it has was met."""
    return (failure is None and all(e.passed for e in errors.values())
            and all(p["passed"] is not False for p in parameters.values()))


def metrics(problem: Problem, errors: dict[str, FieldError], parameters: dict[str, dict], failure: str | None,
            rows: list[dict], reference: GridReference | None, reference_time: float, facts: dict,
            stopped_early_at: int | None) -> dict:
    """metrics.json; ``facts`` are the trainer's (:func:`trainer_facts`)."""
    return {
        "problem": problem.name,
        "passed": verdict(errors, parameters, failure),
        "fields": {k: {"rel_l2": e.rel_l2, "max_abs": e.max_abs, "tolerance": e.tolerance, "passed": e.passed}
                   for k, e in errors.items()},
        "rel_l2": worst(errors) if errors else None,
        "parameters": parameters,
        "steps": facts["steps"],
        "wall_time_s": facts["training_time_s"] + reference_time,
        "training_time_s": facts["training_time_s"],
        "reference_time_s": reference_time,
        "device": facts["device"],
        "dtype": facts["dtype"],
        "seed": facts["seed"],
        "reference": None if reference is None else {"description": reference.description,
                                                      "error_estimate": reference.error_estimate},
        "final_loss": {k[5:]: v for k, v in rows[-1].items() if k.startswith("loss_")} if rows else {},
        "best": facts["best"],
        "untrained": facts["untrained"],
        "warning": UNTRAINED_PASSED if (facts["untrained"] or {}).get("passed") else None,
        "recoveries": facts["recoveries"],
        **facts["objective"],
        "failure": failure,
        "stopped_early_at": stopped_early_at,
        "versions": versions(),
    }


def trainer_facts(training: Training, trainer: Trainer) -> dict:
    """What metrics.json records of the training, and the objective's own facts (``objective``: for a
    physics-informed problem, its derivative engines and compilation)."""
    return {
        "steps": trainer.step,
        "training_time_s": trainer.elapsed,
        "device": str(trainer.device),
        "dtype": training.numerics.dtype,
        "seed": training.numerics.seed,
        "best": trainer.best,
        "untrained": trainer.untrained,
        "recoveries": trainer.guard.recoveries,
        "objective": trainer.objective.summary(),
    }


def versions() -> dict[str, str]:
    """The versions of pinn, Python and the libraries a run's numbers depend on."""
    import h5py
    import scipy

    from pinn import __version__

    return {"pinn": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__, "h5py": h5py.__version__}
