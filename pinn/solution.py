"""``pinn.load(run_dir)``: the trained solution of a finished (or checkpointed) run."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pinn.io import load_checkpoint
from pinn.loading import load_problem
from pinn.model import Model
from pinn.overrides import apply_overrides


class Solution:
    """A trained model with its problem; :meth:`predict` evaluates it anywhere."""

    def __init__(self, model: Model, metrics: dict | None, config: dict) -> None:
        self.model = model
        self.metrics = metrics
        self.config = config

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.model.inputs

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.model.outputs

    def predict(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """Fields at ``points`` (shape (N, number of inputs), columns in input order), by name."""
        return self.model.predict(points)


def load(run_dir: str | Path) -> Solution:
    """Load the run in ``run_dir``.

    The problem is rebuilt from the copy of its file kept in the run folder (``problem.py``), so
    this runs that file's code: load only run folders you trust. The weights themselves are read
    with ``torch.load(weights_only=True)``.
    """
    folder = Path(run_dir)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder} is not a pinn run folder (no config.json)")
    config = json.loads(config_path.read_text())
    problem = apply_overrides(load_problem(folder / "problem.py"), config.get("overrides", {}))
    state = load_checkpoint(folder / "checkpoint.pt")
    import torch

    model = problem.build_model(getattr(torch, problem.training.dtype), torch.device("cpu"), problem.training.seed)
    model.load_state_dict(state["model"])
    metrics_path = folder / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else None
    return Solution(model.eval(), metrics, config)
