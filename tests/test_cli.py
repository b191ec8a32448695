"""The command line: the run folder it writes, exit statuses, bad input, resume and pinn.load."""
import json
import os

import h5py
import numpy as np
import pytest
import torch

import pinn
from pinn.io import read_history
from pinn.solve import main

from conftest import run_cli

RUN_FILES = {"config.json", "metrics.json", "history.csv", "checkpoint.pt", "solution.h5", "problem.py", "plots"}


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
    assert config["training"]["adam_steps"] == 8 and config["net"]["width"] == 8
    history = read_history(out / "history.csv")
    assert [r["step"] for r in history][:8] == list(range(1, 9)) and history[-1]["step"] == 12
    assert {"loss_total", "loss_heat", "loss_ends", "loss_initial", "lr"} <= set(history[0])
    assert any("rel_l2_u" in r for r in history)
    with h5py.File(out / "solution.h5", "r") as h5:
        assert list(h5["grid"]) == ["t", "x"] or set(h5["grid"]) == {"x", "t"}
        predicted, reference, error = h5["predicted/u"][()], h5["reference/u"][()], h5["error/u"][()]
        assert predicted.shape == reference.shape == (21, 21)
        np.testing.assert_allclose(error, predicted - reference)
        rel = np.linalg.norm(error) / np.linalg.norm(reference)
        assert rel == pytest.approx(metrics["fields"]["u"]["rel_l2"], rel=1e-9)
    pngs = {p.name for p in (out / "plots").iterdir()}
    assert {"u.png", "history.png"} <= pngs


def test_load_predicts_what_the_run_measured(write_problem, tmp_path):
    out = tmp_path / "run"
    main([str(write_problem()), "--out", str(out), "--quiet"])
    solution = pinn.load(out)
    with h5py.File(out / "solution.h5", "r") as h5:
        x, t, predicted = h5["grid/x"][()], h5["grid/t"][()], h5["predicted/u"][()]
    points = np.stack([m.ravel() for m in np.meshgrid(x, t, indexing="ij")], axis=1)
    values = solution.predict(points)
    assert set(values) == {"u"}
    np.testing.assert_allclose(values["u"], predicted.ravel(), rtol=1e-12, atol=1e-12)


def test_missed_tolerance_exits_1(write_problem, tmp_path):
    path = write_problem(replace=('tolerance={"u": 0.5}', 'tolerance={"u": 1e-9}'))
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out), "--quiet"]) == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["passed"] is False and metrics["fields"]["u"]["rel_l2"] > 1e-9


def test_same_seed_same_run_and_set_overrides(write_problem, tmp_path):
    path = write_problem()
    errors = []
    for name, extra in (("a", []), ("b", []), ("c", ["--seed", "7"])):
        main([str(path), "--out", str(tmp_path / name), "--quiet", *extra])
        errors.append(json.loads((tmp_path / name / "metrics.json").read_text())["rel_l2"])
    assert errors[0] == errors[1] and errors[2] != errors[0]
    out = tmp_path / "d"
    assert main([str(path), "--out", str(out), "--quiet", "--set", "net.width=5", "--set", "adam_steps=3",
                 "--steps", "6"]) in (0, 1)
    config = json.loads((out / "config.json").read_text())
    assert config["net"]["width"] == 5
    assert config["training"]["adam_steps"] + config["training"]["lbfgs_steps"] == 6
    assert json.loads((out / "metrics.json").read_text())["steps"] <= 6


def test_resume_continues_the_step_count(write_problem, tmp_path):
    path = write_problem()
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out), "--quiet", "--steps", "6"]) in (0, 1)
    assert main([str(path), "--out", str(out), "--quiet"]) == 2  # not empty: needs --resume or --overwrite
    assert main([str(path), "--out", str(out), "--quiet", "--resume", "--steps", "12"]) in (0, 1)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 12
    steps = [r["step"] for r in read_history(out / "history.csv")]
    assert steps == sorted(steps) and len(steps) == len(set(steps))


