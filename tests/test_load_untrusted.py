"""Reading a run reaches nothing outside its folder: solution.h5 is read only for the data it holds itself."""
import h5py
import numpy as np
import pytest

import pinn
from pinn.io import CorruptFileError
from pinn.solve import main

from conftest import TINY_PROBLEM


def problem_text(changes) -> str:
    text = TINY_PROBLEM
    for old, new in changes:
        assert old in text, f"test setup: {old!r} not in the problem text"
        text = text.replace(old, new)
    return text


def finished_run(write_problem, tmp_path, changes=(), name="run"):
    out = tmp_path / name
    assert main([str(write_problem(problem_text(changes))), "--out", str(out), "--quiet"]) in (0, 1)
    return out



# -------------------------------------------------------------------------- crafted solution.h5
@pytest.fixture
def secret(tmp_path):
    """An HDF5 file and a raw file outside the run, which reading the run must never reach."""
    path = tmp_path / "secret.h5"
    with h5py.File(path, "w") as handle:
        handle["data"] = np.arange(441.0).reshape(21, 21)
    raw = tmp_path / "secret.bin"
    raw.write_bytes(np.arange(441.0).tobytes())
    return path, raw


@pytest.mark.parametrize("kind, refusal", [
    ("external link", "/predicted/u is a ExternalLink"),
    ("external group", "/reference is a ExternalLink"),
    ("soft link", "/predicted/u is a SoftLink"),
    ("virtual dataset", "/predicted/u is a virtual dataset"),
    ("external storage", "/predicted/u is stored in external files"),
])
def test_a_solution_file_that_points_outside_is_refused(write_problem, tmp_path, no_plots, secret, kind, refusal):
    run = finished_run(write_problem, tmp_path)
    solution = pinn.load(run)
    secret_h5, secret_raw = secret
    with h5py.File(run / "solution.h5", "a") as handle:
        if kind == "external group":
            del handle["reference"]
            handle["reference"] = h5py.ExternalLink(str(secret_h5), "/")
        else:
            del handle["predicted/u"]
        if kind == "external link":
            handle["predicted/u"] = h5py.ExternalLink(str(secret_h5), "/data")
        elif kind == "soft link":
            handle["predicted/u"] = h5py.SoftLink("/error/u")
        elif kind == "virtual dataset":
            layout = h5py.VirtualLayout(shape=(21, 21), dtype="f8")
            layout[:] = h5py.VirtualSource(str(secret_h5), "data", shape=(21, 21))
            handle.create_virtual_dataset("predicted/u", layout)
        elif kind == "external storage":
            handle.create_dataset("predicted/u", shape=(21, 21), dtype="f8", external=[(str(secret_raw), 0, 441 * 8)])
    with pytest.raises(CorruptFileError, match=f"solution.h5: {refusal}.*this file is refused"):
        solution.grid()

