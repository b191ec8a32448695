"""pinn.fit from Python: a problem defined in the test itself makes a complete run folder; callbacks,
early stopping, resume, and the same figures and messages as the command line."""
import inspect
import json
import logging
import signal
import textwrap

import h5py
import numpy as np
import pytest
import torch

import pinn
from pinn.output.files import load_checkpoint, read_history
from pinn.solve import main


def poisson(adam_steps=20, lbfgs_steps=40):
    """-u'' = pi^2 sin(pi x) on [0, 1], u = 0 at both ends: u = sin(pi x). A few steps in float64."""
    from math import pi

    import torch

    import pinn

    domain = pinn.Interval(0.0, 1.0)

    def exact(x):
        return torch.sin(pi * x)

    def equation(f):
        return f.u_xx + pi**2 * torch.sin(pi * f.x)

    return pinn.Problem(
        name="poisson1d",
        inputs="x",
        outputs="u",
        domain=domain,
        residuals={"poisson": equation},
        conditions={"ends": pinn.Dirichlet(domain.boundary, 0.0)},
        reference=pinn.references.analytic(exact, resolution=41),
        tolerance={"u": 1e-2},
        net=pinn.MLP(width=8, depth=2),
        sampling=pinn.Sampling(interior=32, boundary=2),
        training=pinn.Training([pinn.Adam(adam_steps, learning_rate=1e-2), pinn.LBFGS(lbfgs_steps)],
                               checks=pinn.Checks(check_every=4, checkpoint_every=4),
                               numerics=pinn.Numerics(dtype="float64", compile="off")),
    )


def problem_file(tmp_path):
    """The same problem as a problem file."""
    path = tmp_path / "poisson.py"
    path.write_text(textwrap.dedent(inspect.getsource(poisson)) + "\n\nproblem = poisson()\n")
    return path


def same_figures(a, b):
    """Two finished runs hold the same numbers (wall times aside)."""
    for key in ("steps", "fields", "rel_l2", "final_loss", "best", "parameters", "passed"):
        assert a[key] == b[key], key


def test_fit_writes_the_run_folder_of_a_problem_defined_in_python(tmp_path, caplog):
    out = tmp_path / "run"
    with caplog.at_level(logging.INFO, logger="pinn"):
        solution = pinn.fit(poisson(), out, progress=False)
    assert {"config.json", "metrics.json", "history.csv", "checkpoint.pt", "solution.h5", "plots"} <= {
        p.name for p in out.iterdir()}
    assert not (out / "problem.py").exists()  # no file: nothing to copy
    assert {"u.png", "history.png"} <= {p.name for p in (out / "plots").iterdir()}
    config = json.loads((out / "config.json").read_text())
    assert config["problem_file"] is None and config["problem_sha256"] is None and config["local_modules"] == []
    metrics = json.loads((out / "metrics.json").read_text())
    assert solution.metrics == metrics and solution.passed is metrics["passed"] is True
    assert metrics["steps"] == 60 and metrics["dtype"] == "float64" and metrics["stopped_early_at"] is None
    assert read_history(out / "history.csv")[-1]["step"] == 60
    assert solution.path == out and "PASSED" in repr(solution)
    assert solution.summary() in caplog.text  # the summary the command line shows, logged
    with h5py.File(out / "solution.h5", "r") as h5:
        x, predicted = h5["grid/x"][()], h5["predicted/u"][()]
    np.testing.assert_allclose(solution.predict(x[:, None])["u"], predicted, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pinn.load(out).predict(x[:, None])["u"], predicted, rtol=1e-12, atol=1e-12)


def test_callbacks_see_every_row_and_every_check(tmp_path, no_plots):
    rows, checks = [], []
    pinn.fit(poisson(), tmp_path / "run", progress=False, on_step=rows.append, on_check=checks.append)
    history = read_history(tmp_path / "run" / "history.csv")
    assert [r["step"] for r in rows] == [r["step"] for r in history]
    assert rows[-1]["loss_total"] == pytest.approx(history[-1]["loss_total"], rel=1e-15)
    assert len(checks) >= 2 and all(set(c) == {"u"} for c in checks)  # at step 0, then every check_every steps
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert checks[-1]["u"].rel_l2 == pytest.approx(metrics["rel_l2"], rel=1e-12)


