"""The objective of operator learning: the relative L2 error of the operator on minibatches of training pairs.

The loss of a batch is the mean over its samples of ``||G(a) - u|| / ||u||`` (each sample's relative L2
error on its grid, as Li et al. train), so every sample weighs the same whatever its size. Batches are
drawn without replacement from a seeded permutation of the training set, a new one every epoch (the
batches left over at the end of an epoch are skipped); the permutation, the position in it and the
generator's state are the objective's state, so a resumed run draws the same batches.

Across processes (:mod:`pinn.train.distributed`) every process draws the same batches and evaluates its
share of each (contiguous, in process order); its term is its share's sum of errors over the whole
batch's size times the number of processes, so the processes' mean is the whole batch's mean even where
the shares differ by a sample (a batch smaller than the processes is evaluated whole by each). The
state is the whole run's: a checkpoint resumes with any number of processes.

With ``augment`` every batch is carried over by one of the square's eight symmetries (reflections in x and y,
and the transpose; the identity among them), drawn with the batches' generator: for a task whose operator
commutes with them (:attr:`pinn.operators.task.Task.symmetric`) that is eight times the training pairs
for nothing.

With a ``physics`` weight (PINO, Li et al. 2021/2024), a second term ``physics`` is that weight times the
mean over the batch of each prediction's relative residual of the discretised equation on the output grid
(:meth:`pinn.operators.task.Task.physics_residual`); history.csv reports it as ``loss_physics``, weighted,
as the physics-informed problems report their weighted condition terms.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from pinn.operators.data import Samples
from pinn.operators.model import OperatorModel
from pinn.operators.task import Task
from pinn.train import distributed
from pinn.train.objective import Objective


def relative_l2(predicted: Tensor, target: Tensor) -> Tensor:
    """Each sample's relative L2 error over all its channels and grid points, shape ``(batch,)``."""
    difference = (predicted - target).flatten(1).norm(dim=1)
    return difference / target.flatten(1).norm(dim=1).clamp_min(torch.finfo(target.dtype).tiny)


class OperatorObjective(Objective):
    """Minibatch relative L2 loss of ``model`` on ``train``.

    Args:
        model: the operator. train: the training pairs. batch_size: samples per step.
        seed: the seed of the batches' order. device, dtype: where and how the data is held.
        task, physics: the task whose physics residual is added with weight ``physics`` (0: none).
        augment: carry each batch over by a random symmetry of the square (2-D square grids).
    """

    resample_every = 1

    def __init__(self, model: OperatorModel, train: Samples, batch_size: int, seed: int,
                 device: torch.device, dtype: torch.dtype, task: Task | None = None, physics: float = 0.0,
                 augment: bool = False) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        if train.count < batch_size:
            raise ValueError(f"the training split holds {train.count} samples, fewer than the batch size {batch_size}; "
                             "lower the batch size or draw more training inputs")
        # This process's part of every batch (None: all of it, alone or with fewer samples than processes).
        self.processes, self.share = distributed.world_size(), distributed.share_of(batch_size)
        self.module = model.to(device)
        self.inputs = torch.as_tensor(train.inputs, dtype=dtype, device=device)
        self.outputs = torch.as_tensor(train.outputs, dtype=dtype, device=device)
        self.batch_size = batch_size
        if physics and (task is None or not task.has_physics):
            raise ValueError(f"a physics weight needs a task with a physics residual, got {task!r}")
        self.task, self.physics = task, float(physics)
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(train.count, generator=self.generator)
        self.position = 0
        self.epochs = 0
        if augment and (train.inputs.ndim != 4 or train.inputs.shape[2] != train.inputs.shape[3]):
            raise ValueError(f"augment flips square 2-D grids, got training inputs of shape {train.inputs.shape}")
        self.augment = augment
        self.symmetry = 0  # the current batch's: bit 0 flips x, bit 1 flips y, bit 2 transposes

    @property
    def batches_per_epoch(self) -> int:
        return self.inputs.shape[0] // self.batch_size

    def _batch(self) -> Tensor:
        return self.order[self.position:self.position + self.batch_size].to(self.inputs.device)

    def terms(self) -> dict[str, Tensor]:
        index = self._batch()
        mine = index if self.share is None else index[self.share]
        inputs, outputs = self._symmetric(self.inputs[mine]), self._symmetric(self.outputs[mine])
        predicted = self.module(inputs)
        terms = {"data": self._batch_mean(relative_l2(predicted, outputs))}
        if self.physics:
            terms["physics"] = self.physics * self._batch_mean(self.task.physics_residual(inputs, predicted))
        return terms

    def _symmetric(self, values: Tensor) -> Tensor:
        """``values`` (``(batch, channels, n, n)``) carried over by the current batch's symmetry."""
        flips = [dim for bit, dim in ((1, 2), (2, 3)) if self.symmetry & bit]
        if flips:
            values = values.flip(flips)
        return values.transpose(2, 3) if self.symmetry & 4 else values

    def _batch_mean(self, values: Tensor) -> Tensor:
        """The whole batch's mean of per-sample ``values`` of this process's share: across processes,
        the processes' average of these is that mean."""
        if self.share is None:
            return values.mean()
        return values.sum() * (self.processes / self.batch_size)

    def resample(self) -> None:
        self.position += self.batch_size
        if self.position + self.batch_size > len(self.order):
            self.order = torch.randperm(len(self.order), generator=self.generator)
            self.position = 0
            self.epochs += 1
        if self.augment:
            self.symmetry = int(torch.randint(8, (1,), generator=self.generator))

    @property
    def epochs_trained(self) -> float:
        """The batches drawn so far (the current one included) in epochs."""
        return self.epochs + (self.position // self.batch_size + 1) / self.batches_per_epoch

    def reported(self) -> dict[str, float]:
        return {"epoch": self.epochs_trained}

    def summary(self) -> dict[str, Any]:
        summary = {"batch_size": self.batch_size, "batches_per_epoch": self.batches_per_epoch,
                   "epochs": round(self.epochs_trained, 6)}
        if self.physics:
            summary["physics_weight"] = self.physics
        if self.augment:
            summary["augmented"] = True
        return summary

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "order": self.order.clone(), "position": self.position,
                "epochs": self.epochs, "symmetry": self.symmetry}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.order = state["order"].clone()
        self.position = int(state["position"])
        self.epochs = int(state["epochs"])
        self.symmetry = int(state.get("symmetry", 0))  # checkpoints from before augmentation hold none
