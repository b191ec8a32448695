"""Compare finished runs side by side: ``python -m pinn.compare RUN [RUN ...] [--out DIR] [--force]``.

Prints a table of each run's key metrics (verdict, each field's relative L2 error and tolerance, wall time,
steps, seed) and of the settings that differ between the runs (config.json's entries, flattened to dotted
keys such as ``net.width`` or ``training.schedule.adam.steps``; the run's id, always different, is left
out). Writes ``compare.csv`` (one row per run, the same columns) and ``compare.png`` (the relative L2
error against the step, one line per run, log scale) into ``--out`` (default: the current folder),
never into a run folder, and replaces neither file unless ``--force``.

Exit status 0 when written, 2 for a mistake (a folder that is not a finished run, files that exist
without ``--force``, an --out inside a run), with a message naming the folder or file at fault.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pinn.loading import UserError
from pinn.output.files import CorruptFileError, WriteError, atomic_write, read_history
from pinn.output.finished import FinishedRun, read_finished_run
from pinn.output.summary import verdict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

EXIT_WRITTEN, EXIT_USER_ERROR = 0, 2
OUTPUTS = ("compare.csv", "compare.png")
IGNORED_SETTINGS = frozenset({"run_id"})
"""config.json entries that differ between any two runs and say nothing of how they ran."""
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


@dataclass(frozen=True)
class Comparison:
    """Runs side by side: ``columns`` name the entries, ``rows`` hold each run's values (None: not there)."""

    labels: list[str]
    columns: list[str]
    rows: list[dict[str, Any]]
    settings: list[str]  # the columns that are differing settings


def compare(runs: Sequence[FinishedRun]) -> Comparison:
    """The key metrics of ``runs`` and their settings that differ."""
    fields: list[str] = []
    for run in runs:
        fields.extend(f for f in (run.metrics.get("fields") or {}) if f not in fields)
    rows = []
    for run in runs:
        m = run.metrics
        row: dict[str, Any] = {"run": str(run.path), "problem": m.get("problem"), "verdict": verdict(m)}
        for name in fields:
            entry = (m.get("fields") or {}).get(name) or {}
            row[f"{name} rel_l2"] = entry.get("rel_l2")
            row[f"{name} tolerance"] = entry.get("tolerance")
        row.update({"wall_time_s": m.get("wall_time_s"), "steps": m.get("steps"), "seed": m.get("seed")})
        rows.append(row)
    columns = list(rows[0]) if rows else []
    flat = [flatten({k: v for k, v in run.config.items() if k not in IGNORED_SETTINGS}) for run in runs]
    keys: list[str] = []
    for settings in flat:
        keys.extend(k for k in settings if k not in keys)
    differing = [k for k in keys if len({_setting(s, k) for s in flat}) > 1]
    for row, settings in zip(rows, flat):
        row.update({k: settings.get(k) for k in differing})
    return Comparison([str(run.path) for run in runs], columns + differing, rows, differing)


