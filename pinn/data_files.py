"""Observations read from files: the columns of a CSV file or of an HDF5 file, by name.

A CSV file has a header row of column names, then one row of numbers per observation; it is read
as UTF-8 (a byte-order mark, as some spreadsheets write, is skipped). An HDF5 file holds one
dataset of real numbers per column. Each reader returns ``{name: float64 array}`` or raises
``ValueError`` naming the file and what is wrong in it, down to the line or the dataset.
:class:`pinn.Data` (``Data.from_csv``, ``Data.from_hdf5``) checks the columns against the problem.
"""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import numpy as np


def read_csv_columns(path: Path) -> dict[str, np.ndarray]:
    """The columns of the CSV file at ``path``; blank rows are skipped."""
    text = _utf8_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise ValueError(f"data file {path} needs a header row of column names and at least one data row")
    header = [name.strip() for name in rows[0][1]]
    for position, name in enumerate(header, start=1):
        if not name:
            raise ValueError(f"data file {path}: column {position} of the header has no name; name every column "
                             "(the inputs, the observed outputs and noise)")
        if header.count(name) > 1:
            raise ValueError(f"data file {path}: column {name!r} appears twice in the header; give each column its "
                             "own name")
    table = np.empty((len(rows) - 1, len(header)))
    for index, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ValueError(f"data file {path}, line {line}: {len(row)} values, but the header names {len(header)} "
                             f"columns ({', '.join(header)})")
        for column, (name, cell) in enumerate(zip(header, row)):
            try:
                table[index, column] = float(cell)
            except ValueError:
                raise ValueError(f"data file {path}, line {line}, column {name!r}: {cell.strip()!r} is not a "
                                 "number") from None
    return {name: table[:, i] for i, name in enumerate(header)}


def read_hdf5_columns(path: Path) -> dict[str, np.ndarray]:
    """The datasets at the top of the HDF5 file at ``path``, each flattened to one column."""
    import h5py

    _check_is_file(path)
    try:
        with h5py.File(path, "r") as handle:
            datasets = {name: handle[name] for name in handle if isinstance(handle[name], h5py.Dataset)}
            for name, dataset in datasets.items():
                if dataset.dtype.kind not in "biuf":  # bool, integers, floats: the numbers float64 holds
                    raise ValueError(f"data file {path}: dataset {name!r} holds {_kind_of(dataset.dtype)} "
                                     f"(dtype {dataset.dtype}); each dataset must hold real numbers, one "
                                     "1-D dataset per column")
            return {name: (np.zeros(0) if dataset.shape is None  # an HDF5 "empty" dataset
                           else np.asarray(dataset, dtype=np.float64).ravel())
                    for name, dataset in datasets.items()}
    except OSError as err:
        raise ValueError(f"data file {path} is not a readable HDF5 file ({err})") from None


def _check_is_file(path: Path) -> None:
    if path.is_dir():
        raise ValueError(f"data file {path} is a folder, not a file; give the path of the data file itself")
    if not path.is_file():
        raise ValueError(f"data file {path} does not exist")


def _utf8_text(path: Path) -> str:
    _check_is_file(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ValueError(f"data file {path} cannot be read: {err.strerror or err}") from None
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ValueError(f"data file {path} is not UTF-8 text (byte 0x{raw[err.start]:02x} on line {line}); save "
                         "it as UTF-8 (\"CSV UTF-8\" in a spreadsheet's Save As)") from None


def _kind_of(dtype: np.dtype) -> str:
    if dtype.kind in "SUO":  # fixed-length bytes or text, or h5py's variable-length strings
        return "text"
    if dtype.kind == "c":
        return "complex numbers"
    if dtype.kind == "V":
        return "records (a compound type)"
    return "values that are not real numbers"
