"""Neural networks that map input coordinates to output fields.

Every network here also propagates second-order jets (a ``jet`` method), so the Taylor-mode derivative
engine can run through it; a custom ``torch.nn.Module`` without ``jet`` still works, with autograd.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from pinn.derivatives.jet import ELEMENTWISE, Directions, Jet


class _Sin(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return torch.sin(x)


ACTIVATIONS = {"tanh": nn.Tanh, "sin": _Sin, "gelu": nn.GELU, "silu": nn.SiLU, "softplus": nn.Softplus}
_DIRECT = {nn.Tanh: torch.tanh, _Sin: torch.sin}  # the functions these modules' forward calls, called directly


@dataclass(frozen=True)
class Net:
    """What every network shares.

    Args:
        width: neurons per hidden layer.
        depth: number of hidden layers.
        hidden: the width of each hidden layer, e.g. ``(64, 32, 32)``; overrides width and depth.
        activation: one of ``tanh``, ``sin``, ``gelu``, ``silu``, ``softplus``.
        normalize_inputs: map the domain's bounding box to [-1, 1] before the first layer.
        fourier_features: if > 0, embed the (normalised) inputs as ``[sin(2π B x), cos(2π B x)]``
            with this many random frequencies drawn once from N(0, fourier_scale²).
        fourier_scale: standard deviation of those frequencies.
        output_scale: one factor per output multiplying the network's last layer (None: 1), so that a
            field of size 300 or 1e-3 is an output of order one for the layers and the optimiser's
            steps; the automatic network takes it from the conditions' and data's values.
        periodic: positions (in the problem's inputs) of inputs in which the network is exactly
            periodic over the domain's extent: each is embedded as ``cos(pi h), sin(pi h)`` of its
            normalised value ``h`` in [-1, 1], so values and every derivative match on opposite
            sides (needs ``normalize_inputs``; not combined with ``fourier_features``).
        harmonics: ``(position, cycles)`` pairs: the input at ``position`` is also embedded as
            ``cos(pi c h), sin(pi c h)`` with ``c = cycles``, a wave of that many cycles over the domain's
            extent, so that a field oscillating that fast along it (an initial value ``sin(20 pi x)`` on
            [0, 1]: 10 cycles) is one feature away rather than many layers; the automatic network
            chooses them from the conditions' values (:mod:`pinn.pde.automatic`). On a periodic input
            the cycles must be whole numbers (the net stays periodic). Needs ``normalize_inputs``; not
            combined with ``fourier_features``.
    """

    width: int = 32
    depth: int = 3
    hidden: tuple[int, ...] | None = None
    activation: str = "tanh"
    normalize_inputs: bool = True
    fourier_features: int = 0
    fourier_scale: float = 1.0
    periodic: tuple[int, ...] = ()
    output_scale: tuple[float, ...] | None = None
    harmonics: tuple[tuple[int, float], ...] = ()

    def __post_init__(self) -> None:
        name = type(self).__name__
        scale = self.output_scale
        if scale is not None and (not isinstance(scale, (tuple, list)) or not scale or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < float("inf") for v in scale)):
            raise ValueError(f"{name} output_scale must list one positive number per output, got {scale!r}")
        if self.width < 1 or self.depth < 1:
            raise ValueError(f"{name} width and depth must be >= 1, got width={self.width}, depth={self.depth}")
        if self.hidden is not None and (len(self.hidden) == 0 or any(int(w) < 1 for w in self.hidden)):
            raise ValueError(f"{name} hidden must list at least one layer width, each >= 1, got {self.hidden!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"{name} activation {self.activation!r} is not one of {', '.join(ACTIVATIONS)}")
        if self.fourier_features < 0 or not self.fourier_scale > 0:
            raise ValueError(f"{name} fourier_features must be >= 0 and fourier_scale > 0")
        periodic = self.periodic
        if (not isinstance(periodic, (tuple, list)) or len(set(periodic)) != len(periodic)
                or any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in periodic)):
            raise ValueError(f"{name} periodic must list distinct input positions (whole numbers >= 0), got {periodic!r}")
        if periodic and (self.fourier_features or not self.normalize_inputs):
            raise ValueError(f"{name} periodic needs normalize_inputs=True and fourier_features=0")
        harmonics = self.harmonics
        if not isinstance(harmonics, (tuple, list)) or not all(
                isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[0], int)
                and not isinstance(pair[0], bool) and pair[0] >= 0 and not isinstance(pair[1], bool)
                and isinstance(pair[1], (int, float)) and 0 < pair[1] < float("inf") for pair in harmonics):
            raise ValueError(f"{name} harmonics must list (input position, cycles > 0) pairs, got {harmonics!r}")
        if harmonics and (self.fourier_features or not self.normalize_inputs):
            raise ValueError(f"{name} harmonics needs normalize_inputs=True and fourier_features=0")
        aperiodic = [c for i, c in harmonics if i in periodic and c != int(c)]
        if aperiodic:
            raise ValueError(f"{name} harmonics on a periodic input must be whole numbers of cycles, got {aperiodic}")
        object.__setattr__(self, "harmonics", tuple((int(i), float(c)) for i, c in harmonics))

    def waves(self) -> list[tuple[int, float]]:
        """The embedding's waves ``cos, sin(pi c h)`` as (input position, cycles c): one cycle along each
        periodic input (which then has no plain ``h``), then each of the harmonics."""
        return [(i, 1.0) for i in self.periodic] + [(i, c) for i, c in self.harmonics
                                                    if not (i in self.periodic and c == 1.0)]

    def embedded_width(self, n_inputs: int) -> int:
        """How many numbers the embedding hands the first layer for ``n_inputs`` inputs."""
        if self.fourier_features:
            return 2 * self.fourier_features
        return 2 * len(self.waves()) + n_inputs - len(self.periodic)

    @property
    def layer_widths(self) -> tuple[int, ...]:
        """The width of every hidden layer."""
        return tuple(int(w) for w in self.hidden) if self.hidden is not None else (self.width,) * self.depth

    def build(self, n_in: int, n_out: int, lower: Tensor, upper: Tensor, generator: torch.Generator) -> nn.Module:
        """The network, initialised from ``generator`` (Glorot-normal weights, zero biases)."""
        raise NotImplementedError


@dataclass(frozen=True)
class MLP(Net):
    """A fully connected network: embedding, then ``depth`` hidden layers of ``width`` neurons."""

    def build(self, n_in, n_out, lower, upper, generator):
        return _MLPModule(self, n_in, n_out, lower, upper, generator)


@dataclass(frozen=True)
class ModifiedMLP(Net):
    """The modified MLP of Wang, Teng & Perdikaris (2021): two encoders U and V of the embedded input
    gate every hidden layer, ``H ← (1 - Z) ⊙ U + Z ⊙ V`` with ``Z = σ(H W + b)``. It eases training on
    problems with sharp or multiscale solutions (flows) at about twice the cost per layer of an MLP.
    All hidden layers must have the same width."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(set(self.layer_widths)) != 1:
            raise ValueError(f"ModifiedMLP needs equal hidden widths (the gates mix them), got {self.layer_widths}")

    def build(self, n_in, n_out, lower, upper, generator):
        return _ModifiedMLPModule(self, n_in, n_out, lower, upper, generator)


class _Embedding(nn.Module):
    """Input normalisation to [-1, 1] and the optional random Fourier features."""

    def __init__(self, spec: Net, n_in: int, lower: Tensor, upper: Tensor, generator: torch.Generator) -> None:
        super().__init__()
        if spec.normalize_inputs:
            centre, half = (upper + lower) / 2, (upper - lower) / 2
        else:
            centre, half = torch.zeros(n_in, dtype=lower.dtype), torch.ones(n_in, dtype=lower.dtype)
        self.register_buffer("centre", centre)
        self.register_buffer("half_width", half)
        self.width = n_in
        # Waves: cos and sin of pi c h along an input, c = 1 for a periodic input (which then has no plain
        # h), c = each of its harmonics' cycles. Plain: the other inputs' h as they are.
        waves = spec.waves()
        if waves:
            far = max(i for i, _ in waves)
            if far >= n_in:
                raise ValueError(f"periodic or harmonics input position {far} is not one of the {n_in} inputs")
            plain = [i for i in range(n_in) if i not in spec.periodic]
            eye = torch.eye(n_in, dtype=lower.dtype)
            rows = torch.stack([math.pi * c * eye[i] for i, c in waves])
            self.register_buffer("periodic_map", rows)  # h -> pi c h of each wave (the name older runs saved)
            self.register_buffer("plain_map", eye[plain])
            self.width = spec.embedded_width(n_in)
        else:
            self.periodic_map = self.plain_map = None
        if spec.fourier_features:
            freqs = torch.randn(n_in, spec.fourier_features, generator=generator, dtype=lower.dtype) * spec.fourier_scale
            self.register_buffer("frequencies", freqs)
            self.width = 2 * spec.fourier_features
        else:
            self.frequencies = None
        # Nothing to do (x - 0) / 1 for: the same numbers, without two operations per call.
        self.identity = not spec.normalize_inputs and self.periodic_map is None and self.frequencies is None

    def forward(self, x: Tensor) -> Tensor:
        if self.identity:
            return x
        h = (x - self.centre) / self.half_width
        if self.periodic_map is not None:
            z = h @ self.periodic_map.T
            return torch.cat([torch.cos(z), torch.sin(z), h @ self.plain_map.T], dim=1)
        if self.frequencies is None:
            return h
        z = 2 * math.pi * h @ self.frequencies
        return torch.cat([torch.sin(z), torch.cos(z)], dim=1)

    def jet(self, x: Jet) -> Jet:
        h = x.affine(self.centre, self.half_width)
        if self.periodic_map is not None:
            z = h.linear(self.periodic_map)
            # the plain inputs through the identity, so that their jet carries (zero) second derivatives too
            plain = h.linear(self.plain_map).apply(lambda v: (v, torch.ones_like(v), torch.zeros_like(v)))
            return z.apply(ELEMENTWISE["cos"]).cat(z.apply(ELEMENTWISE["sin"])).cat(plain)
        if self.frequencies is None:
            return h
        z = h.linear(2 * math.pi * self.frequencies.T)
        return z.apply(ELEMENTWISE["sin"]).cat(z.apply(ELEMENTWISE["cos"]))


def _linear(n_in: int, n_out: int, dtype: torch.dtype, generator: torch.Generator) -> nn.Linear:
    layer = nn.Linear(n_in, n_out, dtype=dtype)
    std = math.sqrt(2.0 / (n_in + n_out))
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator, dtype=dtype) * std)
        layer.bias.zero_()
    return layer


