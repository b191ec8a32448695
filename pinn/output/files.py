"""Files a run writes and reads: every write is atomic (temporary file, then rename), and a file
that cannot be read back raises :class:`CorruptFileError` naming it."""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pinn.references.grid import GridReference

logger = logging.getLogger(__name__)

_UMASK = os.umask(0)
os.umask(_UMASK)

TEMPORARY_SUFFIX = ".tmp"
"""Temporary files are ``.<name>.<random>.tmp`` beside their target: a killed writer leaves only those."""


class CorruptFileError(ValueError):
    """A run file exists but cannot be read back (truncated, corrupt or of another kind)."""


class WriteError(OSError):
    """A file could not be written (disk full, no permission, ...): ``filename`` is the file meant, not
    its temporary stand-in, and ``strerror`` the cause; whatever was there before is left intact."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary_path)`` then rename it to ``path``: readers never see half a file.

    Raises:
        WriteError: an OSError while writing (``path`` keeps its previous content).
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    except OSError as err:
        raise WriteError(err.errno, err.strerror or str(err), str(path)) from err
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes files private; results are meant to be shared
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, WriteError):
            raise WriteError(err.errno, err.strerror or str(err), str(path)) from err
        raise


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda p: p.write_text(json_text(data) + "\n"))


def json_text(data: Any) -> str:
    """``data`` as the indented JSON text a run's files hold (numpy numbers and paths as JSON values)."""
    return json.dumps(data, indent=2, default=_jsonable)


def read_json(path: Path) -> Any:
    """The content of a JSON file; :class:`CorruptFileError` if it is unreadable or not JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (ValueError, OSError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CorruptFileError(f"{path} is unreadable or not valid JSON ({err})") from None


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
    """Rows of history.csv, numbers as ints or floats as written (empty cells left out);
    :class:`CorruptFileError` if a row has no step number."""
    try:
        with Path(path).open(newline="") as handle:
            rows = [{k: _number(v) for k, v in row.items() if v not in ("", None) and k is not None}
                    for row in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise CorruptFileError(f"{path} is unreadable ({err})") from None
    for number, row in enumerate(rows, start=2):
        if not isinstance(row.get("step"), (int, float)):
            raise CorruptFileError(f"{path} is corrupt: line {number} has no step number")
    return rows


def _number(text: str) -> int | float | str:
    """A cell as written: ``12`` an int, ``12.0`` a float (so rows read back write the same text again)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


SOLUTION_MEMBERS = ("grid", "inside", "predicted", "reference", "error")
"""The names at the root of solution.h5 besides the grid's coordinate variables."""


def write_solution(path: Path, reference: GridReference, predicted: dict[str, np.ndarray],
                   time: str | None, attributes: dict[str, Any], units: dict[str, str] | None = None) -> None:
    """solution.h5: the grid axes, and per field the prediction, the reference and the pointwise error.

    The file is also a netCDF-4 file (:mod:`pinn.output.netcdf`): each axis is a dimension with its
    coordinate variable at the root, every array names its dimensions, and carries a ``long_name``
    (and ``units`` for the inputs and fields ``units`` names). An input named like a member of the file
    (``SOLUTION_MEMBERS``) leaves the file without the netCDF dimensions, as before them.
    """
    from pinn.output import netcdf

    units = units or {}
    dims = list(reference.axes)
    named = not set(dims) & set(SOLUTION_MEMBERS)
    if not named:
        logger.warning("solution.h5 is written without netCDF dimensions: an input is named like one of its "
                       "members %s", list(SOLUTION_MEMBERS))

    def add(group, name: str, values: np.ndarray, long_name: str, unit: str | None, **options):
        if named:
            return netcdf.add_variable(group, name, values, dims[:np.ndim(values)], long_name, unit, **options)
        return group.create_dataset(name, data=values, **options)

    def fill(handle) -> None:
        for key, value in attributes.items():
            handle.attrs[key] = value if isinstance(value, (int, float, str)) else json.dumps(value)
        handle.attrs["axes"] = json.dumps(dims)
        grid = handle.create_group("grid")
        for name, axis in reference.axes.items():
            long_name = f"time {name}" if name == time else f"coordinate {name}"
            if named:
                netcdf.add_coordinate(handle, name, axis, long_name, units.get(name))
                # the axis again under grid/, over its own dimension: where the existing readers look for it
                dataset = netcdf.add_variable(grid, name, axis, [name], long_name, units.get(name))
            else:
                dataset = grid.create_dataset(name, data=axis)
            dataset.attrs["role"] = "time" if name == time else "space"
        # uint8, not bool: netCDF has no boolean type (h5py's bool is an HDF5 enum netCDF tools cannot read)
        inside = add(handle, "inside", np.asarray(reference.inside, dtype=np.uint8),
                     "grid points inside the domain", None)
        inside.attrs["description"] = "grid points inside the domain: the errors in metrics.json are measured there"
        inside.attrs["flag_values"] = np.array([0, 1], dtype=np.uint8)
        inside.attrs["flag_meanings"] = "outside inside"
        inside.attrs["dims"] = json.dumps(dims)
        groups = {"predicted": "network prediction", "reference": reference.description,
                  "error": "prediction minus reference"}
        long_names = {"predicted": "predicted {}", "reference": "reference {}",
                      "error": "error of {} (predicted minus reference)"}
        for group_name, description in groups.items():
            handle.create_group(group_name).attrs["description"] = description
        for name, values in predicted.items():
            pred = np.asarray(values).reshape(reference.shape)
            data = {"predicted": pred}
            if name in reference.fields:  # a run without a reference writes its prediction only
                data.update(reference=reference.fields[name], error=pred - reference.fields[name])
            for group_name, array in data.items():
                dataset = add(handle[group_name], name, array, long_names[group_name].format(name), units.get(name),
                              compression="gzip")
                dataset.attrs["dims"] = json.dumps(dims)

    write_hdf5(path, fill)


