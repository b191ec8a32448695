"""The Fourier neural operator: shapes in 1-D, 2-D and 2-D + time, the partial transforms against the full
FFT, resolution invariance, padding, and its settings' checks."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from pinn.nets.fno import FNO, SpectralConv, blend_extension, grid_coordinates, odd_extension


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("modes, grid", [((6,), (32,)), ((5, 4), (16, 12)), ((3, 3, 2), (8, 8, 6))])
def test_shapes_at_any_resolution(modes, grid):
    net = FNO(modes=modes, width=8, layers=2, padding=0.25, projection=16).build(2, 3, generator())
    for scale in (1, 2):
        a = torch.randn(4, 2, *(scale * n for n in grid))
        out = net(a)
        assert out.shape == (4, 3, *(scale * n for n in grid))
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("modes, grid", [((5,), (16,)), ((4, 3), (12, 10)), ((3, 4, 2), (8, 10, 6))])
def test_spectral_convolution_equals_the_full_transform(modes, grid):
    """The partial transforms and the real batched mode product give what a plain rfftn, a complex
    multiplication of the kept corner blocks and irfftn give."""
    conv = SpectralConv(3, modes, generator(), torch.float64)
    h = torch.randn(2, 3, *grid, dtype=torch.float64, generator=generator(1))
    dim = len(modes)
    weight = torch.complex(conv.weight[0], conv.weight[1]).permute(1, 2, 0).reshape(3, 3, *conv.kept)
    spectrum = torch.fft.rfftn(h, dim=tuple(range(-dim, 0)))
    out = torch.zeros(2, 3, *spectrum.shape[2:], dtype=spectrum.dtype)
    letters = "xyz"[:dim]
    for corner in itertools.product((False, True), repeat=dim - 1):
        where, block = [slice(None)] * 2, [slice(None)] * 2
        for negative, m in zip(corner, modes[:-1]):
            where.append(slice(-m, None) if negative else slice(0, m))
            block.append(slice(m, 2 * m) if negative else slice(0, m))
        where.append(slice(0, modes[-1]))
        block.append(slice(None))
        out[tuple(where)] = torch.einsum(f"bi{letters},io{letters}->bo{letters}", spectrum[tuple(where)],
                                         weight[tuple(block)])
    expected = torch.fft.irfftn(out, s=grid, dim=tuple(range(-dim, 0)))
    assert torch.allclose(conv(h), expected, atol=1e-13)


def band_limited(n: int, batch: int = 3) -> torch.Tensor:
    """A periodic function with modes up to 3 along each of two axes, sampled on an n x n grid of [0, 1)."""
    x = torch.arange(n, dtype=torch.float64) / n
    X, Y = torch.meshgrid(x, x, indexing="ij")
    waves = [torch.sin(2 * math.pi * (k * X + l * Y) + 0.3 * k) for k in range(1, 4) for l in range(0, 3)]
    weights = torch.randn(batch, len(waves), dtype=torch.float64, generator=generator(2))
    return torch.einsum("bw,wxy->bxy", weights, torch.stack(waves)).unsqueeze(1)


def test_spectral_convolution_is_resolution_invariant():
    """On a band-limited periodic input, the layer's output at 2x and 4x the points, sampled at the coarse
    points, is its output at the coarse resolution (to round-off)."""
    conv = SpectralConv(1, (6, 6), generator(), torch.float64)
    coarse = conv(band_limited(16))
    for scale in (2, 4):
        fine = conv(band_limited(16 * scale))
        assert torch.allclose(fine[..., ::scale, ::scale], coarse, atol=1e-12)


def test_network_is_nearly_resolution_invariant():
    """The whole network (pointwise nonlinearities alias a little) on the same function at 32 and 64
    points: the outputs at the common points agree to 1e-4 of their size (measured 6e-6), with periodic
    coordinates."""
    net = FNO(modes=(6, 6), width=16, layers=3, padding=0, projection=32).build(1, 1, generator(), torch.float64)

    def coordinates(n):
        x = torch.arange(n, dtype=torch.float64) / n
        return torch.stack(torch.meshgrid(x, x, indexing="ij"))

    coarse = net(band_limited(32), coordinates(32))
    fine = net(band_limited(64), coordinates(64))[..., ::2, ::2]
    assert (fine - coarse).norm() / coarse.norm() < 1e-4


def test_padding_is_a_fraction_of_the_domain():
    """The same physical extension at every resolution: on grids with both walls the period in intervals
    (n - 1 + 1 + zeros) doubles with the intervals; on periodic grids the zeros double with the points."""
    net = FNO(padding=0.16)
    assert [net.padding_points(n) for n in (32, 63, 125)] == [4, 9, 19]
    assert [(n - 1 + 1 + net.padding_points(n)) / (n - 1) for n in (32, 63, 125)] == [36 / 31] * 3
    assert [FNO(padding=0.25).padding_points(n, closed=False) for n in (16, 32)] == [4, 8]
    assert FNO(padding=0).padding_points(100) == 0


def test_padding_is_removed_and_changes_the_output():
    a = torch.randn(2, 1, 16, 16, generator=generator(3))
    plain = FNO(modes=(4, 4), width=8, layers=2, padding=0).build(1, 1, generator())
    padded = FNO(modes=(4, 4), width=8, layers=2, padding=0.4).build(1, 1, generator())
    assert padded(a).shape == plain(a).shape == (2, 1, 16, 16)
    assert not torch.allclose(padded(a), plain(a))


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_padding_modes_extend_with_the_walls_values(mode):
    """The extension holds mirrored or repeated values, not zeros: the output differs from zero padding's,
    and with a pointwise lifting it equals the network on the input padded that way (coordinates included)."""
    a = torch.randn(2, 1, 16, 16, generator=generator(3))
    zeros = FNO(modes=(4, 4), width=8, layers=2, padding=0.4, padding_mode="zeros").build(1, 1, generator())
    other = FNO(modes=(4, 4), width=8, layers=2, padding=0.4, padding_mode=mode).build(1, 1, generator())
    assert other(a).shape == (2, 1, 16, 16)
    assert not torch.allclose(other(a), zeros(a))
    pads = other.spec.padding_points(16)
    plain = FNO(modes=(4, 4), width=8, layers=2, padding=0, coordinates=False).build(3, 1, generator())
    plain.load_state_dict(other.state_dict())
    with_coordinates = torch.cat([a, grid_coordinates((16, 16)).expand(2, 2, 16, 16)], dim=1)
    padded = torch.nn.functional.pad(with_coordinates, (0, pads, 0, pads), mode=mode)
    assert torch.allclose(plain(padded)[..., :16, :16], other(a), atol=1e-6)


def test_blend_extension_joins_the_far_wall_to_the_near_one():
    """The gap holds ``(1 - w) far + w near``, ``w = (1 - cos(pi t)) / 2`` at ``t = j / (pad + 1)``: the periodic
    extension is continuous (no step larger than the half cosine's), axis by axis (the corner too)."""
    h = torch.randn(2, 3, 9, 7, generator=generator(4), dtype=torch.float64)
    extended = blend_extension(h, [3, 0])
    assert extended.shape == (2, 3, 12, 7)
    assert torch.equal(extended[:, :, :9], h)
    w = (1 - torch.cos(math.pi * torch.arange(1, 4, dtype=torch.float64) / 4)) / 2
    expected = (1 - w[:, None]) * h[:, :, -1:] + w[:, None] * h[:, :, :1]
    assert torch.allclose(extended[:, :, 9:], expected, atol=1e-15)
    both = blend_extension(h, [3, 2])
    assert both.shape == (2, 3, 12, 9)
    assert torch.allclose(both[:, :, :12, :7], extended)
    wrapped = torch.cat([both, both[:, :, :1]], dim=2)       # the FFT's period, once round
    steps = (wrapped[:, :, 1:] - wrapped[:, :, :-1]).abs().amax()
    jump = (h[:, :, -1] - h[:, :, 0]).abs().amax()
    assert steps <= max((h[:, :, 1:] - h[:, :, :-1]).abs().amax(), jump * math.sin(math.pi / 8)) + 1e-12


def smooth_on_the_walls(n: int) -> torch.Tensor:
    """A smooth input on the closed grid of ``n`` points per axis, not periodic and not zero on the walls."""
    x = torch.linspace(0, 1, n, dtype=torch.float64)
    X, Y = torch.meshgrid(x, x, indexing="ij")
    return (torch.cos(math.pi * X) * torch.sin(2 * math.pi * Y) + X)[None, None]


def test_blend_padding_makes_the_network_resolution_invariant_on_walled_grids():
    """The same smooth function at 32, 63 and 125 points (spacing halved and quartered, coarse nodes among the
    fine ones): with the gap blended, the outputs at the common nodes agree to 2e-5 of their size (measured
    6e-6 and 7e-6), at least 20 times better than with zeros, whose jumps at the walls fall at positions that
    move with the grid (measured 4.9e-4 and 7.3e-4)."""
    def spread(mode: str) -> list[float]:
        net = FNO(modes=(10, 10), width=16, layers=4, padding=0.16, projection=32,
                  padding_mode=mode).build(1, 1, generator(), torch.float64)
        with torch.no_grad():
            coarse = net(smooth_on_the_walls(32))
            return [float((net(smooth_on_the_walls(31 * s + 1))[..., ::s, ::s] - coarse).norm() / coarse.norm())
                    for s in (2, 4)]

    blend, zeros = spread("blend"), spread("zeros")
    assert max(blend) < 2e-5
    assert all(b * 20 < z for b, z in zip(blend, zeros))


def test_blend_padding_needs_walls():
    net = FNO(modes=(4,), width=4, layers=1, padding=0.2, padding_mode="blend").build(1, 1, generator())
    with pytest.raises(ValueError, match="padding_mode 'blend' extends grids with both walls"):
        net(torch.zeros(1, 1, 16), closed=False)


def sine_product(n: int, k: int, l: int, upper: float = 1.0) -> torch.Tensor:
    """``sin(k pi x) sin(l pi y)`` on the grid of spacing ``1 / (n - 1)`` from 0 to ``upper`` (both ends)."""
    x = torch.linspace(0, upper, round(upper * (n - 1)) + 1, dtype=torch.float64)
    X, Y = torch.meshgrid(x, x, indexing="ij")
    return (torch.sin(k * math.pi * X) * torch.sin(l * math.pi * Y))[None, None]


def test_odd_extension_is_the_sine_series_on_twice_the_domain():
    """With padding 1 the extension of a product of sines (zero walls) plus a constant is that on [0, 2)^2: the
    whole odd extension about the constant, the corners' signs included, one period of the padded FFT."""
    spec = FNO(modes=(4, 4), padding=1, padding_mode="odd")
    pads = [spec.padding_points(16)] * 2
    assert pads == [14, 14]
    extended = odd_extension(sine_product(16, 2, 3) + 0.7, pads)
    assert extended.shape == (1, 1, 30, 30)
    assert torch.allclose(extended, sine_product(16, 2, 3, upper=2)[..., :30, :30] + 0.7, atol=1e-13)


def heat_fno(modes: int, diffusivity: float) -> torch.nn.Module:
    """A linear one-layer FNO with odd padding whose weights are the heat equation's decay over unit time of each
    sine mode, ``exp(-diffusivity pi^2 (k^2 + l^2))``: real, the same for both signs of ``k``, no other path."""
    net = FNO(modes=(modes, modes), width=1, layers=1, padding=1, padding_mode="odd", activation="identity",
              coordinates=False, projection=1).build(1, 1, generator(), torch.float64)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
        for layer in (net.lift, net.project[0], net.project[2]):
            layer.weight.fill_(1.0)
        k = torch.fft.fftfreq(2 * modes, 1 / (2 * modes), dtype=torch.float64)[:, None]  # 0..m-1, -m..-1
        l = torch.arange(modes, dtype=torch.float64)[None, :]
        net.spectral[0].weight[0] = torch.exp(-diffusivity * math.pi**2 * (k**2 + l**2)).reshape(-1, 1, 1)
    return net


@pytest.mark.parametrize("n", [32, 63])
def test_linear_fno_with_odd_padding_is_the_zero_wall_heat_operator(n):
    """The map u(., 0) -> u(., 1) of u_t = D (u_xx + u_yy) with zero walls multiplies each sine mode by its decay:
    a linear FNO with odd padding holds it exactly, at any resolution, for every mode it keeps."""
    net = heat_fno(modes=8, diffusivity=0.01)
    for k, l in [(1, 1), (3, 2), (7, 5)]:
        a = sine_product(n, k, l)
        decay = math.exp(-0.01 * math.pi**2 * (k**2 + l**2))
        assert torch.allclose(net(a), decay * a, atol=1e-13)


def test_odd_padding_needs_walls():
    net = FNO(modes=(4,), width=4, layers=1, padding=1, padding_mode="odd").build(1, 1, generator())
    with pytest.raises(ValueError, match="'odd' extends grids with both walls"):
        net(torch.randn(1, 1, 16), torch.zeros(1, 16), closed=False)


def test_same_seed_same_network():
    a = torch.randn(1, 1, 16, generator=generator(4))
    one = FNO(modes=(4,), width=8, layers=2).build(1, 1, generator(7))
    two = FNO(modes=(4,), width=8, layers=2).build(1, 1, generator(7))
    assert torch.equal(one(a), two(a))


def test_more_modes_than_the_grid_holds():
    net = FNO(modes=(12, 12), width=8, layers=1).build(1, 1, generator())
    with pytest.raises(ValueError, match="more than a grid of 16 points"):
        net(torch.randn(1, 1, 16, 16))
    with pytest.raises(ValueError, match="more than a grid"):
        FNO(modes=(12,)).check_grid((20,))


def test_wrong_input_shapes():
    net = FNO(modes=(4, 4), width=8, layers=1).build(2, 1, generator())
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 2, n1, n2\)"):
        net(torch.randn(1, 1, 16, 16))
    with pytest.raises(ValueError, match="expects inputs"):
        net(torch.randn(1, 2, 16))
    with pytest.raises(ValueError, match="coordinates must have shape"):
        net(torch.randn(1, 2, 16, 16), torch.zeros(2, 8, 8))


@pytest.mark.parametrize("settings, match", [
    (dict(modes=()), "modes must list 1 to 3"),
    (dict(modes=(4, 4, 4, 4)), "modes must list 1 to 3"),
    (dict(modes=(0,)), "modes must be a whole number >= 1"),
    (dict(width=0), "width"),
    (dict(layers=0), "layers"),
    (dict(padding=-1), "padding"),
    (dict(padding=True), "padding"),
    (dict(activation="swish"), "activation"),
    (dict(padding_mode="circular"), "padding_mode 'circular' is not one of zeros, reflect, replicate, odd"),
    (dict(padding=1.5, padding_mode="reflect"), "padding must be below 1"),
    (dict(padding=1.5, padding_mode="odd"), "padding must be above 0 and at most 1"),
    (dict(padding=0, padding_mode="odd"), "padding must be above 0 and at most 1"),
])
def test_bad_settings(settings, match):
    with pytest.raises(ValueError, match=match):
        FNO(**settings)
