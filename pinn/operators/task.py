"""What an operator-learning problem learns: a task draws random input functions and solves for the outputs.

A :class:`Task` is the pair (a generator of input functions, the verified solver that maps each to its
output). It draws an input's Gaussian-random-field coefficients, which are resolution-free, and
:meth:`Task.solve` samples each input at a grid of any resolution and runs the solver there, so the same
held-out inputs can be solved at 1x, 2x and 4x the training resolution.
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar

import numpy as np
from torch import Tensor

from pinn.operators.grf import GaussianRandomField


class Task(abc.ABC):
    """A generator of input functions and the solver of their outputs (a frozen dataclass in practice).

    Attributes:
        kind: the task's name (cache files and config.json).
        inputs, outputs: the names of the input and output channels.
        periodic: whether the grid is periodic (then it omits the right end of [0, 1)).
        field: the Gaussian random field the inputs are drawn from.
        has_physics: whether :meth:`physics_residual` is defined (the optional physics-informed loss).
        symmetric: whether the operator commutes with the square's reflections and its transpose (and the
            inputs' distribution is unchanged by them), so training pairs may be flipped (``augment``).
    """

    kind: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]]
    outputs: ClassVar[tuple[str, ...]]
    periodic: ClassVar[bool]
    field: GaussianRandomField
    has_physics: ClassVar[bool] = False
    symmetric: ClassVar[bool] = False

    @property
    def dim(self) -> int:
        return self.field.dim

    def draw(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` inputs' field coefficients."""
        return self.field.draw(count, rng)

    def axis(self, resolution: int) -> np.ndarray:
        """The grid coordinates along one axis: ``resolution`` points of [0, 1), or of [0, 1] with both walls."""
        if self.periodic:
            return np.arange(resolution) / resolution
        return np.linspace(0.0, 1.0, resolution)

    def check_resolution(self, resolution: int) -> None:
        """A ValueError unless the solver can work at ``resolution`` points per axis."""
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 3:
            raise ValueError(f"{type(self).__name__} resolution must be a whole number >= 3, got {resolution!r}")

    @abc.abstractmethod
    def solve(self, coefficients: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
        """The inputs and the solver's outputs at ``resolution`` points per axis, shapes
        ``(count, len(inputs), *grid)`` and ``(count, len(outputs), *grid)``."""

    def physics_residual(self, inputs: Tensor, outputs: Tensor) -> Tensor:
        """Each sample's relative residual of the discretised equation for ``outputs`` (in the task's units,
        on the grid of ``inputs``), shape ``(batch,)``, differentiable: the physics-informed (PINO) loss.
        Only tasks with ``has_physics``."""
        raise NotImplementedError(f"the {self.kind} task has no physics residual on its output grid")

    def settings(self) -> dict[str, Any]:
        """Every setting that decides the data (the cache key), as JSON values."""
        return {"kind": self.kind, **dataclasses.asdict(self)}  # type: ignore[call-overload]

    @abc.abstractmethod
    def description(self, resolution: int) -> str:
        """The solver in words, for metrics.json."""