def test_stop_when_ends_training_and_the_run_is_validated(tmp_path, no_plots):
    out = tmp_path / "run"
    solution = pinn.fit(poisson(), out, progress=False, stop_when=lambda row: row["step"] >= 6)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 6 and metrics["stopped_early_at"] == 6 and solution.passed is metrics["passed"]
    assert metrics["fields"]["u"]["rel_l2"] > 0 and load_checkpoint(out / "checkpoint.pt")["step"] == 6
    assert "stopped early at step 6" in solution.summary()

    whole = pinn.fit(poisson(), tmp_path / "whole", progress=False)  # the early stop's checkpoint is exact:
    resumed = pinn.fit(poisson(), out, resume=True, progress=False)  # a resume continues the schedule
    same_figures(whole.metrics, resumed.metrics)
    assert resumed.metrics["stopped_early_at"] is None


def test_a_signal_stops_fit_with_a_checkpoint_and_resume_through_fit_is_exact(tmp_path, no_plots):
    whole = pinn.fit(poisson(), tmp_path / "whole", progress=False)
    out = tmp_path / "run"

    def ctrl_c(row):
        if row["step"] == 6:
            signal.raise_signal(signal.SIGINT)

    with pytest.raises(pinn.Interrupted, match="interrupted at step 6; checkpoint saved") as stopped:
        pinn.fit(poisson(), out, progress=False, on_step=ctrl_c)
    assert isinstance(stopped.value, KeyboardInterrupt)
    assert f"pinn.fit(problem, out={str(out)!r}, resume=True)" in str(stopped.value)
    assert not (out / "metrics.json").exists() and load_checkpoint(out / "checkpoint.pt")["step"] == 6

    resumed = pinn.fit(poisson(), out, resume=True, progress=False)
    same_figures(whole.metrics, resumed.metrics)
    a, b = load_checkpoint(tmp_path / "whole" / "checkpoint.pt"), load_checkpoint(out / "checkpoint.pt")
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


def test_the_command_line_and_fit_give_the_same_metrics(tmp_path, no_plots):
    path = problem_file(tmp_path)
    assert main([str(path), "--out", str(tmp_path / "cli"), "--quiet", "--seed", "3", "--set",
                 "adam.steps=12"]) == 0
    cli = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    from_python = pinn.fit(poisson(), tmp_path / "python", seed=3, settings={"adam.steps": 12},
                           progress=False)
    from_file = pinn.fit(path, tmp_path / "file", seed=3, settings={"adam.steps": "12"}, progress=False)
    assert cli["seed"] == 3 and cli["steps"] == 52
    same_figures(cli, from_python.metrics)
    same_figures(cli, from_file.metrics)
    assert json.loads((tmp_path / "file" / "config.json").read_text())["problem_file"] == str(path.resolve())


@pytest.mark.parametrize("options, keywords", [
    (["--set", "net.depthh=3"], {"settings": {"net.depthh": 3}}),
    (["--steps", "0"], {"steps": 0}),
    (["--resume"], {"resume": True}),
    (["--force-resume"], {"force_resume": True}),
], ids=["unknown --set key", "--steps 0", "nothing to resume", "force-resume alone"])
def test_a_mistake_raises_the_message_the_command_line_prints(options, keywords, tmp_path, capsys):
    path = problem_file(tmp_path)
    out = tmp_path / "run"
    assert main([str(path), "--out", str(out), *options]) == 2
    printed = capsys.readouterr().err
    with pytest.raises(pinn.UserError) as raised:
        pinn.fit(path, out, **keywords)
    assert printed == f"error: {raised.value}\n"
    with pytest.raises(pinn.UserError) as raised:
        pinn.fit(poisson(), out, **keywords)
    assert printed == f"error: {raised.value}\n"
    assert not out.exists()


