"""Figures for PINN results: predicted fields against a reference, and training history.

Every function takes plain numpy arrays, writes PNG files (150 dpi) and returns the
list of paths it wrote. Figures are drawn on matplotlib's Agg canvas directly, so they
work without a display and never touch pyplot's global state.

Files are written atomically: each figure goes to a hidden temporary file in the target
folder and is then renamed over the final name, so a crash or a concurrent reader never
sees a half-written PNG.

Colour conventions used throughout:

* prediction and reference of one row share one colour scale (one colorbar), diverging
  (``RdBu_r``, symmetric about zero) when the field clearly takes both signs, sequential
  (``viridis``) otherwise;
* the absolute error has its own ``magma`` scale, logarithmic when it spans two decades
  or more;
* points outside the domain (NaN in the reference) are drawn light grey in all panels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Colormap, LogNorm, Normalize
from matplotlib.figure import Figure

from pinn.io import atomic_write

__all__ = ["plot_fields", "plot_history", "plot_parameters"]

DPI = 150
MASK_COLOR = "0.85"
DIVERGING, SEQUENTIAL, ERROR = "RdBu_r", "viridis", "magma"
# An error colour scale goes logarithmic when max / (5th percentile) reaches this ratio.
LOG_SPAN = 100.0


# --------------------------------------------------------------------------- helpers


def _figure(width: float, height: float) -> Figure:
    """A constrained-layout figure bound to an Agg canvas (no pyplot involved)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` atomically (:func:`pinn.io.atomic_write`: a temporary file in the same
    folder, then a rename; a resume removes one a kill left behind)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # format must be explicit: the temporary name has no .png suffix.
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    return path


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _cmap(name: str) -> Colormap:
    return mpl.colormaps[name].with_extremes(bad=MASK_COLOR)


def _value_scale(pred: np.ndarray, ref: np.ndarray) -> tuple[Normalize, Colormap]:
    """One colour scale covering prediction and reference together.

    The colormap kind follows the reference (the physics), not the prediction: a heat
    field stays sequential even where the network undershoots below zero.
    """
    values = np.concatenate([pred[np.isfinite(pred)], ref[np.isfinite(ref)]])
    if values.size == 0:
        return Normalize(0.0, 1.0), _cmap(SEQUENTIAL)
    lo, hi = float(values.min()), float(values.max())
    r = ref[np.isfinite(ref)]
    r_lo, r_hi = (float(r.min()), float(r.max())) if r.size else (lo, hi)
    # Diverging only for genuinely two-signed fields: a tiny negative dip of a positive
    # field should not waste half of the colour range.
    if r_lo < 0.0 < r_hi and min(-r_lo, r_hi) >= 0.05 * max(-r_lo, r_hi):
        m = max(-lo, hi)
        return Normalize(-m, m), _cmap(DIVERGING)
    if lo == hi:  # constant field: give Normalize a non-empty range
        pad = 0.1 * abs(lo) or 1.0
        lo, hi = lo - pad, hi + pad
    return Normalize(lo, hi), _cmap(SEQUENTIAL)


def _error_scale(err: np.ndarray) -> tuple[Normalize, str]:
    """Colour scale for an absolute-error array and a note for the panel title.

    Logarithmic when the error spans decades (typical for PINNs: tiny near imposed
    boundary values, large in a few spots); linear otherwise. An identically zero error
    gets a dummy 0..1 scale so that nothing divides by zero or takes log(0).
    """
    e = err[np.isfinite(err)]
    emax = float(e.max()) if e.size else 0.0
    if emax <= 0.0:
        return Normalize(0.0, 1.0), " (identically zero)" if e.size else " (no valid points)"
    floor = max(float(np.percentile(e[e > 0], 5)), emax * 1e-8)
    if emax / floor >= LOG_SPAN:
        return LogNorm(floor, emax), ", log scale"
    return Normalize(0.0, emax), ""


def _error_values(err: np.ndarray, norm: Normalize) -> np.ndarray:
    """Clip to the log floor: LogNorm would otherwise mask zeros as 'outside domain'."""
    return np.maximum(err, norm.vmin) if isinstance(norm, LogNorm) else err


def _error_summary(pred: np.ndarray, ref: np.ndarray) -> str:
    """Relative L2 error ||pred - ref|| / ||ref|| over all valid (finite) points."""
    valid = np.isfinite(pred) & np.isfinite(ref)
    if not valid.any():
        return "no valid points to compare"
    num = float(np.linalg.norm(pred[valid] - ref[valid]))
    den = float(np.linalg.norm(ref[valid]))
    if den > 0.0:
        return f"relative L2 error {num / den:.3e}"
    return f"absolute L2 error {num:.3e} (reference is zero)"


def _masked(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prediction, reference and |error| with NaN wherever either input is not finite."""
    bad = ~(np.isfinite(pred) & np.isfinite(ref))
    p, r = np.where(bad, np.nan, pred), np.where(bad, np.nan, ref)
    return p, r, np.abs(p - r)


def _time_indices(n_available: int, n_times: int) -> list[int]:
    """``n_times`` indices evenly spread over ``range(n_available)``, first and last included."""
    n = max(1, min(n_times, n_available))
    return sorted({int(round(i)) for i in np.linspace(0, n_available - 1, n)})


def _equal_aspect(xs: np.ndarray, ys: np.ndarray) -> float | None:
    """Height/width ratio of the domain if drawing it to scale stays readable, else None."""
    wx, wy = float(np.ptp(xs)), float(np.ptp(ys))
    if wx <= 0 or wy <= 0:
        return None
    ratio = wy / wx
    return ratio if 0.25 <= ratio <= 4.0 else None


# --------------------------------------------------------------------------- fields


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
        title = f"{field}: {_error_summary(pred_full, ref_full)}{note}"
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
            written.append(_save(fig, out_dir / f"{field}.png"))
        elif time_axis is not None:
            ts = coords[time_axis]
            shown = _time_indices(len(ts), n_times)
            fig = _space_time(field, title, space[0], time_axis, xs, ts, pred, ref, err, shown)
            written.append(_save(fig, out_dir / f"{field}.png"))
            fig = _profiles(field, title, space[0], time_axis, xs, ts, pred, ref, shown)
            written.append(_save(fig, out_dir / f"{field}_profiles.png"))
        else:
            fig = _curve_1d(field, title, space[0], xs, pred, ref, err)
            written.append(_save(fig, out_dir / f"{field}.png"))
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
    ratio = _equal_aspect(xs, ys)
    # Size panels to the domain's shape so that to-scale axes don't float in whitespace.
    panel_h = float(np.clip(3.3 * ratio, 1.6, 4.2)) if ratio else 2.8
    panel_w = panel_h / ratio if ratio else 3.3
    fig = _figure(3 * panel_w + 2.4, len(frames) * (panel_h + 0.5) + 0.5)
    grid = fig.subplots(len(frames), 3, squeeze=False, sharex=True, sharey=True)
    for row, (when, pred, ref, err) in zip(grid, frames):
        suffix = f", {when}" if when else ""
        norm, cmap = _value_scale(pred, ref)
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
    enorm, enote = _error_scale(err)
    eim = ax.pcolormesh(xs, ys, _error_values(err, enorm), shading="nearest", norm=enorm, cmap=_cmap(ERROR))
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
) -> Figure:
    """Prediction, reference and error as heatmaps with time horizontal, space vertical."""
    fig = _figure(13.0, 3.9)
    ax_p, ax_r, ax_e = fig.subplots(1, 3, sharex=True, sharey=True)
    norm, cmap = _value_scale(pred, ref)
    for ax, data, name in ((ax_p, pred, "prediction"), (ax_r, ref, "reference")):
        im = ax.pcolormesh(ts, xs, data, shading="nearest", norm=norm, cmap=cmap)
        ax.set_title(name, fontsize=10)
    fig.colorbar(im, ax=[ax_p, ax_r], label=field, shrink=0.9)
    _error_panel(fig, ax_e, ts, xs, err, field, "")
    for ax in (ax_p, ax_r, ax_e):
        ax.set_xlabel(tname)
        # Mark the instants shown in the companion profiles figure.
        for i in shown:
            ax.axvline(ts[i], color="0.6", lw=0.8, ls="--")
    ax_p.set_ylabel(xname)
    fig.suptitle(title)
    return fig


def _profiles(
    field: str,
    title: str,
    xname: str,
    tname: str,
    xs: np.ndarray,
    ts: np.ndarray,
    pred: np.ndarray,
    ref: np.ndarray,
    shown: list[int],
) -> Figure:
    """One panel per shown time: prediction solid, reference dashed, common y range."""
    fig = _figure(3.6 * len(shown) + 0.4, 3.4)
    panels = fig.subplots(1, len(shown), sharey=True, squeeze=False)[0]
    for ax, i in zip(panels, shown):
        ax.plot(xs, ref[:, i], color="k", ls="--", lw=1.8, label="reference")
        ax.plot(xs, pred[:, i], color="C3", lw=1.4, label="prediction")
        ax.set_title(f"{tname} = {_fmt(ts[i])}", fontsize=10)
        ax.set_xlabel(xname)
        ax.grid(alpha=0.3)
    panels[0].set_ylabel(field)
    panels[0].legend(fontsize=8)
    fig.suptitle(title)
    return fig


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
    fig = _figure(7.0, 5.2)
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


# --------------------------------------------------------------------------- history


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
    fig = _figure(8.0, 0.6 + 2.6 * max(1, len(panels)))
    axs = fig.subplots(max(1, len(panels)), 1, sharex=True, squeeze=False)[:, 0]
    rows = f"{len(history)} logged row{'' if len(history) == 1 else 's'}"
    fig.suptitle(f"Training history ({rows})")
    if not panels:
        axs[0].text(0.5, 0.5, "nothing to plot: no loss, error or lr columns",
                    transform=axs[0].transAxes, ha="center", va="center")
        axs[0].set_xlabel("step")
        return [_save(fig, path)]

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
    return [_save(fig, path)]


def plot_parameters(out_path: Path, history: Sequence[Mapping[str, object]], unknowns: Sequence[object]) -> list[Path]:
    """Each unknown parameter (the ``param_<name>`` columns of the history) against the step, one
    panel each, with its true value (dashed) when known. ``unknowns``: :class:`pinn.Unknown` objects."""
    steps = np.array([_number(row.get("step")) for row in history])
    fig = _figure(8.0, 0.6 + 2.4 * max(1, len(unknowns)))
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
    return [_save(fig, Path(out_path))]


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
