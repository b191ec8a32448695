"""Run the three Navier-Stokes problems at their defaults and write a JSON table of errors and times.

    python scripts/navier_stokes.py [--problems kovasznay cavity taylor_green] [--seeds 0 1 2]
                                    [--out navier_stokes.json] [--set KEY=VALUE ...]

Each run is a real `python -m pinn.solve` process (in a temporary folder), one after another, so
times are comparable. The table holds, per problem and seed, the relative L2 error of every
validated field (u, v, p, and the cavity's velocity magnitude `speed`) with its tolerance, the training and process times,
and the reference's own error estimate; `--set` passes shortened settings through (e.g.
`--set training.lbfgs_steps=500` for a quick look).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = {"kovasznay": "problems/kovasznay.py", "cavity": "problems/cavity.py",
            "taylor_green": "problems/taylor_green.py"}


def run(problem_file: Path, seed: int, folder: Path, assignments: list[str]) -> dict:
    out = folder / f"{problem_file.stem}-seed{seed}"
    command = [sys.executable, "-m", "pinn.solve", str(problem_file), "--out", str(out), "--seed", str(seed),
               "--quiet", *[item for a in assignments for item in ("--set", a)]]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if result.returncode == 2 or not (out / "metrics.json").exists():
        raise SystemExit(f"{problem_file} failed:\n{result.stderr}")
    metrics = json.loads((out / "metrics.json").read_text())
    return {"seed": seed, "exit_status": result.returncode, "passed": metrics["passed"],
            "fields": {k: {"rel_l2": v["rel_l2"], "tolerance": v["tolerance"]} for k, v in metrics["fields"].items()},
            "worst_rel_l2": metrics["rel_l2"], "steps": metrics["steps"],
            "training_time_s": metrics["training_time_s"], "process_time_s": elapsed,
            "reference_error_estimate": (metrics["reference"] or {}).get("error_estimate")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", type=Path, default=ROOT / "navier_stokes.json")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    table = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.problems:
            runs = [run(ROOT / PROBLEMS[name], seed, Path(folder), args.assignments) for seed in args.seeds]
            table[name] = {"problem_file": PROBLEMS[name], "settings": args.assignments, "runs": runs,
                           "passed": f"{sum(r['passed'] for r in runs)}/{len(runs)}"}
            for r in runs:
                errors = ", ".join(f"{k} {v['rel_l2']:.2e}" for k, v in r["fields"].items())
                print(f"{name} seed {r['seed']}: {errors}; training {r['training_time_s']:.0f} s, "
                      f"process {r['process_time_s']:.0f} s; {'passed' if r['passed'] else 'FAILED'}", flush=True)
    args.out.write_text(json.dumps(table, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
