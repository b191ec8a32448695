"""Faults once a run has started (issue 21): an exception in the problem's code during training, a file
that cannot be written. Each ends with exit status 1 and one paragraph naming the fault and the command
that continues the run (the traceback goes to error.log), and leaves the run folder resumable. Also: a
resume leaves no temporary file behind, figures never switch matplotlib's backend, history.csv reads
back as it was written, and the Gauss-Newton guard names the loss term at fault. (Mistakes caught
before a run starts, exit status 2: tests/test_bad_inputs.py.)"""
import errno
import json
from pathlib import Path

import numpy as np
import pytest

import pinn
import pinn.output.files
import pinn.output.progress
from pinn.output.files import load_checkpoint, read_history, write_history
from pinn.references.grid import GridReference
from pinn.solve import main
from pinn.train.trainer import Trainer, TrainingDiverged

from conftest import TINY_PROBLEM, trainer_of
from test_reliability import PoisonAt, hooked

# The tiny problem whose residual or initial condition raises once PINN_TEST_FAULT is set (by a test,
# after the problem file was checked): `raise RuntimeError('boom')`, say.
FAULTY = TINY_PROBLEM.replace("import pinn\n", "import os\nimport sys\nimport pinn\n").replace(
    "def heat(f):\n", "def heat(f):\n    if os.environ.get('PINN_TEST_FAULT') == 'heat':\n        FAULT()\n").replace(
    '"initial": pinn.Initial(lambda x: torch.sin(pi * x)),', '"initial": pinn.Initial(initial),').replace(
    "problem = pinn.Problem(", "def initial(x):\n    if os.environ.get('PINN_TEST_FAULT') == 'initial':\n        FAULT()\n"
                               "    return torch.sin(pi * x)\n\nproblem = pinn.Problem(")
assert FAULTY.count("FAULT()") == 2


