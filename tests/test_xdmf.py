"""solution.xdmf (ParaView) read back by a real XDMF reader, meshio: the mesh, the point order and every
value equal to solution.h5's, for a space-time run (heat1d: x, t), a steady 2-D run (kovasznay: x, y)
and a 2-D space-time run (heat2d: x, y, t); other shapes of grid through write_xdmf itself."""
from pathlib import Path

import h5py
import meshio
import numpy as np
import pytest

from pinn.output.xdmf import mesh_cells, write_xdmf
from pinn.references.grid import GridReference
from pinn.solve import main

PROBLEMS = Path(__file__).resolve().parents[1] / "problems"


def run(tmp_path_factory, name: str, *settings: str) -> Path:
    """A short run of a built-in problem (its figures skipped): the run folder."""
    out = tmp_path_factory.mktemp(name) / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pinn.output.figures.run_plots", lambda *args, **kwargs: None)
        patch.setattr("pinn.output.figures.problem_plots", lambda *args, **kwargs: None)
        assert main([str(PROBLEMS / name), "--out", str(out), "--quiet", *settings]) in (0, 1)
    return out


@pytest.fixture(scope="module")
def heat1d(tmp_path_factory):
    return run(tmp_path_factory, "heat1d.py", "--steps", "4")


@pytest.fixture(scope="module")
def kovasznay(tmp_path_factory):
    return run(tmp_path_factory, "kovasznay.py", "--steps", "3", "--set", "levenberg_marquardt.steps=0")


@pytest.fixture(scope="module")
def heat2d(tmp_path_factory):
    return run(tmp_path_factory, "heat.py", "--steps", "3", "--set", "levenberg_marquardt.steps=0")


def saved(run_dir: Path) -> dict:
    with h5py.File(run_dir / "solution.h5", "r") as h5:
        return {"axes": {name: h5[f"grid/{name}"][()] for name in h5.attrs["axes"][2:-2].split('", "')},
                **{kind: {name: h5[f"{kind}/{name}"][()] for name in h5[kind]}
                   for kind in ("predicted", "reference", "error")},
                "inside": h5["inside"][()]}


def ij_points(*axes: np.ndarray) -> np.ndarray:
    return np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=1)


def assert_step_equals(point_data: dict, solution: dict, index: tuple) -> None:
    """Every field of one grid (or time step: ``index`` selects it) equals solution.h5's, point by point."""
    expected = {"inside": solution["inside"][index].ravel()}
    for kind in ("predicted", "reference", "error"):
        expected.update({f"{name}_{kind}": array[index].ravel() for name, array in solution[kind].items()})
    assert set(expected) <= set(point_data)
    for name, values in expected.items():
        np.testing.assert_array_equal(point_data[name], values, err_msg=name)


def test_space_time_run_is_a_time_series_of_its_grid(heat1d):
    solution = saved(heat1d)
    x, t = solution["axes"]["x"], solution["axes"]["t"]
    with meshio.xdmf.TimeSeriesReader(heat1d / "solution.xdmf") as reader:
        points, cells = reader.read_points_cells()
        np.testing.assert_array_equal(points, np.stack([x, np.zeros_like(x)], axis=1))
        assert [c.type for c in cells] == ["line"] and cells[0].data.tolist() == [[i, i + 1] for i in range(len(x) - 1)]
        assert reader.num_steps == len(t) > 1
        for step in range(reader.num_steps):
            time, point_data, _ = reader.read_data(step)
            assert time == t[step]  # exactly: the XML holds the number's repr
            assert_step_equals(point_data, solution, (slice(None), step))


def test_steady_2d_run_keeps_the_point_order_and_adds_the_velocity(kovasznay):
    solution = saved(kovasznay)
    x, y = solution["axes"]["x"], solution["axes"]["y"]
    mesh = meshio.read(kovasznay / "solution.xdmf")
    np.testing.assert_array_equal(mesh.points, ij_points(x, y))  # x is not y: the order is not transposed
    assert_step_equals(mesh.point_data, solution, ())
    assert [c.type for c in mesh.cells] == ["quad"] and len(mesh.cells[0].data) == (len(x) - 1) * (len(y) - 1)
    assert np.all(signed_areas(mesh.points, mesh.cells[0].data) > 0)  # counter-clockwise: not mirrored
    u, v = (solution["predicted"][n].ravel() for n in "uv")
    np.testing.assert_array_equal(mesh.point_data["velocity_predicted"], np.stack([u, v, 0 * u], axis=1))
    np.testing.assert_array_equal(mesh.point_data["speed_predicted"], np.sqrt(u ** 2 + v ** 2))
    reference_speed = np.hypot(*(solution["reference"][n].ravel() for n in "uv"))
    np.testing.assert_allclose(mesh.point_data["speed_reference"], reference_speed, rtol=1e-15)
    np.testing.assert_array_equal(mesh.point_data["speed_error"],
                                  mesh.point_data["speed_predicted"] - mesh.point_data["speed_reference"])


