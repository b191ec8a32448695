"""config.json: what a run was started with (the problem's declaration, every setting, the
overrides, the problem file and its hash), written before training; ``--resume`` reads it back."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from pinn.loading import ProblemSource
from pinn.output.metrics import versions
from pinn.pde.problem import Problem
from pinn.recorded import model_description
from pinn.pde.build import loss_conditions
from pinn.pde.exact import singular_corners


def run_config(problem: Problem, source: ProblemSource | None, overrides: dict, training: dict, device: str,
               identity: dict) -> dict:
    """config.json. ``source`` is None for a problem defined in Python rather than read from a file:
    ``problem_file`` and ``problem_sha256`` are then null. ``training`` holds every training setting."""
    imposed = loss_conditions(problem)  # the rest are exact: by the output's form, or by a periodic net
    exact = [k for k in problem.conditions if k not in imposed]
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
        "conditions": {k: type(c).__name__ + (" (exact)" if k in exact else "") for k, c in problem.conditions.items()},
        "exact_conditions": exact,  # as settled (exact=None), and Periodic ones the network meets
        "singular_corners": singular_corner_list(problem),
        "reference": repr(problem.reference),
        "model": model_description(problem),  # what pinn.load(run) needs to read the model as data
        "versions": versions(),
    }


def singular_corner_list(problem: Problem) -> list[dict]:
    """config.json ``singular_corners``: the corner terms the model's output carries (:mod:`pinn.pde.exact`),
    each as its field, vertex and interior angle in degrees."""
    space = getattr(problem.domain, "space", problem.domain)
    return [{"field": name, "vertex": list(corner.vertex), "angle_degrees": round(corner.omega * 180 / 3.141592653589793, 6)}
            for name, corner in singular_corners(space, problem.outputs, problem.exact_outputs)]