def _output_scale(spec: Net, n_out: int, dtype: torch.dtype) -> Tensor | None:
    if spec.output_scale is None:
        return None
    if len(spec.output_scale) != n_out:
        raise ValueError(f"output_scale lists {len(spec.output_scale)} factors for {n_out} outputs")
    return torch.tensor([float(v) for v in spec.output_scale], dtype=dtype)


def _last_layer(layer: nn.Linear, scale: Tensor | None) -> tuple[Tensor, Tensor]:
    """The last layer's weight and bias with the output scale folded in."""
    if scale is None:
        return layer.weight, layer.bias
    scale = scale.to(layer.weight.device)
    return layer.weight * scale[:, None], layer.bias * scale


def _scaled_linear(layer: nn.Linear, scale: Tensor | None, h: Tensor) -> Tensor:
    return layer(h) if scale is None else torch.nn.functional.linear(h, *_last_layer(layer, scale))


class _MLPModule(nn.Module):
    def __init__(self, spec: Net, n_in: int, n_out: int, lower: Tensor, upper: Tensor, generator: torch.Generator):
        super().__init__()
        self.embedding = _Embedding(spec, n_in, lower, upper, generator)
        sizes = [self.embedding.width, *spec.layer_widths, n_out]
        self.layers = nn.ModuleList(_linear(a, b, lower.dtype, generator) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = ACTIVATIONS[spec.activation]()
        self.activation_jet = ELEMENTWISE[spec.activation]
        self.output_scale = _output_scale(spec, n_out, lower.dtype)

    def forward(self, x: Tensor) -> Tensor:
        # Plain calls where they compute the same numbers as the modules: a small network integrated by an ODE
        # solver is called thousands of times a step, and each module call costs microseconds.
        h = x if self.embedding.identity else self.embedding(x)
        activate = _DIRECT.get(type(self.activation), self.activation)
        *hidden, last = self.layers  # not self.layers[:-1]: slicing builds a new ModuleList at every call
        for layer in hidden:
            h = activate(layer(h))
        return _scaled_linear(last, self.output_scale, h)

    def jet(self, x: Tensor, directions: Directions) -> Jet:
        """Outputs with their derivatives along ``directions`` (see :mod:`pinn.derivatives.jet`)."""
        h = self.embedding.jet(Jet.of_inputs(x, directions))
        for layer in self.layers[:-1]:
            h = h.linear(layer.weight, layer.bias).apply(self.activation_jet)
        return h.linear(*_last_layer(self.layers[-1], self.output_scale))


class _ModifiedMLPModule(nn.Module):
    def __init__(self, spec: Net, n_in: int, n_out: int, lower: Tensor, upper: Tensor, generator: torch.Generator):
        super().__init__()
        self.embedding = _Embedding(spec, n_in, lower, upper, generator)
        widths = spec.layer_widths
        dtype = lower.dtype
        self.encoder_u = _linear(self.embedding.width, widths[0], dtype, generator)
        self.encoder_v = _linear(self.embedding.width, widths[0], dtype, generator)
        sizes = [self.embedding.width, *widths]
        self.layers = nn.ModuleList(_linear(a, b, dtype, generator) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = _linear(widths[-1], n_out, dtype, generator)
        self.activation = ACTIVATIONS[spec.activation]()
        self.activation_jet = ELEMENTWISE[spec.activation]
        self.output_scale = _output_scale(spec, n_out, dtype)

    def forward(self, x: Tensor) -> Tensor:
        h = self.embedding(x)
        u, v = self.activation(self.encoder_u(h)), self.activation(self.encoder_v(h))
        for layer in self.layers:
            z = self.activation(layer(h))
            h = u + z * (v - u)
        return _scaled_linear(self.output, self.output_scale, h)

    def jet(self, x: Tensor, directions: Directions) -> Jet:
        h = self.embedding.jet(Jet.of_inputs(x, directions))
        u = h.linear(self.encoder_u.weight, self.encoder_u.bias).apply(self.activation_jet)
        v = h.linear(self.encoder_v.weight, self.encoder_v.bias).apply(self.activation_jet)
        gap = v - u
        for layer in self.layers:
            z = h.linear(layer.weight, layer.bias).apply(self.activation_jet)
            h = u + z * gap
        return h.linear(*_last_layer(self.output, self.output_scale))
