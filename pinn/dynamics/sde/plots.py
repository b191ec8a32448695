"""Figures of a learnt SDE: sample paths, moment bands and the stationary density (pinn's one style)."""
from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence
from typing import Any

import numpy as np

from pinn.dynamics.trajectories import Trajectory
from pinn.dynamics.sde.references import Reference
from pinn.dynamics.sde.validation import moment_name
from pinn.plots.style import figure, save


def sample_paths(paths: Sequence[Trajectory], report: dict[str, Any], path: Path, shown: int = 12) -> Path:
    """A few observed paths beside a few paths of the learnt SDE from the validation start."""
    fig = figure(10, 3.6)
    observed, learnt = fig.subplots(1, 2, sharey=False)
    for observation in paths[:shown]:
        observed.plot(observation.times, observation.values, lw=0.7)  # every state
    observed.set(title=f"observed paths ({min(shown, len(paths))} of {len(paths)})", xlabel="t", ylabel="x")
    ensemble = report["ensemble"]
    fine = ensemble.fine[:, :shown]
    learnt.plot(ensemble.times, fine.reshape(fine.shape[0], -1), lw=0.8, marker=".")
    learnt.set(title="learnt SDE at the validation times", xlabel="t", ylabel="x")
    return save(fig, path)


def moment_bands(reference: Reference, report: dict[str, Any], path: Path, states: Sequence[str] = ("x",)) -> Path:
    """The reference mean and mean ± 2 standard deviations against the learnt ones, with each moment's
    tolerance (3 SE + bias) as an error bar; one row per state."""
    ensemble = report["ensemble"]
    times = ensemble.times[1:]
    dense = np.linspace(times[0] / 4, times[-1], 200)
    d = len(states)
    mean = np.reshape(reference.mean(dense), (dense.size, d))
    variance = np.reshape(reference.variance(dense), (dense.size, d))
    moments = {m.name: m for m in report["moments"]}
    fig = figure(10, 3.6 * d)
    for i, state in enumerate(states):
        which = (state,) if d > 1 else ()

        def found(kind: str, key: str) -> np.ndarray:
            return np.array([getattr(moments[moment_name(kind, t, which)], key) for t in times])

        learnt_mean, mean_bar = found("mean", "learnt"), found("mean", "tolerance")
        learnt_var, var_bar = found("var", "learnt"), found("var", "tolerance")
        bands, variances = fig.add_subplot(d, 2, 2 * i + 1), fig.add_subplot(d, 2, 2 * i + 2)
        spread = 2 * np.sqrt(variance[:, i])
        bands.fill_between(dense, mean[:, i] - spread, mean[:, i] + spread, alpha=0.25, label="reference mean ± 2 sd")
        bands.plot(dense, mean[:, i], label="reference mean")
        bands.errorbar(times, learnt_mean, yerr=mean_bar, fmt="o", capsize=3, label="learnt mean ± (3 SE + bias)")
        bands.plot(times, learnt_mean + 2 * np.sqrt(learnt_var), "k_", ms=12, label="learnt mean ± 2 sd")
        bands.plot(times, learnt_mean - 2 * np.sqrt(learnt_var), "k_", ms=12)
        bands.set(xlabel="t", ylabel=state, title=f"moment bands of {state}" if d > 1 else "moment bands")
        bands.legend(fontsize=7)
        variances.plot(dense, variance[:, i], label="reference")
        variances.errorbar(times, learnt_var, yerr=var_bar, fmt="o", capsize=3, label="learnt ± (3 SE + bias)")
        variances.set(xlabel="t", ylabel="variance", title=f"variance of {state}" if d > 1 else "variance")
        variances.legend(fontsize=7)
    return save(fig, path)


def stationary_density(report: dict[str, Any], path: Path) -> Path | None:
    """The exact stationary density, the learnt SDE's (by quadrature) and a histogram of its
    simulated paths at the last validation time (None: no stationary density to show)."""
    density = report.get("density")
    if density is None:
        return None
    fig = figure(5.5, 3.6)
    axes = fig.subplots()
    axes.hist(report["ensemble"].fine[-1], bins=60, density=True, alpha=0.3, label="learnt SDE, simulated")
    axes.plot(density["grid"], density["exact"], label="exact ∝ exp(-2V/σ²)")
    axes.plot(density["grid"], density["learnt"], "--", label=f"learnt (L1 {density['l1']:.2g})")
    axes.set(xlabel="x", ylabel="density", title="stationary density")
    axes.legend(fontsize=7)
    return save(fig, path)


def all_figures(paths: Sequence[Trajectory], reference: Reference, report: dict[str, Any], folder: Path,
                states: Sequence[str] = ("x",)) -> list[Path]:
    """Every figure into ``folder``: sample_paths.png, moments.png, stationary_density.png (where one exists)."""
    folder = Path(folder)
    written = [sample_paths(paths, report, folder / "sample_paths.png"),
               moment_bands(reference, report, folder / "moments.png", tuple(states)),
               stationary_density(report, folder / "stationary_density.png")]
    return [p for p in written if p is not None]
