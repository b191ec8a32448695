"""The command line: the run folder it writes, exit statuses, resume and pinn.load (bad input:
tests/test_bad_inputs.py; kills, signals and divergence: tests/test_reliability.py)."""
import json

import h5py
import numpy as np
import pytest

import pinn
from pinn.output.files import read_history
from pinn.solve import main

from conftest import run_cli

RUN_FILES = {"config.json", "metrics.json", "history.csv", "checkpoint.pt", "solution.h5", "solution.xdmf",
             "solution.xdmf.h5", "problem.py", "plots",
             "report.html"}


def test_run_folder_follows_the_output_contract(write_problem, tmp_path):
    out = tmp_path / "run"
    assert main([str(write_problem()), "--out", str(out), "--quiet"]) == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("problem", "passed", "fields", "rel_l2", "steps", "wall_time_s", "device", "dtype", "seed", "versions"):
        assert key in metrics
    assert metrics["problem"] == "tiny" and metrics["passed"] is True and metrics["steps"] == 12
    assert set(metrics["fields"]["u"]) >= {"rel_l2", "max_abs", "tolerance"}
    assert metrics["fields"]["u"]["tolerance"] == 0.5
    assert metrics["dtype"] == "float64" and metrics["device"] == "cpu"
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["schedule"][0] == {"phase": "Adam", "name": "adam", "steps": 8, "stall": None,
                                                 "time_share": None, "terms": None, "check_every": None, "stop_at_noise": False, "learning_rate": 1e-3,
                                                 "learning_rate_final": 1e-4, "warmup_steps": 0}
    assert config["net"]["width"] == 8
    history = read_history(out / "history.csv")
    assert [r["step"] for r in history][:8] == list(range(1, 9)) and history[-1]["step"] == 12
    assert {"loss_total", "loss_heat", "loss_ends", "loss_initial", "lr"} <= set(history[0])
    assert any("rel_l2_u" in r for r in history)
    with h5py.File(out / "solution.h5", "r") as h5:
        assert list(h5["grid"]) == ["t", "x"] or set(h5["grid"]) == {"x", "t"}
        predicted, reference, error = h5["predicted/u"][()], h5["reference/u"][()], h5["error/u"][()]
        assert predicted.shape == reference.shape == (21, 21)
        np.testing.assert_allclose(error, predicted - reference)
        assert h5["inside"].shape == (21, 21) and h5["inside"][()].all()  # the points validated on
        rel = np.linalg.norm(error) / np.linalg.norm(reference)
        assert rel == pytest.approx(metrics["fields"]["u"]["rel_l2"], rel=1e-9)
    pngs = {p.name for p in (out / "plots").iterdir()}
    assert {"u.png", "history.png"} <= pngs


def test_load_predicts_what_the_run_measured(write_problem, tmp_path, no_plots):
    out = tmp_path / "run"
    main([str(write_problem()), "--out", str(out), "--quiet"])
    solution = pinn.load(out)
    with h5py.File(out / "solution.h5", "r") as h5:
        x, t, predicted = h5["grid/x"][()], h5["grid/t"][()], h5["predicted/u"][()]
    points = np.stack([m.ravel() for m in np.meshgrid(x, t, indexing="ij")], axis=1)
    values = solution.predict(points)
    assert set(values) == {"u"}
    np.testing.assert_allclose(values["u"], predicted.ravel(), rtol=1e-12, atol=1e-12)
    saved = solution.grid()  # its axes in the inputs' order (HDF5 lists them alphabetically: t, x)
    assert list(saved["grid"]) == ["x", "t"]
    grid_points = np.stack([m.ravel() for m in np.meshgrid(*saved["grid"].values(), indexing="ij")], axis=1)
    np.testing.assert_array_equal(solution.predict(grid_points)["u"], saved["predicted"]["u"].ravel())


def test_missed_tolerance_exits_1(write_problem, tmp_path, no_plots):
    path = write_problem(replace=('tolerance={"u": 0.5}', 'tolerance={"u": 1e-9}'))
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out), "--quiet"]) == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["passed"] is False and metrics["fields"]["u"]["rel_l2"] > 1e-9


def test_same_seed_same_run_and_set_overrides(write_problem, tmp_path, no_plots):
    path = write_problem()
    errors = []
    for name, extra in (("a", []), ("b", []), ("c", ["--seed", "7"])):
        main([str(path), "--out", str(tmp_path / name), "--quiet", *extra])
        errors.append(json.loads((tmp_path / name / "metrics.json").read_text())["rel_l2"])
    assert errors[0] == errors[1] and errors[2] != errors[0]
    out = tmp_path / "d"
    assert main([str(path), "--out", str(out), "--quiet", "--set", "net.width=5", "--set", "adam.steps=3",
                 "--steps", "6"]) in (0, 1)
    config = json.loads((out / "config.json").read_text())
    assert config["net"]["width"] == 5
    assert sum(phase["steps"] for phase in config["training"]["schedule"]) == 6
    assert json.loads((out / "metrics.json").read_text())["steps"] <= 6


def test_resume_continues_the_step_count(write_problem, tmp_path, no_plots):
    path = write_problem()
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out), "--quiet", "--steps", "6"]) in (0, 1)
    assert main([str(path), "--out", str(out), "--quiet"]) == 2  # not empty: needs --resume or --overwrite
    assert main([str(path), "--out", str(out), "--quiet", "--resume", "--steps", "12"]) in (0, 1)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 12
    steps = [r["step"] for r in read_history(out / "history.csv")]
    assert steps == sorted(steps) and len(steps) == len(set(steps))


def test_real_process_exit_status(write_problem, tmp_path):
    """The status from a separate process, as a shell sees it (status 2: tests/test_bad_inputs.py)."""
    good = run_cli(write_problem(name="good.py"), "--out", tmp_path / "good", "--quiet")
    assert good.returncode == 0, good.stderr


def test_a_problem_without_reference_runs_and_writes_its_prediction(write_problem, tmp_path, no_plots):
    path = write_problem(replace=('    reference=pinn.references.analytic(exact, resolution=21),\n    tolerance={"u": 0.5},\n', ""))
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["passed"] is True and metrics["fields"] == {} and metrics["rel_l2"] is None
    with h5py.File(out / "solution.h5", "r") as h5:
        assert h5["predicted/u"].shape == (33, 33) and "u" not in h5["reference"]
