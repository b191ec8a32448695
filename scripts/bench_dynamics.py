"""Figures of the neural-ODE family (issue 16), written as JSON.

    python scripts/bench_dynamics.py --out benchmarks/results_dynamics.json [--parts accuracy,speed,adjoint,irregular]

* accuracy: problems/spiral_ode.py and problems/lotka_volterra_ude.py (and the irregular pendulum) run by
  pinn.fit with their own settings: errors, recovered terms and training time.
* speed: the median time of a training step of the framework (pinn.fit of the spiral, its windows of 10
  observations, batch 20, Adam) and of the bare torchdiffeq loop of ``examples/ode_demo.py`` on the same
  problem and network (Adam in both; rk4 at the problem's step in both, so that the solver's work is the
  same), side by side, alternating, in one process.
* adjoint: the adjoint gradient against backpropagation (float64), and the peak memory of both at three
  horizons of fixed-step rk4 (steps grow with the horizon), each measured in its own process.
* irregular: a batch of trajectories at their own random times against each integrated alone (float64).

Timings are medians; run it on a quiet machine (nothing else running) with OMP_NUM_THREADS=1.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pinn  # noqa: E402
from pinn.dynamics.integrate import Integration, integrate  # noqa: E402
from pinn.loading import load_problem  # noqa: E402

A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]])


def accuracy(cases: list[str]) -> dict:
    results = {}
    for case in cases:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            solution = pinn.fit(str(ROOT / "problems" / f"{case}.py"), Path(folder) / "run", progress=False)
        metrics = solution.metrics
        results[case] = {
            "passed": metrics["passed"], "training_time_s": metrics["training_time_s"],
            "wall_time_s": time.perf_counter() - started, "steps": metrics["steps"],
            "fields": {k: {"rel_l2": v["rel_l2"], "tolerance": v["tolerance"]} for k, v in metrics["fields"].items()},
            "mae": metrics.get("mae"), "parameters": metrics["parameters"],
            "discovered_terms": metrics.get("discovered_terms"),
        }
        print(case, json.dumps(results[case], default=str)[:400], flush=True)
    return results


class DemoNet(torch.nn.Module):
    """The network of torchdiffeq's examples/ode_demo.py: 2-50-2, tanh, on y**3."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(2, 50), torch.nn.Tanh(), torch.nn.Linear(50, 2))
        for m in self.net.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.normal_(m.weight, mean=0, std=0.1)
                torch.nn.init.constant_(m.bias, val=0)

    def forward(self, t, y):
        return self.net(y ** 3)


def speed(steps: int, rounds: int) -> dict:
    """Median step times, framework and bare loop, alternating rounds of ``steps`` steps each."""
    import torchdiffeq

    spiral = load_problem(ROOT / "problems" / "spiral_ode.py")
    trajectory = spiral.data[0]
    t = torch.tensor(trajectory.times, dtype=torch.float32)
    true_y = torch.tensor(trajectory.values, dtype=torch.float32)
    integration = spiral.integration

    def bare() -> list[float]:
        torch.manual_seed(0)
        func = DemoNet()
        optimizer = torch.optim.Adam(func.parameters(), lr=1e-3)
        rng = np.random.default_rng(0)
        times = []
        for _ in range(steps):
            started = time.perf_counter()
            optimizer.zero_grad()
            s = torch.from_numpy(rng.choice(np.arange(len(t) - 10, dtype=np.int64), 20, replace=False))
            batch_y0, batch_t = true_y[s], t[:10]
            batch_y = torch.stack([true_y[s + i] for i in range(10)], dim=0)
            pred_y = torchdiffeq.odeint(func, batch_y0, batch_t, method="rk4",
                                        options={"step_size": integration.step})
            loss = torch.mean(torch.abs(pred_y - batch_y))
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - started)
        return times

    def framework() -> list[float]:
        problem = spiral.with_settings(
            rhs=lambda t, s, m: m.net(s.values ** 3), unknowns=(),  # the demo's field: the network of the cubes
            windows=pinn.Windows(length=10, batch=20),
            training=pinn.Training([pinn.Adam(steps, learning_rate=1e-3, learning_rate_final=1e-3)],
                                   numerics=pinn.Numerics(dtype="float32"),
                                   checks=pinn.Checks(check_every=10 ** 9, checkpoint_every=10 ** 9)))
        walls = []
        with tempfile.TemporaryDirectory() as folder:
            pinn.fit(problem, Path(folder) / "run", progress=False, on_step=lambda row: walls.append(row["wall_time_s"]))
        return [float(d) for d in np.diff(walls)]

    bare_medians, framework_medians = [], []
    for _ in range(rounds):
        bare_medians.append(statistics.median(bare()))
        framework_medians.append(statistics.median(framework()))
    b, f = statistics.median(bare_medians), statistics.median(framework_medians)
    paired = statistics.median(fm / bm for fm, bm in zip(framework_medians, bare_medians))
    return {"bare_torchdiffeq_step_s": b, "framework_step_s": f, "ratio": f / b, "paired_ratio": paired,
            "target_ratio": 1.1,
            "rounds": rounds, "steps_per_round": steps, "bare_medians": bare_medians,
            "framework_medians": framework_medians,
            "note": "ratio: of the medians of per-round medians; paired_ratio: the median over rounds of each round's "
                    "ratio (rounds alternate, so a change of load between rounds cancels); same problem, windows of 10, batch 20, Adam, float32, rk4 at the "
                    "spiral problem's step (the same solver work in both: an adaptive solver's work depends on the "
                    "weights); the framework's step includes its guard, history row and window draw"}


