"""Run the built-in problems at their defaults and write their errors and times as JSON.

    python scripts/accuracy.py [--problems heat1d heat ...] [--seeds 0 1 2] [--out accuracy.json]
                               [--set KEY=VALUE]...

``scripts/elasticity.py``, ``scripts/navier_stokes.py`` and ``scripts/inverse.py`` run the same for
their problem groups. For inverse problems the table also gives, per unknown parameter, its value
in every run and their mean, standard deviation (over the seeds, which vary the network's
initialisation and the noise of the synthetic observations together) and relative errors.

Each run is a real `python -m pinn.solve` process (in a temporary folder), one after another, so
times are comparable; several seeds show how much the error depends on the initialisation.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {
    "heat": {"heat1d": "problems/heat1d.py", "heat": "problems/heat.py"},
    "elasticity": {"plate": "problems/elasticity_plate.py", "cantilever": "problems/elasticity_cantilever.py"},
    "navier_stokes": {"kovasznay": "problems/kovasznay.py", "cavity": "problems/cavity.py",
                      "taylor_green": "problems/taylor_green.py"},
    "inverse": {"heat_inverse": "problems/heat_inverse.py", "navier_stokes_inverse": "problems/navier_stokes_inverse.py",
                "elasticity_inverse": "problems/elasticity_inverse.py"},
}
PROBLEMS = {name: path for group in GROUPS.values() for name, path in group.items()}


def run(problem_file: Path, seed: int, folder: Path, assignments: list[str], options: list[str] = ()) -> dict:
    """One solve of ``problem_file`` into ``folder``, with ``--set`` assignments and other options."""
    out = folder / f"{problem_file.stem}-seed{seed}"
    command = [sys.executable, "-m", "pinn.solve", str(problem_file), "--out", str(out), "--seed", str(seed),
               "--quiet", *[item for a in assignments for item in ("--set", a)], *options]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if result.returncode == 2 or not (out / "metrics.json").exists():
        raise SystemExit(f"{problem_file} failed:\n{result.stderr}")
    metrics = json.loads((out / "metrics.json").read_text())
    return {"seed": seed, "exit_status": result.returncode, "passed": metrics["passed"],
            "rel_l2": metrics["rel_l2"], "fields": metrics["fields"], "parameters": metrics.get("parameters") or {},
            "steps": metrics["steps"],
            "training_time_s": metrics["training_time_s"], "process_time_s": elapsed,
            "reference_error_estimate": (metrics["reference"] or {}).get("error_estimate")}


def parameter_spread(runs: list[dict]) -> dict[str, dict]:
    """Per unknown parameter: its values over the runs, their mean and (sample) standard deviation,
    the true value and the relative errors, when known."""
    spread = {}
    for parameter in runs[0]["parameters"]:
        values = [r["parameters"][parameter]["value"] for r in runs]
        errors = [r["parameters"][parameter]["rel_error"] for r in runs]
        spread[parameter] = {
            "values": values, "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "true_value": runs[0]["parameters"][parameter]["true_value"],
            "rel_errors": errors, "max_rel_error": None if None in errors else max(errors),
        }
    return spread


def main(group: str = "heat") -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", default=list(GROUPS[group]), choices=list(PROBLEMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", type=Path, default=ROOT / ("accuracy.json" if group == "heat" else f"{group}.json"))
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to every run, e.g. --set lbfgs.steps=500 for a quick look")
    args = parser.parse_args()
    table = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.problems:
            runs = [run(ROOT / PROBLEMS[name], seed, Path(folder), args.assignments) for seed in args.seeds]
            errors = [r["rel_l2"] for r in runs]
            times = [r["process_time_s"] for r in runs]
            table[name] = {"problem_file": PROBLEMS[name], "settings": args.assignments, "runs": runs, "median_rel_l2": statistics.median(errors), "max_rel_l2": max(errors),
                           "median_process_time_s": statistics.median(times), "max_process_time_s": max(times),
                           "all_passed": all(r["passed"] for r in runs)}
            table[name]["parameters"] = parameter_spread(runs)
            for parameter, spread in table[name]["parameters"].items():
                print(f"{name}: {parameter} = {spread['mean']:.6g} +- {spread['std']:.2g} over {len(runs)} seed(s)"
                      + ("" if spread["true_value"] is None else
                         f" (true {spread['true_value']:.6g}, worst relative error {spread['max_rel_error']:.2e})"),
                      flush=True)
            print(f"{name}: rel_l2 median {table[name]['median_rel_l2']:.3e} max {max(errors):.3e}; "
                  f"time median {table[name]['median_process_time_s']:.1f} s max {max(times):.1f} s; "
                  f"passed {sum(r['passed'] for r in runs)}/{len(runs)}", flush=True)
    args.out.write_text(json.dumps(table, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