def write_hdf5(path: Path, fill: Callable[[Any], None]) -> None:
    """An HDF5 file written atomically: ``fill`` gets the open ``h5py.File`` and adds what it holds."""
    import h5py

    def write(tmp: Path) -> None:
        # Built in memory, then written by Python: HDF5's own writes, failing on a full disk, leave objects
        # that crash the interpreter when freed (h5py 3, ENOSPC: a segmentation fault, not an OSError).
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as handle:
            fill(handle)
        tmp.write_bytes(buffer.getbuffer())

    atomic_write(path, write)


def read_solution(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """solution.h5 as arrays: ``{"grid": {input: axis}, "predicted": {field: values}, "reference": ...,
    "error": ...}`` (a run without a reference has empty ``reference`` and ``error``); the grid's axes
    in the inputs' order, the order of the arrays' dimensions.

    Only data stored in the file itself is read: a link to another file or place (external or soft
    link), a virtual dataset or one stored in external files, which could make reading this file
    read any file of this machine, is refused with :class:`CorruptFileError`.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no solution file at {path}")
    try:
        with h5py.File(path, "r") as handle:
            solution = {}
            for group_name in ("grid", "predicted", "reference", "error"):
                group = _stored_member(handle, group_name, h5py.Group, path)
                solution[group_name] = {name: np.asarray(_stored_member(group, name, h5py.Dataset, path))
                                        for name in group}
            order = json.loads(handle.attrs.get("axes", "[]"))  # HDF5 lists names alphabetically
            if isinstance(order, list) and sorted(order) == sorted(solution["grid"]):
                solution["grid"] = {name: solution["grid"][name] for name in order}
            return solution
    except CorruptFileError:
        raise
    except (OSError, KeyError, ValueError) as err:  # h5py: OSError for a truncated file, KeyError for a foreign one
        raise CorruptFileError(f"{path} is corrupt or not a pinn solution file ({err})") from None


_STORED_FILTERS = {1, 2, 3}
"""HDF5's own deflate (gzip), shuffle and fletcher32 filters: any other is a plugin library HDF5 would load."""


def _stored_member(parent: Any, name: str, kind: type, path: Path) -> Any:
    """``parent[name]``, checked to be a group or dataset (``kind``) stored in this very file."""
    import h5py

    where = f"{parent.name.rstrip('/')}/{name}"
    link = parent.get(name, getlink=True)
    if link is None:
        raise CorruptFileError(f"{path} is corrupt or not a pinn solution file (it has no {where})")
    if not isinstance(link, h5py.HardLink):
        raise CorruptFileError(f"{path}: {where} is a {type(link).__name__}, a link elsewhere; a pinn solution "
                               "file holds its data itself, so this file is refused")
    member = parent[name]
    if not isinstance(member, kind):
        raise CorruptFileError(f"{path} is corrupt or not a pinn solution file ({where} is not a {kind.__name__})")
    if isinstance(member, h5py.Dataset) and (member.is_virtual or member.external
                                             or not set(member.filter_ids) <= _STORED_FILTERS):
        how = ("a virtual dataset (made of other datasets or files)" if member.is_virtual
               else "stored in external files" if member.external else "stored with a filter plugin")
        raise CorruptFileError(f"{path}: {where} is {how}; a pinn solution file holds its data itself, so "
                               "this file is refused")
    return member


def save_checkpoint(path: Path, state: dict) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:  # through a Python file, whose OSError (ENOSPC, say) says what went wrong
            try:
                torch.save(state, handle)
            except RuntimeError as err:  # torch's writer fails again closing the file, hiding the cause
                if isinstance(err.__context__, OSError):
                    raise err.__context__ from None
                raise

    atomic_write(path, write)


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict:
    """Load a checkpoint without executing code from it (``weights_only=True``).

    Raises:
        FileNotFoundError: there is none.
        CorruptFileError: it is truncated, corrupt, or not a pinn checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises several types for truncated or foreign files
        reason = str(err).strip().splitlines()[0].split(". ")[0] if str(err).strip() else type(err).__name__
        raise CorruptFileError(f"checkpoint {path} is truncated, corrupt or not a pinn checkpoint "
                               f"({type(err).__name__}: {reason})") from None
    if not isinstance(state, dict) or "model" not in state or "step" not in state:
        raise CorruptFileError(f"checkpoint {path} is not a pinn checkpoint (it holds no model and step)")
    return state
