"""Nothing is lost and every failure says what happened: exact resume after a kill, graceful stop on
SIGINT/SIGTERM, the divergence guard, and safe loading of run folders."""
import csv
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest
import torch

import pinn
from pinn.output.files import CorruptFileError, load_checkpoint, read_history
from pinn.loading import load_problem
from pinn.overrides import apply_overrides
from pinn.solve import main
from pinn.overrides import RENAMED
from pinn.train.trainer import Monitor, TrainingDiverged

from conftest import ROOT, TINY_PROBLEM, parameters, trainer_of

# The tiny problem with test hooks in its residual (kept out of the package): a delay that slows a
# process down enough to kill it mid-training, and poison that breaks chosen evaluations.
HOOKS = '''
import os
import time

DELAY = float(os.environ.get("PINN_TEST_DELAY", "0"))  # seconds per residual evaluation
POISON_FROM = int(os.environ.get("PINN_TEST_POISON_FROM", "0"))  # NaN from this evaluation on (0: never)
POISON = []  # kinds of poison for the next evaluations, appended by a test
CALLS = [0]

def heat(f):
    time.sleep(DELAY)
    CALLS[0] += 1
    r = f.u_t - 0.1 * f.u_xx
    kind = POISON.pop(0) if POISON else None
    if kind == "nan" or (POISON_FROM and CALLS[0] >= POISON_FROM):
        return r * float("nan")
    if kind == "grad":
        return r + torch.sqrt(0 * f.u)  # a finite value with a NaN gradient
    if kind == "jump":
        return r * 1e4
    return r
'''
HOOKED_PROBLEM = TINY_PROBLEM.replace("def heat(f):\n    return f.u_t - 0.1 * f.u_xx\n", HOOKS)
assert HOOKED_PROBLEM != TINY_PROBLEM

LONGER = ["--set", "adam.steps=30", "--set", "lbfgs.steps=40", "--set", "checks.checkpoint_every=5",
          "--set", "checks.check_every=5"]


def hooked(write_problem, **settings):
    problem = load_problem(write_problem(HOOKED_PROBLEM, name="hooked.py"))
    problem = apply_overrides(problem, {RENAMED[k]: v for k, v in settings.items()})
    return problem, problem.residuals["heat"].__globals__["POISON"]


class PoisonAt(Monitor):
    """Records the rows; after the row of ``step`` poisons the next evaluation(s)."""

    def __init__(self, poison, step, *kinds):
        self.poison, self.step, self.kinds, self.rows = poison, step, kinds, []

    def on_step(self, trainer, row):
        self.rows.append(row)
        if row["step"] == self.step:
            self.poison.extend(self.kinds)


# ----------------------------------------------------------------------------- exact resume
def _start(path, out, log, *extra):
    """A solve in its own process, slowed down so that it can be killed mid-training; output to ``log``."""
    env = {**os.environ, "PINN_TEST_DELAY": "0.05"}
    with log.open("w") as handle:
        return subprocess.Popen([sys.executable, "-m", "pinn.solve", str(path), "--out", str(out), "--quiet",
                                 *LONGER, *extra], cwd=ROOT, env=env, stderr=handle, stdout=handle)


def _wait_until(process, out, step):
    """Until history.csv has reached ``step`` and a checkpoint exists; the process must still run."""
    deadline = time.time() + 180
    while time.time() < deadline:
        assert process.poll() is None, f"the solve ended (status {process.returncode}) before step {step}"
        if (out / "checkpoint.pt").exists() and (out / "history.csv").exists():
            rows = read_history(out / "history.csv")
            if rows and rows[-1]["step"] >= step:
                return
        time.sleep(0.01)
    raise AssertionError(f"step {step} not reached in time")


def _assert_same_run(a, b):
    """Two finished run folders hold the same numbers (wall times aside)."""
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    for key in ("steps", "fields", "rel_l2", "final_loss", "best", "recoveries", "failure"):
        assert ma[key] == mb[key], key
    ca, cb = load_checkpoint(a / "checkpoint.pt"), load_checkpoint(b / "checkpoint.pt")
    assert ca["model"].keys() == cb["model"].keys()
    for name in ca["model"]:
        assert torch.equal(ca["model"][name], cb["model"][name]), name
    ha, hb = read_history(a / "history.csv"), read_history(b / "history.csv")
    assert [r["step"] for r in ha] == [r["step"] for r in hb]  # no row missing, none repeated
    for ra, rb in zip(ha, hb):
        assert {k: v for k, v in ra.items() if k != "wall_time_s"} == {k: v for k, v in rb.items() if k != "wall_time_s"}
    assert _without_wall_time(a / "history.csv") == _without_wall_time(b / "history.csv")  # the same text


