"""``pinn.load(run_dir)``: the trained solution of a finished (or checkpointed) run."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pinn.io import CorruptFileError, load_checkpoint, read_json, read_solution
from pinn.loading import load_problem
from pinn.model import Model
from pinn.overrides import apply_overrides


class Solution:
    """A trained model with its problem; :meth:`predict` evaluates it anywhere."""

    def __init__(self, model: Model, metrics: dict | None, config: dict, path: Path | None = None) -> None:
        self.model = model
        self.metrics = metrics
        self.config = config
        self.path = path

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.model.inputs

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.model.outputs

    @property
    def parameters(self) -> dict[str, float]:
        """The recovered unknown parameters (:class:`pinn.Unknown`) by name; empty for a forward problem."""
        return self.model.unknowns.as_floats()

    def predict(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """Fields at ``points`` (shape (N, number of inputs), columns in input order), by name."""
        return self.model.predict(points)

    def grid(self) -> dict[str, dict[str, np.ndarray]]:
        """What the finished run saved in ``solution.h5``: ``{"grid": {input: axis}, "predicted": {field:
        array}, "reference": {...}, "error": {...}}``, arrays shaped like the grid (axes in input order).

        Raises:
            FileNotFoundError: the run has not finished (no solution.h5).
            pinn.io.CorruptFileError: the file is truncated or corrupt.
        """
        if self.path is None:
            raise FileNotFoundError("this solution was not loaded from a run folder")
        return read_solution(self.path / "solution.h5")


def load(run_dir: str | Path) -> Solution:
    """Load the run in ``run_dir``.

    The problem is rebuilt from the copy of its file kept in the run folder (``problem.py``), so
    this runs that file's code: load only run folders you trust. The weights themselves are read
    with ``torch.load(weights_only=True)``, which cannot run code.

    Raises:
        FileNotFoundError: ``run_dir`` is not a run folder, or holds no checkpoint yet.
        pinn.io.CorruptFileError: config.json, metrics.json or checkpoint.pt is truncated or corrupt,
            or the checkpoint does not fit the problem's network.
    """
    import torch

    folder = Path(run_dir)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder} is not a pinn run folder (no config.json)")
    config = read_json(config_path)
    if not isinstance(config, dict):
        raise CorruptFileError(f"{config_path} does not hold a run configuration")
    problem = apply_overrides(load_problem(folder / "problem.py"), config.get("overrides", {}))
    state = load_checkpoint(folder / "checkpoint.pt")
    model = problem.build_model(getattr(torch, problem.training.dtype), torch.device("cpu"), problem.training.seed)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError) as err:
        detail = " ".join(line.strip() for line in str(err).splitlines()[:3])
        raise CorruptFileError(f"{folder / 'checkpoint.pt'} does not fit the network of {folder / 'problem.py'} "
                               f"with the settings of config.json ({detail})") from None
    metrics_path = folder / "metrics.json"
    metrics = read_json(metrics_path) if metrics_path.is_file() else None
    return Solution(model.eval(), metrics, config, folder)
