"""Run the benchmark suite (benchmarks/*.py) with the framework's defaults and write a JSON table.

    python scripts/benchmarks.py [--cases burgers1d helmholtz2d ...] [--steps N] [--time-budget 10m]
                                 [--seed S] [--runs DIR] --out results.json

Each case is one problem file of benchmarks/, run through ``pinn.fit`` with nothing but the
options given here (the files set no training options: the defaults must do the job). The table
has, per case: each field's (and each unknown's) relative L2 error, the worst, the tolerance, the
verdict, the wall time, the steps, the best published figure for the same task
(benchmarks/published.json) and whether the run beat it. A case that cannot run (an API it needs
is missing, say) gets an ``error`` and the suite carries on. Printed as a table at the end.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's pinn, not another one installed (a worktree measured main's code once)
SUITE = ROOT / "benchmarks"
PUBLISHED = SUITE / "published.json"


def cases() -> list[str]:
    """Every problem file of the suite, by name (the file name without .py)."""
    return sorted(p.stem for p in SUITE.glob("*.py") if not p.name.startswith("_"))


def published() -> dict:
    return json.loads(PUBLISHED.read_text()) if PUBLISHED.is_file() else {}


def best_published(case: str, table: dict | None = None) -> dict | None:
    """The lowest published figure for ``case`` (value, method, source, verified), or None."""
    entry = (published() if table is None else table).get(case) or {}
    figures = [f for f in entry.get("figures", []) if f.get("value") is not None]
    if not figures:
        return None
    best = min(figures, key=lambda f: f["value"])
    return {k: best.get(k) for k in ("value", "method", "source", "verified", "metric")}


def run_case(case: str, *, steps: int | None = None, time_budget: float | None = None, seed: int | None = None,
             runs: Path | None = None, table: dict | None = None) -> dict:
    """Run one case and return its row of the table."""
    import pinn

    runs = Path(runs) if runs is not None else ROOT / "runs" / "benchmarks"
    options = dict(out=runs / case, overwrite=True, steps=steps, seed=seed, progress=False)
    if time_budget is not None:
        options["time_budget"] = time_budget
    import torch

    row: dict = {"case": case, "steps": steps, "published": best_published(case, table),
                 "threads": torch.get_num_threads()}
    start = time.perf_counter()
    try:
        solution = pinn.fit(SUITE / f"{case}.py", **options)
    except Exception as error:  # noqa: BLE001 - a case that cannot run is reported, the suite goes on
        row.update(error=f"{type(error).__name__}: {error}", wall_time_s=time.perf_counter() - start,
                   passed=False, beats_published=None)
        return row
    wall = time.perf_counter() - start
    metrics = solution.metrics
    rel_l2 = {name: field["rel_l2"] for name, field in metrics["fields"].items()}
    tolerance = {name: field.get("tolerance") for name, field in metrics["fields"].items()}
    for name, parameter in (metrics.get("parameters") or {}).items():
        if parameter.get("rel_error") is not None:
            rel_l2[name] = parameter["rel_error"]
            tolerance[name] = parameter.get("tolerance")
    worst = max(rel_l2.values()) if rel_l2 else None
    best = row["published"]
    row.update(
        rel_l2=rel_l2, worst=worst, tolerance=tolerance, passed=bool(metrics["passed"]),
        wall_time_s=wall, run_wall_time_s=metrics.get("wall_time_s"), steps=metrics.get("steps", steps),
        beats_published=None if best is None or worst is None or not math.isfinite(worst) else worst < best["value"],
    )
    return row


def table_lines(rows: list[dict]) -> list[str]:
    lines = [f"{'case':<20} {'worst rel L2':>12} {'tolerance':>10} {'passed':>6} {'time s':>7} "
             f"{'published':>10} {'beats':>5}  method"]
    for row in rows:
        best = row.get("published") or {}
        tol = row.get("tolerance") or {}
        tol_text = f"{max(tol.values()):.0e}" if tol and all(v is not None for v in tol.values()) else "-"
        worst = row.get("worst")
        lines.append(
            f"{row['case']:<20} {('%.2e' % worst) if worst is not None else 'error':>12} {tol_text:>10} "
            f"{str(row.get('passed')):>6} {row.get('wall_time_s', 0):7.0f} "
            f"{('%.2e' % best['value']) if best else '-':>10} {str(row.get('beats_published')):>5}  "
            f"{best.get('method') or ''}")
        if row.get("error"):
            lines.append(f"    {row['error'][:160]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=None, help=f"cases to run (default: all: {' '.join(cases())})")
    parser.add_argument("--steps", type=int, default=None, help="total steps of each run (default: the framework's)")
    parser.add_argument("--time-budget", default=None,
                        help="training time per case (600, 10m, 1h), as pinn.fit's time_budget (default: the "
                             "automatic schedule's 10 minutes)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "benchmarks", help="folder of the run folders")
    parser.add_argument("--out", type=Path, required=True, help="the JSON table to write")
    args = parser.parse_args(argv)
    chosen = args.cases or cases()
    unknown = sorted(set(chosen) - set(cases()))
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; the suite has {', '.join(cases())}")
    table = published()
    rows = []
    for case in chosen:
        rows.append(run_case(case, steps=args.steps, time_budget=args.time_budget, seed=args.seed, runs=args.runs,
                             table=table))
        args.out.write_text(json.dumps(rows, indent=1) + "\n")  # after each case: a stopped suite keeps its rows
        print(table_lines(rows[-1:])[-1] if not rows[-1].get("error") else table_lines(rows[-1:])[1], flush=True)
    print("\n".join(table_lines(rows)))
    return 0 if all(row.get("passed") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