def test_2d_space_time_run_is_a_time_series_of_quadrilaterals(heat2d):
    solution = saved(heat2d)
    x, y, t = (solution["axes"][n] for n in "xyt")
    with meshio.xdmf.TimeSeriesReader(heat2d / "solution.xdmf") as reader:
        points, cells = reader.read_points_cells()
        np.testing.assert_array_equal(points, ij_points(x, y))
        assert cells[0].type == "quad" and np.all(signed_areas(points, cells[0].data) > 0)
        assert reader.num_steps == len(t) > 1
        for step in (0, reader.num_steps // 2, reader.num_steps - 1):
            time, point_data, _ = reader.read_data(step)
            assert time == t[step]
            assert_step_equals(point_data, solution, (slice(None), slice(None), step))


def signed_areas(points: np.ndarray, quads: np.ndarray) -> np.ndarray:
    """Twice the signed area of each quadrilateral (shoelace): positive when its corners turn counter-clockwise."""
    xs, ys = points[quads, 0], points[quads, 1]
    return np.sum(xs * np.roll(ys, -1, axis=1) - np.roll(xs, -1, axis=1) * ys, axis=1)


# ------------------------------------------------------------------ other grids, through write_xdmf itself

def grid_of(axes: dict, field) -> GridReference:
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    return GridReference(axes, {"f": field(*mesh)}, description="test")


def test_3d_space_is_hexahedra_with_positive_volumes(tmp_path):
    axes = {"x": np.linspace(0, 1, 4), "y": np.linspace(0, 2, 3), "z": np.linspace(-1, 0, 5)}
    grid = grid_of(axes, lambda x, y, z: x + 10 * y + 100 * z)
    predicted = {"f": grid.fields["f"].ravel() + 1}
    assert write_xdmf(tmp_path / "s.xdmf", tmp_path / "s.xdmf.h5", grid, predicted, None)
    mesh = meshio.read(tmp_path / "s.xdmf")
    np.testing.assert_array_equal(mesh.points, ij_points(*axes.values()))
    x, y, z = mesh.points.T
    np.testing.assert_array_equal(mesh.point_data["f_reference"], x + 10 * y + 100 * z)
    np.testing.assert_array_equal(mesh.point_data["f_error"], mesh.point_data["f_predicted"] - (x + 10 * y + 100 * z))
    np.testing.assert_allclose(mesh.point_data["f_error"], 1, rtol=1e-12)
    hexahedra = mesh.cells[0].data
    assert mesh.cells[0].type == "hexahedron" and len(hexahedra) == 3 * 2 * 4
    corners = mesh.points[hexahedra]  # VTK's order: a counter-clockwise bottom face, then the top one above it
    volume = np.einsum("ij,ij->i", np.cross(corners[:, 1] - corners[:, 0], corners[:, 3] - corners[:, 0]),
                       corners[:, 4] - corners[:, 0])
    np.testing.assert_allclose(volume, (1 / 3) * 1 * 0.25)


def test_time_first_among_the_inputs_and_a_1d_steady_grid(tmp_path):
    axes = {"t": np.array([0.0, 0.5, 2.0]), "x": np.linspace(0, 1, 4)}
    grid = grid_of(axes, lambda t, x: t + 10 * x)
    write_xdmf(tmp_path / "a.xdmf", tmp_path / "a.xdmf.h5", grid, {"f": grid.fields["f"].ravel()}, "t")
    with meshio.xdmf.TimeSeriesReader(tmp_path / "a.xdmf") as reader:
        points, _ = reader.read_points_cells()
        for step in range(3):
            time, point_data, _ = reader.read_data(step)
            assert time == axes["t"][step]
            np.testing.assert_array_equal(point_data["f_predicted"], time + 10 * points[:, 0])
    line = GridReference({"x": np.linspace(0, 1, 5)}, {}, description="none")
    write_xdmf(tmp_path / "b.xdmf", tmp_path / "b.xdmf.h5", line, {"u": np.arange(5.0)}, None)
    mesh = meshio.read(tmp_path / "b.xdmf")
    assert set(mesh.point_data) == {"u_predicted", "inside"}  # no reference: the prediction alone
    np.testing.assert_array_equal(mesh.point_data["u_predicted"], np.arange(5.0))


def test_a_grid_of_four_space_dimensions_writes_nothing(tmp_path):
    axes = {name: np.linspace(0, 1, 2) for name in "abcd"}
    grid = grid_of(axes, lambda *xs: sum(xs))
    assert not write_xdmf(tmp_path / "s.xdmf", tmp_path / "s.xdmf.h5", grid, {}, None)
    assert list(tmp_path.iterdir()) == []


def test_cells_number_the_points_in_ij_order():
    assert mesh_cells((3, 2)).tolist() == [[0, 2, 3, 1], [2, 4, 5, 3]]


def test_vtk_xdmf_reader_reads_the_same(heat1d, kovasznay):
    """VTK's XDMF reader, the one behind ParaView's "XDMF Reader" (when the vtk package is installed: it is
    not in the dev extra, 570 MB): the mesh, each time step and the values, as meshio read them."""
    xdmf2 = pytest.importorskip("vtkmodules.vtkIOXdmf2")
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline

    def read(path: Path, step: int | None = None):
        reader = xdmf2.vtkXdmfReader()
        reader.SetFileName(str(path))
        reader.UpdateInformation()
        information = reader.GetOutputInformation(0)
        times = None
        if step is None:
            reader.Update()
        else:
            times = information.Get(vtkStreamingDemandDrivenPipeline.TIME_STEPS())
            reader.UpdateTimeStep(times[step])
        out = reader.GetOutputDataObject(0)
        data = out.GetPointData()
        arrays = {data.GetArrayName(i): vtk_to_numpy(data.GetArray(i)) for i in range(data.GetNumberOfArrays())}
        return vtk_to_numpy(out.GetPoints().GetData()), out.GetNumberOfCells(), arrays, times

    solution = saved(heat1d)
    points, cells, arrays, times = read(heat1d / "solution.xdmf", step=7)
    np.testing.assert_array_equal(times, solution["axes"]["t"])
    np.testing.assert_array_equal(points[:, 0], solution["axes"]["x"])
    assert cells == len(points) - 1
    assert_step_equals(arrays, solution, (slice(None), 7))
    solution = saved(kovasznay)
    points, cells, arrays, _ = read(kovasznay / "solution.xdmf")
    np.testing.assert_array_equal(points[:, :2], ij_points(solution["axes"]["x"], solution["axes"]["y"]))
    assert_step_equals(arrays, solution, ())
    assert arrays["velocity_predicted"].shape == (len(points), 3)


def test_displacement_vectors_beside_the_stresses_and_a_problem_speed_kept(tmp_path):
    axes = {"x": np.linspace(0, 1, 3), "y": np.linspace(0, 1, 2)}
    X, Y = np.meshgrid(*axes.values(), indexing="ij")
    fields = {"ux": X, "uy": Y, "sxx": X * Y}
    grid = GridReference(axes, fields, description="test")
    write_xdmf(tmp_path / "e.xdmf", tmp_path / "e.xdmf.h5", grid, {k: v.ravel() for k, v in fields.items()}, None)
    mesh = meshio.read(tmp_path / "e.xdmf")
    assert {"sxx_predicted", "sxx_reference", "sxx_error", "displacement_predicted", "displacement_error"} <= set(
        mesh.point_data) and not any(name.startswith(("velocity", "speed")) for name in mesh.point_data)
    np.testing.assert_array_equal(mesh.point_data["displacement_reference"],
                                  np.stack([X.ravel(), Y.ravel(), 0 * X.ravel()], axis=1))
    flow = {"u": X, "v": Y, "speed": X + 7}  # cavity's own derived speed: drawn as it is, not replaced
    grid = GridReference(axes, flow, description="test")
    write_xdmf(tmp_path / "f.xdmf", tmp_path / "f.xdmf.h5", grid, {k: v.ravel() for k, v in flow.items()}, None)
    np.testing.assert_array_equal(meshio.read(tmp_path / "f.xdmf").point_data["speed_predicted"], (X + 7).ravel())
