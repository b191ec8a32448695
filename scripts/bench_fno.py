"""Benchmark the Fourier neural operator problems: train each through pinn.fit and write the figures as JSON.

For each problem file it records the test relative L2 error at the training resolution and zero-shot at 2x
and 4x (against the solver at those resolutions), the ratio of the 2x error to the 1x error, the data
generation time (0 when read from the cache: the cached figure is in the first run's metrics), the training
time, the epochs trained and the wall time of one epoch, from the run's own metrics.json and history.csv.
If the optional ``neuraloperator`` package is importable (the ``bench`` extra, never a dependency), epochs
of its FNO of the same layers, modes, width, projection, padding and batch are timed on the same data,
interleaved with ours (``--speed-only`` does only that, without training): see :func:`speed_comparison`.

    OMP_NUM_THREADS=1 python scripts/bench_fno.py problems/darcy_fno.py problems/burgers_fno.py \
        --out runs/bench_fno --json benchmarks/fno.json
    OMP_NUM_THREADS=1 python scripts/bench_fno.py problems/darcy_fno.py --speed-only \
        --json benchmarks/results_fno_speed.json
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import time
from pathlib import Path

import torch

import pinn
from pinn.loading import load_problem
from pinn.operators.data import Samples, split_samples
from pinn.operators.model import OperatorModel
from pinn.operators.objective import relative_l2
from pinn.output.files import read_history, write_json


def epoch_seconds(history: list[dict], batches_per_epoch: int) -> float | None:
    """The median wall time of a training step (from history.csv) times the steps per epoch."""
    times = [row["wall_time_s"] for row in history if "wall_time_s" in row]
    steps = [row["step"] for row in history if "wall_time_s" in row]
    if len(times) < 3:
        return None
    per_step = sorted((t1 - t0) / max(s1 - s0, 1) for t0, t1, s0, s1 in zip(times, times[1:], steps, steps[1:]))
    return per_step[len(per_step) // 2] * batches_per_epoch


def neuraloperator_model(problem) -> torch.nn.Module:
    """``neuraloperator``'s FNO built as ours: the same layers, width, kept modes (its last axis keeps
    ``n // 2 + 1`` of ``n``, ours ``modes``), grid coordinates as input channels, one linear lifting, a
    linear pointwise path beside each spectral convolution and no channel MLP in the blocks, the same
    projection width, and the same padding fraction (its domain padding)."""
    from neuralop.models import FNO as TheirFNO  # optional: never a dependency

    net = problem.net
    return TheirFNO(n_modes=tuple(2 * m for m in net.modes[:-1]) + (2 * (net.modes[-1] - 1),),
                    hidden_channels=net.width, in_channels=len(problem.task.inputs),
                    out_channels=len(problem.task.outputs), n_layers=net.layers, lifting_channel_ratio=0,
                    projection_channel_ratio=net.projection / net.width, use_channel_mlp=False, fno_skip="linear",
                    positional_embedding="grid" if net.coordinates else None,
                    domain_padding=net.padding or None)


def epoch_time(model: torch.nn.Module, optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
               outputs: torch.Tensor, batch: int) -> float:
    """Seconds of one epoch of forward, relative L2 loss, backward and Adam step over ``inputs`` in order."""
    started = time.perf_counter()
    for i in range(0, len(inputs) - batch + 1, batch):
        optimizer.zero_grad()
        loss = relative_l2(model(inputs[i:i + batch]), outputs[i:i + batch]).mean()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def speed_comparison(problem, train: Samples, repeats: int) -> dict | None:
    """Epoch times of this project's FNO and ``neuraloperator``'s of the same settings on the same data and
    batch, interleaved (ours, theirs, ours, theirs ...) after one warm-up epoch each, so that a load on the
    machine falls on both alike: each one's median, and the median of the repeats' ratios (ours / theirs;
    below 1: ours is faster). None if ``neuraloperator`` is not installed."""
    if importlib.util.find_spec("neuralop") is None:
        return None
    import neuralop

    generator = torch.Generator().manual_seed(0)
    ours = OperatorModel(problem.net, train.inputs, train.outputs, problem.task.periodic, generator)
    torch.manual_seed(0)
    theirs = neuraloperator_model(problem)
    inputs = torch.as_tensor(train.inputs, dtype=torch.float32)
    outputs = torch.as_tensor(train.outputs, dtype=torch.float32)
    batch = problem.data.batch_size
    models = {"pinn": ours, "neuraloperator": theirs}
    optimizers = {name: torch.optim.Adam(model.parameters(), lr=1e-3) for name, model in models.items()}
    times: dict[str, list[float]] = {name: [] for name in models}
    for repeat in range(repeats + 1):
        for name, model in models.items():
            seconds = epoch_time(model, optimizers[name], inputs, outputs, batch)
            if repeat:  # the first epoch of each warms up (allocations, FFT plans)
                times[name].append(seconds)
    ratios = [a / b for a, b in zip(times["pinn"], times["neuraloperator"])]
    return {"neuraloperator_version": neuralop.__version__, "repeats": repeats, "batch_size": batch,
            "train_samples": len(inputs), "resolution": problem.data.resolution,
            "real_parameters": {name: sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())
                                for name, model in models.items()},
            "epoch_time_s": times, "median_epoch_time_s": {name: statistics.median(t) for name, t in times.items()},
            "median_ratio_pinn_over_neuraloperator": statistics.median(ratios), "ratios": ratios}


def refinement(problem, resolution: int) -> float:
    """How many times finer than the training grid's spacing ``resolution``'s is (both walls on a closed grid)."""
    trained = problem.data.resolution
    return resolution / trained if problem.task.periodic else (resolution - 1) / (trained - 1)


def bench(path: Path, out: Path, time_budget: float | None, repeats: int) -> dict:
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
    installed = importlib.util.find_spec("neuralop") is not None
    result["speed"] = speed_comparison(problem, training_samples(problem), repeats) if installed else None
    return result


def speed_only(path: Path, repeats: int) -> dict:
    """The speed comparison alone (the data from the cache or the solver, no training run)."""
    problem = load_problem(path)
    return {"problem": problem.name, "net": dict(problem.describe()["net"]),
            "speed": speed_comparison(problem, training_samples(problem), repeats)}


def training_samples(problem) -> Samples:
    """The problem's training split (from its cache, else solved)."""
    cache = None if problem.data.cache is None else Path(problem.data.cache)
    return split_samples(problem.task, problem.splits, "train", problem.data.resolution, cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_fno"))
    parser.add_argument("--json", type=Path, default=Path("runs/bench_fno/results.json"))
    parser.add_argument("--time-budget", type=float, default=None, help="seconds of training per problem")
    parser.add_argument("--speed-only", action="store_true",
                        help="only the epoch time side by side with neuraloperator (installed: the bench extra)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved epochs of each in the speed comparison")
    args = parser.parse_args()
    if args.speed_only and importlib.util.find_spec("neuralop") is None:
        parser.exit(2, "--speed-only needs neuraloperator: pip install -e '.[bench]'\n")
    results = [speed_only(path, args.repeats) if args.speed_only else bench(path, args.out, args.time_budget, args.repeats)
               for path in args.problems]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.json, {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads; "
                                      "a shared 2-core machine: times are upper bounds",
                           "torch": torch.__version__, "results": results})
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
