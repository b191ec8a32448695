"""The trained operator: an FNO between normalised functions, on the grid coordinates of its task.

Inputs are standardised channel by channel with the training inputs' mean and standard deviation (one
number per channel, so the same at every resolution) and outputs restored with the training outputs';
the statistics are buffers, saved with the model. A periodic grid gives its points' coordinates
``i / n`` (it omits the right end), so a point has the same coordinate channel at every resolution.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from pinn.nets.fno import FNO, grid_coordinates


class OperatorModel(nn.Module):
    """``(batch, inputs, *grid) -> (batch, outputs, *grid)`` in the task's units.

    Args:
        net: the FNO's settings. inputs, outputs: training inputs and outputs (for the statistics).
        periodic: whether the grid omits the right end of [0, 1).
        generator: initialises the FNO.
    """

    def __init__(self, net: FNO, inputs: np.ndarray, outputs: np.ndarray, periodic: bool,
                 generator: torch.Generator, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.periodic = periodic
        self.fno = net.build(inputs.shape[1], outputs.shape[1], generator, dtype)
        shape = (1, -1) + (1,) * net.dim
        for name, values in (("input", inputs), ("output", outputs)):
            axes = (0, *range(2, values.ndim))
            mean = torch.as_tensor(values.mean(axis=axes), dtype=dtype).reshape(shape)
            std = torch.as_tensor(values.std(axis=axes), dtype=dtype).reshape(shape)
            self.register_buffer(f"{name}_mean", mean)
            self.register_buffer(f"{name}_std", torch.where(std > 0, std, torch.ones_like(std)))

    def forward(self, a: Tensor) -> Tensor:
        coordinates = None
        if self.periodic:
            grid = tuple(a.shape[2:])
            axes = [torch.arange(n, dtype=a.dtype, device=a.device) / n for n in grid]
            coordinates = torch.stack(torch.meshgrid(*axes, indexing="ij"))
        h = self.fno((a - self.input_mean) / self.input_std, coordinates, closed=not self.periodic)
        return h * self.output_std + self.output_mean


__all__ = ["OperatorModel", "grid_coordinates"]
