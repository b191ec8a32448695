"""python -m pinn.compare: key metrics and differing settings of runs side by side, compare.csv, compare.png; bad
input refused with exit 2 naming the folder or file; nothing written into a run, nothing replaced without --force."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from pinn.compare import compare, error_figure, flatten, main
from pinn.output.files import write_history, write_json
from pinn.output.finished import read_finished_run


def _run(folder: Path, width: int, errors: list[float], seed: int = 0, passed: bool = True) -> Path:
    """A finished run folder as a run writes it (the project's own writers), with the entries compare reads."""
    folder.mkdir(parents=True)
    write_json(folder / "metrics.json", {
        "problem": "heat2d", "passed": passed, "failure": None, "steps": 10 * len(errors), "wall_time_s": 1.5 * width,
        "seed": seed, "fields": {"u": {"rel_l2": errors[-1], "max_abs": 1.0, "tolerance": 1e-3, "passed": passed}}})
    write_json(folder / "config.json", {
        "problem": "heat2d", "run_id": folder.name, "net": {"width": width, "depth": 3},
        "training": {"schedule": [{"phase": "Adam", "name": "adam", "steps": 10}, {"phase": "LBFGS", "name": "lbfgs",
                                                                                  "steps": 5 * width}]},
        "numerics": {"seed": seed}, "reference": f"heat_fd(diffusivity=<function k at 0x7f{width:04x}>)"})
    rows = [{"step": 10 * (i + 1), "loss_total": 1.0 / (i + 1), "rel_l2": e} for i, e in enumerate(errors)]
    rows.insert(1, {"step": 15, "loss_total": 0.7})  # a row between checks: no error
    write_history(folder / "history.csv", rows)
    return folder


@pytest.fixture
def two_runs(tmp_path):
    return (_run(tmp_path / "narrow", 16, [0.1, 0.01, 2e-3], passed=False),
            _run(tmp_path / "wide", 32, [0.1, 1e-3, 1e-4, 5e-5], seed=1))


def test_the_table_shows_key_metrics_and_only_the_settings_that_differ(two_runs, tmp_path, capsys):
    out = tmp_path / "out"
    before = {run: sorted(p.name for p in run.iterdir()) for run in two_runs}
    assert main([*map(str, two_runs), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "FAILED: tolerance not met" in printed and "PASSED" in printed
    assert "2.000e-03" in printed and "5.000e-05" in printed and "1.000e-03" in printed  # errors, tolerance
    for setting in ("net.width", "training.schedule.lbfgs.steps", "numerics.seed"):
        assert setting in printed
    for same in ("net.depth", "training.schedule.adam.steps", "run_id", "reference"):  # equal, id, or address only
        assert same not in printed
    with (out / "compare.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["run"] for r in rows] == [str(r) for r in two_runs]
    assert [r["net.width"] for r in rows] == ["16", "32"] and [r["seed"] for r in rows] == ["0", "1"]
    assert [float(r["u rel_l2"]) for r in rows] == [2e-3, 5e-5] and [r["steps"] for r in rows] == ["30", "40"]
    assert "net.depth" not in rows[0] and "run_id" not in rows[0]
    assert (out / "compare.png").read_bytes().startswith(b"\x89PNG")
    assert {run: sorted(p.name for p in run.iterdir()) for run in two_runs} == before  # nothing written in a run


def test_the_figure_overlays_each_runs_error_history_on_a_log_scale(two_runs):
    runs = [read_finished_run(r) for r in two_runs]
    ax = error_figure(runs, [str(r) for r in two_runs]).axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    assert list(ax.lines[0].get_xdata()) == [10, 20, 30] and list(ax.lines[0].get_ydata()) == [0.1, 0.01, 2e-3]
    assert list(ax.lines[1].get_ydata()) == [0.1, 1e-3, 1e-4, 5e-5]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"run {i}: {r}" for i, r in enumerate(two_runs, 1)]


def test_existing_outputs_are_replaced_only_with_force(two_runs, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "compare.csv").write_text("mine\n")
    assert main([*map(str, two_runs), "--out", str(out)]) == 2
    assert "compare.csv already exists" in capsys.readouterr().err and (out / "compare.csv").read_text() == "mine\n"
    assert not (out / "compare.png").exists()
    assert main([*map(str, two_runs), "--out", str(out), "--force"]) == 0
    assert (out / "compare.csv").read_text().startswith("run,problem,verdict")


@pytest.mark.parametrize("case", ["no folder", "no metrics", "corrupt metrics", "out inside a run"])
def test_bad_input_exits_2_naming_the_folder(two_runs, tmp_path, capsys, case):
    bad = tmp_path / "bad"
    args = [str(two_runs[0]), str(bad), "--out", str(tmp_path / "out")]
    if case == "no metrics":
        bad.mkdir()
        (bad / "config.json").write_text("{}")
    elif case == "corrupt metrics":
        bad.mkdir()
        (bad / "metrics.json").write_text("[1, 2")
    elif case == "out inside a run":
        args = [*map(str, two_runs), "--out", str(two_runs[1] / "comparison")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert (str(two_runs[1]) if case == "out inside a run" else str(bad)) in err
    assert not (tmp_path / "out").exists() and not (two_runs[1] / "comparison").exists()


def test_flatten_names_phases_and_keeps_plain_lists():
    config = {"net": {"width": 8, "hidden": [8, 8]},
              "training": {"schedule": [{"name": "adam", "steps": 3}, {"steps": 4}]}}
    assert flatten(config) == {"net.width": 8, "net.hidden": [8, 8], "training.schedule.adam.steps": 3,
                               "training.schedule.1.steps": 4}


def test_a_run_missing_a_setting_differs_from_one_that_has_it(tmp_path):
    a, b = _run(tmp_path / "a", 16, [0.1]), _run(tmp_path / "b", 16, [0.1])
    config = read_finished_run(b).config
    write_json(b / "config.json", {**config, "sampling": {"interior": 64}})
    comparison = compare([read_finished_run(a), read_finished_run(b)])
    assert comparison.settings == ["sampling.interior"]
    assert [row["sampling.interior"] for row in comparison.rows] == [None, 64]


def test_the_command_writes_into_the_current_folder_by_default(two_runs, tmp_path):
    here = tmp_path / "here"
    here.mkdir()
    process = subprocess.run([sys.executable, "-m", "pinn.compare", *map(str, two_runs)], capture_output=True,
                             text=True, cwd=here, timeout=120)
    assert process.returncode == 0, process.stderr
    assert sorted(p.name for p in here.iterdir()) == ["compare.csv", "compare.png"]
    assert "settings that differ:" in process.stdout
