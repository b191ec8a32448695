"""Files a run writes and reads: every write is atomic (temporary file, then rename)."""
from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pinn.references.grid import GridReference


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary_path)`` then rename it to ``path``: readers never see half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes files private; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (np.ndarray, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def write_history(path: Path, rows: Iterable[dict]) -> None:
    """history.csv: one row per logged step; columns are the union of every row's keys."""
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(path, write)


def read_history(path: Path) -> list[dict]:
    """Rows of history.csv, numbers as floats (empty cells left out)."""
    with Path(path).open(newline="") as handle:
        return [{k: _number(v) for k, v in row.items() if v != ""} for row in csv.DictReader(handle)]


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def write_solution(path: Path, reference: GridReference, predicted: dict[str, np.ndarray],
                   time: str | None, attributes: dict[str, Any]) -> None:
    """solution.h5: the grid axes, and per field the prediction, the reference and the pointwise error."""
    import h5py

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as handle:
            for key, value in attributes.items():
                handle.attrs[key] = value if isinstance(value, (int, float, str)) else json.dumps(value)
            handle.attrs["axes"] = json.dumps(list(reference.axes))
            grid = handle.create_group("grid")
            for name, axis in reference.axes.items():
                dataset = grid.create_dataset(name, data=axis)
                dataset.attrs["role"] = "time" if name == time else "space"
            groups = {"predicted": "network prediction", "reference": reference.description,
                      "error": "prediction minus reference"}
            for group_name, description in groups.items():
                handle.create_group(group_name).attrs["description"] = description
            for name, values in predicted.items():
                pred = np.asarray(values).reshape(reference.shape)
                data = {"predicted": pred}
                if name in reference.fields:  # a run without a reference writes its prediction only
                    data.update(reference=reference.fields[name], error=pred - reference.fields[name])
                for group_name, array in data.items():
                    dataset = handle[group_name].create_dataset(name, data=array, compression="gzip")
                    dataset.attrs["dims"] = json.dumps(list(reference.axes))

    atomic_write(path, write)


def save_checkpoint(path: Path, state: dict) -> None:
    atomic_write(path, lambda p: torch.save(state, p))


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict:
    """Load a checkpoint without executing code from it (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise ValueError(f"checkpoint {path} is corrupt or not a pinn checkpoint ({type(err).__name__}: {err})") from None