def _setting(settings: dict[str, Any], key: str) -> str:
    """A setting as comparable text; a run without it differs from every run with it."""
    if key not in settings:
        return "<missing>"
    # A function's repr names its address, different in every process: not a difference of settings.
    return _ADDRESS.sub("", json.dumps(settings[key], sort_keys=True, default=str))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists as one level of dotted keys; a list item that names itself (``{"name": "adam",
    ...}``, a training phase) goes under its name, others under their index; a list of plain values stays one
    value."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [(v["name"], {k: x for k, x in v.items() if k != "name"})
                 if isinstance(v, dict) and isinstance(v.get("name"), str) else (str(i), v)
                 for i, v in enumerate(value)]
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def table(comparison: Comparison, width: int = 40) -> str:
    """The comparison as text: one line per entry, one column per run."""
    names = ["entry", *(f"run {i + 1}" for i in range(len(comparison.rows)))]
    lines = [[_cell(k, width) for k in names]]
    for column in comparison.columns:
        if column in comparison.settings and column == comparison.settings[0]:
            lines.append(["settings that differ:"] + [""] * len(comparison.rows))
        scientific = column.endswith((" rel_l2", " tolerance"))
        lines.append([_cell(column, width), *(_cell(row.get(column), width, scientific) for row in comparison.rows)])
    if not comparison.settings:
        lines.append(["(no setting differs)"] + [""] * len(comparison.rows))
    widths = [max(len(line[i]) for line in lines) for i in range(len(names))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    legend = [f"run {i + 1}: {label}" for i, label in enumerate(comparison.labels)]
    return "\n".join([*legend, "", *text])


def _cell(value: Any, width: int, scientific: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:.3e}" if scientific or (value and not 1e-2 <= abs(value) < 1e5) else f"{value:.4g}"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value)
    else:
        text = str(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def write_csv(comparison: Comparison, path: Path) -> None:
    """compare.csv: one row per run, lists and dicts as JSON."""
    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=comparison.columns, restval="")
            writer.writeheader()
            for row in comparison.rows:
                writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else ("" if v is None else v)
                                 for k, v in row.items()})

    atomic_write(path, write)


def plot_errors(runs: Sequence[FinishedRun], labels: Sequence[str], path: Path) -> None:
    """compare.png: :func:`error_figure`, written atomically."""
    from pinn.plots.style import save

    save(error_figure(runs, labels), path)


def error_figure(runs: Sequence[FinishedRun], labels: Sequence[str]) -> Figure:
    """Each run's relative L2 error (history.csv's ``rel_l2``, all fields) against the step, one line per run,
    log scale."""
    from pinn.plots.style import figure

    fig = figure(8.0, 4.5)
    ax = fig.subplots()
    for number, (run, label) in enumerate(zip(runs, labels), start=1):
        steps, errors = _error_history(run.path / "history.csv")
        name = f"run {number}: {label}"
        if not steps:
            name += " (no error recorded)"
        ax.plot(steps, errors, marker="o", ms=3, lw=1.4, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("relative L2 error")
    ax.set_title("relative L2 error against the reference")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def _error_history(path: Path) -> tuple[list[float], list[float]]:
    if not path.is_file():
        return [], []
    try:
        rows = read_history(path)
    except CorruptFileError as err:
        raise UserError(str(err)) from None
    points = [(float(r["step"]), float(r["rel_l2"])) for r in rows if isinstance(r.get("rel_l2"), (int, float))
              and math.isfinite(r["rel_l2"]) and r["rel_l2"] > 0]
    return [p[0] for p in points], [p[1] for p in points]


def _check_out(out: Path, runs: Sequence[FinishedRun], force: bool) -> None:
    target = out.resolve()
    for run in runs:
        if target.is_relative_to(run.path.resolve()):
            raise UserError(f"--out {out} is inside the run folder {run.path}; compare never writes into a run: "
                            "choose another --out")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder; choose another --out")
    existing = [str(out / name) for name in OUTPUTS if (out / name).exists()]
    if existing and not force:
        raise UserError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; pass --force to "
                        "replace, or choose another --out")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pinn.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished run folders (each with metrics.json)")
    parser.add_argument("--out", type=Path, default=Path("."), help="where compare.csv and compare.png go "
                        "(default: the current folder)")
    parser.add_argument("--force", action="store_true", help="replace compare.csv and compare.png if they exist")
    args = parser.parse_args(argv)
    try:
        runs = [read_finished_run(path) for path in args.runs]
        _check_out(args.out, runs, args.force)
        comparison = compare(runs)
        print(table(comparison))
        args.out.mkdir(parents=True, exist_ok=True)
        write_csv(comparison, args.out / "compare.csv")
        plot_errors(runs, comparison.labels, args.out / "compare.png")
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (WriteError, OSError) as err:
        print(f"error: could not write {err.filename}: {err.strerror or err}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"\nwrote {args.out / 'compare.csv'} and {args.out / 'compare.png'}")
    return EXIT_WRITTEN


if __name__ == "__main__":
    sys.exit(main())
