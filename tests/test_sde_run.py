"""An SDE problem's run folder (issue 18): metrics, solution.h5, figures, exact resume, exit status."""
import json
import subprocess
import sys
import textwrap

import h5py
import pytest

import pinn
from test_sde import batched

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_a_run_folder_holds_the_verdicts_moments_and_figures(tmp_path):
    out = tmp_path / "run"
    solution = pinn.fit(batched(), out, progress=False)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["family"] == "sde" and metrics["passed"] is solution.passed
    assert set(metrics["fields"]) == {"moments", "terminal"}
    assert set(metrics["parameters"]) == {"theta", "mu", "sigma"}
    assert metrics["parameters"]["theta"]["tolerance"] == 0.1
    assert all(m["tolerance"] == pytest.approx(3 * m["standard_error"] + m["bias"]) for m in metrics["moments"])
    assert 0 <= metrics["terminal_test"]["p_value"] <= 1
    with h5py.File(out / "solution.h5") as handle:
        assert handle["moments/learnt"].shape == (len(metrics["moments"]),)
        assert handle["ensemble/fine"].shape == (3, 400)  # t = 0 and the 2 validation times, 400 paths
    assert {p.name for p in (out / "plots").iterdir()} >= {"sample_paths.png", "moments.png", "history.png"}
    report = (out / "report.html").read_text()  # a declared family's run has its report too
    assert "sample_paths.png" in report and ("PASSED" if solution.passed else "FAILED") in report


def test_a_stopped_run_resumes_to_the_same_figures(tmp_path):
    whole = pinn.fit(batched(), tmp_path / "whole", progress=False)
    pinn.fit(batched(), tmp_path / "run", progress=False, stop_when=lambda row: row["step"] >= 5)
    resumed = pinn.fit(batched(), tmp_path / "run", resume=True, progress=False)
    assert resumed.metrics["steps"] == whole.metrics["steps"] == 12
    assert resumed.metrics["parameters"] == whole.metrics["parameters"]
    assert resumed.metrics["moments"] == whole.metrics["moments"]


BAD_PROBLEM = '''
import numpy as np
import pinn
from pinn.dynamics import sde

truth = sde.OrnsteinUhlenbeck(theta=1.0, mu=0.0, sigma=0.5, start=1.0)
times = np.array([0.0, 0.1, 0.1, 0.3])
problem = sde.SDEProblem(
    name="bad", states="x", reference=truth,
    drift=sde.Parametric(lambda x, t, p: -p.theta * x, [pinn.Unknown("theta", 0.5, positive=True)]),
    diffusion=sde.Known(0.5),
    paths=sde.paths_from_arrays(times, np.zeros((2, 4))),
)
'''


def test_a_bad_path_exits_2_naming_the_culprit(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(textwrap.dedent(BAD_PROBLEM))
    done = subprocess.run([sys.executable, "-m", "pinn.solve", str(path), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert "'path 0': times must be strictly increasing" in done.stderr
