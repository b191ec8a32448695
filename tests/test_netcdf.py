"""solution.h5 is a netCDF-4 file: xarray (engine h5netcdf) sees named dimensions, coordinates equal to
the grid's axes and values equal to the HDF5 ones, in a real run and through write_solution itself;
the readers of the file keep working."""
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

import pinn
from pinn.output.files import read_solution, write_solution
from pinn.references.grid import GridReference
from pinn.solve import main

PROBLEMS = Path(__file__).resolve().parents[1] / "problems"


@pytest.fixture(scope="module")
def heat1d(tmp_path_factory):
    out = tmp_path_factory.mktemp("heat1d") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pinn.output.figures.run_plots", lambda *args, **kwargs: None)
        assert main([str(PROBLEMS / "heat1d.py"), "--out", str(out), "--quiet", "--steps", "4"]) in (0, 1)
    return out


def test_xarray_sees_the_dimensions_coordinates_and_values_of_a_run(heat1d):
    path = heat1d / "solution.h5"
    with h5py.File(path, "r") as h5:
        x, t, inside = h5["grid/x"][()], h5["grid/t"][()], h5["inside"][()]
        arrays = {kind: h5[f"{kind}/u"][()] for kind in ("predicted", "reference", "error")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # h5netcdf accepts every object and attribute without a complaint
        root = xr.open_dataset(path, engine="h5netcdf")
        tree = xr.open_datatree(path, engine="h5netcdf")
        predicted = xr.open_dataset(path, engine="h5netcdf", group="predicted")
    assert dict(root.sizes) == {"x": len(x), "t": len(t)} and set(root.coords) == {"x", "t"}
    np.testing.assert_array_equal(root["x"].values, x)
    np.testing.assert_array_equal(root["t"].values, t)
    assert root["inside"].dims == ("x", "t") and root["inside"].attrs["flag_meanings"] == "outside inside"
    np.testing.assert_array_equal(root["inside"].values, inside)
    assert root["t"].attrs["long_name"] == "time t" and root.attrs["problem"] == "heat1d"
    for kind, values in arrays.items():
        u = tree[kind]["u"]  # a group's variables inherit the root's coordinates
        assert u.dims == ("x", "t") and u.attrs["long_name"].startswith(f"{kind} u" if kind != "error" else "error of u")
        np.testing.assert_array_equal(u["x"].values, x)
        np.testing.assert_array_equal(u["t"].values, t)
        np.testing.assert_array_equal(u.values, values)
    assert predicted["u"].dims == ("x", "t")  # one group alone: named dimensions (coordinates at the root)
    np.testing.assert_array_equal(predicted["u"].values, arrays["predicted"])
    np.testing.assert_array_equal(tree["grid"]["x"].values, x)


def test_the_readers_of_solution_h5_keep_working(heat1d):
    solution = pinn.load(heat1d).grid()
    assert list(solution["grid"]) == ["x", "t"] and set(solution["predicted"]) == {"u"}
    direct = read_solution(heat1d / "solution.h5")
    np.testing.assert_array_equal(direct["error"]["u"], direct["predicted"]["u"] - direct["reference"]["u"])


def grid() -> GridReference:
    axes = {"x": np.linspace(0, 1, 3), "y": np.linspace(0, 2, 4)}
    X, Y = np.meshgrid(*axes.values(), indexing="ij")
    return GridReference(axes, {"p": X + 10 * Y}, description="test", inside=X + Y < 2.5)


def test_units_when_given_and_none_otherwise(tmp_path):
    path = tmp_path / "s.h5"
    write_solution(path, grid(), {"p": np.zeros(12), "q": np.ones(12)}, None, {"problem": "p"},
                   units={"x": "m", "p": "Pa"})
    root = xr.open_dataset(path, engine="h5netcdf")
    assert root["x"].attrs["units"] == "m" and "units" not in root["y"].attrs
    np.testing.assert_array_equal(root["inside"].values, grid().inside.astype(np.uint8))
    assert root["inside"].values.sum() == 12 - 2  # x + y >= 2.5 at (0.5, 2) and (1, 2)
    tree = xr.open_datatree(path, engine="h5netcdf")
    assert tree["reference"]["p"].attrs["units"] == "Pa" and "units" not in tree["predicted"]["q"].attrs
    assert set(tree["reference"].data_vars) == {"p"}  # q has no reference: its prediction alone


def test_an_input_named_like_a_member_keeps_the_old_layout(tmp_path, caplog):
    axes = {"error": np.linspace(0, 1, 3)}
    path = tmp_path / "s.h5"
    write_solution(path, GridReference(axes, {}, description="none"), {"u": np.arange(3.0)}, None, {})
    assert "without netCDF dimensions" in caplog.text
    np.testing.assert_array_equal(read_solution(path)["predicted"]["u"], np.arange(3.0))


def test_the_netcdf_c_library_reads_it_too(heat1d):
    """netCDF-C itself (through the netCDF4 package, when installed: it is not in the dev extra)."""
    netCDF4 = pytest.importorskip("netCDF4")
    with netCDF4.Dataset(heat1d / "solution.h5") as nc, h5py.File(heat1d / "solution.h5", "r") as h5:
        assert {name: len(dim) for name, dim in nc.dimensions.items()} == {"x": h5["x"].size, "t": h5["t"].size}
        assert nc["error"]["u"].dimensions == ("x", "t") and nc["inside"].dtype == np.uint8
        np.testing.assert_array_equal(nc["error"]["u"][:].data, h5["error/u"][()])
