"""Pin every built-in problem's figures before a refactor and compare after it.

    python scripts/pin_metrics.py record  [--problems ...] [--steps N] [--out pinned.json]
    python scripts/pin_metrics.py compare [--problems ...] [--steps N] --against pinned.json [--out compare.json]

Each problem runs at its defaults (or, with ``--steps N``, its schedule cut to N steps: quick, and any
change to the arithmetic still shows) as a real ``python -m pinn.solve`` process, seed 0. ``record``
writes every field's relative L2 and max error, every unknown's value, the final losses and the step
count; ``compare`` runs the same and reports, per figure, the relative difference from the record.
Every built-in problem trains in float64, where a refactor that keeps the arithmetic keeps the
figures to rounding: figures differing by more than ``--rtol`` (default 1e-10) fail, and the
script exits 1 naming them.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from accuracy import PROBLEMS, ROOT, run


def figures(metrics_row: dict, out: Path) -> dict[str, float]:
    """The numbers a behaviour-preserving change must keep, flat, by name."""
    flat = {"steps": float(metrics_row["steps"])}
    for field, error in metrics_row["fields"].items():
        flat[f"{field}.rel_l2"] = error["rel_l2"]
        flat[f"{field}.max_abs"] = error["max_abs"]
    for name, parameter in metrics_row["parameters"].items():
        flat[f"{name}.value"] = parameter["value"]
    metrics = json.loads((out / "metrics.json").read_text())
    for term, value in metrics["final_loss"].items():
        flat[f"loss.{term}"] = value
    return flat


def measure(names: list[str], steps: int | None) -> dict[str, dict[str, float]]:
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            problem_file = ROOT / PROBLEMS[name]
            extra = [] if steps is None else ["--steps", str(steps)]
            row = run(problem_file, 0, Path(folder), [], extra)
            result[name] = figures(row, Path(folder) / f"{problem_file.stem}-seed0")
            print(f"{name}: {result[name]}", file=sys.stderr)
    return result


def compare(now: dict, before: dict, rtol: float) -> tuple[dict, list[str]]:
    table, failures = {}, []
    for name, figures_now in now.items():
        table[name] = {}
        for key, value in figures_now.items():
            old = before.get(name, {}).get(key)
            if old is None:
                failures.append(f"{name} {key}: not in the record")
                continue
            difference = abs(value - old) / max(abs(old), 1e-300)
            table[name][key] = {"before": old, "after": value, "rel_difference": difference}
            if difference > rtol:
                failures.append(f"{name} {key}: {old!r} before, {value!r} after ({difference:.1e} relative)")
    return table, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["record", "compare"])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--steps", type=int, help="cut each schedule to N steps (default: the problem's own)")
    parser.add_argument("--against", type=Path, help="compare: the record to compare with")
    parser.add_argument("--rtol", type=float, default=1e-10)
    parser.add_argument("--out", type=Path, help="where to write the record or the comparison (JSON)")
    args = parser.parse_args()
    now = measure(args.problems, args.steps)
    if args.action == "record":
        data = {"steps": args.steps, "figures": now}
        failures = []
    else:
        if args.against is None:
            parser.error("compare needs --against RECORD.json")
        record = json.loads(args.against.read_text())
        if record.get("steps") != args.steps:
            parser.error(f"the record was made with --steps {record.get('steps')}, not {args.steps}")
        table, failures = compare(now, record["figures"], args.rtol)
        data = {"steps": args.steps, "rtol": args.rtol, "comparison": table, "failures": failures}
    text = json.dumps(data, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    for failure in failures:
        print(f"changed: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
