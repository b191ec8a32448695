"""Observed trajectories: the states of a system at each trajectory's own (possibly irregular) times.

A :class:`Trajectory` holds one trajectory; :func:`read_trajectories` reads many from a CSV or HDF5
file. Each checks itself: times strictly increasing, every value finite, one value per state at each
time; a mistake is a ValueError naming the trajectory (and the file, row or dataset) at fault.

CSV: a header naming a ``trajectory`` column (any label per trajectory), a ``t`` column and one column
per state, one row per observation; rows of a trajectory in time order::

    trajectory,t,x,y
    a,0.0,1.0,1.0
    a,0.13,1.21,0.87
    b,0.0,0.5,2.0

HDF5: one group per trajectory, each with datasets ``t`` (n,) and ``values`` (n, states).
"""
from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One observed trajectory.

    Args:
        times: observation times, strictly increasing, shape (n,).
        values: the states at those times, shape (n, states) (or (n,) for one state).
        name: how messages and plots name it.
        noise: the standard deviation of the observation noise, when known (reported, not used to weight).
    """

    times: np.ndarray
    values: np.ndarray
    name: str = "trajectory"
    noise: float | None = field(default=None)

    def __post_init__(self) -> None:
        label = f"trajectory {self.name!r}"
        times = np.asarray(self.times, dtype=np.float64)
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        if times.ndim != 1 or times.size < 1:
            raise ValueError(f"{label}: times must be a 1-D array of at least one time, got shape {times.shape}")
        if values.ndim != 2 or values.shape[0] != times.size:
            raise ValueError(f"{label}: values must have one row per time ({times.size}), got shape {values.shape}")
        if not np.all(np.isfinite(times)):
            raise ValueError(f"{label}: time {_first_bad(times)} is NaN or infinite")
        if not np.all(np.isfinite(values)):
            row = int(np.argwhere(~np.isfinite(values))[0][0])
            raise ValueError(f"{label}: the values at time {times[row]:g} (row {row}) hold NaN or infinity")
        steps = np.diff(times)
        if np.any(steps <= 0):
            row = int(np.argmax(steps <= 0)) + 1
            raise ValueError(f"{label}: times must be strictly increasing, but time {row} ({times[row]:g}) does not "
                             f"follow time {row - 1} ({times[row - 1]:g})")
        if self.noise is not None and not (isinstance(self.noise, (int, float)) and math.isfinite(self.noise)
                                           and self.noise >= 0):
            raise ValueError(f"{label}: noise must be a standard deviation >= 0 or None, got {self.noise!r}")
        times.setflags(write=False)
        values.setflags(write=False)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "values", values)

    @property
    def states(self) -> int:
        return self.values.shape[1]

    def __len__(self) -> int:
        return self.times.size


def _first_bad(times: np.ndarray) -> str:
    row = int(np.argwhere(~np.isfinite(times))[0][0])
    return f"{row}"


def check_states(trajectories: Sequence[Trajectory], states: Sequence[str], where: str) -> None:
    """A ValueError unless every trajectory holds one value per state in ``states``."""
    for trajectory in trajectories:
        if not isinstance(trajectory, Trajectory):
            raise ValueError(f"{where}: expected pinn.Trajectory objects, got {type(trajectory).__name__}")
        if trajectory.states != len(states):
            raise ValueError(f"{where}: trajectory {trajectory.name!r} has {trajectory.states} values per time, but "
                             f"the states are {len(states)} ({', '.join(states)})")


def read_trajectories(path: str | Path, states: Sequence[str] | str | None = None) -> tuple[Trajectory, ...]:
    """The trajectories in a CSV (``.csv``) or HDF5 (``.h5``, ``.hdf5``) file (layouts in the module's
    documentation); ``states`` (names, or one string of names) picks and orders the CSV's state columns
    (default: every column besides ``trajectory`` and ``t``)."""
    path = Path(path)
    if isinstance(states, str):
        states = states.split()
    if not path.is_file():
        raise ValueError(f"trajectory file {path} does not exist")
    try:
        if path.suffix.lower() == ".csv":
            return _read_csv(path, states)
        if path.suffix.lower() in (".h5", ".hdf5"):
            return _read_hdf5(path)
    except ValueError as err:
        raise ValueError(f"trajectory file {path}: {err}") from None
    raise ValueError(f"trajectory file {path}: expected a .csv, .h5 or .hdf5 file")


def _read_csv(path: Path, states: Sequence[str] | None) -> tuple[Trajectory, ...]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for needed in ("trajectory", "t"):
            if needed not in header:
                raise ValueError(f"the header must name a {needed!r} column, got {header}")
        columns = list(states) if states is not None else [c for c in header if c not in ("trajectory", "t")]
        missing = [c for c in columns if c not in header]
        if missing or not columns:
            raise ValueError(f"no column for state(s) {missing or 'any'} in the header {header}")
        rows: dict[str, list[list[float]]] = {}
        for number, row in enumerate(reader, start=2):
            try:
                rows.setdefault(row["trajectory"], []).append([float(row["t"])] + [float(row[c]) for c in columns])
            except (TypeError, ValueError):
                raise ValueError(f"line {number}: every t and state value must be a number, got {row}") from None
    if not rows:
        raise ValueError("it holds no observations")
    return tuple(Trajectory(np.array(r)[:, 0], np.array(r)[:, 1:], name=name) for name, r in rows.items())


def _read_hdf5(path: Path) -> tuple[Trajectory, ...]:
    import h5py

    trajectories = []
    with h5py.File(path, "r") as handle:
        for name, group in handle.items():
            if not isinstance(group, h5py.Group) or "t" not in group or "values" not in group:
                raise ValueError(f"{name!r} must be a group holding datasets 't' and 'values'")
            trajectories.append(Trajectory(group["t"][()], group["values"][()], name=name))
    if not trajectories:
        raise ValueError("it holds no trajectory groups")
    return tuple(trajectories)
