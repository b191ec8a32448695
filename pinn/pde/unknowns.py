"""Unknown parameters of an inverse problem: coefficients learnt with the solution from observations.

Declare them in the problem, ``Problem(unknowns=[pinn.Unknown("kappa", initial=0.05, positive=True)])``,
and read them in residuals as ``f.kappa`` (or ``f.unknown("kappa")``): a 0-d tensor that broadcasts
against the fields. They are trained jointly with the network (same optimisers, same checkpoint,
every derivative engine, compiled or not), logged in ``history.csv`` (a ``param_<name>`` column),
written to ``metrics.json`` (``parameters``) and plotted against the steps (``plots/parameters.png``).

The optimiser sees a raw number of order one, never the value itself, so that a coefficient of
1e-3 and one of 1e3 train alike:

- ``positive=True``: value = initial * exp(raw) (steps are relative changes; never <= 0);
- ``bounds=(lo, hi)``: value = lo + (hi - lo) * sigmoid(raw) (never leaves the bounds);
- otherwise: value = initial + scale * raw, with scale = |initial| (1 if the initial guess is 0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class Unknown:
    """A scalar coefficient to recover.

    Args:
        name: how residuals read it (``f.<name>``); a simple identifier, not an input or output name.
        initial: the initial guess.
        positive: keep it > 0 (a log parametrisation).
        bounds: ``(lo, hi)`` it must stay within (strictly containing ``initial``).
        true_value: the value the observations were made with, when known (synthetic data): then
            ``metrics.json`` reports the relative error, and ``Problem(tolerance={name: ...})`` can
            require one.
    """

    name: str
    initial: float
    positive: bool = False
    bounds: tuple[float, float] | None = None
    true_value: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier() or self.name.startswith("_"):
            raise ValueError(f"Unknown name must be a simple identifier, got {self.name!r}")
        label = f"Unknown {self.name!r}"
        if not _finite(self.initial):
            raise ValueError(f"{label}: initial must be a finite number, got {self.initial!r}")
        if not isinstance(self.positive, bool):
            raise ValueError(f"{label}: positive must be True or False, got {self.positive!r}")
        if self.true_value is not None and not _finite(self.true_value):
            raise ValueError(f"{label}: true_value must be a finite number or None, got {self.true_value!r}")
        if self.positive and not self.initial > 0:
            raise ValueError(f"{label}: positive=True needs an initial guess > 0, got {self.initial!r}")
        if self.bounds is not None:
            if (not isinstance(self.bounds, (tuple, list)) or len(self.bounds) != 2
                    or not all(_finite(b) for b in self.bounds) or not self.bounds[0] < self.bounds[1]):
                raise ValueError(f"{label}: bounds must be two finite numbers (lo, hi) with lo < hi, "
                                 f"got {self.bounds!r}")
            lo, hi = self.bounds
            if not lo < self.initial < hi:
                raise ValueError(f"{label}: the bounds ({lo:g}, {hi:g}) exclude the initial guess {self.initial:g}; "
                                 "choose an initial guess strictly inside them, or widen them")
            if self.positive and lo < 0:
                raise ValueError(f"{label}: positive=True with bounds ({lo:g}, {hi:g}) that allow negative values; "
                                 "give bounds with lo >= 0 (they then keep it positive)")
            object.__setattr__(self, "bounds", (float(lo), float(hi)))

    def raw_initial(self) -> float:
        """The raw number the optimiser starts from."""
        if self.bounds is not None:
            lo, hi = self.bounds
            share = (self.initial - lo) / (hi - lo)
            return math.log(share / (1 - share))
        return 0.0

    def value(self, raw: Tensor) -> Tensor:
        """The coefficient from the raw number (differentiable)."""
        if self.bounds is not None:
            lo, hi = self.bounds
            return lo + (hi - lo) * torch.sigmoid(raw)
        if self.positive:
            return self.initial * torch.exp(raw)
        return self.initial + (abs(self.initial) or 1.0) * raw

    def report(self, value: float) -> dict[str, float | None]:
        """The ``metrics.json`` entry: value, initial guess, true value and relative error (if known)."""
        error = None
        if self.true_value is not None:
            error = abs(value - self.true_value) / (abs(self.true_value) or 1.0)
        return {"value": value, "initial": float(self.initial), "true_value": self.true_value, "rel_error": error}


class UnknownValues(nn.Module):
    """The raw parameters of a problem's unknowns (part of the model: optimisers and checkpoints see them)."""

    def __init__(self, unknowns: tuple[Unknown, ...]) -> None:
        super().__init__()
        self.unknowns = tuple(unknowns)
        self.raw = nn.ParameterDict({u.name: nn.Parameter(torch.tensor(u.raw_initial(), dtype=torch.float64))
                                     for u in self.unknowns})

    def forward(self) -> dict[str, Tensor]:
        """Each unknown's current value, a 0-d tensor that carries the gradient to its raw parameter."""
        return {u.name: u.value(self.raw[u.name]) for u in self.unknowns}

    def as_floats(self) -> dict[str, float]:
        with torch.no_grad():
            return {name: float(value) for name, value in self().items()}


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
