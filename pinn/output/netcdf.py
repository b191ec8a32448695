"""The netCDF-4 conventions solution.h5 follows, written with plain h5py: each grid axis is a dimension
(an HDF5 dimension scale) with its coordinate variable at the root of the file, and every array names
its dimensions by attaching those scales, so netCDF tools (``xarray`` with ``engine="h5netcdf"``,
``ncdump``, the netCDF-C library) see named dimensions and coordinates. Groups inherit the root's
dimensions, as netCDF-4 groups do."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def add_coordinate(handle: Any, name: str, values: np.ndarray, long_name: str,
                   units: str | None = None) -> Any:
    """Dimension ``name`` of ``handle`` (an h5py file or group) with its coordinate variable ``values``."""
    dataset = handle.create_dataset(name, data=values)
    dataset.make_scale(name)
    _describe(dataset, long_name, units)
    return dataset


def add_variable(group: Any, name: str, values: np.ndarray, dims: Sequence[str], long_name: str,
                 units: str | None = None, **options: Any) -> Any:
    """Variable ``name`` of ``group`` over the dimensions ``dims`` (coordinates made by :func:`add_coordinate`
    at the file's root); ``options`` go to ``create_dataset`` (compression)."""
    dataset = group.create_dataset(name, data=values, **options)
    root = group.file
    for axis, dim in enumerate(dims):
        dataset.dims[axis].attach_scale(root[dim])
    _describe(dataset, long_name, units)
    return dataset


def _describe(dataset: Any, long_name: str, units: str | None) -> None:
    dataset.attrs["long_name"] = long_name
    if units is not None:  # no declared unit: none written (netCDF's "1" would claim the value is dimensionless)
        dataset.attrs["units"] = units
