"""Neural SDEs (issue 18): every figure of the targets, measured by real runs, written as JSON.

    python scripts/bench_sde.py [--out bench_sde.json] [--runs DIR] [--problems ornstein_uhlenbeck ...]
                                [--ou-data-seeds 5] [--ou2d-data-seeds 2] [--latent-data-seeds 2]

Each example problem (problems/ornstein_uhlenbeck.py, geometric_brownian.py, double_well_sde.py,
ou2d_sde.py, ou_latent_sde.py) runs
as ``pinn.fit`` would from the command line (a run folder under ``--runs``); the JSON holds, per problem,
the recovered coefficients against their true values with the likelihood's computed discretisation bias,
every compared moment with its Monte Carlo standard error and bias, the terminal two-sample test, the
stationary density's L1 error, and the training, validation and total wall times. For the
Ornstein-Uhlenbeck target (theta and sigma within 2% from 1000 paths) it also refits on fresh data from
``--ou-data-seeds`` other seeds, so that the figure is not one lucky draw; the 2-state one likewise
(``--ou2d-data-seeds``), with the diffusion ``B = S S^T`` recovered from ``S``, and the latent-SDE one
(``--latent-data-seeds``, paths drawn by the problem's ``observe``). Times are on a shared
2-core machine: upper bounds.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import runpy
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pinn  # noqa: E402
from pinn.dynamics import sde  # noqa: E402

PROBLEMS = ("ornstein_uhlenbeck", "geometric_brownian", "double_well_sde", "ou2d_sde", "ou_latent_sde")


def run_problem(name: str, runs: Path) -> dict:
    path = ROOT / "problems" / f"{name}.py"
    started = time.perf_counter()
    pinn.fit(str(path), out=runs / name, overwrite=True, progress=False)
    wall = time.perf_counter() - started
    metrics = json.loads((runs / name / "metrics.json").read_text())
    moments = metrics.get("moments", [])
    ratios = [abs(m["learnt"] - m["reference"]) / m["tolerance"] for m in moments]
    return {
        "command": f"python -m pinn.solve problems/{name}.py",
        "passed": metrics["passed"],
        "parameters": metrics.get("parameters", {}),
        "fields": metrics.get("fields", {}),
        "moments": moments,
        "moments_within_budget": sum(m["passed"] for m in moments), "moments_compared": len(moments),
        "largest_moment_ratio": max(ratios, default=None),
        "terminal_test": metrics.get("terminal_test"),
        "density_l1": metrics.get("density_l1"),
        "discretisation_bias": metrics.get("discretisation_bias"),
        "training_time_s": metrics.get("training_time_s"),
        "validation_time_s": metrics.get("validation_time_s"),
        "wall_time_s_fit": wall,
        "steps": metrics.get("steps"),
        "likelihood": metrics.get("likelihood"),
    }


def other_data(name: str, count: int, draw) -> dict:
    """The problem ``name`` refitted on data from ``count`` other seeds: ``draw(module, rng)`` gives the
    paths (as many as the problem's own data, drawn the same way)."""
    module = runpy.run_path(str(ROOT / "problems" / f"{name}.py"))
    problem = module["problem"]
    fits = []
    for seed in range(count):
        rng = np.random.default_rng(1000 + seed)
        changed = dataclasses.replace(problem, paths=draw(module, rng))
        started = time.perf_counter()
        fit = sde.fit_sde(changed)
        values = {k: v["value"] for k, v in fit.report["coefficients"].items()}
        entry = {"data_seed": 1000 + seed, "training_time_s": fit.training_time_s,
                 "total_time_s": time.perf_counter() - started,
                 "rel_error": {k: v["rel_error"] for k, v in fit.report["coefficients"].items()},
                 "passed": fit.passed}
        if "s11" in values:
            entry["diffusion_B"] = diffusion_error(values, module["truth"])
        fits.append(entry)
        print(f"  {name} data seed {1000 + seed}: {entry['rel_error']}", flush=True)
    worst = {k: max(f["rel_error"][k] for f in fits) for k in fits[0]["rel_error"]}
    return {"fits": fits, "worst_rel_error": worst, "all_passed": all(f["passed"] for f in fits)}


def diffusion_error(values: dict, truth: sde.MultivariateOrnsteinUhlenbeck) -> dict:
    """The diffusion ``B = S S^T`` from the fitted lower-triangular ``S``: each entry's relative error and
    the matrix's (Frobenius norm)."""
    d = truth.states
    s = np.array([[values[f"s{i + 1}{j + 1}"] if j <= i else 0.0 for j in range(d)] for i in range(d)])
    b, exact = s @ s.T, truth.diffusion_matrix
    return {"learnt": b.tolist(), "exact": exact.tolist(), "rel_error": (np.abs(b - exact) / np.abs(exact)).tolist(),
            "frobenius_rel_error": float(np.linalg.norm(b - exact) / np.linalg.norm(exact))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_sde.json")
    parser.add_argument("--runs", default="runs/bench_sde")
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--ou-data-seeds", type=int, default=5)
    parser.add_argument("--ou2d-data-seeds", type=int, default=2)
    parser.add_argument("--latent-data-seeds", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = {"machine": f"{os.cpu_count()} CPUs, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, shared: "
                          "times are upper bounds", "torch": __import__("torch").__version__,
               "torchsde": __import__("torchsde").__version__, "problems": {}}
    for name in args.problems:
        print(f"{name} ...", flush=True)
        results["problems"][name] = run_problem(name, Path(args.runs))
        if name == "ou2d_sde":
            truth = runpy.run_path(str(ROOT / "problems" / "ou2d_sde.py"))["truth"]
            values = {k: v["value"] for k, v in results["problems"][name]["parameters"].items()}
            results["problems"][name]["diffusion_B"] = diffusion_error(values, truth)
        print(f"  passed={results['problems'][name]['passed']}", flush=True)
    if "ornstein_uhlenbeck" in args.problems and args.ou_data_seeds:
        results["ornstein_uhlenbeck_other_data"] = other_data(
            "ornstein_uhlenbeck", args.ou_data_seeds,
            lambda module, rng: sde.paths_from_arrays(
                module["times"], module["truth"].simulate(module["times"], rng.uniform(-1.0, 2.0, 1000), rng)))
    if "ou2d_sde" in args.problems and args.ou2d_data_seeds:
        results["ou2d_sde_other_data"] = other_data(
            "ou2d_sde", args.ou2d_data_seeds,
            lambda module, rng: sde.paths_from_arrays(
                module["times"], module["truth"].simulate(module["times"], rng.uniform(-3.0, 4.0, (4000, 2)), rng)))
    if "ou_latent_sde" in args.problems and args.latent_data_seeds:
        results["ou_latent_sde_other_data"] = other_data(
            "ou_latent_sde", args.latent_data_seeds, lambda module, rng: module["observe"](rng))
    Path(args.out).write_text(json.dumps(results, indent=1, default=float))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