def _line(text: str, fragment: str, after: str) -> int:
    """The number of the first line holding ``fragment`` after the line holding ``after``."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if after in line)
    return next(n for n, line in enumerate(lines, start=1) if n > start and fragment in line)


def _fault_after_first_checkpoint(monkeypatch, where: str):
    """Set PINN_TEST_FAULT once the first checkpoint (step 4) is saved: the next evaluation raises. Returns
    the real save_checkpoint."""
    real = pinn.output.progress.save_checkpoint

    def save(path, state):
        real(path, state)
        monkeypatch.setenv("PINN_TEST_FAULT", where)

    monkeypatch.setattr("pinn.output.progress.save_checkpoint", save)
    return real


@pytest.mark.parametrize("where, statement, said, step", [
    ("heat", "raise RuntimeError('boom')", "residual 'heat' raised RuntimeError: boom", 4),
    ("heat", "sys.exit(0)", "residual 'heat' called sys.exit(0)", 4),
    # a condition's values are computed where points are drawn: at the next resampling, after step 8
    ("initial", "raise KeyError('x')", "condition 'initial' raised KeyError: 'x'", 8),
], ids=["residual RuntimeError", "residual sys.exit", "condition KeyError"])
def test_user_code_that_raises_mid_training_exits_1_with_the_resume_command(where, statement, said, step,
                                                                            write_problem, tmp_path, monkeypatch,
                                                                            capsys, no_plots):
    monkeypatch.delenv("PINN_TEST_FAULT", raising=False)
    text = FAULTY.replace("FAULT()", statement).replace("interior=64,", "interior=64, resample_every=4,")
    path, out = write_problem(text), tmp_path / "run"
    real = _fault_after_first_checkpoint(monkeypatch, where)
    assert main([str(path), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    function = "heat" if where == "heat" else "initial"
    line = _line(path.read_text(), statement, f"def {function}(")
    assert err.startswith(f"error: the run stopped at step {step}: ") and "\n\n" not in err.strip(), err
    assert f"{said} (problem.py, line {line}, in {function})" in err
    assert "the checkpoint of step 4 is kept" in err
    assert f"python -m pinn.solve {path} --out {out} --resume" in err
    assert "add --force-resume if the fix is an edit of the problem file" in err
    assert f"the traceback is in {out / 'error.log'}" in err and "Traceback" not in err
    log = (out / "error.log").read_text()
    assert log.startswith("Traceback") and f"line {line}, in {function}" in log
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 4 and not (out / "metrics.json").exists()

    monkeypatch.delenv("PINN_TEST_FAULT")  # the cause fixed: the command given continues the run
    monkeypatch.setattr("pinn.output.progress.save_checkpoint", real)
    assert main([str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    assert json.loads((out / "metrics.json").read_text())["steps"] == 12
    assert not (out / "error.log").exists()  # the fault it told of is past


def test_a_fault_before_the_first_checkpoint_says_to_start_again(write_problem, tmp_path, monkeypatch, capsys,
                                                                 no_plots):
    monkeypatch.delenv("PINN_TEST_FAULT", raising=False)
    path, out = write_problem(FAULTY.replace("FAULT()", "1 / 0")), tmp_path / "run"
    real = Trainer.run

    def run(trainer, monitor=None):  # the file was checked: from now on the residual fails
        monkeypatch.setenv("PINN_TEST_FAULT", "heat")
        return real(trainer, monitor)

    monkeypatch.setattr(Trainer, "run", run)
    assert main([str(path), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "the run stopped at step 0: residual 'heat' raised ZeroDivisionError: division by zero" in err
    assert "no checkpoint was saved yet" in err and f"python -m pinn.solve {path} --out {out} --overwrite" in err
    assert "--resume" not in err and "Traceback" not in err


@pytest.mark.parametrize("target, failing_write, kept_step", [
    ("checkpoint.pt", 2, 4),  # the checkpoint of step 8 fails: that of step 4 stays
    ("history.csv", 2, 4),  # written just before the checkpoint of step 8
    ("solution.h5", 1, 12),  # after training: the final checkpoint is kept
    ("solution.xdmf.h5", 1, 12),
    ("solution.xdmf", 1, 12),
    ("metrics.json", 1, 12),
    ("config.json", 1, None),  # before training: nothing to resume
])
def test_a_file_that_cannot_be_written_exits_1_naming_it(target, failing_write, kept_step, write_problem, tmp_path,
                                                         monkeypatch, capsys, no_plots):
    path, out = write_problem(), tmp_path / "run"
    real = pinn.output.files.atomic_write
    writes = []

    def disk_full(file, write):
        if Path(file).name == target:
            writes.append(file)
            if len(writes) == failing_write:
                def partial(tmp):
                    tmp.write_bytes(b"half a file")
                    raise OSError(errno.ENOSPC, "No space left on device")

                return real(file, partial)
        return real(file, write)

    monkeypatch.setattr("pinn.output.files.atomic_write", disk_full)
    assert main([str(path), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: could not write {out / target}: No space left on device; "), err
    assert "Traceback" not in err and not (out / "metrics.json").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # no half-written file left
    if kept_step is None:
        assert "no checkpoint was saved yet" in err and f"--out {out} --overwrite" in err
        return
    assert f"the checkpoint of step {kept_step} is kept" in err and f"--out {out} --resume" in err
    assert load_checkpoint(out / "checkpoint.pt")["step"] == kept_step  # intact
    monkeypatch.setattr("pinn.output.files.atomic_write", real)  # room again: the command given completes the run
    assert main([str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    assert json.loads((out / "metrics.json").read_text())["steps"] == 12


def test_a_resume_removes_temporary_files_a_kill_left_in_plots(write_problem, tmp_path, no_plots):
    path, out = write_problem(), tmp_path / "run"
    assert main([str(path), "--out", str(out), "--quiet"]) == 0
    left = [out / ".checkpoint.pt.k1ll3d.tmp", out / "plots" / ".history.png.k1ll3d.tmp"]
    for file in left:
        file.write_bytes(b"half a file")
    assert main([str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    assert not [file for file in left if file.exists()]


def _flow():
    """A flow plot's arguments: a solution (u, v, p) and its reference on a small grid."""
    axes = {"x": np.linspace(0, 1, 12), "y": np.linspace(0, 1, 10)}
    X, Y = np.meshgrid(*axes.values(), indexing="ij")
    fields = {"u": np.sin(np.pi * X) * np.cos(np.pi * Y), "v": -np.cos(np.pi * X) * np.sin(np.pi * Y), "p": X * Y}
    reference = GridReference(axes, fields, {k: 0.0 for k in fields}, "test flow")

    class Solution:
        def predict(self, points):
            x, y = points[:, 0], points[:, 1]
            return {"u": 1.01 * np.sin(np.pi * x) * np.cos(np.pi * y), "v": -np.cos(np.pi * x) * np.sin(np.pi * y),
                    "p": x * y}

    return Solution(), reference


