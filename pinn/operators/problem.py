"""An operator-learning problem: learn a task's solution operator with an FNO, judged on held-out inputs.

A problem file ends with ``problem = pinn.operators.OperatorProblem(...)`` and runs like any other:
``python -m pinn.solve problems/darcy_fno.py`` writes the run folder (metrics.json with the test error
and its verdict, config.json, history.csv, checkpoint.pt for an exact resume, solution.h5 and plots/)
and exits 0 when the test error meets the tolerance, 1 when not, 2 for a mistake in the problem.

The reference is the data: the task's solver on the training, validation and test inputs (read from the
cache under ``data.cache`` or generated), so its time counts in the run's wall time. Training minimises
the relative L2 loss on training minibatches; the checks during training measure the validation split
(they never steer it); the verdict is the mean relative L2 error on the test split at the training
resolution. The test inputs are also solved at ``data.test_resolutions`` (zero-shot super-resolution:
the operator never saw those grids), reported as ``u@64`` and the like, judged only when
``data.super_resolution_factor`` is set: then each must be within that factor of the training
resolution's error.

``physics=w`` adds the task's physics residual on the output grid to the loss with weight ``w`` (PINO; Darcy
only: its solver's discrete equation). Whatever ``w``, a task with a physics residual reports the test
predictions' mean relative residual per resolution in metrics.json (``physics_residual_by_resolution``).
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import h5py
import numpy as np
import torch

from pinn.declaration import Declaration, Outcome
from pinn.nets.fno import FNO
from pinn.operators.data import Samples, Splits, split_samples
from pinn.operators.model import OperatorModel
from pinn.operators.objective import OperatorObjective
from pinn.operators.plots import plot_resolutions, plot_samples
from pinn.operators.task import Task
from pinn.operators.validation import field_errors, physics_residual, predict
from pinn.output.files import atomic_write
from pinn.train.settings import Adam, Checks, Numerics, Training
from pinn.train.trainer import Trainer, resolve_device
from pinn.train.validate import positive, whole
from pinn.validation import FieldError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperatorData:
    """Grids, batches and the cache of an operator problem (``--set data.batch_size=10``).

    Args:
        resolution: points per axis of the training grid (and of the verdict's test error).
        test_resolutions: finer grids the test inputs are also solved and predicted on (zero-shot
            super-resolution), e.g. ``(64, 128)`` for 2x and 4x of 32.
        batch_size: training samples per step.
        cache: the folder of the data cache (None: no cache, generated every run).
        super_resolution_factor: when set, every test resolution's error must be within this factor of
            the training resolution's error for the run to pass.
        augment: carry every training batch over by a random symmetry of the square (reflections, transpose);
            only for tasks whose operator has those symmetries (``Task.symmetric``: Darcy, heat).
    """

    resolution: int = 32
    test_resolutions: tuple[int, ...] = ()
    batch_size: int = 20
    cache: str | None = "data"
    super_resolution_factor: float | None = None
    augment: bool = False

    def __post_init__(self) -> None:
        whole("OperatorData", "resolution", self.resolution, 3)
        resolutions = self.test_resolutions
        if isinstance(resolutions, int):
            resolutions = (resolutions,)
        if not isinstance(resolutions, (tuple, list)):
            raise ValueError(f"OperatorData test_resolutions must be a list of resolutions, got {resolutions!r}")
        for r in resolutions:
            whole("OperatorData", "test_resolutions", r, 3)
        if self.resolution in resolutions or len(set(resolutions)) != len(resolutions):
            raise ValueError("OperatorData test_resolutions must be distinct and differ from the training resolution")
        object.__setattr__(self, "test_resolutions", tuple(sorted(int(r) for r in resolutions)))
        whole("OperatorData", "batch_size", self.batch_size, 1)
        if self.cache is not None and not isinstance(self.cache, (str, Path)):
            raise ValueError(f"OperatorData cache must be a folder or None, got {self.cache!r}")
        if self.super_resolution_factor is not None:
            positive("OperatorData", "super_resolution_factor", self.super_resolution_factor)
        if not isinstance(self.augment, bool):
            raise ValueError(f"OperatorData augment must be True or False, got {self.augment!r}")

    @property
    def resolutions(self) -> tuple[int, ...]:
        return (self.resolution, *self.test_resolutions)


@dataclass(frozen=True)
class OperatorReference:
    """The solver's data for a problem: the splits at the training resolution, and the test split at
    every resolution."""

    train: Samples
    validation: Samples | None
    test: dict[int, Samples]
    description: str
    error_estimate: float | None = None


def default_training() -> Training:
    return Training([Adam(5000, learning_rate=1e-3, learning_rate_final=1e-4)],
                    numerics=Numerics(dtype="float32"), checks=Checks(check_every=250, checkpoint_every=500))


@dataclass(frozen=True)
class OperatorProblem(Declaration):
    """Learn ``task``'s solution operator with an FNO.

    Args:
        name: the problem's name (the run folder is ``runs/<name>``).
        task: the input generator and solver (:class:`~pinn.operators.Darcy`, :class:`~pinn.operators.Burgers`,
            :class:`~pinn.operators.Heat`).
        net: the FNO's settings; its number of modes sets the grid's dimension, which must be the task's.
        splits: the sizes of the training, validation and test splits, and their seed.
        data: grids, batch size, cache (:class:`OperatorData`).
        training: the schedule (Adam steps count minibatches); float32 by default.
        tolerance: the test error each output field must reach, e.g. ``{"u": 1e-2}``.
        physics: the weight of the physics-informed loss term (the task's discrete equation's relative
            residual on the output grid, history.csv ``loss_physics``); 0, the default, leaves it out.
    """

    name: str
    task: Task
    net: FNO = field(default_factory=FNO)
    splits: Splits = field(default_factory=Splits)
    data: OperatorData = field(default_factory=OperatorData)
    training: Training = field(default_factory=default_training)
    tolerance: Mapping[str, float] = field(default_factory=dict)
    physics: float = 0.0

    family = "operator"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"OperatorProblem name must be a non-empty string, got {self.name!r}")
        for label, value, kind in (("task", self.task, Task), ("net", self.net, FNO), ("splits", self.splits, Splits),
                                   ("data", self.data, OperatorData), ("training", self.training, Training)):
            if not isinstance(value, kind):
                raise ValueError(f"OperatorProblem {label} must be a {kind.__name__}, got {type(value).__name__}")
        if self.net.dim != self.task.dim:
            raise ValueError(f"OperatorProblem net has {self.net.dim}-D modes {self.net.modes} but the {self.task.kind} "
                             f"task's grids are {self.task.dim}-D")
        for resolution in self.data.resolutions:
            self.task.check_resolution(resolution)
        self.net.check_grid((self.data.resolution,) * self.task.dim, closed=not self.task.periodic)
        if self.splits.train < self.data.batch_size:
            raise ValueError(f"OperatorProblem splits.train ({self.splits.train}) holds fewer samples than "
                             f"data.batch_size ({self.data.batch_size})")
        unknown = sorted(set(self.tolerance) - set(self.task.outputs))
        if unknown:
            raise ValueError(f"OperatorProblem tolerance names {', '.join(unknown)}, not outputs of the "
                             f"{self.task.kind} task ({', '.join(self.task.outputs)})")
        for name, value in self.tolerance.items():
            positive("OperatorProblem", f"tolerance[{name!r}]", value)
        if isinstance(self.physics, bool) or not isinstance(self.physics, (int, float)) \
                or not np.isfinite(self.physics) or self.physics < 0:
            raise ValueError(f"OperatorProblem physics must be a weight >= 0, got {self.physics!r}")
        if self.data.augment and not self.task.symmetric:
            raise ValueError(f"OperatorProblem data.augment: the {self.task.kind} task does not declare the square's "
                             "symmetries (Task.symmetric); set augment=False")
        if self.physics and not self.task.has_physics:
            raise ValueError(f"OperatorProblem physics: the {self.task.kind} task has no physics residual on its "
                             "output grid; set physics=0")

    # ------------------------------------------------------------------ the seam
    def identity(self) -> dict[str, Any]:
        return {"problem": self.name, "family": self.family, "task": self.task.kind,
                "inputs": list(self.task.inputs), "outputs": list(self.task.outputs)}

    def sections(self) -> dict[str, Any]:
        return {"net": self.net, "splits": self.splits, "data": self.data, "task": self.task}

    def build_reference(self) -> OperatorReference:
        cache = None if self.data.cache is None else Path(self.data.cache)
        resolution = self.data.resolution
        train = split_samples(self.task, self.splits, "train", resolution, cache)
        validation = (split_samples(self.task, self.splits, "validation", resolution, cache)
                      if self.splits.validation else None)
        test = {r: split_samples(self.task, self.splits, "test", r, cache) for r in self.data.resolutions}
        return OperatorReference(train, validation, test, self.task.description(resolution))

    def trainer(self, reference: OperatorReference) -> Trainer:
        numerics = self.training.numerics
        dtype = getattr(torch, numerics.dtype)
        device = resolve_device(numerics.device)
        model = OperatorModel(self.net, reference.train.inputs, reference.train.outputs, self.task.periodic,
                              torch.Generator().manual_seed(numerics.seed), dtype)
        objective = OperatorObjective(model, reference.train, self.data.batch_size, numerics.seed, device, dtype,
                                      self.task, self.physics, self.data.augment)
        checked = reference.validation or reference.test[self.data.resolution]

        def check() -> dict[str, FieldError]:
            return field_errors(predict(model, checked.inputs), checked, self.task.outputs, dict(self.tolerance))

        return Trainer(objective, self.training, check)

    def finish(self, trainer: Trainer, reference: OperatorReference, folder: Any) -> Outcome:
        model = trainer.objective.module
        predictions = {r: predict(model, samples.inputs) for r, samples in reference.test.items()}
        resolution = self.data.resolution
        errors = field_errors(predictions[resolution], reference.test[resolution], self.task.outputs,
                              dict(self.tolerance))
        by_resolution = {resolution: {k: e.rel_l2 for k, e in errors.items()}}
        factor = self.data.super_resolution_factor
        for r in self.data.test_resolutions:
            finer = field_errors(predictions[r], reference.test[r], self.task.outputs, {})
            by_resolution[r] = {k: e.rel_l2 for k, e in finer.items()}
            for name, e in finer.items():
                bound = None if factor is None else factor * errors[name].rel_l2
                errors[f"{name}@{r}"] = FieldError(e.rel_l2, e.max_abs, bound)
        atomic_write(folder.solution, lambda p: _write_solution(p, self.task, reference, predictions))
        self._plots(folder.plots, reference, predictions, by_resolution)
        extra = {"test_samples": self.splits.test, "train_samples": self.splits.train,
                 "error_by_resolution": {str(r): v for r, v in by_resolution.items()}}
        if self.task.has_physics:
            extra["physics_residual_by_resolution"] = {
                str(r): physics_residual(self.task, samples.inputs, predictions[r])
                for r, samples in reference.test.items()}
        return Outcome(errors=errors, extra=extra)

    def _plots(self, plots: Path, reference: OperatorReference, predictions: dict, by_resolution: dict) -> None:
        names = (self.task.inputs[0], self.task.outputs[0])
        try:
            for r, samples in reference.test.items():
                suffix = "" if r == self.data.resolution else f"_{r}"
                plot_samples(plots / f"test_samples{suffix}.png", samples, predictions[r], names)
            if len(by_resolution) > 1:
                first = self.task.outputs[0]
                plot_resolutions(plots / "error_by_resolution.png", {r: v[first] for r, v in by_resolution.items()},
                                 self.data.resolution, self.tolerance.get(first))
        except Exception as err:  # a figure must never cost the user the run's numbers
            logger.warning("warning: plotting failed (%s: %s); the numbers are unaffected", type(err).__name__, err)

    def describe(self) -> dict[str, Any]:
        return {"task": self.task.settings(), "net": dataclasses.asdict(self.net),
                "splits": dataclasses.asdict(self.splits), "data": dataclasses.asdict(self.data),
                "physics": self.physics}


def _write_solution(path: Path, task: Task, reference: OperatorReference, predictions: dict[int, np.ndarray]) -> None:
    """solution.h5: per test resolution a group ``resolution_<n>`` with the grid axes, the inputs, and per
    output field the prediction, the solver's reference and the pointwise error."""
    with h5py.File(path, "w") as f:
        f.attrs["family"] = "operator"
        f.attrs["task"] = task.kind
        for r, samples in reference.test.items():
            group = f.create_group(f"resolution_{r}")
            for i, axis in enumerate(samples.axes):
                group.create_dataset(f"axis_{i}", data=axis)
            for c, name in enumerate(task.inputs):
                group.create_dataset(f"input_{name}", data=samples.inputs[:, c], compression="gzip")
            for c, name in enumerate(task.outputs):
                predicted, solved = predictions[r][:, c], samples.outputs[:, c]
                group.create_dataset(f"predicted_{name}", data=predicted, compression="gzip")
                group.create_dataset(f"reference_{name}", data=solved, compression="gzip")
                group.create_dataset(f"error_{name}", data=predicted - solved, compression="gzip")
