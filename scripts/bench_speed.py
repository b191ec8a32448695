"""Step time and peak memory of each derivative engine against the plain network's floor.

One training step = residual loss (forward and derivatives), backward, Adam. For each residual
(heat 2-D on x, y, t; steady Navier-Stokes u, v, p on x, y), width, number of points and dtype it
times, side by side in alternating rounds:

- ``floor``: the plain network, forward + backward + Adam on the mean square of its outputs (Adam as
  the trainer makes it, for every engine);
- ``autograd``: nested autograd (the reference engine);
- ``taylor``: forward Taylor mode, eager;
- ``taylor+compile``: Taylor mode with the network pass compiled (compile time reported apart).

It writes medians, ratios to the floor and to autograd, and (``--memory``) peak memory, measured
in a fresh process per engine: CUDA's allocator peak on a GPU, the rise of the process's peak
resident set on a CPU. Example::

    python scripts/bench_speed.py --out bench_speed.json                      # the full table
    python scripts/bench_speed.py --widths 64 --points 8192 --dtypes float32  # one row per residual
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

import pinn
from pinn.pde.build import build_model
from pinn.pde.losses import LossFunction, Points
from pinn.train.phases.adam import adam

ENGINES = ("floor", "autograd", "taylor", "taylor+compile")


def heat(f):
    return f.u_t - 0.05 * pinn.laplacian(f, "u")


def navier_stokes_x(f):
    return f.u * f.u_x + f.v * f.u_y + f.p_x - 0.01 * pinn.laplacian(f, "u")


def navier_stokes_y(f):
    return f.u * f.v_x + f.v * f.v_y + f.p_y - 0.01 * pinn.laplacian(f, "v")


def continuity(f):
    return f.u_x + f.v_y


def navier_stokes_x_terms(f):  # the same, the Laplacian spelled out: Taylor mode carries u_xx and u_yy
    return f.u * f.u_x + f.v * f.u_y + f.p_x - 0.01 * (f.u_xx + f.u_yy)


def navier_stokes_y_terms(f):
    return f.u * f.v_x + f.v * f.v_y + f.p_y - 0.01 * (f.v_xx + f.v_yy)


def problem_for(residual: str, width: int, depth: int) -> pinn.Problem:
    square = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))
    net = pinn.MLP(width=width, depth=depth)
    if residual == "heat":
        return pinn.Problem(name="bench-heat", inputs="x y t", outputs="u", domain=square * pinn.TimeInterval(0, 1),
                            residuals={"heat": heat}, net=net)
    momentum = (navier_stokes_x, navier_stokes_y) if residual == "navier_stokes" else (
        navier_stokes_x_terms, navier_stokes_y_terms)
    return pinn.Problem(name="bench-ns", inputs="x y", outputs="u v p", domain=square, net=net,
                        residuals={"momentum_x": momentum[0], "momentum_y": momentum[1], "continuity": continuity})


class Case:
    """One engine on one configuration, ready to step."""

    def __init__(self, residual: str, width: int, depth: int, n: int, dtype: str, engine: str, device: str) -> None:
        self.problem = problem_for(residual, width, depth)
        self.device = torch.device(device)
        self.dtype = getattr(torch, dtype)
        self.model = build_model(self.problem, self.dtype, self.device, seed=0)
        rng = np.random.default_rng(0)
        points = self.problem.domain.sample_interior(n, "uniform", rng)
        self.points = Points(torch.as_tensor(points, dtype=self.dtype, device=self.device), {})
        self.optimizer = adam(self.model.parameters(), lr=1e-4)  # as the trainer makes it
        self.engine = engine
        self.compile_time_s = 0.0
        if engine != "floor":
            choice = "autograd" if engine == "autograd" else "taylor"
            self.loss = LossFunction(self.problem, self.model, choice, "on" if engine.endswith("compile") else "off")
            started = time.perf_counter()
            self.loss.backward(self.points)  # plans (and compiles) once, outside the timings
            self.compile_time_s = self.loss.compile_status.get("compile_time_s", 0.0)
            if engine.endswith("compile") and not self.loss.compile_status["compiled"]:
                raise RuntimeError(f"compile failed: {self.loss.compile_status['reason']}")
            self.setup_s = time.perf_counter() - started

    def step(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        if self.engine == "floor":
            self.model(self.points.interior).square().mean().backward()
        else:
            self.loss.backward(self.points)  # as the trainer's step computes the gradient
        self.optimizer.step()

    def timed_step(self) -> float:
        if self.device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            self.step()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1000
        started = time.perf_counter()
        self.step()
        return time.perf_counter() - started


def time_configuration(residual, width, depth, n, dtype, device, rounds, warmup) -> dict:
    cases = {engine: Case(residual, width, depth, n, dtype, engine, device) for engine in ENGINES}
    for case in cases.values():
        for _ in range(warmup):
            case.step()
    timings = {engine: [] for engine in cases}
    for _ in range(rounds):  # alternate engines so they share the machine's noise
        for engine, case in cases.items():
            timings[engine].append(case.timed_step())
    medians = {engine: float(np.median(t)) for engine, t in timings.items()}
    row = {"residual": residual, "width": width, "depth": depth, "points": n, "dtype": dtype, "device": device,
           "rounds": rounds, "median_step_s": medians,
           "ratio_to_floor": {e: medians[e] / medians["floor"] for e in ENGINES},
           "ratio_to_autograd": {e: medians[e] / medians["autograd"] for e in ENGINES},
           "compile_time_s": cases["taylor+compile"].compile_time_s}
    return row


def peak_memory(residual, width, depth, n, dtype, device, engine) -> float:
    """Peak extra memory (bytes) of a few steps, measured in a fresh process."""
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_speed as b; "
            f"print(b._measure_memory({residual!r}, {width}, {depth}, {n}, {dtype!r}, {device!r}, {engine!r}))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(output.strip().splitlines()[-1])


def _measure_memory(residual, width, depth, n, dtype, device, engine) -> float:
    if device == "cuda":
        case = Case(residual, width, depth, n, dtype, engine, device)
        case.step()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        for _ in range(3):
            case.step()
        torch.cuda.synchronize()
        return float(torch.cuda.max_memory_allocated() - base)
    # The peak resident set only rises: measured from before the case is built, it includes the setup
    # (and, for the compiled engine, the compiler's own memory, which counts against it).
    base = _peak_resident_bytes()
    case = Case(residual, width, depth, n, dtype, engine, device)
    for _ in range(3):
        case.step()
    return float(_peak_resident_bytes() - base)


def _peak_resident_bytes() -> int:
    """This process's peak resident set. Linux's VmHWM starts afresh at exec; ru_maxrss does not (a
    child forked from a large parent inherits its figure), so it is only the fallback."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residuals", nargs="+", default=["heat", "navier_stokes"],
                        choices=["heat", "navier_stokes", "navier_stokes_terms"],
                        help="navier_stokes_terms: the NS residual with u_xx + u_yy spelled out (two rows, not one)")
    parser.add_argument("--widths", nargs="+", type=int, default=[64, 128])
    parser.add_argument("--depth", type=int, default=4, help="hidden layers (the README's speed tables use 4)")
    parser.add_argument("--points", nargs="+", type=int, default=[2048, 8192, 32768])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="also peak memory at the largest point count")
    parser.add_argument("--out", type=Path, default=Path("bench_speed.json"))
    args = parser.parse_args(argv)

    rows = []
    for residual in args.residuals:
        for width in args.widths:
            for n in args.points:
                for dtype in args.dtypes:
                    row = time_configuration(residual, width, args.depth, n, dtype, args.device, args.rounds,
                                             args.warmup)
                    if args.memory and n == max(args.points):
                        row["peak_memory_bytes"] = {e: peak_memory(residual, width, args.depth, n, dtype,
                                                                   args.device, e) for e in ENGINES}
                    rows.append(row)
                    ms = {e: f"{1000 * v:.1f}" for e, v in row["median_step_s"].items()}
                    ratios = {e: f"{v:.2f}" for e, v in row["ratio_to_floor"].items()}
                    print(f"{residual} w{width} N{n} {dtype}: ms {ms} x floor {ratios}", flush=True)
    result = {"threads": torch.get_num_threads(), "torch": torch.__version__, "machine": platform.machine(),
              "processor": platform.processor(), "rows": rows}
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
