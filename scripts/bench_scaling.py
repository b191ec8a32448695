"""Step time across processes: strong scaling (fixed total points) and weak scaling (fixed points per process).

Each configuration starts its processes (``torch.multiprocessing.spawn``, gloo on CPU or NCCL on GPUs,
a file rendezvous on this machine), builds the problem's objective with its share of the points, and
times Adam steps exactly as the trainer takes them (forward, derivatives, backward, the all-reduce of
gradient and loss terms, the update). Per step it records:

* ``step_s``: the step's wall time on the slowest process (the processes start each step together
  after a barrier that is not counted);
* ``communication_s``: time inside the all-reduce; it includes waiting for the slower process, so it
  is an upper bound on what communication costs;
* ``all_reduce_s``: afterwards, the same all-reduce alone, right after a barrier: the transfer itself.

Medians over the timed steps are written as JSON. On a shared CPU machine every figure is an upper
bound: other processes compete for the same cores.

    python scripts/bench_scaling.py --processes 1 2 --points 32768 --width 128 --out scaling.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pinn.loading import load_problem  # noqa: E402
from pinn.overrides import apply_overrides  # noqa: E402
from pinn.pde.objective import pinn_trainer  # noqa: E402
from pinn.train import distributed  # noqa: E402
from pinn.train.phases import Adam  # noqa: E402
from pinn.train.settings import Numerics, Training  # noqa: E402


def _worker(rank: int, world: int, init_file: str, settings: dict, out: str) -> None:
    torch.set_num_threads(settings["threads"])
    cuda = settings["device"] == "cuda"
    if cuda:
        torch.cuda.set_device(rank)
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo", init_method=f"file://{init_file}", rank=rank,
                                world_size=world)
    try:
        result = _measure(settings, world)
        if rank == 0:
            Path(out).write_text(json.dumps(result))
    finally:
        if world > 1:
            dist.destroy_process_group()


def _measure(settings: dict, world: int) -> dict:
    problem = apply_overrides(load_problem(ROOT / settings["problem"]), {
        "net.width": settings["width"], "net.depth": settings["depth"],
        "sampling.interior": settings["points_per_process"] * world})
    steps = settings["warmup"] + settings["steps"]
    numerics = Numerics(dtype=settings["dtype"], device=settings["device"], seed=0, compile="off",
                        derivatives=settings["derivatives"])
    trainer = pinn_trainer(problem, None, Training([Adam(steps)], numerics=numerics))
    run = trainer.runs[0]
    spent = [0.0]
    original = distributed.average_

    def timed_average(tensors):
        _sync(settings)
        started = time.perf_counter()
        original(tensors)
        _sync(settings)
        spent[0] += time.perf_counter() - started

    distributed.average_ = timed_average
    rows = []
    try:
        for _ in range(steps):
            _barrier()
            spent[0] = 0.0
            started = time.perf_counter()
            run.step(trainer, 1)
            _sync(settings)
            rows.append([time.perf_counter() - started, spent[0]])
    finally:
        distributed.average_ = original
    rows = _slowest(rows[settings["warmup"]:], trainer)
    size = sum(p.numel() for p in trainer.parameters) + len(trainer.objective.terms())
    alone = []
    for _ in range(settings["steps"]):
        tensor = torch.zeros(size, dtype=trainer.parameters[0].dtype, device=trainer.parameters[0].device)
        _barrier()
        started = time.perf_counter()
        distributed.average_([tensor])
        _sync(settings)
        alone.append(time.perf_counter() - started)
    step = statistics.median(r[0] for r in rows)
    communication = statistics.median(r[1] for r in rows)
    return {"processes": world, "points_per_process": settings["points_per_process"],
            "total_points": settings["points_per_process"] * world, "weights": size,
            "step_s": step, "communication_s": communication, "communication_share": communication / step,
            "all_reduce_s": statistics.median(alone), "all_reduce_share": statistics.median(alone) / step,
            "step_s_each": [r[0] for r in rows]}


def _slowest(rows: list[list[float]], trainer) -> list[list[float]]:
    """Each step's time on the slowest process (and that process's communication time)."""
    if not distributed.active():
        return rows
    device = trainer.parameters[0].device
    packed = torch.tensor(rows, dtype=torch.float64, device=device)
    gathered = [torch.empty_like(packed) for _ in range(distributed.world_size())]
    dist.all_gather(gathered, packed)
    stacked = torch.stack(gathered)  # (processes, steps, 2)
    slowest = stacked[:, :, 0].argmax(dim=0)
    return [stacked[p, i].tolist() for i, p in enumerate(slowest.tolist())]


def _barrier() -> None:
    if distributed.active():
        dist.barrier()


def _sync(settings: dict) -> None:
    if settings["device"] == "cuda":
        torch.cuda.synchronize()


def configuration(settings: dict, world: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        started = time.perf_counter()
        mp.spawn(_worker, args=(world, str(Path(folder) / "rendezvous"), settings, str(out)), nprocs=world, join=True)
        result = json.loads(out.read_text())
        result["start_and_run_s"] = time.perf_counter() - started
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problem", default="problems/kovasznay.py", help="a PINN problem file (default: steady NS)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--points", type=int, default=32768, help="interior points per process (weak scaling), "
                        "in total (strong scaling)")
    parser.add_argument("--modes", nargs="+", choices=["strong", "weak"], default=["strong", "weak"])
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--derivatives", default="auto")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (after --warmup)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("scaling.json"))
    args = parser.parse_args()
    base = {"problem": args.problem, "width": args.width, "depth": args.depth, "dtype": args.dtype,
            "derivatives": args.derivatives, "device": args.device, "threads": args.threads,
            "steps": args.steps, "warmup": args.warmup}
    results: dict[str, list[dict]] = {mode: [] for mode in args.modes}
    done: dict[tuple[int, int], dict] = {}
    for mode in args.modes:
        for world in args.processes:
            per_process = args.points if mode == "weak" else args.points // world
            key = (world, per_process)
            if key not in done:  # one process is the same configuration in both modes
                done[key] = configuration({**base, "points_per_process": per_process}, world)
                print(f"{mode} {world} processes, {per_process} points each: step {done[key]['step_s']:.3f} s, "
                      f"communication {done[key]['communication_share']:.1%} (all-reduce alone "
                      f"{done[key]['all_reduce_share']:.1%})", file=sys.stderr)
            results[mode].append(dict(done[key]))
    for mode, rows in results.items():
        one = next((r for r in rows if r["processes"] == 1), None)
        for r in rows:
            if one is not None:
                r["speedup" if mode == "strong" else "efficiency"] = one["step_s"] / r["step_s"]
    report = {"settings": base, "points": args.points, "results": results,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                          "device": args.device},
              "note": "medians over the timed steps; step time on the slowest process; communication includes "
                      "waiting for the slower process; on a shared machine every figure is an upper bound"}
    args.out.write_text(json.dumps(report, indent=1))
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
