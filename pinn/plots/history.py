"""Training curves: :func:`plot_history` (losses, relative L2 errors, learning rate against the step)
and :func:`plot_parameters` (each unknown parameter against the step, with its true value).

Both take the logged history rows (dicts), write one PNG (150 dpi, atomically, in the style of
:mod:`pinn.plots.style`) and return ``[path written]``. A dotted vertical line marks each change of
optimiser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes

from pinn.plots.style import figure, save

__all__ = ["plot_history", "plot_parameters"]


def plot_history(
    out_path: Path,
    history: Sequence[Mapping[str, object]],
    *,
    tolerances: Mapping[str, float] | None = None,
) -> list[Path]:
    """Plot training curves: losses, relative L2 errors and learning rate against step.

    Parameters
    ----------
    out_path:
        A ``.png`` file to write, or a folder in which ``history.png`` is written.
    history:
        One dict per logged step. Recognised keys: ``step`` (if no row has one, the
        row index is used; rows lacking it while others have it are skipped),
        ``loss_<term>`` (e.g. ``loss_total``, ``loss_pde``), ``lr``, ``rel_l2`` and
        ``rel_l2_<field>`` (usually only on some rows; missing, None or NaN entries are
        skipped), and ``optimizer`` (e.g. ``"adam"``/``"lbfgs"``).
    tolerances:
        Target relative L2 errors drawn as dashed horizontal lines, keyed by field name
        (``"u"``), by column name (``"rel_l2_u"``), or ``"rel_l2"`` for the overall error.

    Panels (sharing the step axis, all log-scaled in y): losses, with ``loss_total`` in
    thick black; relative L2 errors, only if any such column or tolerance exists; learning
    rate, if logged. A dotted vertical line marks each change of optimiser.

    Returns ``[path written]``.
    """
    out_path = Path(out_path)
    path = out_path if out_path.suffix.lower() == ".png" else out_path / "history.png"
    tolerances = dict(tolerances or {})

    keys: list[str] = []  # every column, in first-seen order
    for row in history:
        keys.extend(k for k in row if k not in keys)
    if "step" in keys:  # rows without a step are left out rather than guessed
        steps = np.array([_number(row.get("step")) for row in history])
    else:
        steps = np.arange(len(history), dtype=float)

    def column(key: str) -> np.ndarray:
        return np.array([_number(row.get(key)) for row in history])

    losses = sorted((k for k in keys if k.startswith("loss_")), key=lambda k: k != "loss_total")
    errors = [k for k in keys if k == "rel_l2" or k.startswith("rel_l2_")]
    has_lr = "lr" in keys and bool(np.any(column("lr") > 0))

    panels = ["loss"] * bool(losses) + ["error"] * bool(errors or tolerances) + ["lr"] * has_lr
    fig = figure(8.0, 0.6 + 2.6 * max(1, len(panels)))
    axs = fig.subplots(max(1, len(panels)), 1, sharex=True, squeeze=False)[:, 0]
    rows = f"{len(history)} logged row{'' if len(history) == 1 else 's'}"
    fig.suptitle(f"Training history ({rows})")
    if not panels:
        axs[0].text(0.5, 0.5, "nothing to plot: no loss, error or lr columns",
                    transform=axs[0].transAxes, ha="center", va="center")
        axs[0].set_xlabel("step")
        return [save(fig, path)]

    for ax, kind in zip(axs, panels):
        if kind == "loss":
            for k in losses:
                total = k == "loss_total"
                _log_line(ax, steps, column(k), label=k.removeprefix("loss_"),
                          color="k" if total else None, lw=2.0 if total else 1.1)
            ax.set_title("loss terms", fontsize=10)
            ax.set_ylabel("loss")
        elif kind == "error":
            colors = {}
            for k in errors:
                label = "all fields" if k == "rel_l2" else k.removeprefix("rel_l2_")
                colors[k] = _log_line(ax, steps, column(k), label=label, marker="o", ms=3)
            for name, tol in tolerances.items():
                key = next((k for k in (name, f"rel_l2_{name}") if k in colors), None)
                ax.axhline(tol, ls="--", lw=1.0, color=colors.get(key, "0.4"),
                           label=f"tolerance {name}")
            if any(t > 0 for t in tolerances.values()):
                ax.set_yscale("log")
            if not any(np.isfinite(column(k)).any() for k in errors):
                ax.text(0.5, 0.85, "no relative L2 evaluations recorded",
                        transform=ax.transAxes, ha="center", va="top", color="0.4")
            ax.set_title("relative L2 error vs reference", fontsize=10)
            ax.set_ylabel("relative L2")
        else:
            # Schedules change lr at discrete steps: draw it as a staircase.
            _log_line(ax, steps, column("lr"), color="C2", lw=1.3, drawstyle="steps-post")
            ax.set_title("learning rate", fontsize=10)
            ax.set_ylabel("lr")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, ncol=2 if len(ax.get_legend_handles_labels()[0]) > 4 else 1)
    axs[-1].set_xlabel("step")
    _mark_optimizer_changes(axs, history, steps)
    return [save(fig, path)]


def plot_parameters(out_path: Path, history: Sequence[Mapping[str, object]], unknowns: Sequence[object]) -> list[Path]:
    """Each unknown parameter (the ``param_<name>`` columns of the history) against the step, one
    panel each, with its true value (dashed) when known. ``unknowns``: :class:`pinn.Unknown` objects."""
    steps = np.array([_number(row.get("step")) for row in history])
    fig = figure(8.0, 0.6 + 2.4 * max(1, len(unknowns)))
    axs = fig.subplots(max(1, len(unknowns)), 1, sharex=True, squeeze=False)[:, 0]
    fig.suptitle("Unknown parameters")
    for ax, unknown in zip(axs, unknowns):
        values = np.array([_number(row.get(f"param_{unknown.name}")) for row in history])
        keep = np.isfinite(steps) & np.isfinite(values)
        ax.plot(steps[keep], values[keep], color="C0", lw=1.4, label="recovered")
        if unknown.true_value is not None:
            ax.axhline(unknown.true_value, ls="--", color="k", lw=1.0, label=f"true {unknown.true_value:.6g}")
        if keep.any():
            ax.set_title(f"{unknown.name}: {values[keep][-1]:.6g} (initial {unknown.initial:.6g})", fontsize=10)
        ax.set_ylabel(unknown.name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axs[-1].set_xlabel("step")
    _mark_optimizer_changes(axs, history, steps)
    return [save(fig, Path(out_path))]


def _number(value: object) -> float:
    """A float for plotting; NaN for anything missing or non-numeric."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _log_line(ax: Axes, x: np.ndarray, y: np.ndarray, label: str | None = None, **style):
    """Plot the finite, positive points of ``y`` on a log axis; return the line colour.

    Markers are added when there are few points, so that a single logged row or a
    handful of error evaluations remain visible.
    """
    keep = np.isfinite(x) & np.isfinite(y) & (y > 0)
    if keep.sum() <= 40:
        style.setdefault("marker", "o")
        style.setdefault("ms", 3)
    # An all-missing column keeps its colour (for tolerance lines) but no legend entry.
    (line,) = ax.plot(x[keep], y[keep], label=label if keep.any() else None, **style)
    if keep.any():
        ax.set_yscale("log")
    return line.get_color()


def _mark_optimizer_changes(
    axs: Sequence[Axes], history: Sequence[Mapping[str, object]], steps: np.ndarray
) -> None:
    """Dotted vertical line (labelled on the top panel) wherever the optimiser changes."""
    previous = None
    for row, step in zip(history, steps):
        current = row.get("optimizer")
        if current is None:
            continue
        if previous is not None and current != previous and np.isfinite(step):
            for ax in axs:
                ax.axvline(step, color="0.3", ls=":", lw=1.2)
            axs[0].text(step, 0.98, f" → {current}", transform=axs[0].get_xaxis_transform(),
                        ha="left", va="top", fontsize=8, color="0.3")
        previous = current
