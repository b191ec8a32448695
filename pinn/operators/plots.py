"""Figures of a trained operator: test samples (input, prediction, reference, error) and error against resolution."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pinn.operators.data import Samples
from pinn.plots.style import colormap, error_scale, figure, save, value_scale


def plot_samples(path: Path, samples: Samples, predicted: np.ndarray, names: tuple[str, str],
                 count: int = 3) -> Path:
    """The first ``count`` test samples, one row each: input, prediction, reference and absolute error
    (2-D: images; 1-D: curves)."""
    count = min(count, samples.count)
    dim = len(samples.axes)
    fig = figure(12.0 if dim == 2 else 10.0, 2.8 * count)
    axes = fig.subplots(count, 4 if dim == 2 else 2, squeeze=False)
    source, target = names
    for row in range(count):
        a, p, r = samples.inputs[row, 0], predicted[row, 0], samples.outputs[row, 0]
        error = np.abs(p - r)
        rel = np.linalg.norm(p - r) / np.linalg.norm(r)
        if dim == 1:
            x = samples.axes[0]
            axes[row, 0].plot(x, a, color="0.3")
            axes[row, 0].set_title(f"input {source}")
            axes[row, 1].plot(x, r, color="k", label="solver")
            axes[row, 1].plot(x, p, "--", color="C3", label="operator")
            axes[row, 1].set_title(f"output {target}: relative L2 error {rel:.2e}")
            axes[row, 1].legend(loc="best", fontsize="small")
            continue
        extent = (0, 1, 0, 1)
        axes[row, 0].imshow(a.T, origin="lower", extent=extent, cmap=colormap("viridis"))
        axes[row, 0].set_title(f"input {source}")
        norm, cmap = value_scale(p, r)
        for col, (values, title) in enumerate(((p, f"operator {target}"), (r, f"solver {target}")), start=1):
            image = axes[row, col].imshow(values.T, origin="lower", extent=extent, norm=norm, cmap=cmap)
            axes[row, col].set_title(title)
        fig.colorbar(image, ax=axes[row, 1:3], shrink=0.8)
        enorm, note = error_scale(error)
        image = axes[row, 3].imshow(error.T, origin="lower", extent=extent, norm=enorm, cmap=colormap("magma"))
        axes[row, 3].set_title(f"|error|{note}\nrelative L2 {rel:.2e}", fontsize="small")
        fig.colorbar(image, ax=axes[row, 3], shrink=0.8)
    return save(fig, path)


def plot_resolutions(path: Path, errors: dict[int, float], trained_at: int, tolerance: float | None) -> Path:
    """The test error (mean relative L2) at every resolution, the training resolution marked."""
    fig = figure(5.0, 3.6)
    ax = fig.subplots()
    resolutions = sorted(errors)
    ax.plot(resolutions, [errors[r] for r in resolutions], "o-", color="C0", label="test error")
    ax.axvline(trained_at, color="0.6", linestyle=":", label=f"trained at {trained_at}")
    if tolerance is not None:
        ax.axhline(tolerance, color="C3", linestyle="--", label=f"tolerance {tolerance:g}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(resolutions, [str(r) for r in resolutions])
    ax.set_xlabel("points per axis")
    ax.set_ylabel("mean relative L2 error")
    ax.legend(loc="best", fontsize="small")
    return save(fig, path)
