"""The Fourier neural operator (Li et al. 2021): a map between functions sampled on grids.

An input function with ``c`` channels on an ``n_1 x ... x n_d`` grid (``d`` = 1, 2 or 3: the last for
2-D + time), with the grid coordinates appended as ``d`` more channels, is lifted pointwise to
``width`` channels, passed through ``layers`` Fourier layers ``h <- act(K h + W h)`` (``K`` multiplies
the lowest ``modes`` Fourier modes per axis by learned complex weights, ``W`` is pointwise) and
projected pointwise to the output channels. The learned weights act on Fourier modes, not grid
points, so one trained operator takes inputs at any resolution that holds its modes (zero-shot
super-resolution). For non-periodic problems every axis is extended by ``padding`` times the domain's
extent (zeros appended before the Fourier layers, removed after), so the FFT's implied periodicity does
not tie the opposite walls together. The extension is a fraction of the domain, not a number of points,
so the Fourier modes mean the same physical frequencies at every resolution: on grids with both walls
(``n`` points, ``n - 1`` intervals) ``round(padding * (n - 1)) - 1`` zeros make the period
``round(padding * (n - 1)) + n - 1`` intervals, the same length for ``n - 1 = 31, 62, 124`` whenever
``padding * 31`` rounds to what ``padding * 62`` halves to (``padding = 0.16`` does: 4, 9 and 19 zeros).
``padding_mode`` chooses what the extension holds: zeros (``"zeros"``, Li et al.), the lifted values
mirrored at the far wall (``"reflect"``) or its values repeated (``"replicate"``); the lifting is pointwise,
so the last two are the same as extending the input channels that way. ``"odd"`` mirrors them through the
far wall's value (``2 h(wall) - h(mirror)``, numpy's odd reflection): for a function that is a constant on
the walls (zero walls, shifted by the inputs' normalisation and the lifting's bias) that is the odd
extension about the constant, with no jump. With ``padding = 1`` the padded period is twice the domain
(``n - 2`` points appended to ``n``) and holds the whole odd extension, whose Fourier modes are the walls'
sine modes ``sin(k pi x)``: a map that acts on each sine mode alone (the heat equation's, with zero walls)
is then one learned multiplier per kept mode, the same at every resolution.

``"blend"`` fills the extension with a half cosine from the far wall's lifted values to the near wall's (see
:func:`blend_extension`), so the padded period has no jump. A jump's discrete Fourier coefficients depend on
where it falls between two grid points, which moves with the resolution (zeros put one just past the far wall,
at ``1 + h / 2`` for spacing ``h``, and one at the wrap), and the kept modes carry that difference into every
layer: a Darcy FNO trained at 32 points with zeros (1500 steps) gave outputs at 63 points 2.9e-2 away
(relative L2, common nodes) from its own outputs at 32, 3.8e-2 on a constant coefficient; with ``"blend"``
6.9e-3, at the same error at 32 points (README, Fourier neural operators). Use it for zero-shot
super-resolution on grids with walls. The default, ``"auto"``, is ``"blend"`` on grids with walls and zeros
on periodic grids (which need no padding).

``activation="identity"`` makes the whole network linear (affine) in its input, for linear operators, where a
nonlinearity only has to be learned away.

Example, Darcy flow at any resolution::

    net = FNO(modes=(12, 12), width=32, layers=4, padding=0.25).build(in_channels=1, out_channels=1,
                                                                  generator=torch.Generator().manual_seed(0))
    u = net(a)          # a: (batch, 1, 32, 32) or (batch, 1, 64, 64), u of the same grid

This is not a :class:`pinn.nets.Net` (which maps coordinates to values for physics-informed
problems): it maps whole sampled functions, so it has its own settings object.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional

from pinn.train.validate import whole

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "tanh": nn.Tanh, "silu": nn.SiLU, "identity": nn.Identity}
# -> torch's pad modes; "odd" is the project's own (torch has no antisymmetric padding)
PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "odd": None, "blend": None,
                 "auto": None}


@dataclass(frozen=True)
class FNO:
    """The settings of a Fourier neural operator.

    Args:
        modes: Fourier modes kept per spatial axis; its length is the number of axes (1, 2 or 3).
            Along every axis but the last, the lowest ``modes`` positive and negative frequencies are
            kept, so a grid needs at least ``2 * modes`` points there (after padding); along the last
            axis (a real FFT) at least ``2 * (modes - 1)``.
        width: channels of the Fourier layers.
        layers: number of Fourier layers.
        padding: the fraction of the domain's extent added along every axis before the Fourier layers
            (0 for periodic problems), see above.
        projection: hidden channels of the two-layer pointwise projection.
        activation: ``gelu``, ``relu``, ``tanh``, ``silu`` or ``identity`` (a linear network).
        coordinates: append the grid coordinates (in [0, 1] along each axis) as input channels.
        padding_mode: ``zeros``, ``reflect``, ``replicate``, ``odd``, ``blend`` or ``auto`` (the default:
            ``blend`` on grids with walls, ``zeros`` on periodic ones): what the extension holds (see above).
    """

    modes: tuple[int, ...] = (12, 12)
    width: int = 32
    layers: int = 4
    padding: float = 0.0
    projection: int = 128
    activation: str = "gelu"
    coordinates: bool = True
    padding_mode: str = "auto"

    def __post_init__(self) -> None:
        modes = self.modes
        if isinstance(modes, int) and not isinstance(modes, bool):
            modes = (modes,)
        if not isinstance(modes, (tuple, list)) or not 1 <= len(modes) <= 3:
            raise ValueError(f"FNO modes must list 1 to 3 mode counts (one per axis), got {self.modes!r}")
        for m in modes:
            whole("FNO", "modes", m, 1)
        object.__setattr__(self, "modes", tuple(int(m) for m in modes))
        whole("FNO", "width", self.width, 1)
        whole("FNO", "layers", self.layers, 1)
        if isinstance(self.padding, bool) or not isinstance(self.padding, (int, float)) or not 0 <= self.padding <= 4:
            raise ValueError(f"FNO padding must be a fraction of the domain from 0 to 4, got {self.padding!r}")
        whole("FNO", "projection", self.projection, 1)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"FNO activation {self.activation!r} is not one of {', '.join(ACTIVATIONS)}")
        if self.padding_mode not in PADDING_MODES:
            raise ValueError(f"FNO padding_mode {self.padding_mode!r} is not one of {', '.join(PADDING_MODES)}")
        if self.padding_mode == "reflect" and self.padding >= 1:
            raise ValueError(f"FNO padding_mode 'reflect' mirrors less than the whole domain: padding must be below 1, "
                             f"got {self.padding!r}")
        if self.padding_mode == "odd" and not 0 < self.padding <= 1:
            raise ValueError(f"FNO padding_mode 'odd' mirrors at most the whole domain: padding must be above 0 and at "
                             f"most 1 (1: the whole odd extension), got {self.padding!r}")
        if not isinstance(self.coordinates, bool):
            raise ValueError(f"FNO coordinates must be True or False, got {self.coordinates!r}")

    @property
    def dim(self) -> int:
        """The number of spatial axes."""
        return len(self.modes)

    def build(self, in_channels: int, out_channels: int, generator: torch.Generator,
              dtype: torch.dtype = torch.float32) -> "FNOModule":
        """The network, initialised from ``generator``."""
        whole("FNO", "in_channels", in_channels, 1)
        whole("FNO", "out_channels", out_channels, 1)
        return FNOModule(self, in_channels, out_channels, generator, dtype)

    def padding_points(self, n: int, closed: bool = True) -> int:
        """The zeros appended to an axis of ``n`` points: ``round(padding * (n - 1)) - 1`` on a grid with both
        walls (``closed``), ``round(padding * n)`` on one without its right end (periodic)."""
        if not self.padding:
            return 0
        return max(round(self.padding * (n - 1)) - 1, 0) if closed else round(self.padding * n)

    def check_grid(self, shape: tuple[int, ...], closed: bool = True) -> None:
        """A ValueError unless a grid of ``shape`` points (before padding) holds the modes."""
        if len(shape) != self.dim:
            raise ValueError(f"FNO with modes {self.modes} takes {self.dim}-D grids, got a grid of shape {tuple(shape)}")
        for axis, (n, m) in enumerate(zip(shape, self.modes)):
            padded = n + self.padding_points(n, closed)
            least = 2 * (m - 1) if axis == self.dim - 1 else 2 * m
            if padded < least:
                raise ValueError(f"FNO keeps {m} Fourier modes along axis {axis}, more than a grid of {n} points"
                                 f" (+{self.padding_points(n, closed)} padding) holds: it needs at least {least} points; "
                                 "lower modes or raise the resolution")


def _uniform(shape: tuple[int, ...], bound: float, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
    return (torch.rand(shape, generator=generator, dtype=dtype) * 2 - 1) * bound


class SpectralConv(nn.Module):
    """``K h``: the Fourier transform of ``h`` over its last ``d`` axes, learned complex weights on the
    lowest modes (both signs of frequency along every axis but the last, a real FFT's half spectrum
    along the last), zero elsewhere, and the inverse transform.

    Only the kept modes are transformed: a real FFT along the last axis, cut to its kept modes, then a
    complex FFT along each other axis of what is left (and the reverse on the way back), which costs
    less than the full ``rfftn`` and ``irfftn`` of every channel.
    """

    def __init__(self, channels: int, modes: tuple[int, ...], generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        self.modes = modes
        self.dim = len(modes)
        scale = 1.0 / (channels * channels)
        self.kept = (*(2 * m for m in modes[:-1]), modes[-1])  # the kept modes' block along every axis
        # real and imaginary parts as one real tensor, the modes leading: one batched real matrix product
        # over the modes is several times faster on a CPU than torch's complex einsum
        self.weight = nn.Parameter(torch.rand((2, math.prod(self.kept), channels, channels), generator=generator,
                                              dtype=dtype) * scale)

    def forward(self, h: Tensor) -> Tensor:
        grid = h.shape[2:]
        spectrum = torch.fft.rfft(h, dim=-1)[..., :self.modes[-1]]
        for axis, m in zip(range(2, 2 + self.dim - 1), self.modes[:-1]):
            full = _fft_along(spectrum, axis, inverse=False)
            spectrum = torch.cat([full.narrow(axis, 0, m), full.narrow(axis, grid[axis - 2] - m, m)], dim=axis)
        spectrum = self._multiply(spectrum)
        for axis, m in zip(range(2, 2 + self.dim - 1), self.modes[:-1]):
            gap = list(spectrum.shape)
            gap[axis] = grid[axis - 2] - 2 * m
            zeros = spectrum.new_zeros(gap)
            spectrum = _fft_along(torch.cat([spectrum.narrow(axis, 0, m), zeros, spectrum.narrow(axis, m, m)],
                                            dim=axis), axis, inverse=True)
        return torch.fft.irfft(spectrum, n=grid[-1], dim=-1)

    def _multiply(self, spectrum: Tensor) -> Tensor:
        """``sum_i spectrum[b, i, k] * weight[k, i, o]`` in complex numbers, as one real batched product
        over the modes ``k``: ``[re, im] @ [[W_re, W_im], [-W_im, W_re]]``."""
        batch, channels = spectrum.shape[:2]
        w_re, w_im = self.weight[0], self.weight[1]
        stacked = torch.cat([torch.cat([w_re, w_im], dim=2), torch.cat([-w_im, w_re], dim=2)], dim=1)
        flat = torch.cat([spectrum.real, spectrum.imag], dim=1).reshape(batch, 2 * channels, -1)
        both = torch.bmm(flat.permute(2, 0, 1).contiguous(), stacked).permute(1, 2, 0)
        real, imag = both.chunk(2, dim=1)
        return torch.complex(real, imag).reshape(batch, -1, *self.kept)


def _fft_along(spectrum: Tensor, axis: int, inverse: bool) -> Tensor:
    """The complex FFT (or its inverse) along ``axis``, moved last for the transform: on a CPU a strided
    axis costs several times a contiguous one."""
    last = spectrum.transpose(axis, -1).contiguous()
    return (torch.fft.ifft if inverse else torch.fft.fft)(last, dim=-1).transpose(axis, -1)


class FNOModule(nn.Module):
    """The network of :class:`FNO`: ``(batch, in_channels, *grid) -> (batch, out_channels, *grid)``."""

    def __init__(self, spec: FNO, in_channels: int, out_channels: int, generator: torch.Generator,
                 dtype: torch.dtype) -> None:
        super().__init__()
        self.spec = spec
        self.in_channels = in_channels
        lifted = in_channels + (spec.dim if spec.coordinates else 0)
        self.lift = Pointwise(lifted, spec.width, generator, dtype)
        self.spectral = nn.ModuleList(SpectralConv(spec.width, spec.modes, generator, dtype)
                                      for _ in range(spec.layers))
        self.pointwise = nn.ModuleList(Pointwise(spec.width, spec.width, generator, dtype)
                                       for _ in range(spec.layers))
        self.project = nn.Sequential(Pointwise(spec.width, spec.projection, generator, dtype),
                                     ACTIVATIONS[spec.activation](),
                                     Pointwise(spec.projection, out_channels, generator, dtype))
        self.activation = ACTIVATIONS[spec.activation]()

    def forward(self, a: Tensor, coordinates: Tensor | None = None, closed: bool = True) -> Tensor:
        """The output on ``a``'s grid; ``coordinates`` (``(d, *grid)``, the points' coordinates) default to
        :func:`grid_coordinates` (both ends of [0, 1] on every axis); a periodic grid, which omits its
        right end, passes its own so that a point has the same coordinates at every resolution, and
        ``closed=False`` (for the padding)."""
        spec = self.spec
        if a.ndim != spec.dim + 2 or a.shape[1] != self.in_channels:
            raise ValueError(f"FNO expects inputs of shape (batch, {self.in_channels}, "
                             f"{', '.join('n' + str(i + 1) for i in range(spec.dim))}), got {tuple(a.shape)}")
        grid = tuple(a.shape[2:])
        spec.check_grid(grid, closed)
        if spec.coordinates:
            if coordinates is None:
                coordinates = grid_coordinates(grid, a.dtype, a.device)
            elif tuple(coordinates.shape) != (spec.dim, *grid):
                raise ValueError(f"FNO coordinates must have shape {(spec.dim, *grid)}, got {tuple(coordinates.shape)}")
            a = torch.cat([a, coordinates.to(a).unsqueeze(0).expand(a.shape[0], *coordinates.shape)], dim=1)
        h = self.lift(a)
        pads = [spec.padding_points(n, closed) for n in grid]
        mode = spec.padding_mode
        if mode == "auto":  # a jump at the walls makes the output depend on the resolution: blend where walls are
            mode = "blend" if closed else "zeros"
        if mode == "odd":
            if not closed:
                raise ValueError("FNO padding_mode 'odd' extends grids with both walls (zero walls); a periodic grid "
                                 "needs no padding: set padding=0")
            h = odd_extension(h, pads)
        elif mode == "blend":
            if not closed:
                raise ValueError("FNO padding_mode 'blend' extends grids with both walls; a periodic grid needs no "
                                 "padding: set padding=0")
            h = blend_extension(h, pads)
        elif any(pads):
            h = functional.pad(h, [value for pad in reversed(pads) for value in (0, pad)],  # last axis first
                               mode=PADDING_MODES[mode])
        for i, (spectral, pointwise) in enumerate(zip(self.spectral, self.pointwise)):
            h = spectral(h) + pointwise(h)
            if i < spec.layers - 1:
                h = self.activation(h)
        if any(pads):
            h = h[(slice(None), slice(None), *(slice(0, n) for n in grid))]
        return self.project(h)


def odd_extension(h: Tensor, pads: list[int]) -> Tensor:
    """``h`` (``(batch, channels, *grid)``) extended along each grid axis by ``pads[axis]`` points: its values
    mirrored at the far wall (the wall itself not repeated) through the wall's value, ``2 h(wall) - h(mirror)``.
    A constant stays that constant; a function zero on the walls gets its odd extension. Axis by axis, so a
    corner holds the values mirrored twice, sign restored, as the odd extension of a product of sines does."""
    for axis, pad in enumerate(pads):
        if pad:
            dim = 2 + axis
            n = h.shape[dim]
            h = torch.cat([h, 2 * h.narrow(dim, n - 1, 1) - h.narrow(dim, n - 1 - pad, pad).flip(dim)], dim=dim)
    return h


def blend_extension(h: Tensor, pads: list[int]) -> Tensor:
    """``h`` (``(batch, channels, *grid)``) extended along each grid axis by ``pads[axis]`` points that pass from
    the far wall's values to the near wall's (where the FFT's period wraps round) along a half cosine,
    ``(1 - w) h(far) + w h(near)`` with ``w = (1 - cos(pi t)) / 2`` and ``t`` the fraction of the gap crossed:
    the periodic extension is continuous, so its Fourier coefficients decay as ``k^-2``, not the ``k^-1`` of a
    jump, and the gap's values are the same function of position at every resolution (a jump's FFT depends
    on where it falls between the grid points, which differs with the resolution). Axis by axis, so the
    corners blend the blended edges."""
    for axis, pad in enumerate(pads):
        if pad:
            dim = 2 + axis
            n = h.shape[dim]
            t = torch.arange(1, pad + 1, dtype=h.dtype, device=h.device) / (pad + 1)
            shape = [1] * h.ndim
            shape[dim] = pad
            w = ((1 - torch.cos(math.pi * t)) / 2).reshape(shape)
            far, near = h.narrow(dim, n - 1, 1), h.narrow(dim, 0, 1)
            h = torch.cat([h, (1 - w) * far + w * near], dim=dim)
    return h


def grid_coordinates(grid: tuple[int, ...], dtype: torch.dtype = torch.float32,
                     device: torch.device | str = "cpu") -> Tensor:
    """The coordinates of a uniform grid with both ends in [0, 1], shape ``(len(grid), *grid)``."""
    axes = [torch.linspace(0, 1, n, dtype=dtype, device=device) for n in grid]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"))


class Pointwise(nn.Module):
    """A pointwise linear map of channels, ``(batch, n_in, *grid) -> (batch, n_out, *grid)`` (a 1x1
    convolution, as one matrix product: faster on a CPU than the convolution), initialised as torch's
    default linear layer, from ``generator``."""

    def __init__(self, n_in: int, n_out: int, generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)
        self.weight = nn.Parameter(_uniform((n_out, n_in), bound, generator, dtype))
        self.bias = nn.Parameter(_uniform((n_out, 1), bound, generator, dtype))

    def forward(self, h: Tensor) -> Tensor:
        flat = torch.matmul(self.weight, h.reshape(h.shape[0], h.shape[1], -1)) + self.bias
        return flat.reshape(h.shape[0], -1, *h.shape[2:])
