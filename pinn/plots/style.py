"""The one style of every pinn figure: figures on their own canvas, atomic saving, colour scales.

Every figure module (:mod:`pinn.plots.fields`, :mod:`pinn.plots.history`, the physics figures in
:mod:`pinn.physics`) draws with these helpers, so that all figures look alike and are written alike:

* :func:`figure` makes a constrained-layout figure on matplotlib's Agg canvas directly: it works
  without a display and never touches pyplot's global state (a notebook's backend stays as it is);
* :func:`save` writes it atomically: to a hidden temporary file in the target folder, then renamed
  over the final name, so a crash or a concurrent reader never sees a half-written PNG.

Colour conventions used throughout:

* prediction and reference of one row share one colour scale (:func:`value_scale`), diverging
  (``RdBu_r``, symmetric about zero) when the field clearly takes both signs, sequential
  (``viridis``) otherwise;
* the absolute error has its own ``magma`` scale (:func:`error_scale`, :func:`error_mesh`),
  logarithmic when it spans two decades or more;
* points outside the domain (NaN in the reference) are drawn light grey in all panels.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import QuadMesh
from matplotlib.colors import Colormap, LogNorm, Normalize
from matplotlib.figure import Figure

from pinn.output.files import atomic_write

__all__ = ["DPI", "LOG_SPAN", "colormap", "equal_aspect", "error_mesh", "error_scale", "error_summary",
           "figure", "save", "value_scale"]

DPI = 150
MASK_COLOR = "0.85"
DIVERGING, SEQUENTIAL, ERROR = "RdBu_r", "viridis", "magma"
# An error colour scale goes logarithmic when max / (5th percentile) reaches this ratio.
LOG_SPAN = 100.0


def figure(width: float, height: float) -> Figure:
    """A constrained-layout figure bound to an Agg canvas (no pyplot involved)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path: Path, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` atomically (:func:`pinn.output.files.atomic_write`: a temporary file in the same
    folder, then a rename; a resume removes one a kill left behind)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # format must be explicit: the temporary name has no .png suffix.
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    return path


def colormap(name: str) -> Colormap:
    return mpl.colormaps[name].with_extremes(bad=MASK_COLOR)


def value_scale(pred: np.ndarray, ref: np.ndarray) -> tuple[Normalize, Colormap]:
    """One colour scale covering prediction and reference together.

    The colormap kind follows the reference (the physics), not the prediction: a heat
    field stays sequential even where the network undershoots below zero.
    """
    values = np.concatenate([pred[np.isfinite(pred)], ref[np.isfinite(ref)]])
    if values.size == 0:
        return Normalize(0.0, 1.0), colormap(SEQUENTIAL)
    lo, hi = float(values.min()), float(values.max())
    r = ref[np.isfinite(ref)]
    r_lo, r_hi = (float(r.min()), float(r.max())) if r.size else (lo, hi)
    # Diverging only for genuinely two-signed fields: a tiny negative dip of a positive
    # field should not waste half of the colour range.
    if r_lo < 0.0 < r_hi and min(-r_lo, r_hi) >= 0.05 * max(-r_lo, r_hi):
        m = max(-lo, hi)
        return Normalize(-m, m), colormap(DIVERGING)
    if lo == hi:  # constant field: give Normalize a non-empty range
        pad = 0.1 * abs(lo) or 1.0
        lo, hi = lo - pad, hi + pad
    return Normalize(lo, hi), colormap(SEQUENTIAL)


def error_scale(err: np.ndarray) -> tuple[Normalize, str]:
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


def error_summary(pred: np.ndarray, ref: np.ndarray) -> str:
    """Relative L2 error ||pred - ref|| / ||ref|| over all valid (finite) points."""
    valid = np.isfinite(pred) & np.isfinite(ref)
    if not valid.any():
        return "no valid points to compare"
    num = float(np.linalg.norm(pred[valid] - ref[valid]))
    den = float(np.linalg.norm(ref[valid]))
    if den > 0.0:
        return f"relative L2 error {num / den:.3e}"
    return f"absolute L2 error {num:.3e} (reference is zero)"


def equal_aspect(xs: np.ndarray, ys: np.ndarray) -> float | None:
    """Height/width ratio of the domain if drawing it to scale stays readable, else None."""
    wx, wy = float(np.ptp(xs)), float(np.ptp(ys))
    if wx <= 0 or wy <= 0:
        return None
    ratio = wy / wx
    return ratio if 0.25 <= ratio <= 4.0 else None



def error_mesh(ax: Axes, xs: np.ndarray, ys: np.ndarray, err: np.ndarray) -> tuple[QuadMesh, Normalize, str]:
    """``err`` (indexed ``[y, x]``, as ``pcolormesh`` takes it) drawn on ``ax`` in the error colours,
    on its :func:`error_scale`; returns the mesh (for a colorbar), the scale and its note for a title."""
    norm, note = error_scale(err)
    mesh = ax.pcolormesh(xs, ys, _error_values(err, norm), shading="nearest", norm=norm, cmap=colormap(ERROR))
    return mesh, norm, note