def test_an_occupied_folder_is_refused_and_a_run_from_python_resumes_from_a_file_only_when_forced(tmp_path,
                                                                                                capsys, no_plots):
    out = tmp_path / "run"
    pinn.fit(poisson(), out, progress=False, stop_when=lambda row: row["step"] >= 4)
    with pytest.raises(pinn.UserError, match="already exists and is not empty; pass --resume"):
        pinn.fit(poisson(), out, progress=False)
    path = problem_file(tmp_path)
    assert main([str(path), "--out", str(out), "--quiet", "--resume"]) == 2
    assert "was started from a problem defined in Python, not from a file" in capsys.readouterr().err
    assert main([str(path), "--out", str(out), "--quiet", "--resume", "--force-resume"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["problem_file"] == str(path.resolve()) and (out / "problem.py").exists()
    with pytest.raises(pinn.UserError, match="was started from the problem file"):  # now a run of a file
        pinn.fit(poisson(), out, resume=True, progress=False)


def test_a_tuple_setting_is_kept_for_the_resume(tmp_path, no_plots):
    out = tmp_path / "run"
    pinn.fit(poisson(), out, settings={"net.hidden": (8, 4)}, progress=False, stop_when=lambda row: row["step"] >= 4)
    config = json.loads((out / "config.json").read_text())
    assert config["overrides"] == {"net.hidden": "8,4"} and config["net"]["hidden"] == [8, 4]
    assert pinn.fit(poisson(), out, resume=True, progress=False).metrics["steps"] == 60


def test_fit_refuses_what_is_not_a_problem(tmp_path):
    with pytest.raises(pinn.UserError, match=r"must be a pinn.Problem or the path of a problem file \(or another family's declaration, such as pinn.Dynamics\), got int"):
        pinn.fit(3, tmp_path / "run")


def test_the_error_is_measured_when_a_phase_ends_and_at_its_own_check_every(tmp_path, no_plots):
    import dataclasses

    problem = poisson(adam_steps=6, lbfgs_steps=0)
    schedule = [pinn.Adam(6, learning_rate=1e-2), pinn.LevenbergMarquardt(9, check_every=3)]
    problem = dataclasses.replace(problem, training=dataclasses.replace(
        problem.training, schedule=schedule, checks=pinn.Checks(check_every=100, checkpoint_every=100)))
    pinn.fit(problem, tmp_path / "run", progress=False)
    history = read_history(tmp_path / "run" / "history.csv")
    measured = [(r["optimizer"], r["step"]) for r in history if r.get("rel_l2") not in (None, "")]
    # Adam's last step (its phase ends), then every 3rd Levenberg-Marquardt step, the last one ending the run.
    assert measured == [("adam", 6), ("levenberg_marquardt", 9), ("levenberg_marquardt", 12),
                        ("levenberg_marquardt", 15)]


def test_the_progress_bar_rate_starts_after_the_first_step(tmp_path):
    """The first step may compile: the bar says so, and its estimate ignores that step's time."""
    from pinn.output.folder import RunFolder
    from pinn.output.progress import RunMonitor

    class Phase:
        rate_name = "learning rate"

    class Trainer:
        phase = Phase()

    monitor = RunMonitor(RunFolder(tmp_path / "run"), [], total=100, progress=True, identity={})
    assert "first step" in str(monitor.bar.postfix)
    row = {"step": 1, "wall_time_s": 30.0, "optimizer": "adam", "lr": 1e-3, "loss_total": 1.0}
    monitor.on_step(Trainer(), row)
    assert monitor.bar.n == monitor.bar.initial == 1  # the first step is not in the rate
    monitor.on_step(Trainer(), {**row, "step": 2})
    assert monitor.bar.n == 2 and monitor.bar.initial == 1
    assert "first step" not in str(monitor.bar.postfix)
    monitor.close()