class Field(torch.nn.Module):
    def __init__(self, width: int = 64) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(2, width), torch.nn.Tanh(), torch.nn.Linear(width, 2))

    def forward(self, t, y):
        return self.net(y ** 3) * 0.1 + (y ** 3) @ A.to(y.dtype)


def adjoint_gradient() -> dict:
    rng = np.random.default_rng(0)
    y0 = torch.tensor(rng.normal(size=(8, 2)) * 0.5, dtype=torch.float64)
    times = [torch.linspace(0, 5, 30, dtype=torch.float64)] * 8
    grads = []
    for adjoint in (False, True):
        field = Field().double()
        out = integrate(field, y0, times, Integration(rtol=1e-10, atol=1e-12, adjoint=adjoint))
        sum((o ** 2).sum() for o in out).backward()
        grads.append(torch.cat([p.grad.ravel() for p in field.parameters()]))
    difference = float((grads[0] - grads[1]).abs().max())
    return {"max_abs_difference": difference, "max_abs_gradient": float(grads[0].abs().max()), "target": 1e-6,
            "dtype": "float64", "rtol": 1e-10, "atol": 1e-12}


MEMORY_CHILD = """
import sys, torch
sys.path.insert(0, {root!r})
from scripts.bench_dynamics import Field
from pinn.dynamics.integrate import Integration, integrate
horizon, adjoint = float(sys.argv[1]), sys.argv[2] == "1"
field = Field(128).double()
y0 = torch.randn(512, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 0.5
times = [torch.tensor([0.0, horizon], dtype=torch.float64)] * 512
def status(key):  # kB, from /proc/self/status
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key + ":"))
open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to the present size
before = status("VmRSS")
out = integrate(field, y0, times, Integration(method="rk4", step=0.05, adjoint=adjoint))
sum((o ** 2).sum() for o in out).backward()
print((status("VmHWM") - before) / 1024)
"""


def adjoint_memory(horizons: list[float]) -> dict:
    """Peak resident memory growth (MiB) of one forward and backward pass, per horizon, each in a new process (the
    peak is reset just before the pass: Linux's /proc/self/clear_refs)."""
    result = {"horizons": horizons, "solver_steps": [round(h / 0.05) for h in horizons], "backprop_mib": [],
              "adjoint_mib": [], "setup": "rk4 step 0.05, 512 states, 2-128-2 tanh field, float64"}
    code = MEMORY_CHILD.format(root=str(ROOT))
    for horizon in horizons:
        for adjoint, key in ((False, "backprop_mib"), (True, "adjoint_mib")):
            output = subprocess.run([sys.executable, "-c", code, str(horizon), "1" if adjoint else "0"],
                                    capture_output=True, text=True, check=True, cwd=ROOT,
                                    env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
            result[key].append(float(output.stdout.strip().splitlines()[-1]))
    return result


def irregular() -> dict:
    rng = np.random.default_rng(0)
    field = Field().double()
    times = [torch.tensor(np.sort(np.concatenate([[s], s + rng.uniform(0.01, 3.0, rng.integers(3, 12))])),
                          dtype=torch.float64) for s in rng.uniform(0, 2, 16)]
    y0 = torch.tensor(rng.normal(size=(16, 2)) * 0.5, dtype=torch.float64)
    integration = Integration(rtol=1e-12, atol=1e-14)
    with torch.no_grad():
        together = integrate(field, y0, times, integration)
        alone = [integrate(field, y0[i:i + 1], [times[i]], integration)[0] for i in range(16)]
    difference = max(float((a - b).abs().max()) for a, b in zip(together, alone))
    return {"trajectories": 16, "max_abs_difference": difference, "target": 1e-10, "dtype": "float64"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results_dynamics.json")
    parser.add_argument("--parts", default="accuracy,speed,adjoint,irregular")
    parser.add_argument("--cases", default="spiral_ode,lotka_volterra_ude,pendulum_irregular")
    parser.add_argument("--speed-steps", type=int, default=100)
    parser.add_argument("--speed-rounds", type=int, default=5)
    args = parser.parse_args()
    parts = args.parts.split(",")
    results: dict = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    if "irregular" in parts:
        results["irregular"] = irregular()
        print("irregular", results["irregular"], flush=True)
    if "adjoint" in parts:
        results["adjoint_gradient"] = adjoint_gradient()
        print("adjoint gradient", results["adjoint_gradient"], flush=True)
        results["adjoint_memory"] = adjoint_memory([5.0, 10.0, 20.0])
        print("adjoint memory", results["adjoint_memory"], flush=True)
    if "speed" in parts:
        results["speed"] = speed(args.speed_steps, args.speed_rounds)
        print("speed", results["speed"], flush=True)
    if "accuracy" in parts:
        results["accuracy"] = accuracy(args.cases.split(","))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
