"""What training a dynamics problem minimises: the misfit of integrated trajectories to the observations.

Each term's squared differences are divided by the variance of each state over all observations, so that
states of different sizes count alike and the loss reads as a fraction of the data's own spread.

Across processes (:mod:`pinn.train.distributed`) every process draws the same windows and integrates
its share of them (contiguous, in process order), and fits its share of the estimated rates; each
term is its share's sum over the whole batch's count times the number of processes, so the processes'
mean is the whole batch's term. A batch of fewer windows (or rates) than processes is evaluated whole
by each. With ``rk4`` on windows of one length of a regular series (one local clock for all), a
window's integration does not depend on the others in its batch, and the averaged gradient is the
one-process gradient to rounding. Otherwise the steps depend on the batch integrated together
(``dopri5`` chooses its adaptive steps for all of it; ``rk4`` cuts its steps at every window's
observation times), so a share's steps differ from the whole batch's and the loss agrees with the
one-process loss to the solver's accuracy, not to rounding. The batch state is the whole run's: a
checkpoint resumes with any number of processes.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from pinn.dynamics.integrate import Integration, integrate, integrate_windows
from pinn.dynamics.model import VectorField
from pinn.dynamics.rates import Rates, estimate
from pinn.dynamics.trajectories import Trajectory
from pinn.dynamics.windows import Windows
from pinn.train import distributed
from pinn.train.generator import generator_state, restore_generator
from pinn.train.objective import Objective

Piece = tuple[int, int, int]  # (trajectory, first observation, one past the last)


class TrajectoryObjective(Objective):
    """The misfit of ``field`` to the observations: ``data``, the trajectories integrated over windows of the
    observations; or ``rates``, the field against the rates estimated from them (a warm start, chosen by a
    phase's ``terms=("rates",)``)."""

    selectable_terms = ("data", "rates")

    def __init__(self, field: VectorField, trajectories: tuple[Trajectory, ...], windows: Windows,
                 integration: Integration, rates: Rates, dtype: torch.dtype, device: torch.device,
                 seed: int) -> None:
        self.module = field
        self.processes = distributed.world_size()
        self.windows = windows
        self.integration = integration
        self.selected = ("data",)
        self.rates = _estimated(rates, trajectories, dtype, device) if rates is not None else None
        self.resample_every = windows.resample_every if (windows.length, windows.batch) != (None, None) else 0
        self.times = [torch.tensor(t.times, dtype=dtype, device=device) for t in trajectories]
        self.values = [torch.tensor(t.values, dtype=dtype, device=device) for t in trajectories]
        self.all_times, self.all_values = torch.cat(self.times), torch.cat(self.values)
        self.offsets = np.concatenate([[0], np.cumsum([len(t) for t in trajectories])[:-1]]).tolist()
        self._index_of: list[Piece] | None = None  # the pieces _index was made for
        spread = np.concatenate([t.values for t in trajectories]).std(axis=0)
        self.inverse_variance = torch.as_tensor(1.0 / np.where(spread > 0, spread, 1.0) ** 2, dtype=dtype,
                                                device=device)
        self.rng = np.random.default_rng(seed)
        self.draws = 0  # batches drawn: the windows' growth follows it
        self._windows: dict[tuple[int | None, int], tuple[Piece, ...]] = {}
        self.pieces = self._draw()

    # ------------------------------------------------------------------ batches
    def _every(self, length: int | None, stride: int = 1) -> tuple[Piece, ...]:
        """Every window of ``length`` observations (whole trajectories: None) starting each ``stride``, of at
        least two observations; kept, as a draw only picks among them."""
        if (length, stride) in self._windows:
            return self._windows[length, stride]
        pieces = []
        for i, t in enumerate(self.times):
            if length is None or len(t) <= length:
                pieces.append((i, 0, len(t)))
            else:
                pieces.extend((i, a, a + length) for a in range(0, len(t) - length + 1, stride))
        self._windows[length, stride] = tuple(p for p in pieces if p[2] - p[1] >= 2)
        return self._windows[length, stride]

    def _draw(self) -> list[Piece]:
        every = self._every(self.windows.length_at(self.draws * max(self.resample_every, 1)))
        if self.windows.batch is None or self.windows.batch >= len(every):
            return list(every)
        chosen = self.rng.choice(len(every), size=self.windows.batch, replace=False)
        return [every[k] for k in np.sort(chosen)]

    def resample(self) -> None:
        self.draws += 1
        self.pieces = self._draw()

    def fix_batch(self) -> bool:
        pieces = list(self._every(self.windows.final, self.windows.stride))
        changed = pieces != self.pieces
        self.pieces = pieces
        return changed

    def _gather_index(self, pieces: list[Piece], length: int) -> Tensor:
        """(windows, length): where each window's observations lie in the concatenated trajectories."""
        if self._index_of != pieces:
            first = torch.tensor([self.offsets[i] + a for i, a, _ in pieces], device=self.all_times.device)
            self._index = first[:, None] + torch.arange(length, device=first.device)
            self._index_of = list(pieces)
        return self._index

    # ------------------------------------------------------------------ loss
    def select(self, terms: tuple[str, ...] | None) -> bool:
        chosen = ("data",) if terms is None else tuple(terms)
        if "rates" in chosen and self.rates is None:
            raise ValueError("a phase minimises the rates, but no rates were estimated from the data")
        changed, self.selected = chosen != self.selected, chosen
        return changed

    def terms(self) -> dict[str, Tensor]:
        terms = {}
        if "rates" in self.selected:
            times, states, rates, inverse_variance = self.rates
            share = distributed.share_of(times.shape[0])
            if share is None:
                terms["rates"] = ((self.module(times, states) - rates) ** 2 * inverse_variance).mean()
            else:
                squared = ((self.module(times[share], states[share]) - rates[share]) ** 2 * inverse_variance).sum()
                terms["rates"] = squared * (self.processes / rates.numel())
        if "data" in self.selected:
            terms["data"] = self._data()
        return terms

    def _data(self) -> Tensor:
        share = distributed.share_of(len(self.pieces))
        if share is None:
            return self._misfit(self.pieces, None)
        count = sum(b - a - 1 for _, a, b in self.pieces) * len(self.inverse_variance)
        return self._misfit(self.pieces[share], count) * self.processes

    def _misfit(self, pieces: list[Piece], count: int | None) -> Tensor:
        """The squared misfit of the windows ``pieces`` over ``count`` values (None: their mean)."""
        lengths = {b - a for _, a, b in pieces}
        if len(lengths) == 1:  # windows of one length: gathered and integrated as whole-batch tensors
            index = self._gather_index(pieces, lengths.pop())
            times, values = self.all_times[index], self.all_values[index]
            predicted = integrate_windows(self.module, values[:, 0], times, self.integration)
            squared = (predicted[:, 1:] - values[:, 1:]) ** 2 * self.inverse_variance
            return squared.mean() if count is None else squared.sum() / count
        initial = torch.stack([self.values[i][a] for i, a, _ in pieces])
        times = [self.times[i][a:b] for i, a, b in pieces]
        predicted = integrate(self.module, initial, times, self.integration)
        squared = sum(((p[1:] - self.values[i][a + 1:b]) ** 2 * self.inverse_variance).sum()
                      for p, (i, a, b) in zip(predicted, pieces))
        if count is None:
            count = sum(b - a - 1 for _, a, b in pieces) * len(self.inverse_variance)
        return squared / count

    def reported(self) -> dict[str, float]:
        return self.module.unknowns.as_floats()

    def summary(self) -> dict[str, Any]:
        return {"integration": {"method": self.integration.method, "adjoint": self.integration.adjoint}}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": generator_state(self.rng), "draws": self.draws,
                "pieces": torch.tensor(self.pieces, dtype=torch.int64), "selected": ",".join(self.selected)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        restore_generator(self.rng, state["rng"])
        self.draws = int(state["draws"])
        self.pieces = [tuple(int(v) for v in row) for row in state["pieces"].tolist()]
        self.selected = tuple(state["selected"].split(","))


def _estimated(rates: Rates, trajectories: tuple[Trajectory, ...], dtype: torch.dtype,
               device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor] | None:
    """The rates estimated from every trajectory, as tensors (times (n, 1), states, rates), and the inverse
    variance of the rates of each state (so that each counts alike); None where no trajectory gives any."""
    pieces = [estimate(rates, trajectory) for trajectory in trajectories]
    times = np.concatenate([p[0] for p in pieces])
    if times.size == 0:
        return None
    states, values = np.concatenate([p[1] for p in pieces]), np.concatenate([p[2] for p in pieces])
    spread = values.std(axis=0)
    inverse = 1.0 / np.where(spread > 0, spread, 1.0) ** 2

    def tensor(a: np.ndarray) -> Tensor:
        return torch.tensor(a, dtype=dtype, device=device)

    return tensor(times[:, None]), tensor(states), tensor(values), tensor(inverse)
