"""Neural networks that map input coordinates to output fields."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

class _Sin(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return torch.sin(x)


ACTIVATIONS = {"tanh": nn.Tanh, "sin": _Sin, "gelu": nn.GELU, "silu": nn.SiLU, "softplus": nn.Softplus}


@dataclass(frozen=True)
class MLP:
    """A fully connected network.

    Args:
        width: neurons per hidden layer.
        depth: number of hidden layers.
        hidden: the width of each hidden layer, e.g. ``(64, 32, 32)``; overrides width and depth.
        activation: one of ``tanh``, ``sin``, ``gelu``, ``silu``, ``softplus``.
        normalize_inputs: map the domain's bounding box to [-1, 1] before the first layer.
        fourier_features: if > 0, embed the (normalised) inputs as ``[sin(2π B x), cos(2π B x)]``
            with this many random frequencies drawn once from N(0, fourier_scale²).
        fourier_scale: standard deviation of those frequencies.
    """

    width: int = 32
    depth: int = 3
    hidden: tuple[int, ...] | None = None
    activation: str = "tanh"
    normalize_inputs: bool = True
    fourier_features: int = 0
    fourier_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.width < 1 or self.depth < 1:
            raise ValueError(f"MLP width and depth must be >= 1, got width={self.width}, depth={self.depth}")
        if self.hidden is not None and (len(self.hidden) == 0 or any(int(w) < 1 for w in self.hidden)):
            raise ValueError(f"MLP hidden must list at least one layer width, each >= 1, got {self.hidden!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"MLP activation {self.activation!r} is not one of {', '.join(ACTIVATIONS)}")
        if self.fourier_features < 0 or not self.fourier_scale > 0:
            raise ValueError("MLP fourier_features must be >= 0 and fourier_scale > 0")

    @property
    def layer_widths(self) -> tuple[int, ...]:
        """The width of every hidden layer."""
        return tuple(int(w) for w in self.hidden) if self.hidden is not None else (self.width,) * self.depth

    def build(self, n_in: int, n_out: int, lower: Tensor, upper: Tensor, generator: torch.Generator) -> nn.Module:
        """The network, initialised from ``generator`` (Glorot-normal weights, zero biases)."""
        return _MLPModule(self, n_in, n_out, lower, upper, generator)


class _MLPModule(nn.Module):
    def __init__(self, spec: MLP, n_in: int, n_out: int, lower: Tensor, upper: Tensor, generator: torch.Generator):
        super().__init__()
        if spec.normalize_inputs:
            centre, half = (upper + lower) / 2, (upper - lower) / 2
        else:
            centre, half = torch.zeros(n_in, dtype=lower.dtype), torch.ones(n_in, dtype=lower.dtype)
        self.register_buffer("centre", centre)
        self.register_buffer("half_width", half)
        width_in = n_in
        if spec.fourier_features:
            freqs = torch.randn(n_in, spec.fourier_features, generator=generator, dtype=lower.dtype) * spec.fourier_scale
            self.register_buffer("frequencies", freqs)
            width_in = 2 * spec.fourier_features
        else:
            self.frequencies = None
        sizes = [width_in, *spec.layer_widths, n_out]
        self.layers = nn.ModuleList(nn.Linear(a, b, dtype=lower.dtype) for a, b in zip(sizes[:-1], sizes[1:]))
        for layer in self.layers:
            std = math.sqrt(2.0 / (layer.in_features + layer.out_features))
            with torch.no_grad():
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator, dtype=lower.dtype) * std)
                layer.bias.zero_()
        self.activation = ACTIVATIONS[spec.activation]()

    def forward(self, x: Tensor) -> Tensor:
        h = (x - self.centre) / self.half_width
        if self.frequencies is not None:
            z = 2 * math.pi * h @ self.frequencies
            h = torch.cat([torch.sin(z), torch.cos(z)], dim=1)
        for layer in self.layers[:-1]:
            h = self.activation(layer(h))
        return self.layers[-1](h)
