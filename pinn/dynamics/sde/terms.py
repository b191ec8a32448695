"""How a drift or a diffusion is declared: known, parametric with unknown coefficients, or a net.

Each term maps the state ``x`` (shape (N, d)) and the time ``t`` (shape (N, 1)) to a tensor of shape
(N, d) (a scalar or (N, 1) broadcasts): the drift ``f(x, t)`` or the diagonal diffusion ``g(x, t)`` of
``dX = f(X, t) dt + g(X, t) dW``.

- :class:`Known`: a fixed function (or a constant), nothing trained: ``Known(0.5)`` is a known noise level.
- :class:`Parametric`: ``function(x, t, p)`` with coefficients ``p.<name>`` that are
  :class:`pinn.Unknown` (the same raw parametrisation as a PDE's unknowns: ``positive=True`` keeps a
  volatility above zero), e.g. ``Parametric(lambda x, t, p: p.theta * (p.mu - x), [theta, mu])``.
- :class:`Neural`: a network of ``x`` (and ``t`` with ``time=True``) plus an optional known part;
  as a diffusion its output passes through softplus, so it stays positive.

With general noise (``SDEProblem(noise="general")``) the diffusion is a matrix ``S(x, t)`` of shape
(d, d), or (N, d, d) for one per point, and ``dX = f dt + S dW``; :func:`matrix` builds one from
coefficients and numbers, e.g. ``matrix([[p.s11, 0], [p.s21, p.s22]])``. A net diffusion has diagonal
noise only.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Union

import torch
from torch import Tensor, nn

from pinn.nets.mlp import MLP, Net
from pinn.pde.unknowns import Unknown, UnknownValues

TermFunction = Callable[[Tensor, Tensor], Union[Tensor, float]]


@dataclass(frozen=True)
class Known:
    """A term with nothing to learn: ``function(x, t)``, or a constant number."""

    function: TermFunction | float

    def __post_init__(self) -> None:
        value = self.function
        if isinstance(value, bool) or not (callable(value) or isinstance(value, (int, float))):
            raise ValueError(f"Known function must be a callable f(x, t) or a number, got {value!r}")
        if isinstance(value, (int, float)) and not math.isfinite(value):
            raise ValueError(f"Known function: a constant must be finite, got {value!r}")

    @property
    def unknowns(self) -> tuple[Unknown, ...]:
        return ()


@dataclass(frozen=True)
class Parametric:
    """``function(x, t, p)`` with ``p.<name>`` the current value of each unknown (a 0-d tensor)."""

    function: Callable[[Tensor, Tensor, SimpleNamespace], Tensor]
    unknowns: tuple[Unknown, ...]

    def __post_init__(self) -> None:
        if not callable(self.function):
            raise ValueError(f"Parametric function must be a callable f(x, t, p), got {self.function!r}")
        unknowns = tuple(self.unknowns) if isinstance(self.unknowns, Sequence) else ()
        if not unknowns or not all(isinstance(u, Unknown) for u in unknowns):
            raise ValueError(f"Parametric unknowns must list at least one pinn.Unknown, got {self.unknowns!r}")
        object.__setattr__(self, "unknowns", unknowns)


@dataclass(frozen=True)
class Neural:
    """A network of the state (and of time with ``time=True``), plus ``known(x, t)`` if given."""

    net: Net = MLP(width=32, depth=2)
    known: TermFunction | None = None
    time: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.net, Net):
            raise ValueError(f"Neural net must be a pinn network such as pinn.MLP(...), got {self.net!r}")
        if self.known is not None and not callable(self.known):
            raise ValueError(f"Neural known must be a callable f(x, t) or None, got {self.known!r}")

    @property
    def unknowns(self) -> tuple[Unknown, ...]:
        return ()


Term = Union[Known, Parametric, Neural]
NOISES = ("diagonal", "general")


def matrix(rows: Sequence[Sequence[Tensor | float]]) -> Tensor:
    """A (d, d) tensor from rows of 0-d tensors (coefficients ``p.name``) and numbers, keeping the
    gradients: ``matrix([[p.s11, 0], [p.s21, p.s22]])``."""
    entries = [entry for row in rows for entry in row]
    like = next((e for e in entries if isinstance(e, Tensor)), torch.tensor(0.0, dtype=torch.float64))

    def as_tensor(entry: Tensor | float) -> Tensor:
        if isinstance(entry, Tensor):
            return entry.to(like).reshape(())
        return torch.tensor(float(entry), dtype=like.dtype, device=like.device)

    return torch.stack([torch.stack([as_tensor(e) for e in row]) for row in rows])


class TermModule(nn.Module):
    """A declared term made trainable: its unknowns' raw parameters and its network, if any."""

    def __init__(self, term: Term, role: str, dimension: int, lower: Tensor, upper: Tensor,
                 generator: torch.Generator, noise: str = "diagonal") -> None:
        super().__init__()
        if not isinstance(term, (Known, Parametric, Neural)):
            raise ValueError(f"the {role} must be pinn.dynamics.sde.Known, Parametric or Neural, got {term!r}")
        if noise not in NOISES:
            raise ValueError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")
        self.term, self.role, self.dimension = term, role, dimension
        self.general = role == "diffusion" and noise == "general"  # S(x, t), (N, d, d)
        if self.general and isinstance(term, Neural):
            raise ValueError("a Neural diffusion has diagonal noise only; general noise takes a Known or "
                             "Parametric matrix S(x, t)")
        self.unknowns = UnknownValues(term.unknowns)
        self.net: nn.Module | None = None
        if isinstance(term, Neural):
            inputs = dimension + (1 if term.time else 0)
            self.net = term.net.build(inputs, dimension, lower[:inputs], upper[:inputs], generator)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        """The term at states ``x`` (N, d) and times ``t`` (N, 1), shape (N, d); a general-noise
        diffusion (N, d, d)."""
        term = self.term
        if isinstance(term, Known):
            value = term.function(x, t) if callable(term.function) else term.function
        elif isinstance(term, Parametric):
            coefficients = {k: v.to(x.dtype) for k, v in self.unknowns().items()}
            value = term.function(x, t, SimpleNamespace(**coefficients))
        else:
            value = self.net(torch.cat([x, t], dim=1) if term.time else x)
            if self.role == "diffusion":
                value = nn.functional.softplus(value)
            if term.known is not None:
                value = value + term.known(x, t)
        value = torch.as_tensor(value, dtype=x.dtype, device=x.device)
        if not self.general:
            return value.expand_as(x)
        n, d = x.shape
        if value.shape not in ((d, d), (n, d, d)):
            raise ValueError(f"the diffusion of general noise must give the {d} x {d} matrix S (shape ({d}, {d}) "
                             f"or (points, {d}, {d})), got shape {tuple(value.shape)}")
        return value.expand(n, d, d)

    def with_slopes(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        """For one state: the term at ``x`` (N, 1), ``t`` (N, 1), and its first and second derivatives in
        ``x`` (each (N, 1); the second None where the term is linear in ``x``), all differentiable in the
        weights (by autograd, each point's value depending on its own ``x`` only)."""
        x = x.detach().requires_grad_(True)
        value = self(x, t)
        slope = torch.autograd.grad(value.sum(), x, create_graph=True)[0]
        curvature = (torch.autograd.grad(slope.sum(), x, create_graph=True, allow_unused=True)[0]
                     if slope.requires_grad else None)  # None: linear in x
        return value, slope, curvature
