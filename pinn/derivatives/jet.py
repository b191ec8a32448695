"""Second-order jets: a value with its first and second derivatives along chosen input directions.

A :class:`Jet` carries, at every point, a tensor's value and its derivatives with respect to a
few inputs, and propagates them forward through the operations a network is made of (Taylor
mode). Only the directions a residual asks for are carried:

- ``first``: one row per input index in ``Directions.first``;
- ``second``: one row per pair ``(a, b)`` in ``Directions.pairs`` (indices into ``first``), then,
  if ``Directions.laplacian`` names positions in ``first``, one row for the sum of their second
  derivatives (a Laplacian). That row transforms like any second-derivative row: through a linear
  map as a first-derivative row does, through ``s(z)`` as ``s''(z) sum_a (z_a')^2 + s'(z) lap(z)``,
  so a residual that reads only the sum carries one row instead of one per coordinate.

A row of zeros is stored as ``None`` so constant parts cost nothing, and first-derivative rows may
have a leading point dimension of 1 (the same for every point, as after the input layer).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Directions:
    """Which derivatives a jet carries: first derivatives along ``first`` (input columns), second
    derivatives for each pair in ``pairs`` (positions in ``first``, ``a <= b``) and the sum of the
    second derivatives along ``laplacian`` (increasing positions in ``first``; empty: no such row)."""

    first: tuple[int, ...] = ()
    pairs: tuple[tuple[int, int], ...] = ()
    laplacian: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if any(not 0 <= a <= b < len(self.first) for a, b in self.pairs):
            raise ValueError(f"pairs {self.pairs} must index first={self.first} with a <= b")
        if list(self.laplacian) != sorted(set(self.laplacian)) or any(
                not 0 <= a < len(self.first) for a in self.laplacian):
            raise ValueError(f"laplacian {self.laplacian} must be increasing positions in first={self.first}")

    @property
    def n_second(self) -> int:
        """The number of second-derivative rows: one per pair, and the Laplacian's."""
        return len(self.pairs) + (1 if self.laplacian else 0)


class Jet:
    """Value (N, W), first derivatives (n1, N or 1, W) or None, second (n2, N or 1, W) or None, where
    n2 is ``directions.n_second``."""

    def __init__(self, value: Tensor, first: Tensor | None, second: Tensor | None, directions: Directions) -> None:
        self.value = value
        self.first = first
        self.second = second
        self.directions = directions

    @classmethod
    def of_inputs(cls, points: Tensor, directions: Directions) -> "Jet":
        """The jet of the input coordinates themselves: unit first derivatives, no second ones."""
        if not directions.first:
            return cls(points, None, None, directions)
        first = torch.zeros(len(directions.first), 1, points.shape[1], dtype=points.dtype, device=points.device)
        for row, column in enumerate(directions.first):
            first[row, 0, column] = 1.0
        return cls(points, first, None, directions)

    def split(self, sizes: Sequence[int]) -> list["Jet"]:
        """The jets of consecutive blocks of points, ``sizes`` points each."""
        if len(sizes) == 1:
            return [self]
        values = self.value.split(list(sizes))
        firsts, seconds = _split_points(self.first, sizes), _split_points(self.second, sizes)
        return [self._like(v, d1, d2) for v, d1, d2 in zip(values, firsts, seconds)]

    def _like(self, value: Tensor, first: Tensor | None, second: Tensor | None) -> "Jet":
        return Jet(value, first, second, self.directions)

    # ----------------------------------------------------------- linear maps
    def affine(self, shift: Tensor, scale: Tensor) -> "Jet":
        """(value - shift) / scale, column-wise."""
        return self._like((self.value - shift) / scale, _map(self.first, lambda d: d / scale),
                          _map(self.second, lambda d: d / scale))

    def linear(self, weight: Tensor, bias: Tensor | None = None) -> "Jet":
        """value @ weight.T + bias; derivatives go through the weight only."""
        value = torch.nn.functional.linear(self.value, weight, bias)
        return self._like(value, _map(self.first, lambda d: d @ weight.T), _map(self.second, lambda d: d @ weight.T))

    def cat(self, other: "Jet") -> "Jet":
        """Concatenate along the feature dimension."""
        return self._like(torch.cat([self.value, other.value], dim=-1), _cat(self.first, other.first),
                          _cat(self.second, other.second))

    # -------------------------------------------------------- elementwise
    def apply(self, derivatives: Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]) -> "Jet":
        """An elementwise function, given as ``z -> (f(z), f'(z), f''(z))`` (chain rule to second order)."""
        f0, f1, f2 = derivatives(self.value)
        first = None if self.first is None else f1 * self.first
        second = None
        if self.directions.n_second and self.first is not None:
            second = f2 * self._pair_products(self.first, self.first)
        second = _add(second, _times(self.second, f1))
        return self._like(f0, first, second)

    def __mul__(self, other: "Jet") -> "Jet":
        """Product rule, to second order."""
        value = self.value * other.value
        first = _add(_times(self.first, other.value), _times(other.first, self.value))
        second = _add(_times(self.second, other.value), _times(other.second, self.value))
        if self.directions.n_second and self.first is not None and other.first is not None:
            second = _add(second, self._pair_products(self.first, other.first)
                          + self._pair_products(other.first, self.first))
        return self._like(value, first, second)

    def __add__(self, other: "Jet") -> "Jet":
        return self._like(self.value + other.value, _add(self.first, other.first), _add(self.second, other.second))

    def __sub__(self, other: "Jet") -> "Jet":
        return self + other.scaled(-1.0)

    def scaled(self, factor: float) -> "Jet":
        return self._like(self.value * factor, _map(self.first, lambda d: d * factor),
                          _map(self.second, lambda d: d * factor))

    def _pair_products(self, x: Tensor, y: Tensor) -> Tensor:
        """Rows ``x[a] * y[b]`` for every pair ``(a, b)``, then ``sum_a x[a] * y[a]`` over the Laplacian's
        positions.

        Built from slices, never an index tensor: the backward of a gather is a scatter-add, which
        the compiler turns into a slow serial loop (it cost half of a compiled Navier-Stokes step).
        """
        products = [x[a:a + n] * y[b:b + n] for a, b, n in _runs(self.directions.pairs)]
        if self.directions.laplacian:
            spans = _runs([(a, a) for a in self.directions.laplacian])
            sums = [(x[a:a + n] * y[a:a + n]).sum(dim=0, keepdim=True) for a, _, n in spans]
            products.append(sums[0] if len(sums) == 1 else torch.cat(sums).sum(dim=0, keepdim=True))
        return products[0] if len(products) == 1 else torch.cat(products)


