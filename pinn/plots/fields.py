"""Predicted fields next to their reference and their absolute difference: :func:`plot_fields`.

It takes plain numpy arrays on a grid, writes PNG files (150 dpi, atomically, in the style of
:mod:`pinn.plots.style`) and returns the list of paths it wrote. What it draws depends on the
number of space dimensions and on time (see :func:`plot_fields`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from pinn.plots.style import LOG_SPAN, equal_aspect, error_mesh, error_summary, figure, save, value_scale

__all__ = ["plot_fields"]


def plot_fields(
    out_dir: Path,
    axes: Mapping[str, np.ndarray],
    predicted: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    time_axis: str | None,
    n_times: int = 3,
) -> list[Path]:
    """Plot each predicted field next to its reference and their absolute difference.

    Parameters
    ----------
    out_dir:
        Folder to write into (created if needed). One ``<field>.png`` per field, plus
        ``<field>_profiles.png`` for problems with one space dimension and time.
    axes:
        Ordered 1-D coordinate arrays, e.g. ``{"x": xs, "y": ys, "t": ts}``. The time
        axis, if any, must be the last one.
    predicted, reference:
        Per field, arrays of shape ``tuple(len(a) for a in axes.values())`` on the grid
        spanned by ``axes`` ("ij" indexing). The reference may hold NaN outside a
        non-rectangular domain; those points are greyed out in every panel and left out
        of the error.
    time_axis:
        Name of the time axis, or None for a steady problem.
    n_times:
        How many times to show (evenly spread, first and last included).

    What is drawn depends on the number of space dimensions:

    * 2-D (+ time): a grid of heatmaps, columns prediction | reference | absolute
      error, one row per shown time (a single row when steady).
    * 1-D + time: space-time heatmaps (time horizontal) of prediction, reference and
      error, dashed lines marking the times of the companion ``<field>_profiles.png``,
      which overlays prediction (solid) and reference (dashed) at those times.
    * 1-D steady: prediction and reference on top, absolute error below.
    * more than 2-D: the plane of the first two space axes at the middle index of every
      other space axis (stated in the title), then as 2-D.
    * time only (an ODE): drawn like 1-D steady with time as the coordinate.

    The figure title gives the field's relative L2 error over the *whole* grid.

    Returns the list of files written.
    """
    names = list(axes)
    if not names:
        raise ValueError("axes is empty: need at least one coordinate axis")
    if time_axis is not None and (not names or names[-1] != time_axis):
        raise ValueError(f"time axis {time_axis!r} must be the last of {names}")
    coords = {n: np.asarray(axes[n], dtype=float) for n in names}
    shape = tuple(len(coords[n]) for n in names)
    missing = set(predicted) - set(reference)
    if missing:
        raise ValueError(f"no reference for field(s) {sorted(missing)}")

    space = names[:-1] if time_axis is not None else names
    if not space:  # pure ODE: time is the only coordinate, show it as a 1-D curve
        space, time_axis = names, None

    # Reduce to at most two space axes (+ time): slice at the middle of extra axes,
    # and drop a time axis holding a single instant. Both are reported in the title.
    index: list[int | slice] = []
    notes: list[str] = []
    for k, n in enumerate(space):
        if k < 2:
            index.append(slice(None))
        else:
            mid = shape[k] // 2
            index.append(mid)
            notes.append(f"{n} = {_fmt(coords[n][mid])}")
    if time_axis is not None:
        if shape[-1] == 1:
            index.append(0)
            notes.append(f"{time_axis} = {_fmt(coords[time_axis][0])}")
            time_axis = None
        else:
            index.append(slice(None))
    note = f"  [slice at {', '.join(notes)}]" if notes else ""
    space = space[:2]

    out_dir = Path(out_dir)
    written: list[Path] = []
    for field, pred_full in predicted.items():
        pred_full = np.asarray(pred_full, dtype=float)
        ref_full = np.asarray(reference[field], dtype=float)
        for label, arr in (("prediction", pred_full), ("reference", ref_full)):
            if arr.shape != shape:
                raise ValueError(f"{label} of {field!r} has shape {arr.shape}, axes give {shape}")
        title = f"{field}: {error_summary(pred_full, ref_full)}{note}"
        pred, ref, err = _masked(pred_full[tuple(index)], ref_full[tuple(index)])
        xs = coords[space[0]]

        if len(space) == 2:
            ys = coords[space[1]]
            if time_axis is None:
                frames = [("", pred, ref, err)]
            else:
                ts = coords[time_axis]
                frames = [
                    (f"{time_axis} = {_fmt(ts[i])}", pred[..., i], ref[..., i], err[..., i])
                    for i in _time_indices(len(ts), n_times)
                ]
            fig = _fields_2d(field, title, space, xs, ys, frames)
            written.append(save(fig, out_dir / f"{field}.png"))
        elif time_axis is not None:
            ts = coords[time_axis]
            shown = _time_indices(len(ts), n_times)
            heatmaps, profiles = _space_time(field, title, space[0], time_axis, xs, ts, pred, ref, err, shown)
            written.append(save(heatmaps, out_dir / f"{field}.png"))
            written.append(save(profiles, out_dir / f"{field}_profiles.png"))
        else:
            fig = _curve_1d(field, title, space[0], xs, pred, ref, err)
            written.append(save(fig, out_dir / f"{field}.png"))
    return written


def _fields_2d(
    field: str,
    title: str,
    space: Sequence[str],
    xs: np.ndarray,
    ys: np.ndarray,
    frames: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
) -> Figure:
    """Rows of prediction | reference | error heatmaps over the (x, y) plane."""
    ratio = equal_aspect(xs, ys)
    # Size panels to the domain's shape so that to-scale axes don't float in whitespace.
    panel_h = float(np.clip(3.3 * ratio, 1.6, 4.2)) if ratio else 2.8
    panel_w = panel_h / ratio if ratio else 3.3
    fig = figure(3 * panel_w + 2.4, len(frames) * (panel_h + 0.5) + 0.5)
    grid = fig.subplots(len(frames), 3, squeeze=False, sharex=True, sharey=True)
    for row, (when, pred, ref, err) in zip(grid, frames):
        suffix = f", {when}" if when else ""
        norm, cmap = value_scale(pred, ref)
        for ax, data, name in ((row[0], pred, "prediction"), (row[1], ref, "reference")):
            im = ax.pcolormesh(xs, ys, data.T, shading="nearest", norm=norm, cmap=cmap)
            ax.set_title(f"{name}{suffix}", fontsize=10)
        fig.colorbar(im, ax=row[:2].tolist(), label=field, shrink=0.9)
        _error_panel(fig, row[2], xs, ys, err.T, field, suffix)
        for ax in row:
            if ratio:
                ax.set_aspect("equal")
            ax.set_ylabel(space[1])
        for ax in row[1:]:
            ax.set_ylabel("")
    for ax in grid[-1]:
        ax.set_xlabel(space[0])
    fig.suptitle(title)
    return fig


def _error_panel(fig: Figure, ax, xs: np.ndarray, ys: np.ndarray, err: np.ndarray, field: str, suffix: str) -> None:
    """|error| as a heatmap (log-scaled when it spans decades) with its own colorbar."""
    eim, enorm, enote = error_mesh(ax, xs, ys, err)
    ax.set_title(f"|error|{suffix}{enote}", fontsize=10)
    extend = "min" if isinstance(enorm, LogNorm) else "neither"
    fig.colorbar(eim, ax=ax, label=f"|{field} pred − ref|", extend=extend, shrink=0.9)


def _space_time(
    field: str,
    title: str,
    xname: str,
    tname: str,
    xs: np.ndarray,
    ts: np.ndarray,
    pred: np.ndarray,
    ref: np.ndarray,
    err: np.ndarray,
    shown: list[int],
) -> tuple[Figure, Figure]:
    """Two figures of a 1-D field in time: prediction, reference and error as heatmaps with time
    horizontal, space vertical; and profiles, one panel per shown time, prediction solid and
    reference dashed on a common y range."""
    heatmaps = figure(13.0, 3.9)
    ax_p, ax_r, ax_e = heatmaps.subplots(1, 3, sharex=True, sharey=True)
    norm, cmap = value_scale(pred, ref)
    for ax, data, name in ((ax_p, pred, "prediction"), (ax_r, ref, "reference")):
        im = ax.pcolormesh(ts, xs, data, shading="nearest", norm=norm, cmap=cmap)
        ax.set_title(name, fontsize=10)
    heatmaps.colorbar(im, ax=[ax_p, ax_r], label=field, shrink=0.9)
    _error_panel(heatmaps, ax_e, ts, xs, err, field, "")
    for ax in (ax_p, ax_r, ax_e):
        ax.set_xlabel(tname)
        # Mark the instants shown in the companion profiles figure.
        for i in shown:
            ax.axvline(ts[i], color="0.6", lw=0.8, ls="--")
    ax_p.set_ylabel(xname)
    heatmaps.suptitle(title)

    profiles = figure(3.6 * len(shown) + 0.4, 3.4)
    panels = profiles.subplots(1, len(shown), sharey=True, squeeze=False)[0]
    for ax, i in zip(panels, shown):
        ax.plot(xs, ref[:, i], color="k", ls="--", lw=1.8, label="reference")
        ax.plot(xs, pred[:, i], color="C3", lw=1.4, label="prediction")
        ax.set_title(f"{tname} = {_fmt(ts[i])}", fontsize=10)
        ax.set_xlabel(xname)
        ax.grid(alpha=0.3)
    panels[0].set_ylabel(field)
    panels[0].legend(fontsize=8)
    profiles.suptitle(title)
    return heatmaps, profiles


def _curve_1d(
    field: str,
    title: str,
    xname: str,
    xs: np.ndarray,
    pred: np.ndarray,
    ref: np.ndarray,
    err: np.ndarray,
) -> Figure:
    """Steady 1-D field: prediction and reference on top, absolute error below."""
    fig = figure(7.0, 5.2)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    top.plot(xs, ref, color="k", ls="--", lw=1.8, label="reference")
    top.plot(xs, pred, color="C3", lw=1.4, label="prediction")
    top.set_ylabel(field)
    top.legend(fontsize=8)
    top.grid(alpha=0.3)

    bottom.plot(xs, err, color="C0", lw=1.2)
    positive = err[np.isfinite(err) & (err > 0)]
    if positive.size and positive.max() / positive.min() >= LOG_SPAN:
        bottom.set_yscale("log")  # zeros simply drop out of a log plot
    elif positive.size == 0:
        bottom.set_ylim(-0.05, 1.0)  # a flat zero line still needs a visible range
        bottom.text(0.5, 0.5, "error identically zero", transform=bottom.transAxes,
                    ha="center", va="center", color="0.4")
    else:
        # Anchor at zero: avoids offset tick labels ("1e-14+1e-2") for near-constant errors.
        bottom.set_ylim(0.0, 1.1 * float(positive.max()))
    bottom.set_ylabel(f"|{field} pred − ref|")
    bottom.set_xlabel(xname)
    bottom.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _masked(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prediction, reference and |error| with NaN wherever either input is not finite."""
    bad = ~(np.isfinite(pred) & np.isfinite(ref))
    p, r = np.where(bad, np.nan, pred), np.where(bad, np.nan, ref)
    return p, r, np.abs(p - r)


def _time_indices(n_available: int, n_times: int) -> list[int]:
    """``n_times`` indices evenly spread over ``range(n_available)``, first and last included."""
    n = max(1, min(n_times, n_available))
    return sorted({int(round(i)) for i in np.linspace(0, n_available - 1, n)})
