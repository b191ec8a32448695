"""A hard kill in the middle of writing any file of the run folder loses nothing: the run resumes
(or, killed before its first checkpoint, starts again) and ends with the same weights, errors and
history as an uninterrupted run, with no temporary file left behind."""
from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from pinn.solve import main

from conftest import ROOT
from test_reliability import LONGER, _assert_same_run, hooked_path, whole_run  # noqa: F401 (fixtures)

# Runs the solve with os.replace (the last act of every atomic write) patched: at the n-th write
# of the named file, the temporary file is cut in half and the process kills itself, mid-write.
KILL_WHILE_WRITING = '''
import os, signal, sys
target, nth = sys.argv[1], int(sys.argv[2])
seen = [0]
replace = os.replace

def replace_or_die(source, destination, *args, **kwargs):
    if os.path.basename(destination) == target:
        seen[0] += 1
        if seen[0] == nth:
            with open(source, "r+b") as handle:
                handle.truncate(os.path.getsize(source) // 2)
            os.kill(os.getpid(), signal.SIGKILL)
    return replace(source, destination, *args, **kwargs)

os.replace = replace_or_die
from pinn.solve import main
sys.exit(main(sys.argv[3:]))
'''

# (file, which of its writes): config.json and problem.py come before the first checkpoint, so the
# run starts again; the others resume. checkpoint_every=5: the second checkpoint is step 10's.
WRITES = [("config.json", 1), ("problem.py", 1), ("history.csv", 2), ("checkpoint.pt", 2), ("solution.h5", 1),
          ("solution.xdmf.h5", 1), ("solution.xdmf", 1), ("history.png", 1), ("report.html", 1), ("metrics.json", 1)]


@pytest.mark.parametrize("target,nth", WRITES, ids=[name for name, _ in WRITES])
def test_a_kill_while_writing_each_file_loses_nothing(hooked_path, whole_run, tmp_path, target, nth):
    out = tmp_path / "run"
    argv = [str(hooked_path), "--out", str(out), "--quiet", *LONGER]
    killed = subprocess.run([sys.executable, "-c", KILL_WHILE_WRITING, target, str(nth), *argv],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (out / "metrics.json").exists()
    again = "--resume" if (out / "checkpoint.pt").exists() else "--overwrite"
    assert main([*argv, again]) == 0
    _assert_same_run(whole_run, out)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not list(tmp_path.glob(".run.replaced-*"))
