"""The trained object: a network plus the output transform that imposes exact conditions."""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from pinn.pde.exact import OutputTransform
from pinn.derivatives.fields import Fields
from pinn.pde.unknowns import Unknown, UnknownValues


class Model(nn.Module):
    """Maps points (N, number of inputs) to outputs (N, number of outputs); holds the problem's
    unknown parameters too (:mod:`pinn.pde.unknowns`), so that optimisers and checkpoints see them."""

    def __init__(self, net: nn.Module, transform: OutputTransform | None,
                 inputs: tuple[str, ...], outputs: tuple[str, ...], time: str | None,
                 unknowns: tuple[Unknown, ...] = ()) -> None:
        super().__init__()
        self.net = net
        self.transform = transform
        self.inputs = inputs
        self.outputs = outputs
        self.time = time
        self.unknowns = UnknownValues(unknowns)  # registered after the net: its parameters come first

    def forward(self, points: Tensor) -> Tensor:
        raw = self.net(points)
        return raw if self.transform is None else self.transform(points, raw)

    def fields(self, points: Tensor, normals: Tensor | None = None) -> Fields:
        """Evaluate at ``points`` and return the by-name view residuals read from."""
        points = points.detach().requires_grad_(True)
        return Fields(points, self(points), self.inputs, self.outputs, self.time, normals, self.unknowns())

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def as_points(self, points: np.ndarray | Tensor) -> Tensor:
        """``points`` as a tensor on the model's device and dtype, checked to be (N, number of inputs)."""
        array = torch.as_tensor(np.asarray(points), dtype=self.dtype, device=self.device)
        if array.ndim != 2 or array.shape[1] != len(self.inputs):
            raise ValueError(f"points must have shape (N, {len(self.inputs)}) for inputs {', '.join(self.inputs)}, "
                             f"got {tuple(array.shape)}")
        return array

    def predict(self, points: np.ndarray | Tensor, batch_size: int = 65536) -> dict[str, np.ndarray]:
        """The fields at ``points`` (an array of shape (N, number of inputs)), as numpy arrays by name."""
        array = self.as_points(points)
        with torch.no_grad():
            chunks = [self(array[i:i + batch_size]) for i in range(0, array.shape[0], batch_size)]
        values = torch.cat(chunks).cpu().numpy() if chunks else np.zeros((0, len(self.outputs)))
        return {name: values[:, j] for j, name in enumerate(self.outputs)}
