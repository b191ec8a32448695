"""After a run (issue 21): a resume leaves no temporary file behind, figures never switch matplotlib's
backend, history.csv reads back as it was written, and the Gauss-Newton guard names the loss term at fault."""
import errno
from pathlib import Path

import numpy as np
import pytest

from pinn.io import read_history, write_history
from pinn.references.grid import GridReference
from pinn.solve import main
from pinn.training import Trainer, TrainingDiverged

from test_reliability import PoisonAt, hooked


def test_a_resume_removes_temporary_files_a_kill_left_in_plots(write_problem, tmp_path, no_plots):
    path, out = write_problem(), tmp_path / "run"
    assert main([str(path), "--out", str(out), "--quiet"]) == 0
    left = [out / ".checkpoint.pt.k1ll3d.tmp", out / "plots" / ".history.png.k1ll3d.tmp"]
    for file in left:
        file.write_bytes(b"half a file")
    assert main([str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    assert not [file for file in left if file.exists()]


def _flow(tmp_path: Path):
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

    from pinn.plots_flow import flow_plots

    solution, reference = _flow(tmp_path)
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


@pytest.mark.filterwarnings("ignore::pinn.training.gauss_newton.UnderdeterminedWarning")
def test_the_gauss_newton_guard_names_the_loss_term(write_problem):
    problem, poison = hooked(write_problem, adam_steps=4, lbfgs_steps=0, gauss_newton_steps=3)
    trainer = Trainer(problem, problem.training)
    with pytest.raises(TrainingDiverged) as failure:
        trainer.run(PoisonAt(poison, 4, *["nan"] * 100))  # every evaluation from the first Gauss-Newton step on
    assert "loss term 'heat' became nan" in str(failure.value)
    assert all("loss term 'heat' became nan" in r["reason"] for r in trainer.guard.recoveries)
