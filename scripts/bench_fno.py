"""Benchmark the Fourier neural operator problems: train each through pinn.fit and write the figures as JSON.

For each problem file it records the test relative L2 error at the training resolution and zero-shot at 2x
and 4x (against the solver at those resolutions), the ratio of the 2x error to the 1x error, the data
generation time (0 when read from the cache: the cached figure is in the first run's metrics), the training
time, the epochs trained and the wall time of one epoch, from the run's own metrics.json and history.csv.
If the optional ``neuraloperator`` package is importable (it is not a dependency), one epoch of its FNO of
the same layers, modes, width and batch is timed on the same data for comparison.

    OMP_NUM_THREADS=1 python scripts/bench_fno.py problems/darcy_fno.py problems/burgers_fno.py \
        --out runs/bench_fno --json benchmarks/fno.json
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import time
from pathlib import Path

import torch

import pinn
from pinn.loading import load_problem
from pinn.output.files import read_history, write_json


def epoch_seconds(history: list[dict], batches_per_epoch: int) -> float | None:
    """The median wall time of a training step (from history.csv) times the steps per epoch."""
    times = [row["wall_time_s"] for row in history if "wall_time_s" in row]
    steps = [row["step"] for row in history if "wall_time_s" in row]
    if len(times) < 3:
        return None
    per_step = sorted((t1 - t0) / max(s1 - s0, 1) for t0, t1, s0, s1 in zip(times, times[1:], steps, steps[1:]))
    return per_step[len(per_step) // 2] * batches_per_epoch


def neuraloperator_epoch(problem, reference) -> float | None:
    """One epoch of ``neuraloperator``'s FNO with the same settings, in seconds (None if it is not installed)."""
    if importlib.util.find_spec("neuralop") is None:
        return None
    from neuralop.models import FNO as TheirFNO  # optional: never a dependency

    net = problem.net
    model = TheirFNO(n_modes=tuple(2 * m for m in net.modes[:-1]) + (2 * net.modes[-1],), hidden_channels=net.width,
                     in_channels=len(problem.task.inputs), out_channels=len(problem.task.outputs),
                     n_layers=net.layers, domain_padding=None)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    inputs = torch.as_tensor(reference.train.inputs, dtype=torch.float32)
    outputs = torch.as_tensor(reference.train.outputs, dtype=torch.float32)
    batch = problem.data.batch_size
    started = time.perf_counter()
    for i in range(0, len(inputs) - batch + 1, batch):
        optimizer.zero_grad()
        loss = ((model(inputs[i:i + batch]) - outputs[i:i + batch]).flatten(1).norm(dim=1)
                / outputs[i:i + batch].flatten(1).norm(dim=1)).mean()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def refinement(problem, resolution: int) -> float:
    """How many times finer than the training grid's spacing ``resolution``'s is (both walls on a closed grid)."""
    trained = problem.data.resolution
    return resolution / trained if problem.task.periodic else (resolution - 1) / (trained - 1)


def bench(path: Path, out: Path, time_budget: float | None) -> dict:
    problem = load_problem(path)
    started = time.perf_counter()
    solution = pinn.fit(problem, out / problem.name, overwrite=True, progress=False,
                        time_budget=time_budget)
    wall = time.perf_counter() - started
    metrics = solution.metrics
    history = read_history(out / problem.name / "history.csv")
    by_resolution = {int(r): v for r, v in metrics["error_by_resolution"].items()}
    resolutions = sorted(by_resolution)
    first = problem.task.outputs[0]
    base = by_resolution[problem.data.resolution][first]
    result = {
        "problem": problem.name, "passed": metrics["passed"], "tolerance": problem.tolerance.get(first),
        "test_rel_l2": base,
        "test_rel_l2_by_resolution": {str(r): by_resolution[r][first] for r in resolutions},
        "super_resolution_ratio": {f"{refinement(problem, r):g}x": by_resolution[r][first] / base
                                   for r in resolutions if r != problem.data.resolution},
        "train_samples": problem.splits.train, "test_samples": problem.splits.test,
        "resolution": problem.data.resolution, "steps": metrics["steps"], "epochs": metrics.get("epochs"),
        "epoch_time_s": epoch_seconds(history, metrics.get("batches_per_epoch", 1)),
        "training_time_s": metrics.get("training_time_s"), "data_time_s": metrics.get("reference_time_s"),
        "wall_time_s": wall, "net": dict(problem.describe()["net"]),
    }
    reference = problem.build_reference() if importlib.util.find_spec("neuralop") else None
    result["neuraloperator_epoch_time_s"] = neuraloperator_epoch(problem, reference) if reference else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_fno"))
    parser.add_argument("--json", type=Path, default=Path("runs/bench_fno/results.json"))
    parser.add_argument("--time-budget", type=float, default=None, help="seconds of training per problem")
    args = parser.parse_args()
    results = [bench(path, args.out, args.time_budget) for path in args.problems]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.json, {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads; "
                                      "a shared 2-core machine: times are upper bounds",
                           "torch": torch.__version__, "results": results})
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
