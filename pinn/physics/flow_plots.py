"""Figures for 2-D incompressible flows: velocity magnitude with streamlines, pressure, error, and
centreline profiles.

:func:`flow_plots` makes the problem-specific plot function of a flow problem::

    problem = pinn.Problem(..., plots=[pinn.flow_plots(centrelines=True)])

At the end of a run it writes into ``plots/``:

* ``flow.png``: the predicted velocity magnitude with streamlines, the predicted pressure, and
  the absolute error of the velocity magnitude against the reference (with its relative L2 error
  in the title), on the reference grid (at its last time for an unsteady flow);
* ``centrelines.png`` (with ``centrelines=True``, e.g. the lid-driven cavity): ``u`` along the
  vertical centreline and ``v`` along the horizontal one, the network (line) over the reference
  (dots).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pinn.plots.style import figure, save

__all__ = ["flow_plots"]


def flow_plots(velocity: str = "u v", pressure: str = "p", centrelines: bool = False,
               resolution: int = 101) -> Callable[..., list[Path]]:
    """The plot function of a 2-D flow problem, for ``Problem(plots=[...])``.

    Args:
        velocity: the names of the two velocity outputs.
        pressure: the name of the pressure output.
        centrelines: also plot ``u`` on the vertical and ``v`` on the horizontal centreline.
        resolution: points per side when the run has no reference grid (then nothing is drawn).
    """
    names = velocity.split()
    if len(names) != 2:
        raise ValueError(f"flow_plots velocity must name two outputs, got {velocity!r}")
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"flow_plots resolution must be a whole number >= 2, got {resolution!r}")

    def plot(solution: Any, reference: Any, folder: Path) -> list[Path]:
        if reference is None:
            return []
        folder = Path(folder)
        written = [_flow_figure(solution, reference, names, pressure, folder / "flow.png")]
        if centrelines:
            written.append(_centreline_figure(solution, reference, names, folder / "centrelines.png"))
        return written

    plot.__name__ = "flow_plots"
    return plot


def _slice(solution: Any, reference: Any) -> tuple[np.ndarray, np.ndarray, dict, dict, str]:
    """The reference grid's (x, y) plane (its last time if unsteady): axes, predicted, reference."""
    axes = list(reference.axes.values())
    x, y = axes[0], axes[1]
    mesh = np.meshgrid(*axes, indexing="ij")
    points = np.stack([m.ravel() for m in mesh], axis=1)
    predicted = {k: v.reshape(reference.shape) for k, v in solution.predict(points).items()}
    index = (slice(None), slice(None)) + (-1,) * (len(axes) - 2)
    title = "" if len(axes) == 2 else f" at {list(reference.axes)[2]} = {axes[2][-1]:g}"
    return (x, y, {k: v[index] for k, v in predicted.items()},
            {k: np.asarray(v)[index] for k, v in reference.fields.items()}, title)


DPI = 110


def _flow_figure(solution: Any, reference: Any, names: list[str], pressure: str, path: Path) -> Path:
    x, y, pred, ref, when = _slice(solution, reference)
    u, v = pred[names[0]], pred[names[1]]
    speed = np.hypot(u, v)
    fig = figure(15, 4.5)  # on its own Agg canvas: pyplot's backend (a notebook's) is left alone
    axes = fig.subplots(1, 3)
    mesh = axes[0].pcolormesh(x, y, speed.T, shading="auto", cmap="viridis")
    axes[0].streamplot(x, y, u.T, v.T, color="white", density=1.2, linewidth=0.6)
    axes[0].set_title(f"velocity magnitude{when}")
    fig.colorbar(mesh, ax=axes[0])
    if pressure in pred:
        mesh = axes[1].pcolormesh(x, y, pred[pressure].T, shading="auto", cmap="RdBu_r")
        fig.colorbar(mesh, ax=axes[1])
    axes[1].set_title(f"pressure {pressure}{when}")
    if names[0] in ref and names[1] in ref:
        exact = np.hypot(ref[names[0]], ref[names[1]])
        error = np.abs(speed - exact)
        finite = np.isfinite(error)
        rel = np.linalg.norm(error[finite]) / max(np.linalg.norm(exact[finite]), 1e-300)
        mesh = axes[2].pcolormesh(x, y, error.T, shading="auto", cmap="magma")
        fig.colorbar(mesh, ax=axes[2])
        axes[2].set_title(f"|error| of velocity magnitude (rel. L2 {rel:.2e})")
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xlabel(list(reference.axes)[0])
        ax.set_ylabel(list(reference.axes)[1])
    return save(fig, path, DPI)


def _centreline_figure(solution: Any, reference: Any, names: list[str], path: Path) -> Path:
    x, y, _, ref, _ = _slice(solution, reference)
    xc, yc = 0.5 * (x[0] + x[-1]), 0.5 * (y[0] + y[-1])
    fine = np.linspace(0.0, 1.0, 201)
    along_y = np.stack([np.full_like(fine, xc), y[0] + fine * (y[-1] - y[0])], axis=1)
    along_x = np.stack([x[0] + fine * (x[-1] - x[0]), np.full_like(fine, yc)], axis=1)
    fig = figure(11, 4.5)
    axes = fig.subplots(1, 2)
    axes[0].plot(solution.predict(along_y)[names[0]], along_y[:, 1], label="PINN")
    axes[1].plot(along_x[:, 0], solution.predict(along_x)[names[1]], label="PINN")
    i, j = int(np.argmin(np.abs(x - xc))), int(np.argmin(np.abs(y - yc)))
    if names[0] in ref:
        axes[0].plot(ref[names[0]][i, :], y, "k.", markersize=4, label=f"reference (x = {x[i]:g})")
    if names[1] in ref:
        axes[1].plot(x, ref[names[1]][:, j], "k.", markersize=4, label=f"reference (y = {y[j]:g})")
    axes[0].set(xlabel=names[0], ylabel="y", title=f"{names[0]} on the vertical centreline x = {xc:g}")
    axes[1].set(xlabel="x", ylabel=names[1], title=f"{names[1]} on the horizontal centreline y = {yc:g}")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    return save(fig, path, DPI)