def _without_wall_time(path):
    """history.csv's cells as text (exactly as written), less its wall_time_s column (the one column two
    identical runs differ in)."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("wall_time_s")
    return [cells[:column] + cells[column + 1:] for cells in rows]


@pytest.fixture(scope="module")
def hooked_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("hooked") / "hooked.py"
    path.write_text(textwrap.dedent(HOOKED_PROBLEM))
    return path


@pytest.fixture(scope="module")
def whole_run(hooked_path):
    """The uninterrupted run that interrupted ones must reproduce."""
    out = hooked_path.parent / "whole"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pinn.output.figures.run_plots", lambda *args, **kwargs: None)
        assert main([str(hooked_path), "--out", str(out), "--quiet", *LONGER]) == 0
    return out


def test_sigkill_during_adam_and_during_lbfgs_then_resume_is_exact(hooked_path, whole_run, tmp_path, no_plots):
    path, out = hooked_path, tmp_path / "killed"
    process = _start(path, out, tmp_path / "first.log")
    _wait_until(process, out, 8)  # Adam runs to step 30
    process.kill()
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL and not (out / "metrics.json").exists()
    assert 5 <= load_checkpoint(out / "checkpoint.pt")["step"] < 30

    process = _start(path, out, tmp_path / "second.log", "--resume")
    _wait_until(process, out, 50)  # L-BFGS from step 30 to 70, ten iterations a row
    process.kill()
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL and not (out / "metrics.json").exists()
    state = load_checkpoint(out / "checkpoint.pt")
    assert 30 < state["step"] < 70 and state["phases"]["lbfgs"]["optimizer"]["state"]  # mid-L-BFGS, with its curvature history

    assert main([str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    _assert_same_run(whole_run, out)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # no temporary file left behind


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sigint_and_sigterm_save_a_checkpoint_and_resume_is_exact(hooked_path, whole_run, tmp_path, signal_number,
                                                                  no_plots):
    path, out = hooked_path, tmp_path / "stopped"
    process = _start(path, out, tmp_path / "stopped.log")
    _wait_until(process, out, 8)
    process.send_signal(signal_number)
    assert process.wait(timeout=60) == 130
    err = (tmp_path / "stopped.log").read_text()
    assert "checkpoint saved" in err and f"--out {out} --resume" in err and "Traceback" not in err
    assert not (out / "metrics.json").exists()
    # Stopped between two steps: the checkpoint is of the last step in the history.
    assert load_checkpoint(out / "checkpoint.pt")["step"] == read_history(out / "history.csv")[-1]["step"] >= 8
    assert main([str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    _assert_same_run(whole_run, out)


# -------------------------------------------------------------------------- divergence guard
REASONS = {
    "nan": "loss term 'heat' became nan",
    "grad": "the gradient of loss term 'heat' became NaN or infinite",
    "jump": "most in loss term 'heat'",
}


@pytest.mark.parametrize("kind", list(REASONS))
def test_a_diverged_adam_step_is_undone_and_training_goes_on(write_problem, kind):
    problem, poison = hooked(write_problem, adam_steps=20, lbfgs_steps=0)
    trainer = trainer_of(problem)
    # "grad" twice: the diagnosis evaluates once more to find the term at fault
    monitor = PoisonAt(poison, 6, *([kind] * (2 if kind == "grad" else 1)))
    trainer.run(monitor)
    rows = {row["step"]: row for row in monitor.rows}
    assert trainer.step == 20 and sorted(rows) == list(range(1, 21))
    [recovery] = trainer.guard.recoveries
    assert recovery["step"] == 6 and recovery["back_to_step"] == 5 and REASONS[kind] in recovery["reason"]
    assert REASONS[kind] in rows[7]["event"] and [s for s, r in rows.items() if "event" in r] == [7]
    # Step 7 started again from the state that step 6 started from, with half its learning rate.
    assert rows[7]["loss_total"] == rows[6]["loss_total"]
    assert rows[7]["lr"] == pytest.approx(rows[6]["lr"] * trainer.runs[0].scheduler.gamma * 0.5, rel=1e-12)
    assert np.isfinite(rows[20]["loss_total"]) and rows[20]["loss_total"] < rows[1]["loss_total"]


def test_a_loss_jump_passes_when_the_factor_is_off(write_problem):
    problem, poison = hooked(write_problem, adam_steps=10, lbfgs_steps=0, divergence_factor=None)
    trainer = trainer_of(problem)
    monitor = PoisonAt(poison, 6, "jump")
    trainer.run(monitor)
    assert trainer.guard.recoveries == [] and monitor.rows[6]["loss_heat"] > 1e3 * monitor.rows[5]["loss_heat"]


def test_a_diverged_lbfgs_chunk_starts_afresh(write_problem):
    problem, poison = hooked(write_problem, adam_steps=4, lbfgs_steps=30)
    trainer = trainer_of(problem)
    monitor = PoisonAt(poison, 14, "nan")  # rows at 14, 24, 34: ten L-BFGS iterations each
    trainer.run(monitor)
    assert [r["step"] for r in monitor.rows] == [1, 2, 3, 4, 14, 24, 34]
    [recovery] = trainer.guard.recoveries
    assert recovery["step"] == 14 and recovery["back_to_step"] == 14 and recovery["learning_rate"] == 0.5
    assert "loss term 'heat' became nan" in monitor.rows[5]["event"] and monitor.rows[5]["lr"] == 0.5
    assert np.isfinite(monitor.rows[-1]["loss_total"])


def test_resume_between_a_failure_and_its_recovery_is_exact(write_problem, tmp_path):
    """The last good state is part of the checkpoint: a resumed run recovers as the whole one did."""
    problem, poison = hooked(write_problem, adam_steps=16, lbfgs_steps=10)
    whole = trainer_of(problem)
    whole.run(PoisonAt(poison, 6, "nan"))

    class StopAfter(PoisonAt):
        def on_step(self, trainer, row):
            super().on_step(trainer, row)
            if row["step"] == self.step:
                torch.save(trainer.state_dict(), tmp_path / "checkpoint.pt")
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer_of(problem).run(StopAfter(poison, 6))
    resumed = trainer_of(problem)
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))
    resumed.objective.terms()  # a first evaluation plans the derivatives: poison the first training one
    poison.append("nan")
    resumed.run()
    assert resumed.guard.recoveries == whole.guard.recoveries and len(whole.guard.recoveries) == 1
    assert torch.equal(parameters(resumed), parameters(whole))


def test_nan_before_any_good_step_stops_at_once(write_problem):
    problem, poison = hooked(write_problem)
    trainer = trainer_of(problem)
    trainer.objective.terms()  # plans the derivatives
    poison.append("nan")
    with pytest.raises(TrainingDiverged, match="loss term 'heat' became nan at step 0, before any good step"):
        trainer.run()


def test_repeated_divergence_stops_with_exit_1_and_a_complete_run_folder(write_problem, tmp_path, monkeypatch,
                                                                           capsys, no_plots):
    monkeypatch.setenv("PINN_TEST_POISON_FROM", "16")  # every evaluation from the 16th on is NaN
    out = tmp_path / "run"
    assert main([str(write_problem(HOOKED_PROBLEM)), "--out", str(out), "--quiet", *LONGER]) == 1
    err = capsys.readouterr().err
    assert "training diverged at step" in err and "loss term 'heat' became nan" in err and "Traceback" not in err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["passed"] is False
    assert metrics["failure"].startswith("training diverged at step")
    assert "loss term 'heat' became nan; 3 recoveries" in metrics["failure"]
    assert len(metrics["recoveries"]) == 3 and len({r["step"] for r in metrics["recoveries"]}) == 1
    assert {"config.json", "history.csv", "checkpoint.pt", "solution.h5", "problem.py", "plots"} < set(
        p.name for p in out.iterdir())
    # The folder holds the last good state, consistently: checkpoint, history and metrics agree.
    state = load_checkpoint(out / "checkpoint.pt")
    history = read_history(out / "history.csv")
    assert state["step"] == metrics["steps"] == history[-1]["step"]
    assert "stopped: training diverged" in history[-1]["event"]
    assert all(torch.isfinite(t).all() for t in state["model"].values())
    assert np.isfinite(pinn.load(out).predict(np.array([[0.5, 0.5]]))["u"]).all()


def test_training_settings_for_the_guard_are_checked():
    with pytest.raises(ValueError, match="divergence_factor must be a number > 1 or None"):
        pinn.Guard(divergence_factor=0.5)
    with pytest.raises(ValueError, match="recovery_lr_factor must be a number between 0 and 1"):
        pinn.Guard(recovery_lr_factor=1.0)
    with pytest.raises(ValueError, match="max_recoveries must be a whole number >= 0"):
        pinn.Guard(max_recoveries=-1)


def test_set_switches_the_jump_check_off(write_problem):
    problem = apply_overrides(load_problem(write_problem()), {"guard.divergence_factor": "none"})
    assert problem.training.guard.divergence_factor is None
    problem = apply_overrides(problem, {"divergence_factor": "50"})
    assert problem.training.guard.divergence_factor == 50.0
    with pytest.raises(ValueError, match="divergence_factor=big: expected a value of type float or none"):
        apply_overrides(problem, {"divergence_factor": "big"})


def test_the_guard_changes_nothing_in_a_run_that_does_not_diverge(write_problem, monkeypatch):
    problem, _ = hooked(write_problem, adam_steps=20, lbfgs_steps=20)
    guarded = trainer_of(problem)
    guarded.run()
    unguarded = trainer_of(problem)
    for method in ("check_loss", "check_gradients", "remember", "accepted"):
        monkeypatch.setattr(unguarded.guard, method, lambda *args, **kwargs: None)
    unguarded.run()
    assert guarded.guard.recoveries == [] and guarded.guard.last_good is not None
    assert torch.equal(parameters(guarded), parameters(unguarded))


# ------------------------------------------------------------------------------ safe loading
@pytest.fixture
def finished_run(write_problem, tmp_path, no_plots):
    out = tmp_path / "finished"
    assert main([str(write_problem()), "--out", str(out), "--quiet"]) == 0
    return out


def test_a_truncated_checkpoint_is_reported_not_crashed_on(finished_run, write_problem, capsys):
    checkpoint = finished_run / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:300])
    with pytest.raises(CorruptFileError, match="checkpoint .*checkpoint.pt is truncated, corrupt or not a pinn"):
        pinn.load(finished_run)
    assert main([str(write_problem()), "--out", str(finished_run), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "is truncated, corrupt" in err and "start it again with --overwrite" in err and "Traceback" not in err


def test_a_checkpoint_cannot_run_code(finished_run, tmp_path):
    """weights_only loading refuses pickled objects: a downloaded checkpoint cannot execute anything."""
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with (finished_run / "checkpoint.pt").open("wb") as handle:
        pickle.dump({"model": Exploit(), "step": 1}, handle, protocol=2)
    with pytest.raises(CorruptFileError, match="not a pinn checkpoint"):
        pinn.load(finished_run)
    assert not marker.exists()


def test_corrupt_json_and_hdf5_files_are_reported(finished_run):
    solution = pinn.load(finished_run)
    saved = solution.grid()
    assert saved["predicted"]["u"].shape == (21, 21) and set(saved["grid"]) == {"x", "t"}
    with h5py.File(finished_run / "solution.h5", "r") as h5:
        np.testing.assert_array_equal(saved["error"]["u"], h5["error/u"][()])

    h5_bytes = (finished_run / "solution.h5").read_bytes()
    (finished_run / "solution.h5").write_bytes(h5_bytes[: len(h5_bytes) // 2])
    with pytest.raises(CorruptFileError, match="solution.h5 is corrupt or not a pinn solution file"):
        solution.grid()
    (finished_run / "solution.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(CorruptFileError, match="solution.h5 is corrupt"):
        solution.grid()

    metrics = (finished_run / "metrics.json").read_text()
    (finished_run / "metrics.json").write_text(metrics[: len(metrics) // 2])
    with pytest.raises(CorruptFileError, match="metrics.json is unreadable or not valid JSON"):
        pinn.load(finished_run)
    (finished_run / "config.json").write_bytes(b"\xff\xfe garbage")
    with pytest.raises(CorruptFileError, match="config.json is unreadable or not valid JSON"):
        pinn.load(finished_run)


def test_a_corrupt_history_on_resume_is_reported(finished_run, write_problem, capsys):
    (finished_run / "history.csv").write_text("step,loss_total\n1,0.5\nbroken\n")
    assert main([str(write_problem()), "--out", str(finished_run), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "history.csv is corrupt: line 3 has no step number" in err and "Traceback" not in err