def _runs(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Split pairs into runs ``(a, b), (a+1, b+1), ...`` given as ``(a, b, length)``."""
    runs: list[tuple[int, int, int]] = []
    for a, b in pairs:
        if runs and (runs[-1][0] + runs[-1][2], runs[-1][1] + runs[-1][2]) == (a, b):
            runs[-1] = (runs[-1][0], runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((a, b, 1))
    return runs


def _map(rows: Tensor | None, fn: Callable[[Tensor], Tensor]) -> Tensor | None:
    return None if rows is None else fn(rows)


def _times(rows: Tensor | None, factor: Tensor) -> Tensor | None:
    return None if rows is None else rows * factor


def _add(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    if a is None:
        return b
    return a if b is None else a + b


def _split_points(rows: Tensor | None, sizes: Sequence[int]) -> list[Tensor | None]:
    if rows is None or rows.shape[1] == 1:  # absent, or the same at every point
        return [rows] * len(sizes)
    return list(rows.split(list(sizes), dim=1))


def _cat(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    if a is None and b is None:
        return None
    if a is None or b is None:  # the nets here always join halves of one jet
        raise ValueError("cannot concatenate a jet that has derivatives with one that has none")
    n = max(a.shape[1], b.shape[1])
    return torch.cat([a.expand(-1, n, -1), b.expand(-1, n, -1)], dim=-1)


def _tanh(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    t = torch.tanh(z)
    d1 = 1 - t * t
    return t, d1, -2 * t * d1


def _sin(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sin(z)
    return s, torch.cos(z), -s


def _cos(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    c = torch.cos(z)
    return c, -torch.sin(z), -c


def _silu(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sigmoid(z)
    ds = s * (1 - s)
    return z * s, s + z * ds, ds * (2 + z * (1 - 2 * s))


def _softplus(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sigmoid(z)
    return torch.nn.functional.softplus(z), s, s * (1 - s)


def _gelu(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    density = torch.exp(-0.5 * z * z) / (2 * torch.pi) ** 0.5
    cumulative = 0.5 * (1 + torch.erf(z / 2 ** 0.5))
    return z * cumulative, cumulative + z * density, density * (2 - z * z)


ELEMENTWISE: dict[str, Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]] = {
    "tanh": _tanh, "sin": _sin, "cos": _cos, "silu": _silu, "softplus": _softplus, "gelu": _gelu,
}


def directions_for(keys: Sequence[tuple[int, ...]], laplacian: Sequence[int] = ()) -> Directions:
    """The directions that give every derivative in ``keys`` (sorted tuples of input columns, order <= 2)
    and, if ``laplacian`` names input columns, the sum of their second derivatives: as its own row
    unless every one of them is among the pairs anyway."""
    first = sorted({i for key in keys for i in key} | set(laplacian))
    position = {column: k for k, column in enumerate(first)}
    pairs = sorted({(position[key[0]], position[key[1]]) for key in keys if len(key) == 2})
    diagonal = {(position[c], position[c]) for c in laplacian}
    row = () if diagonal <= set(pairs) else tuple(sorted(position[c] for c in laplacian))
    return Directions(tuple(first), tuple(pairs), row)
