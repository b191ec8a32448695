"""``pinn.load(run_dir)``: the trained solution of a finished (or checkpointed) run."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pinn.output.files import CorruptFileError, load_checkpoint, read_json, read_solution
from pinn.loading import load_problem
from pinn.pde.model import Model
from pinn.overrides import apply_overrides
from pinn.output.folder import same_run
from pinn.output.summary import summary as _summary
from pinn.pde.build import build_model
from pinn.recorded import CodeOnlyModel, GraphModel, TrustRequiredError, load_weights, model_from_data

__all__ = ["Solution", "TrustRequiredError", "load"]


class Solution:
    """A trained model with its problem; :meth:`predict` evaluates it anywhere.

    ``model`` is the problem's :class:`pinn.pde.model.Model` when loaded with ``trust=True`` (or a plain
    network with ``trust=False``), else a :class:`pinn.recorded.GraphModel` (the recorded graph) or a
    :class:`pinn.recorded.CodeOnlyModel` (a model that needs ``trust=True`` to predict).
    """

    def __init__(self, model: Model | GraphModel | CodeOnlyModel, metrics: dict | None, config: dict,
                 path: Path | None = None) -> None:
        self.model = model
        self.metrics = metrics
        self.config = config
        self.path = path

    @property
    def passed(self) -> bool | None:
        """The run's verdict (metrics.json ``passed``): every tolerance met and training did not fail; None
        for a run that has not finished."""
        return None if self.metrics is None else self.metrics["passed"]

    def summary(self) -> str:
        """The lines the command line ends a run with: each field's error, each parameter, the verdict."""
        if self.metrics is None:
            return f"{self.path}: the run has not finished (no metrics.json)"
        return _summary(self.metrics, self.path)

    def __repr__(self) -> str:
        if self.metrics is None:
            return f"<pinn.Solution {self.path}: not finished>"
        verdict = "PASSED" if self.passed else "FAILED"
        worst = "" if self.metrics.get("rel_l2") is None else f", worst relative L2 {self.metrics['rel_l2']:.3e}"
        return f"<pinn.Solution {self.metrics.get('problem')}: {verdict}{worst}; {self.path}>"

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.model.inputs

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.model.outputs

    @property
    def parameters(self) -> dict[str, float]:
        """The recovered unknown parameters (:class:`pinn.Unknown`) by name; empty for a forward problem."""
        if not hasattr(self.model, "unknowns"):  # a model that needs trust: the values metrics.json recorded
            return {k: v["value"] for k, v in (self.metrics or {}).get("parameters", {}).items()}
        return self.model.unknowns.as_floats()

    def predict(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """Fields at ``points`` (shape (N, number of inputs), columns in input order), by name: the
        outputs and the derived quantities.

        Raises:
            pinn.TrustRequiredError: the run was loaded with ``trust=False`` and its model needs code
                the folder does not hold as data (the message says which and why).
        """
        return self.model.predict(points)

    def grid(self) -> dict[str, dict[str, np.ndarray]]:
        """What the finished run saved in ``solution.h5``: ``{"grid": {input: axis}, "predicted": {field:
        array}, "reference": {...}, "error": {...}}``, arrays shaped like the grid (axes in input order).

        Raises:
            FileNotFoundError: the run has not finished (no solution.h5).
            pinn.output.files.CorruptFileError: the file is truncated or corrupt.
        """
        if self.path is None:
            raise FileNotFoundError("this solution was not loaded from a run folder")
        return read_solution(self.path / "solution.h5")


def load(run_dir: str | Path, *, trust: bool = False) -> Solution:
    """Load the run in ``run_dir``.

    By default nothing in the folder is executed: the network is rebuilt from the settings in
    ``config.json`` and the weights read from ``checkpoint.pt`` with ``torch.load(weights_only=True)``.
    The parts of a model that are the problem's own code (exact conditions, known parts, derived
    quantities, a network class of its own) are read from ``model_graph.pt``, where a finished run
    records them as data: a graph of PyTorch tensor operations that this reads without running
    anything from the file (see :mod:`pinn.recorded`). Where a run holds them only as code (it has
    not finished, or its code could not be traced, e.g. numpy applied to the values),
    :meth:`Solution.predict` raises :class:`pinn.TrustRequiredError` saying so, and a missing
    derived quantity is left out of the prediction with a logged warning; the parameters, the
    saved grid, the metrics and the configuration are there in every case.

    With ``trust=True`` the problem is rebuilt by executing the copy of its file kept in the run
    folder (``problem.py``), which can do anything that code can: use it only for run folders you
    trust. The prediction is then computed by the problem's own code, as during the run.

    Raises:
        FileNotFoundError: ``run_dir`` is not a run folder, or holds no checkpoint yet.
        pinn.output.files.CorruptFileError: config.json, metrics.json, checkpoint.pt or model_graph.pt is
            truncated or corrupt, or the checkpoint does not fit the network.
    """
    import torch

    folder = Path(run_dir)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder} is not a pinn run folder (no config.json)")
    config = read_json(config_path)
    if not isinstance(config, dict):
        raise CorruptFileError(f"{config_path} does not hold a run configuration")
    state = load_checkpoint(folder / "checkpoint.pt")
    if not same_run(config, state):
        raise CorruptFileError(f"config.json and checkpoint.pt in {folder} belong to different runs (a run replaced "
                               "by hand, or two writers): its settings cannot be trusted to describe its weights")
    if "family" in config:  # a family other than physics-informed networks: its model is its problem's code
        return _declared(folder, config, state, trust)
    if not trust:
        return Solution(model_from_data(folder, config, state), _metrics(folder), config, folder)
    problem = apply_overrides(load_problem(folder / "problem.py"), config.get("overrides", {}))
    numerics = problem.training.numerics
    model = build_model(problem, getattr(torch, numerics.dtype), torch.device("cpu"), numerics.seed)
    model = load_weights(model, state, folder / "checkpoint.pt",
                         f"{folder / 'problem.py'} with the settings of config.json")
    return Solution(model, _metrics(folder), config, folder)


def _metrics(folder: Path) -> dict | None:
    metrics_path = folder / "metrics.json"
    return read_json(metrics_path) if metrics_path.is_file() else None


class _NeedsTrust:
    """The model of a run whose model only its problem file can build: loaded without trust, it cannot predict."""

    def __init__(self, family: str) -> None:
        self.family = family

    def predict(self, points: np.ndarray) -> dict[str, np.ndarray]:
        raise TrustRequiredError(f"the model of a {self.family} run is built by its problem file's code; load it with "
                                 "pinn.load(run, trust=True) (which runs the folder's problem.py: only for runs you "
                                 "trust); its results are in solution.h5 and metrics.json either way")


def _declared(folder: Path, config: dict, state: dict, trust: bool) -> Solution:
    """A run of another family (:class:`pinn.declaration.Declaration`): with ``trust``, its trained module (for a
    :class:`pinn.Dynamics` run, the vector field) rebuilt by the folder's problem file with the checkpoint's
    weights."""
    if not trust:
        return Solution(_NeedsTrust(config["family"]), _metrics(folder), config, folder)
    if not (folder / "problem.py").is_file():
        raise FileNotFoundError(f"{folder} holds a run of a problem defined in Python (no problem.py): its model can "
                                "only be rebuilt by that problem; its results are in solution.h5 and metrics.json")
    problem = apply_overrides(load_problem(folder / "problem.py"), config.get("overrides", {}))
    module = load_weights(problem.trainer(None).objective.module, state, folder / "checkpoint.pt",
                          f"{folder / 'problem.py'} with the settings of config.json")
    return Solution(module, _metrics(folder), config, folder)