BAD_PROBLEMS = {
    "syntax error": (("def heat(f):", "def heat(f)"), "syntax error at line"),
    "no problem": (("problem = pinn.Problem(", "other = pinn.Problem("), "does not define `problem`"),
    "undefined field": (("f.u_t - 0.1 * f.u_xx", "f.u_t - 0.1 * f.w_xx"), "residual 'heat': unknown field name 'w_xx'"),
    "wrong shape": (("return f.u_t - 0.1 * f.u_xx", "return (f.u_t - 0.1 * f.u_xx)[:3]"), "residual 'heat' must return one value per point"),
    "not a tensor": (("return f.u_t - 0.1 * f.u_xx", "return 1.0"), "residual 'heat' must return a torch tensor"),
    "nan condition": (('pinn.Dirichlet(space.boundary, 0.0)', 'pinn.Dirichlet(space.boundary, float("nan"))'), "Dirichlet value must be a finite number"),
    "nan initial values": (('pinn.Initial(lambda x: torch.sin(pi * x))', 'pinn.Initial(lambda x: torch.log(x - 2))'), "condition 'initial': its value is NaN"),
    "foreign boundary": (('pinn.Dirichlet(space.boundary, 0.0)', 'pinn.Dirichlet(pinn.Interval(0, 2).boundary, 0.0)'), "condition 'ends' is on the boundary of"),
    "unknown condition field": (('pinn.Initial(lambda x: torch.sin(pi * x))', 'pinn.Initial(lambda x: torch.sin(pi * x), field="v")'), "constrains field 'v'"),
    "bad tolerance": (('tolerance={"u": 0.5}', 'tolerance={"u": -1}'), "tolerance for 'u' must be a positive number"),
    "user exception": (("def heat(f):", "undefined_name\ndef heat(f):"), "name 'undefined_name' is not defined"),
}


@pytest.mark.parametrize("case", list(BAD_PROBLEMS))
def test_bad_problem_files_exit_2_with_a_named_cause(case, write_problem, tmp_path, capsys):
    replace, message = BAD_PROBLEMS[case]
    path = write_problem(replace=replace)
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


BAD_OPTIONS = {
    "unknown --set key": (["--set", "training.adamsteps=5"], "unknown --set key 'training.adamsteps'"),
    "bad --set value": (["--set", "net.width=wide"], "net.width=wide: expected a value of type int"),
    "invalid --set value": (["--set", "net.width=0"], "MLP width and depth must be >= 1"),
    "malformed --set": (["--set", "width"], "--set expects KEY=VALUE"),
    "unknown option": (["--fast"], "unrecognized arguments: --fast"),
    "bad steps": (["--steps", "0"], "--steps must be >= 1"),
    "missing file": (None, "does not exist"),
    "resume nothing": (["--resume"], "holds no run to resume"),
    "bad dtype": (["--dtype", "float16"], "invalid choice: 'float16'"),
}
if not torch.cuda.is_available():
    BAD_OPTIONS["cuda without a GPU"] = (["--device", "cuda"], "no CUDA device is available")


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_options_exit_2(case, write_problem, tmp_path, capsys):
    extra, message = BAD_OPTIONS[case]
    path = write_problem() if extra is not None else tmp_path / "nowhere.py"
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out), *(extra or [])]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_out_exits_2(write_problem, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main([str(write_problem()), "--out", str(locked / "run")]) == 2
    assert "cannot write the run folder" in capsys.readouterr().err


def test_out_that_is_a_file_exits_2(write_problem, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main([str(write_problem()), "--out", str(blocker / "run")]) == 2
    assert "cannot write the run folder" in capsys.readouterr().err
    assert blocker.read_text() == "x"


def test_real_process_exit_statuses(write_problem, tmp_path):
    """The same statuses from a separate process, as a shell sees them."""
    bad = run_cli(write_problem(replace=("def heat(f):", "def heat(f)")), "--out", tmp_path / "bad")
    assert bad.returncode == 2 and "syntax error" in bad.stderr and "Traceback" not in bad.stderr
    good = run_cli(write_problem(name="good.py"), "--out", tmp_path / "good", "--quiet")
    assert good.returncode == 0, good.stderr


def test_sigterm_saves_a_checkpoint_and_resume_finishes(write_problem, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    path = write_problem(replace=("adam_steps=8, lbfgs_steps=4", "adam_steps=100000, lbfgs_steps=0"))
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "pinn.solve", str(path), "--out", str(out), "--quiet"],
                               cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "--resume" in err and not (out / "metrics.json").exists()
    step = int(read_history(out / "history.csv")[-1]["step"])
    assert step >= 4
    assert main([str(path), "--out", str(out), "--quiet", "--resume", "--steps", str(step + 5)]) in (0, 1)
    assert json.loads((out / "metrics.json").read_text())["steps"] == step + 5


def test_a_problem_without_reference_runs_and_writes_its_prediction(write_problem, tmp_path):
    path = write_problem(replace=('    reference=pinn.references.analytic(exact, resolution=21),\n    tolerance={"u": 0.5},\n', ""))
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["passed"] is True and metrics["fields"] == {} and metrics["rel_l2"] is None
    with h5py.File(out / "solution.h5", "r") as h5:
        assert h5["predicted/u"].shape == (33, 33) and "u" not in h5["reference"]
