"""A finished run folder read back by the tools that look at runs (``pinn.report``, ``pinn.compare``): its
metrics.json and config.json, or a :class:`~pinn.loading.UserError` naming the folder and what it lacks."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pinn.loading import UserError
from pinn.output.files import CorruptFileError, read_json


@dataclass(frozen=True)
class FinishedRun:
    """A run folder whose run completed: ``metrics`` (metrics.json) and ``config`` (config.json, empty if
    the folder has none)."""

    path: Path
    metrics: dict
    config: dict


def read_finished_run(path: str | Path) -> FinishedRun:
    """The run in ``path``; a UserError if it is not a folder, has no metrics.json (not a run, or one that has
    not finished), or holds a metrics.json or config.json that is not a JSON object."""
    path = Path(path)
    if not path.is_dir():
        raise UserError(f"{path} is not a run folder (no such folder)")
    metrics_path, config_path = path / "metrics.json", path / "config.json"
    if not metrics_path.is_file():
        raise UserError(f"{path} is not a finished run folder: it has no metrics.json (not a run, or one that has "
                        "not finished: resume it with `python -m pinn.solve PROBLEM --out FOLDER --resume`)")
    metrics = _object(metrics_path)
    if not isinstance(metrics.get("problem"), str):
        raise UserError(f"{metrics_path} is not a pinn metrics.json: it names no problem")
    config = _object(config_path) if config_path.is_file() else {}
    return FinishedRun(path, metrics, config)


def _object(path: Path) -> dict:
    try:
        data = read_json(path)
    except CorruptFileError as err:
        raise UserError(str(err)) from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a pinn run file: it does not hold a JSON object")
    return data
