"""Tests for pinn.plots: every case must write real, readable PNGs and nothing else."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from pinn.plots import plot_fields, plot_history

# Degenerate inputs (zero error, NaN masks, all-NaN columns) must not trigger numpy or
# matplotlib warnings such as log(0), empty-slice reductions or non-positive log limits.
pytestmark = pytest.mark.filterwarnings("error")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path, min_kb: float = 15.0) -> tuple[int, int]:
    """Check ``path`` is a sizeable, decodable PNG; return its (height, width) in pixels."""
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert path.stat().st_size > min_kb * 1024, f"{path} is only {path.stat().st_size} bytes"
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    height, width = image.shape[:2]
    assert height >= 300 and width >= 500, (height, width)
    # A real figure has content: not a single flat colour.
    assert float(image[..., :3].std()) > 0.02
    return height, width


def files_in(folder: Path) -> set[str]:
    """All entries of ``folder``, hidden temporaries included."""
    return {p.name for p in folder.iterdir()}


def grid(*axes: np.ndarray) -> list[np.ndarray]:
    return np.meshgrid(*axes, indexing="ij")


def test_2d_space_time(tmp_path: Path) -> None:
    xs, ys, ts = np.linspace(0, 1, 30), np.linspace(0, 2, 25), np.linspace(0, 1, 9)
    X, Y, T = grid(xs, ys, ts)
    ref = np.sin(np.pi * X) * np.sin(np.pi * Y / 2) * np.exp(-T)
    axes = {"x": xs, "y": ys, "t": ts}

    paths = plot_fields(tmp_path / "three", axes, {"u": ref + 0.01 * X}, {"u": ref}, "t", n_times=3)
    assert paths == [tmp_path / "three" / "u.png"]
    assert files_in(tmp_path / "three") == {"u.png"}
    h3, w3 = assert_png(paths[0])

    (one,) = plot_fields(tmp_path / "one", axes, {"u": ref + 0.01 * X}, {"u": ref}, "t", n_times=1)
    h1, w1 = assert_png(one)
    # One row per requested time: three rows make a clearly taller figure, same width.
    assert h3 > 2 * h1 and w3 == w1


def test_1d_space_time_writes_heatmap_and_profiles(tmp_path: Path) -> None:
    xs, ts = np.linspace(-1, 1, 101), np.linspace(0, 1, 51)
    X, T = grid(xs, ts)
    ref = -np.sin(np.pi * X) * np.exp(-T)
    fields_pred = {"u": ref + 0.01 * X * T, "v": 2 * ref}
    fields_ref = {"u": ref, "v": 2 * ref + 1e-3}

    paths = plot_fields(tmp_path, {"x": xs, "t": ts}, fields_pred, fields_ref, "t", n_times=4)
    names = ["u.png", "u_profiles.png", "v.png", "v_profiles.png"]
    assert paths == [tmp_path / n for n in names]
    assert files_in(tmp_path) == set(names)
    heat_h, heat_w = assert_png(tmp_path / "u.png")
    assert heat_w > 2 * heat_h  # one row of three heatmaps
    prof_h, prof_w = assert_png(tmp_path / "u_profiles.png")
    assert prof_w > 3 * prof_h  # four profile panels side by side


def test_2d_steady_with_nan_mask(tmp_path: Path) -> None:
    xs = ys = np.linspace(-1, 1, 41)
    X, Y = grid(xs, ys)
    ref = (1 - X**2) * (1 - Y**2)
    ref[(X > 0) & (Y > 0)] = np.nan  # L-shaped domain
    pred = np.nan_to_num(ref) + 1e-3 * X  # the network predicts everywhere
    pred[0, 0] = np.nan  # and may even produce a NaN itself

    (path,) = plot_fields(tmp_path, {"x": xs, "y": ys}, {"u": pred}, {"u": ref}, None)
    assert path == tmp_path / "u.png"
    height, width = assert_png(path)
    assert width > 2 * height  # a single row: prediction | reference | error
    # The masked quadrant is drawn in the light-grey mask colour somewhere.
    image = mpimg.imread(path)[..., :3]
    assert np.isclose(image, 0.85, atol=0.01).all(axis=-1).sum() > 1000


def test_1d_steady(tmp_path: Path) -> None:
    xs = np.linspace(0, 1, 101)
    ref = np.sin(2 * np.pi * xs)
    (path,) = plot_fields(tmp_path, {"x": xs}, {"u": ref + 1e-3 * xs**2}, {"u": ref}, None)
    assert path == tmp_path / "u.png"
    assert_png(path)


def test_3d_steady_plots_middle_slice(tmp_path: Path) -> None:
    g = np.linspace(0, 1, 11)
    X, Y, Z = grid(g, g, g)
    ref = X * Y * Z
    paths = plot_fields(tmp_path, {"x": g, "y": g, "z": g}, {"T": ref + 0.01}, {"T": ref}, None)
    assert paths == [tmp_path / "T.png"]
    assert_png(paths[0])


def test_3d_space_time(tmp_path: Path) -> None:
    g, ts = np.linspace(0, 1, 9), np.linspace(0, 1, 5)
    X, Y, Z, T = grid(g, g, g, ts)
    ref = X * Y + Z * T
    axes = {"x": g, "y": g, "z": g, "t": ts}
    (path,) = plot_fields(tmp_path, axes, {"T": ref * 1.01}, {"T": ref}, "t", n_times=2)
    assert_png(path)


def test_zero_error_and_constant_fields(tmp_path: Path) -> None:
    xs, ys, ts = np.linspace(0, 1, 20), np.linspace(0, 1, 20), np.linspace(0, 1, 4)
    X, Y, T = grid(xs, ys, ts)
    field = X + Y * T
    const = np.full_like(X, 2.0)
    zero = np.zeros_like(X)
    pred = {"u": field, "c": const, "z": zero}
    ref = {"u": field.copy(), "c": const.copy(), "z": zero.copy()}
    paths = plot_fields(tmp_path, {"x": xs, "y": ys, "t": ts}, pred, ref, "t", n_times=2)
    assert [p.name for p in paths] == ["u.png", "c.png", "z.png"]
    for p in paths:
        assert_png(p, min_kb=10)

    # Same in 1-D steady, where the error panel is a line plot.
    xs = np.linspace(0, 1, 50)
    (path,) = plot_fields(tmp_path / "1d", {"x": xs}, {"u": xs}, {"u": xs.copy()}, None)
    assert_png(path, min_kb=10)


def test_time_only_axis_and_single_instant(tmp_path: Path) -> None:
    ts = np.linspace(0, 5, 60)
    decay = np.exp(-ts)
    (path,) = plot_fields(tmp_path / "ode", {"t": ts}, {"y": decay}, {"y": decay + 1e-3}, "t")
    assert_png(path)

    xs = np.linspace(0, 1, 30)
    single = np.sin(3 * xs)[:, None]
    axes = {"x": xs, "t": np.array([0.5])}
    paths = plot_fields(tmp_path / "snap", axes, {"u": single}, {"u": single + 0.01}, "t")
    assert paths == [tmp_path / "snap" / "u.png"]  # treated as steady: no profiles file
    assert_png(paths[0])


def test_invalid_inputs_raise(tmp_path: Path) -> None:
    xs, ts = np.linspace(0, 1, 5), np.linspace(0, 1, 3)
    good = np.zeros((5, 3))
    with pytest.raises(ValueError, match="shape"):
        plot_fields(tmp_path, {"x": xs, "t": ts}, {"u": np.zeros((3, 5))}, {"u": good}, "t")
    with pytest.raises(ValueError, match="last"):
        plot_fields(tmp_path, {"t": ts, "x": xs}, {"u": good.T}, {"u": good.T}, "t")
    with pytest.raises(ValueError, match="no reference"):
        plot_fields(tmp_path, {"x": xs, "t": ts}, {"u": good}, {}, "t")
    assert files_in(tmp_path) == set()


def make_history(n: int, with_errors: bool) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in range(n):
        step = 10 * i
        row: dict[str, object] = {
            "step": step,
            "loss_total": 1.0 / (1 + step),
            "loss_pde": 0.6 / (1 + step),
            "loss_walls": 0.4 / (1 + step) ** 1.5,
            "lr": 1e-3 if i < n // 2 else 1.0,
            "optimizer": "adam" if i < n // 2 else "lbfgs",
        }
        if with_errors and i % 10 == 0:
            row["rel_l2"] = 0.5 / (1 + step) ** 0.5
            row["rel_l2_u"] = 0.3 / (1 + step) ** 0.5
        elif with_errors:
            row["rel_l2"] = float("nan")  # logged but not evaluated on this step
        rows.append(row)
    return rows


def test_history_with_errors_and_tolerances(tmp_path: Path) -> None:
    paths = plot_history(tmp_path, make_history(200, True), tolerances={"u": 1e-2, "rel_l2": 2e-2})
    assert paths == [tmp_path / "history.png"]
    assert files_in(tmp_path) == {"history.png"}
    h_err, _ = assert_png(paths[0])

    (no_err,) = plot_history(tmp_path / "plain", make_history(200, False))
    h_plain, _ = assert_png(no_err)
    # Without errors or tolerances the error panel is left out: 2 panels instead of 3.
    assert h_plain < 0.85 * h_err


def test_history_explicit_file_name(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "curves.png"
    assert plot_history(target, make_history(30, True)) == [target]
    assert_png(target)


def test_history_single_row(tmp_path: Path) -> None:
    (path,) = plot_history(tmp_path, [{"step": 0, "loss_total": 1.0, "loss_pde": 0.5, "lr": 1e-3}])
    assert_png(path)


def test_history_all_nan_errors_and_odd_values(tmp_path: Path) -> None:
    rows = make_history(20, False)
    for row in rows:
        row["rel_l2_u"] = float("nan")
    rows[3]["loss_pde"] = 0.0  # cannot be shown on a log axis: skipped, no warning
    rows[4]["loss_total"] = None
    del rows[5]["step"]
    (path,) = plot_history(tmp_path, rows, tolerances={"u": 1e-3})
    assert_png(path)


def test_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xs = np.linspace(0, 1, 20)
    (path,) = plot_fields(tmp_path, {"x": xs}, {"u": xs}, {"u": xs + 0.1}, None)
    original = path.read_bytes()

    def broken_savefig(self: Figure, fname: object, **kwargs: object) -> None:
        Path(fname).write_bytes(PNG_MAGIC + b"truncated")  # type: ignore[arg-type]
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        plot_fields(tmp_path, {"x": xs}, {"u": 2 * xs}, {"u": xs}, None)
    # The previous figure is untouched and no temporary file is left behind.
    assert path.read_bytes() == original
    assert files_in(tmp_path) == {"u.png"}
