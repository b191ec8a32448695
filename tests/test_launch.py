"""``python -m pinn.solve --processes N``: pinn starts the processes and ends with process 0's exit status
(torchrun's is 1 whatever the verdict)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pinn.solve import EXIT_MISSED, EXIT_USER_ERROR, main

ROOT = Path(__file__).resolve().parent.parent
HEAT1D = str(ROOT / "problems" / "heat1d.py")
SMALL = ["--set", "net.width=8", "--set", "net.depth=2", "--set", "sampling.interior=200", "--steps", "2"]


def _solve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pinn.solve", HEAT1D, "--processes", "2", "--quiet",
                           "--device", "cpu", *args], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**_environment(), "OMP_NUM_THREADS": "1"})


def _environment() -> dict:
    return {key: value for key, value in os.environ.items() if key not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}


def test_a_missed_tolerance_is_status_1(tmp_path):
    """Two steps cannot meet heat1d's tolerance: both processes trained, process 0's status is the launcher's."""
    done = _solve("--out", str(tmp_path / "run"), *SMALL)
    assert done.returncode == EXIT_MISSED, done.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["passed"] is False and metrics["steps"] == 2
    assert "FAILED: tolerance not met" in done.stderr


@pytest.mark.slow  # 30 s here, as the test above: three processes start; the status route is the same
def test_a_bad_run_folder_is_status_2(tmp_path):
    """A mistake found by process 0 (a folder that is not a run's): status 2, nothing written there."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    done = _solve("--out", str(tmp_path / "mine"), *SMALL)
    assert done.returncode == EXIT_USER_ERROR, done.stderr
    assert f"error: run folder {tmp_path / 'mine'} already exists and is not empty" in done.stderr
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_a_bad_problem_file_is_reported_once_before_any_process_starts(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("this is not python\n")
    assert main([str(broken), "--processes", "2", "--out", str(tmp_path / "run")]) == EXIT_USER_ERROR
    assert capsys.readouterr().err.count("error:") == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("count", ["0", "two"])
def test_a_bad_process_count_is_refused(count, capsys):
    assert main([HEAT1D, "--processes", count]) == EXIT_USER_ERROR
    assert "--processes" in capsys.readouterr().err


def test_processes_under_torchrun_is_refused(monkeypatch, capsys):
    """torchrun started this process already: --processes would start processes within each of its own."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    assert main([HEAT1D, "--processes", "2"]) == EXIT_USER_ERROR
    assert "under torchrun leave it out" in capsys.readouterr().err


def test_a_process_left_running_after_another_ended_is_stopped(monkeypatch):
    """Once one process has ended, one that does not end within the grace period is stopped (SIGTERM, then
    SIGKILL if it ignores that): the launcher never waits for ever."""
    from pinn import launch

    monkeypatch.setattr(launch, "GRACE_S", 0.3)
    monkeypatch.setattr(launch, "KILL_AFTER_S", 0.3)
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    workers = [subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]),
               subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]),
               subprocess.Popen([sys.executable, "-c", stubborn], stdout=subprocess.PIPE, text=True)]
    assert workers[2].stdout.readline() == "ready\n"  # its SIGTERM is ignored from here on
    launch._wait(workers)
    assert [w.returncode for w in workers] == [3, -15, -9]
