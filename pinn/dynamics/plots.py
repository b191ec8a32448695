"""Figures of a dynamics run: each validation case's trajectories (learned, true, data) against time, and its
phase portrait in the first two states."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pinn.dynamics.reference import Case
from pinn.dynamics.trajectories import Trajectory
from pinn.plots.style import figure, save


MOST_DATA_DRAWN = 8  # trajectories of observations drawn beside a case; more would hide the curves


def plot_case(path: Path, name: str, case: Case, predicted: np.ndarray, states: tuple[str, ...],
              data: tuple[Trajectory, ...]) -> list[Path]:
    """``<name>_trajectories.png`` (each state against time) and, with two or more states,
    ``<name>_phase.png`` (the first two states against each other); the observations too, where there are
    few trajectories of them."""
    data = data if len(data) <= MOST_DATA_DRAWN else ()
    colours = [f"C{k % 10}" for k in range(len(case.initial))]
    written = []
    fig = figure(7.0, 2.2 * len(states))
    axes = fig.subplots(len(states), 1, sharex=True, squeeze=False)[:, 0]
    for k, (ax, state) in enumerate(zip(axes, states)):
        for j, colour in enumerate(colours):
            ax.plot(case.times, case.true[j, :, k], color=colour, lw=2.5, alpha=0.35,
                    label="true (solve_ivp)" if j == 0 else None)
            ax.plot(case.times, predicted[j, :, k], color=colour, lw=1.0, ls="--", label="learned" if j == 0 else None)
        for j, trajectory in enumerate(data):
            ax.plot(trajectory.times, trajectory.values[:, k], "k.", ms=3, label="data" if j == 0 else None)
        ax.set_ylabel(state)
    axes[0].set_title(f"{name}: learned (dashed) against the true system (solid)")
    axes[0].legend(loc="best", fontsize=8)
    axes[-1].set_xlabel("t")
    written.append(save(fig, path / f"{name}_trajectories.png"))
    if len(states) >= 2:
        fig = figure(5.0, 5.0)
        ax = fig.subplots()
        for j, colour in enumerate(colours):
            ax.plot(case.true[j, :, 0], case.true[j, :, 1], color=colour, lw=2.5, alpha=0.35,
                    label="true" if j == 0 else None)
            ax.plot(predicted[j, :, 0], predicted[j, :, 1], color=colour, lw=1.0, ls="--",
                    label="learned" if j == 0 else None)
        for j, trajectory in enumerate(data):
            ax.plot(trajectory.values[:, 0], trajectory.values[:, 1], "k.", ms=3, label="data" if j == 0 else None)
        ax.set_xlabel(states[0])
        ax.set_ylabel(states[1])
        ax.set_title(f"{name}: phase portrait")
        ax.legend(loc="best", fontsize=8)
        written.append(save(fig, path / f"{name}_phase.png"))
    return written
