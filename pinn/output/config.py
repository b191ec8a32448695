"""config.json: what a run was started with (the problem's declaration, every setting, the
overrides, the problem file and its hash), written before training; ``--resume`` reads it back."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from pinn.loading import ProblemSource
from pinn.output.metrics import versions
from pinn.pde.problem import Problem
from pinn.recorded import model_description


def run_config(problem: Problem, source: ProblemSource | None, overrides: dict, training: dict, device: str,
               identity: dict) -> dict:
    """config.json. ``source`` is None for a problem defined in Python rather than read from a file:
    ``problem_file`` and ``problem_sha256`` are then null. ``training`` holds every training setting."""
    return {
        "problem": problem.name,
        "run_id": identity["id"],
        "problem_file": None if source is None else str(Path(source.path).resolve()),
        "problem_sha256": None if source is None else source.sha256,
        "local_modules": [] if source is None else sorted(source.modules),
        "inputs": list(problem.inputs),
        "outputs": list(problem.outputs),
        "overrides": {k: v for k, v in overrides.items()},
        "net": dataclasses.asdict(problem.net),
        "sampling": dataclasses.asdict(problem.sampling),
        "training": training,
        "automatic": dict(getattr(problem, "automatic", {})),  # what the framework chose, and why
        "dtype": problem.training.numerics.dtype,  # where pinn.load reads it
        "device": device,
        "tolerance": problem.tolerance,
        "unknowns": [dataclasses.asdict(u) for u in problem.unknowns],
        "conditions": {k: type(c).__name__ + (" (exact)" if c.exact else "") for k, c in problem.conditions.items()},
        "reference": repr(problem.reference),
        "model": model_description(problem),  # what pinn.load(run) needs to read the model as data
        "versions": versions(),
    }