def test_flow_plots_leave_matplotlibs_backend_alone_and_write_atomically(tmp_path, monkeypatch):
    import matplotlib
    from matplotlib.figure import Figure

    from pinn.physics.flow_plots import flow_plots

    solution, reference = _flow()
    before = matplotlib.get_backend()
    matplotlib.use("svg")  # a notebook's backend, say
    try:
        written = flow_plots(centrelines=True)(solution, reference, tmp_path)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)
    assert [p.name for p in written] == ["flow.png", "centrelines.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in written)

    def broken(fig, file, **kwargs):  # killed half-way through the file
        Path(file).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken)
    for file in written:
        file.unlink()
    with pytest.raises(OSError):
        flow_plots()(solution, reference, tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither half a PNG nor a temporary file


def test_a_plot_function_that_calls_sys_exit_cannot_choose_the_exit_status(write_problem, tmp_path, capsys,
                                                                          no_plots):
    path = write_problem(replace=('tolerance={"u": 0.5}', 'tolerance={"u": 1e-9},\n'
                                  '    plots=[lambda solution, reference, folder: sys.exit(0)]'))
    path.write_text("import sys\n" + path.read_text())
    assert main([str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 1  # the tolerance is missed
    assert "warning: plot <lambda> failed (SystemExit: 0)" in capsys.readouterr().err
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["passed"] is False


def test_history_reads_back_as_it_was_written(tmp_path):
    """Rows read back from history.csv (a resume does so) write the very same file again: 1 stays 1."""
    rows = [{"step": 1, "wall_time_s": 0.25, "optimizer": "adam", "lr": 0.001, "loss_total": 1.5},
            {"step": 2, "wall_time_s": 0.5, "optimizer": "lbfgs", "lr": 1.0, "loss_total": 0.0, "rel_l2": float("nan"),
             "event": "recovered"}]
    write_history(tmp_path / "a.csv", rows)
    again = read_history(tmp_path / "a.csv")
    assert [r["step"] for r in again] == [1, 2] and all(type(r["step"]) is int for r in again)
    write_history(tmp_path / "b.csv", again)
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


@pytest.mark.filterwarnings("ignore::pinn.train.phases.UnderdeterminedWarning")
def test_the_gauss_newton_guard_names_the_loss_term(write_problem):
    problem, poison = hooked(write_problem)
    trainer = trainer_of(problem, schedule=[pinn.Adam(4), pinn.LevenbergMarquardt(3)])
    with pytest.raises(TrainingDiverged) as failure:
        trainer.run(PoisonAt(poison, 4, *["nan"] * 100))  # every evaluation from the first Gauss-Newton step on
    assert "loss term 'heat' became nan" in str(failure.value)
    assert all("loss term 'heat' became nan" in r["reason"] for r in trainer.guard.recoveries)


def test_ctrl_c_while_the_problem_file_loads_is_an_interruption(write_problem, tmp_path, capsys):
    path = write_problem(replace=("def heat(f):", "raise KeyboardInterrupt\ndef heat(f):"))
    assert main([str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 130
    assert "interrupted" in capsys.readouterr().err and not (tmp_path / "run").exists()


class _FullDisk:
    """A file that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, handle, room: int) -> None:
        self.handle, self.room = handle, room

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def test_a_checkpoint_that_fills_the_disk_says_so_and_leaves_the_previous_one(tmp_path, monkeypatch):
    """torch.save turns the disk's OSError into a RuntimeError ('unexpected pos ...'): the cause comes back."""
    import torch

    from pinn.output.files import WriteError, save_checkpoint

    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"model": {"w": torch.zeros(10)}, "step": 1})
    real_open = Path.open

    def full(self, mode="r", *args, **kwargs):
        handle = real_open(self, mode, *args, **kwargs)
        return _FullDisk(handle, room=4096) if "w" in mode else handle

    monkeypatch.setattr(Path, "open", full)
    with pytest.raises(WriteError) as failure:
        save_checkpoint(path, {"model": {"w": torch.zeros(100_000)}, "step": 2})
    monkeypatch.undo()
    assert failure.value.errno == errno.ENOSPC and failure.value.filename == str(path)
    assert failure.value.strerror == "No space left on device"
    assert load_checkpoint(path)["step"] == 1 and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


@pytest.mark.parametrize("target, limit, kept_step", [("checkpoint.pt", 16, None), ("solution.h5", 64, 12)])
def test_a_real_write_failure_in_a_real_process(target, limit, kept_step, write_problem, tmp_path):
    """Files limited to ``limit`` KiB (RLIMIT_FSIZE: writes past it fail with EFBIG, as they do with ENOSPC on a
    full disk). torch.save would hide the cause in a RuntimeError, and h5py crash the process (SIGSEGV) freeing
    what a failed HDF5 write left; the run instead exits 1 and says which file could not be written."""
    resource = pytest.importorskip("resource")
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from write(), not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit * 1024, limit * 1024))

    path = write_problem(replace=("resolution=21", "resolution=81"))  # solution.h5 of ~90 KiB
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "pinn.solve", str(path), "--out", str(out), "--quiet"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, preexec_fn=limited)
    assert result.returncode == 1, result.stderr
    assert f"error: could not write {out / target}: File too large; " in result.stderr
    assert "Traceback" not in result.stderr and not (out / "metrics.json").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    if kept_step is None:
        assert "no checkpoint was saved yet" in result.stderr
    else:
        assert f"the checkpoint of step {kept_step} is kept" in result.stderr
        assert load_checkpoint(out / "checkpoint.pt")["step"] == kept_step
