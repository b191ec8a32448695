"""Nothing a user types destroys data or mixes two runs: what --overwrite may replace, the old run
kept until the new one has a checkpoint, the lock on a folder being written, --resume of an edited
problem file, and problem files that import helpers beside them (issue 21, findings 1, 4, 6, 7, 12)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pinn
from pinn.output.files import CorruptFileError
from pinn.loading import UserError
from pinn.output.folder import RunFolder
from pinn.solve import main

from conftest import ROOT, TINY_PROBLEM


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): (p.read_bytes() if p.is_file() else b"")
            for p in sorted(path.rglob("*")) if not p.is_symlink()}


@pytest.fixture
def problem(write_problem):
    return write_problem()


@pytest.fixture
def finished(problem, tmp_path, no_plots):
    """A finished run of the tiny problem in tmp/run."""
    out = tmp_path / "run"
    assert main([str(problem), "--out", str(out), "--quiet"]) == 0
    return out


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


# ---- finding 1: --overwrite deletes any directory --out names


def test_overwrite_of_the_working_directory_is_refused_and_deletes_nothing(tmp_path, monkeypatch, capsys, no_plots):
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / "problem.py").write_text(textwrap.dedent(TINY_PROBLEM))
    before = _tree(project)
    monkeypatch.chdir(project)
    assert main(["problem.py", "--out", ".", "--overwrite", "--quiet"]) == 2
    assert "working directory or a folder above it" in _error(capsys)
    assert _tree(project) == before


def test_overwrite_of_a_folder_above_the_working_directory_is_refused(tmp_path, monkeypatch, capsys, problem):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    before = _tree(tmp_path)
    assert main([str(problem), "--out", str(tmp_path), "--overwrite", "--quiet"]) == 2
    assert "working directory or a folder above it" in _error(capsys)
    assert _tree(tmp_path) == before


def test_overwrite_of_the_home_folder_is_refused(tmp_path, monkeypatch, capsys, problem):
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("five years of work")
    monkeypatch.setenv("HOME", str(home))
    assert main([str(problem), "--out", str(home), "--overwrite", "--quiet"]) == 2
    assert "your home folder" in _error(capsys)
    assert (home / "thesis.tex").read_text() == "five years of work"


def test_overwrite_of_the_root_folder_is_refused_by_the_check():
    # Checked on RunFolder.check alone: a failing version of this test must not be able to reach rmtree("/").
    with pytest.raises(UserError, match="it is the root folder"):
        RunFolder(Path("/")).check(resume=False, overwrite=True, problem_file=None)


def test_overwrite_of_a_folder_of_other_files_is_refused(tmp_path, capsys, problem):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("mine")
    assert main([str(problem), "--out", str(folder), "--overwrite", "--quiet"]) == 2
    err = _error(capsys)
    assert "replaces only a pinn run folder" in err and "chapter1.tex" in err
    assert (folder / "chapter1.tex").read_text() == "mine"


def test_overwrite_of_a_run_with_a_file_added_by_the_user_is_refused(finished, problem, capsys):
    (finished / "notes.txt").write_text("what I learnt from this run")
    assert main([str(problem), "--out", str(finished), "--overwrite", "--quiet"]) == 2
    assert "notes.txt" in _error(capsys)
    assert (finished / "notes.txt").is_file() and (finished / "metrics.json").is_file()


def test_rerunning_a_runs_own_problem_file_with_overwrite_into_that_run_is_refused(finished, capsys):
    copy = finished / "problem.py"
    text = copy.read_bytes()
    assert main([str(copy), "--out", str(finished), "--overwrite", "--quiet"]) == 2
    assert "holds the problem file" in _error(capsys)
    assert copy.read_bytes() == text


def test_overwrite_replaces_a_run_and_leaves_nothing_aside(finished, problem, tmp_path):
    old_config = json.loads((finished / "config.json").read_text())
    assert main([str(problem), "--out", str(finished), "--overwrite", "--quiet", "--seed", "1"]) in (0, 1)
    new_config = json.loads((finished / "config.json").read_text())
    assert new_config["training"]["numerics"]["seed"] == 1 and new_config["run_id"] != old_config["run_id"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["problem.py", "run"]  # nothing left aside
    assert not (finished / ".lock").exists()


def test_the_old_run_comes_back_when_the_new_one_fails_before_its_first_checkpoint(finished, problem, tmp_path,
                                                                                   monkeypatch, capsys):
    before = _tree(finished)

    def fail(self, monitor=None):
        raise RuntimeError("the machine fell over")

    monkeypatch.setattr("pinn.train.trainer.Trainer.run", fail)
    capsys.readouterr()
    assert main([str(problem), "--out", str(finished), "--overwrite", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "the machine fell over" in err and "the run it was replacing is back in its place" in err
    assert _tree(finished) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["problem.py", "run"]


def test_the_old_run_is_kept_aside_until_the_new_one_has_a_checkpoint(finished, problem, tmp_path, monkeypatch):
    seen = []
    original = RunFolder.discard_replaced

    def spy(self):
        seen.append(sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".run.replaced-")))
        original(self)

    monkeypatch.setattr(RunFolder, "discard_replaced", spy)
    assert main([str(problem), "--out", str(finished), "--overwrite", "--quiet"]) == 0
    assert len(seen[0]) == 1  # the old run still existed, aside, when the first checkpoint was written
    assert not any(p.name.startswith(".run.replaced-") for p in tmp_path.iterdir())


# ---- finding 12: a plots/ symlink makes --resume write outside the run folder


def test_resume_refuses_a_plots_folder_that_is_a_symbolic_link(finished, problem, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(finished / "plots")
    (finished / "plots").symlink_to(elsewhere)
    assert main([str(problem), "--out", str(finished), "--resume", "--quiet"]) == 2
    assert "is a symbolic link" in _error(capsys)
    assert list(elsewhere.iterdir()) == []


# ---- finding 7: no lock on a run folder; a killed overwriter mixed two runs


def test_a_second_writer_is_refused_naming_the_holder(finished, problem, capsys):
    holder = RunFolder(finished)
    holder.prepare(resume=True, overwrite=False)  # as a running process holds it
    try:
        for option in ("--resume", "--overwrite"):
            assert main([str(problem), "--out", str(finished), option, "--quiet"]) == 2
            err = _error(capsys)
            assert "is in use by process" in err and str(os.getpid()) in err
    finally:
        holder.release()
    assert main([str(problem), "--out", str(finished), "--resume", "--quiet", "--steps", "14"]) in (0, 1)


def test_the_lock_is_held_by_a_live_process_and_freed_when_it_dies(finished, problem, capsys):
    code = ("import sys, time; from pathlib import Path; from pinn.output.folder import RunFolder; "
            f"f = RunFolder(Path({str(finished)!r})); f.prepare(resume=True, overwrite=False); "
            "print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main([str(problem), "--out", str(finished), "--resume", "--quiet"]) == 2
        assert f"process {holder.pid}" in _error(capsys)
    finally:
        holder.kill()
        holder.wait()
    # killed: the kernel freed the lock, and the stale note does not block the next writer
    assert main([str(problem), "--out", str(finished), "--resume", "--quiet", "--steps", "14"]) in (0, 1)


def test_a_config_of_another_run_beside_the_checkpoint_is_refused_on_resume(problem, tmp_path, capsys, no_plots):
    first, second = tmp_path / "first", tmp_path / "second"
    assert main([str(problem), "--out", str(first), "--quiet"]) == 0
    assert main([str(problem), "--out", str(second), "--quiet", "--seed", "1"]) in (0, 1)
    shutil.copyfile(second / "config.json", first / "config.json")
    before = _tree(first)
    capsys.readouterr()
    assert main([str(problem), "--out", str(first), "--resume", "--quiet", "--steps", "14"]) == 2
    assert "belong to different runs" in _error(capsys)
    assert _tree(first) == before
    for trust in (False, True):
        with pytest.raises(CorruptFileError, match="belong to different runs"):
            pinn.load(first, trust=trust)


# ---- finding 4: --resume with an edited problem file is accepted


def test_resume_with_an_edited_problem_file_is_refused(finished, problem, capsys):
    before = _tree(finished)
    problem.write_text(problem.read_text().replace("0.1 * f.u_xx", "0.2 * f.u_xx"))
    assert main([str(problem), "--out", str(finished), "--resume", "--quiet", "--steps", "14"]) == 2
    err = _error(capsys)
    assert "has changed since the run" in err and "--force-resume" in err
    assert _tree(finished) == before


def test_forced_resume_keeps_the_file_that_actually_ran(finished, problem):
    edited = problem.read_text().replace("0.1 * f.u_xx", "0.2 * f.u_xx")
    problem.write_text(edited)
    assert main([str(problem), "--out", str(finished), "--resume", "--force-resume", "--quiet",
                 "--steps", "14"]) in (0, 1)
    assert (finished / "problem.py").read_text() == edited
    config = json.loads((finished / "config.json").read_text())
    assert config["problem_sha256"] != "" and len(config["problem_sha256"]) == 64


def test_the_hash_of_the_problem_file_is_in_config_and_checkpoint(finished):
    import hashlib

    from pinn.output.files import load_checkpoint

    config = json.loads((finished / "config.json").read_text())
    digest = hashlib.sha256((finished / "problem.py").read_bytes()).hexdigest()
    assert config["problem_sha256"] == digest
    assert load_checkpoint(finished / "checkpoint.pt")["run"] == {"id": config["run_id"], "problem_sha256": digest}


# ---- finding 6: a problem importing a helper module beside it


HELPER = '''
import torch
from math import pi

def exact(x, t):
    return torch.exp(-0.1 * pi**2 * t) * torch.sin(pi * x)
'''


def test_a_problem_importing_a_helper_beside_it_runs_from_anywhere_and_its_run_loads_anywhere(tmp_path):
    project = tmp_path / "project"
    (project / "mylib").mkdir(parents=True)
    (project / "mylib" / "__init__.py").write_text("")
    (project / "mylib" / "closed_form.py").write_text(textwrap.dedent(HELPER))
    text = textwrap.dedent(TINY_PROBLEM).replace("import pinn\n", "import pinn\nfrom mylib.closed_form import exact\n")
    text = text.replace("def exact(x, t):\n    return torch.exp(-0.1 * pi**2 * t) * torch.sin(pi * x)\n", "")
    (project / "problem.py").write_text(text)
    out = tmp_path / "run"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    solve = subprocess.run([sys.executable, "-m", "pinn.solve", str(project / "problem.py"), "--out", str(out),
                            "--quiet"], capture_output=True, text=True, cwd=elsewhere, timeout=300)
    assert solve.returncode == 0, solve.stderr
    assert (out / "mylib" / "closed_form.py").read_text() == textwrap.dedent(HELPER)
    assert json.loads((out / "config.json").read_text())["local_modules"] == ["mylib/__init__.py",
                                                                              "mylib/closed_form.py"]
    shutil.rmtree(project)  # the run must not need the original files any more
    code = ("import pinn, numpy as np; s = pinn.load(%r, trust=True); "
            "print(float(s.predict(np.array([[0.5, 0.0]]))['u'][0]), float(s.grid()['predicted']['u'][10, 0]))"
            % str(out))
    load = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=elsewhere, timeout=300)
    assert load.returncode == 0, load.stderr
    predicted, saved = map(float, load.stdout.split())
    assert predicted == pytest.approx(saved, rel=1e-12)  # the run's own prediction at (x, t) = (0.5, 0)


def test_editing_a_helper_module_counts_as_editing_the_problem(tmp_path, capsys, no_plots):
    (tmp_path / "helper.py").write_text("DIFFUSIVITY = 0.1\n")
    text = textwrap.dedent(TINY_PROBLEM).replace("import pinn\n", "import pinn\nfrom helper import DIFFUSIVITY\n")
    (tmp_path / "problem.py").write_text(text.replace("0.1 * f.u_xx", "DIFFUSIVITY * f.u_xx"))
    out = tmp_path / "run"
    code = ("import sys; from pinn.solve import main; sys.exit(main(sys.argv[1:]))")
    first = subprocess.run([sys.executable, "-c", code, str(tmp_path / "problem.py"), "--out", str(out), "--quiet"],
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    (tmp_path / "helper.py").write_text("DIFFUSIVITY = 0.3\n")
    second = subprocess.run([sys.executable, "-c", code, str(tmp_path / "problem.py"), "--out", str(out), "--quiet",
                             "--resume", "--steps", "14"], capture_output=True, text=True, timeout=300)
    assert second.returncode == 2 and "has changed since the run" in second.stderr, second.stderr
