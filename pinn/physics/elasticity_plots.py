"""Figures for 2-D elasticity runs: deformed shape, stresses, von Mises stress and error maps.

:func:`elasticity_plots` makes the problem-specific plot function of an elasticity problem::

    problem = pinn.Problem(..., plots=[pinn.elasticity_plots(material)])

At the end of a run it writes into ``plots/``:

* ``deformed.png``: the deformed grid, displacements magnified (factor in the title), predicted
  (red) over the reference (black, dashed) and the undeformed outline (grey); and the deformed
  shape coloured by the predicted von Mises stress;
* ``stresses.png``: sxx, syy, sxy and von Mises, one column each: prediction, reference and
  absolute error (rows), prediction and reference on one colour scale per column;
* ``errors.png``: the absolute error of every field (displacements, stresses, von Mises) with
  its relative L2 error in the panel title.

Fields the reference lacks are shown as predictions only. Stresses that the problem does not
predict (neither outputs nor derived quantities) are computed from the displacements with the
material.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pinn.physics.elasticity import LinearElastic
from pinn.plots.style import colormap, equal_aspect, error_mesh, error_summary, figure, save, value_scale

__all__ = ["elasticity_plots"]

GRID_LINES = 21  # deformed-grid lines per axis


def elasticity_plots(material: LinearElastic, displacement: str = "ux uy", stress: str = "sxx syy sxy",
                     magnification: float | None = None, domain: Any = None,
                     resolution: int = 101) -> Callable[..., list[Path]]:
    """The plot function of an elasticity problem, for ``Problem(plots=[...])``.

    Args:
        material: the problem's :class:`pinn.LinearElastic` (for von Mises, and for stresses the
            problem does not predict).
        displacement: the names of the displacement outputs.
        stress: the names of the stresses (outputs, derived quantities or reference fields).
        magnification: displacement scale factor of the deformed shape; default: the largest
            displacement drawn as a tenth of the domain's size.
        domain: the problem's domain, whose bounding box is drawn on when the run has no reference
            grid (then ``resolution`` points along the longer side).
    """
    if not isinstance(material, LinearElastic):
        raise ValueError(f"elasticity_plots material must be a pinn.LinearElastic, got {type(material).__name__}")
    ux, uy = displacement.split()
    names = tuple(stress.split())
    if len(names) != 3:
        raise ValueError(f"elasticity_plots stress must name sxx, syy, sxy, got {stress!r}")
    if magnification is not None and not magnification > 0:
        raise ValueError(f"elasticity_plots magnification must be > 0, got {magnification!r}")

    def plot_elasticity(solution: Any, reference: Any, folder: Path) -> list[Path]:
        xs, ys = _grid(domain, reference, resolution)
        predicted = _predict(solution, material, xs, ys, (ux, uy), names)
        expected = {} if reference is None else {k: np.asarray(v) for k, v in reference.fields.items()}
        for values in (predicted, expected):
            if all(n in values for n in names):
                values["mises"] = np.asarray(material.von_mises(*(values[n] for n in names)))
        folder = Path(folder)
        return [_deformed(folder / "deformed.png", xs, ys, predicted, expected, (ux, uy), magnification),
                _stresses(folder / "stresses.png", xs, ys, predicted, expected, (*names, "mises")),
                _errors(folder / "errors.png", xs, ys, predicted, expected, (ux, uy, *names, "mises"))]

    return plot_elasticity


def _grid(domain: Any, reference: Any, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    if reference is not None:
        return tuple(np.asarray(a, dtype=float) for a in list(reference.axes.values())[:2])
    if domain is None:
        raise ValueError("without a reference, elasticity_plots needs the domain (domain=...)")
    lower, upper = (np.asarray(b, dtype=float) for b in domain.bbox)
    longest = float(np.max(upper - lower))
    counts = [max(11, int(round(resolution * (b - a) / longest))) for a, b in zip(lower, upper)]
    return np.linspace(lower[0], upper[0], counts[0]), np.linspace(lower[1], upper[1], counts[1])


def _predict(solution: Any, material: LinearElastic, xs: np.ndarray, ys: np.ndarray,
             displacement: tuple[str, str], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    points = np.stack([X.ravel(), Y.ravel()], axis=1)
    values = solution.predict(points)
    missing = [n for n in names if n not in values]
    if missing:  # stresses from the displacement derivatives
        model = solution.model
        with torch.enable_grad():
            f = model.fields(torch.as_tensor(points, dtype=model.dtype, device=model.device))
            computed = material.stress(f, *displacement)
        values.update({n: computed[names.index(n)].detach().cpu().numpy() for n in missing})
    return {k: np.asarray(v).reshape(X.shape) for k, v in values.items()}


def _deformed(path: Path, xs, ys, predicted, expected, displacement, magnification) -> Path:
    ux, uy = displacement
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    size = max(float(np.ptp(xs)), float(np.ptp(ys)))
    largest = float(np.max(np.hypot(predicted[ux], predicted[uy])))
    scale = magnification or (0.1 * size / largest if largest > 0 else 1.0)
    ratio = equal_aspect(xs, ys) or float(np.ptp(ys) / np.ptp(xs))
    fig = figure(11.0, max(2.6, 4.6 * min(ratio, 1.0) + 1.0))
    left, right = fig.subplots(1, 2, sharex=True, sharey=True)
    outline_x = [xs[0], xs[-1], xs[-1], xs[0], xs[0]]
    outline_y = [ys[0], ys[0], ys[-1], ys[-1], ys[0]]
    for ax in (left, right):
        ax.plot(outline_x, outline_y, color="0.6", lw=1.0)
        ax.set_aspect("equal")
        ax.set_xlabel("x")
    rows = np.unique(np.linspace(0, len(xs) - 1, GRID_LINES).round().astype(int))
    cols = np.unique(np.linspace(0, len(ys) - 1, GRID_LINES).round().astype(int))
    for values, style in ((expected, dict(color="k", ls="--", lw=0.9)), (predicted, dict(color="C3", lw=0.8))):
        if ux not in values or uy not in values:
            continue
        DX, DY = X + scale * values[ux], Y + scale * values[uy]
        for i in rows:
            left.plot(DX[i, :], DY[i, :], **style)
        for j in cols:
            left.plot(DX[:, j], DY[:, j], **style)
    left.set_title("deformed grid: prediction (red)" + (", reference (black, dashed)" if ux in expected else ""),
                   fontsize=10)
    left.set_ylabel("y")
    DX, DY = X + scale * predicted[ux], Y + scale * predicted[uy]
    if "mises" in predicted:
        mesh = right.pcolormesh(DX, DY, predicted["mises"], shading="gouraud", cmap=colormap("viridis"))
        fig.colorbar(mesh, ax=right, label="von Mises stress", shrink=0.9)
        right.set_title("deformed shape, predicted von Mises stress", fontsize=10)
    fig.suptitle(f"deformed shape, displacements magnified {scale:.3g}x")
    return save(fig, path)


def _stresses(path: Path, xs, ys, predicted, expected, names) -> Path:
    shown = [n for n in names if n in predicted]
    with_reference = any(n in expected for n in shown)
    rows = 3 if with_reference else 1
    ratio = equal_aspect(xs, ys) or float(np.ptp(ys) / np.ptp(xs))
    panel_w = 3.6 if ratio >= 0.5 else 4.8  # slender domains get wider panels
    panel_h = max(1.0, panel_w * ratio) + 0.7
    fig = figure(panel_w * len(shown) + 1.0, rows * panel_h + 0.6)
    grid = fig.subplots(rows, len(shown), squeeze=False, sharex=True, sharey=True)
    for col, name in enumerate(shown):
        pred = predicted[name]
        ref = expected.get(name)
        norm, cmap = value_scale(pred, ref if ref is not None else pred)
        im = grid[0, col].pcolormesh(xs, ys, pred.T, shading="nearest", norm=norm, cmap=cmap)
        grid[0, col].set_title(f"{name} prediction", fontsize=10)
        fig.colorbar(im, ax=grid[:2, col].tolist() if with_reference else grid[0, col], shrink=0.9)
        if with_reference:
            if ref is None:
                for ax in grid[1:, col]:
                    ax.text(0.5, 0.5, "no reference", ha="center", va="center", transform=ax.transAxes, color="0.4")
                continue
            grid[1, col].pcolormesh(xs, ys, ref.T, shading="nearest", norm=norm, cmap=cmap)
            grid[1, col].set_title(f"{name} reference", fontsize=10)
            _error_map(fig, grid[2, col], xs, ys, pred, ref, name)
    for ax in grid.ravel():
        ax.set_aspect("equal")
    fig.suptitle("stresses" + (": prediction, reference, |error|" if with_reference else ": prediction"))
    return save(fig, path)


def _errors(path: Path, xs, ys, predicted, expected, names) -> Path:
    shown = [n for n in names if n in predicted and n in expected]
    ratio = equal_aspect(xs, ys) or float(np.ptp(ys) / np.ptp(xs))
    columns = 3 if ratio < 0.6 else min(3, max(1, len(shown)))
    rows = max(1, -(-len(shown) // columns))
    panel_w = 4.2
    fig = figure(panel_w * columns + 0.5, rows * (max(1.4, (panel_w - 1) * ratio) + 0.8) + 0.5)
    grid = fig.subplots(rows, columns, squeeze=False, sharex=True, sharey=True)
    for ax, name in zip(grid.ravel(), shown):
        _error_map(fig, ax, xs, ys, predicted[name], expected[name], name)
        ax.set_aspect("equal")
    for ax in grid.ravel()[len(shown):]:
        ax.set_visible(False)
    if not shown:
        grid[0, 0].set_visible(True)
        grid[0, 0].text(0.5, 0.5, "no reference to compare with", ha="center", va="center",
                        transform=grid[0, 0].transAxes)
    fig.suptitle("absolute errors against the reference")
    return save(fig, path)


def _error_map(fig, ax, xs, ys, pred, ref, name: str) -> None:
    im, _, note = error_mesh(ax, xs, ys, np.abs(pred - ref).T)
    ax.set_title(f"|{name} error|: {error_summary(pred, ref).replace('relative L2 error', 'rel. L2')}{note}",
                 fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.9)
