"""pinn against DeepXDE (PyTorch backend) on DeepXDE's own Kovasznay and 1-D heat examples.

1. Step time: the same network (DeepXDE's FNN sizes, tanh, Glorot normal), the same collocation
   points (taken from DeepXDE's data object) and the same optimiser (Adam, lr 1e-3, float32; each
   framework's own implementation of it: pinn's trainer uses PyTorch's fused Adam, DeepXDE the
   per-tensor one), one Adam step of each in alternating rounds in this one process; medians and
   ratios. pinn runs with each derivative engine (autograd, Taylor, Taylor compiled). It also counts
   the arithmetic of the matrix products in one step of each (profiler FLOPs): what an engine saves
   by computing less, apart from what compiling saves in overhead.
   Where there is a GPU both run on it (DeepXDE's PyTorch backend takes it), timed to the end of
   the work each step queued.
2. ``--time-to-error``: DeepXDE's Kovasznay example trained with its schedule (Adam then L-BFGS),
   its final relative L2 error of u, and its wall time; then pinn's ``problems/kovasznay.py`` at its
   defaults, and the time at which it first reaches DeepXDE's final error of u.

DeepXDE is optional: ``pip install -e '.[bench]'`` (or ``pip install deepxde``). Without it the
script says so and exits 0. Example::

    python scripts/bench_peer.py --out bench_peer.json
    python scripts/bench_peer.py --time-to-error --out bench_peer_time.json   # ~20 minutes on 2 cores
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
PINN_ENGINES = ("autograd", "taylor", "taylor+compile")
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # where DeepXDE's PyTorch backend runs


# ------------------------------------------------------------------ DeepXDE's examples, as published
def deepxde_kovasznay(dde):
    re = 20
    nu = 1 / re
    lam = 1 / (2 * nu) - np.sqrt(1 / (4 * nu**2) + 4 * np.pi**2)

    def pde(x, u):
        u_vel, v_vel = u[:, 0:1], u[:, 1:2]
        u_vel_x = dde.grad.jacobian(u, x, i=0, j=0)
        u_vel_y = dde.grad.jacobian(u, x, i=0, j=1)
        u_vel_xx = dde.grad.hessian(u, x, component=0, i=0, j=0)
        u_vel_yy = dde.grad.hessian(u, x, component=0, i=1, j=1)
        v_vel_x = dde.grad.jacobian(u, x, i=1, j=0)
        v_vel_y = dde.grad.jacobian(u, x, i=1, j=1)
        v_vel_xx = dde.grad.hessian(u, x, component=1, i=0, j=0)
        v_vel_yy = dde.grad.hessian(u, x, component=1, i=1, j=1)
        p_x = dde.grad.jacobian(u, x, i=2, j=0)
        p_y = dde.grad.jacobian(u, x, i=2, j=1)
        momentum_x = u_vel * u_vel_x + v_vel * u_vel_y + p_x - nu * (u_vel_xx + u_vel_yy)
        momentum_y = u_vel * v_vel_x + v_vel * v_vel_y + p_y - nu * (v_vel_xx + v_vel_yy)
        continuity = u_vel_x + v_vel_y
        return [momentum_x, momentum_y, continuity]

    def u_func(x):
        return 1 - np.exp(lam * x[:, 0:1]) * np.cos(2 * np.pi * x[:, 1:2])

    def v_func(x):
        return lam / (2 * np.pi) * np.exp(lam * x[:, 0:1]) * np.sin(2 * np.pi * x[:, 1:2])

    def p_func(x):
        return 1 / 2 * (1 - np.exp(2 * lam * x[:, 0:1]))

    domain = dde.geometry.Rectangle(xmin=[-0.5, -0.5], xmax=[1, 1.5])
    bcs = [dde.icbc.DirichletBC(domain, u_func, lambda _, on: on, component=0),
           dde.icbc.DirichletBC(domain, v_func, lambda _, on: on, component=1),
           dde.icbc.DirichletBC(domain, p_func, lambda x, on: on and np.isclose(x[0], 1), component=2)]
    data = dde.data.PDE(domain, pde, bcs, num_domain=2601, num_boundary=400, num_test=100000)
    net = dde.nn.FNN([2] + 4 * [50] + [3], "tanh", "Glorot normal")
    return data, net, {"u": u_func, "v": v_func, "p": p_func}


def deepxde_heat(dde):
    a, length, n = 0.4, 1, 1

    def pde(x, y):
        dy_t = dde.grad.jacobian(y, x, i=0, j=1)
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        return dy_t - a * dy_xx

    def exact(x):
        return np.exp(-(n**2 * np.pi**2 * a * x[:, 1:2]) / length**2) * np.sin(n * np.pi * x[:, 0:1] / length)

    geometry = dde.geometry.GeometryXTime(dde.geometry.Interval(0, length), dde.geometry.TimeDomain(0, 1))
    bc = dde.icbc.DirichletBC(geometry, lambda x: 0, lambda _, on: on)
    ic = dde.icbc.IC(geometry, lambda x: np.sin(n * np.pi * x[:, 0:1] / length), lambda _, on: on)
    data = dde.data.TimePDE(geometry, pde, [bc, ic], num_domain=2540, num_boundary=80, num_initial=160,
                            num_test=2540)
    net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    return data, net, {"u": exact}


# ------------------------------------------------------------------------- the same problems in pinn
def pinn_kovasznay(pinn, widths):
    sys.path.insert(0, str(ROOT / "problems"))
    import kovasznay as k

    space = k.space
    conditions = {"u_walls": pinn.Dirichlet(space.boundary, k.u_exact, field="u"),
                  "v_walls": pinn.Dirichlet(space.boundary, k.v_exact, field="v"),
                  "outflow_pressure": pinn.Dirichlet(space.side(0, "upper"), k.p_exact, field="p")}
    return pinn.Problem(name="kovasznay-peer", inputs="x y", outputs="u v p", domain=space,
                        residuals=k.problem.residuals, conditions=conditions,
                        net=pinn.MLP(hidden=widths, normalize_inputs=False))


def pinn_heat(pinn, widths):
    import math

    space = pinn.Interval(0.0, 1.0)
    return pinn.Problem(
        name="heat-peer", inputs="x t", outputs="u", domain=space * pinn.TimeInterval(0.0, 1.0),
        residuals={"heat": lambda f: f.u_t - 0.4 * f.u_xx},
        conditions={"ends": pinn.Dirichlet(space.boundary, 0.0),
                    "initial": pinn.Initial(lambda x: torch.sin(math.pi * x))},
        net=pinn.MLP(hidden=widths, normalize_inputs=False))


CASES = {"kovasznay": (deepxde_kovasznay, pinn_kovasznay, (50, 50, 50, 50)),
         "heat": (deepxde_heat, pinn_heat, (20, 20, 20))}


def import_deepxde():
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    try:
        import deepxde
    except ImportError:
        return None
    deepxde.config.set_default_float("float32")
    return deepxde


# ------------------------------------------------------------------------------------ step time
class PeerSteps:
    """DeepXDE's model, ready to take Adam steps on its training points."""

    def __init__(self, dde, case: str) -> None:
        dde.config.set_random_seed(0)
        self.data, net, self.exact = CASES[case][0](dde)
        self.model = dde.Model(self.data, net)
        self.model.compile("adam", lr=1e-3)
        self.model.train_state.set_data_train(*self.data.train_next_batch(None))

    def step(self) -> None:
        state = self.model.train_state
        self.model._train_step(state.X_train, state.y_train, state.train_aux_vars)  # its training loop's step


class PinnSteps:
    """pinn's loss on DeepXDE's very points, ready to take Adam steps with one engine."""

    def __init__(self, case: str, peer: PeerSteps, engine: str) -> None:
        import pinn
        from pinn.pde.conditions import Batch
        from pinn.pde.build import build_model, loss_conditions
        from pinn.pde.losses import LossFunction, Points
        from pinn.train.phases.adam import adam

        problem = CASES[case][1](pinn, CASES[case][2])
        self.model = build_model(problem, torch.float32, DEVICE, seed=0)
        as_tensor = (lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32), device=DEVICE))
        interior = as_tensor(peer.data.train_x_all)
        bounds = np.cumsum([0] + list(peer.data.num_bcs))
        batches = {}
        for (name, condition), start, end in zip(loss_conditions(problem).items(), bounds[:-1], bounds[1:]):
            points = as_tensor(peer.data.train_x_bc[start:end])
            batches[name] = Batch(points, None, condition.target(points, problem.inputs, problem.time))
        self.points = Points(interior, batches)
        choice = "autograd" if engine == "autograd" else "taylor"
        self.loss = LossFunction(problem, self.model, choice, "on" if engine.endswith("compile") else "off")
        self.loss.backward(self.points)  # plan (and compile) before timing
        self.optimizer = adam(self.model.parameters(), lr=1e-3)  # as the trainer makes it

    def step(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.loss.backward(self.points)  # as the trainer's step computes the gradient
        self.optimizer.step()


def timed(fn) -> float:
    """Wall time of ``fn()``; on a GPU, to the end of the work it queued."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    fn()
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def matmul_mflop(step) -> float:
    """Arithmetic of one eager step's matrix products (MFLOP, counted by the profiler): what each
    engine must compute, whatever its overheads. Compiled steps run the same products as eager ones."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        step()
    return sum(e.flops for e in prof.key_averages()) / 1e6


def step_times(dde, case: str, rounds: int, warmup: int) -> dict:
    peer = PeerSteps(dde, case)
    ours = {engine: PinnSteps(case, peer, engine) for engine in PINN_ENGINES}
    runners = {"deepxde": peer.step, **{f"pinn[{e}]": s.step for e, s in ours.items()}}
    for step in runners.values():
        for _ in range(warmup):
            step()
    timings = {name: [] for name in runners}
    for _ in range(rounds):
        for name, step in runners.items():
            timings[name].append(timed(step))
    medians = {name: float(np.median(t)) for name, t in timings.items()}
    eager = {"deepxde": peer.step, **{f"pinn[{e}]": s.step for e, s in ours.items() if "compile" not in e}}
    return {"case": case, "network": CASES[case][2], "interior_points": int(len(peer.data.train_x_all)),
            "condition_points": [int(n) for n in peer.data.num_bcs], "rounds": rounds,
            "median_step_s": medians,
            "speedup_over_deepxde": {n: medians["deepxde"] / v for n, v in medians.items()},
            "matmul_mflop_per_step": {name: matmul_mflop(step) for name, step in eager.items()},
            "compile_time_s": ours["taylor+compile"].loss.compile_status.get("compile_time_s")}


# ---------------------------------------------------------------------------- time to the error
def peer_full_run(dde, adam_steps: int, lbfgs_steps: int) -> dict:
    dde.config.set_random_seed(0)
    data, net, exact = deepxde_kovasznay(dde)
    model = dde.Model(data, net)
    started = time.perf_counter()
    model.compile("adam", lr=1e-3)
    model.train(iterations=adam_steps, display_every=1000, verbose=0)
    dde.optimizers.config.set_LBFGS_options(maxiter=lbfgs_steps)
    model.compile("L-BFGS")
    model.train(verbose=0)
    elapsed = time.perf_counter() - started
    points = data.test_x
    predicted = model.predict(points)
    errors = {name: float(np.linalg.norm(predicted[:, j:j + 1] - fn(points)) / np.linalg.norm(fn(points)))
              for j, (name, fn) in enumerate(exact.items())}
    return {"adam_steps": adam_steps, "lbfgs_steps": lbfgs_steps, "wall_time_s": elapsed, "rel_l2": errors}


class _Reached(Exception):
    pass


def pinn_time_to(target_u: float, check_every: int) -> dict:
    from pinn.loading import load_problem
    from pinn.overrides import apply_overrides
    from pinn.pde.objective import pinn_trainer
    from pinn.train.trainer import Monitor

    problem = apply_overrides(load_problem(ROOT / "problems" / "kovasznay.py"), {"checks.check_every": check_every})
    reference = problem.reference.build(problem.inputs, problem.outputs, problem.domain)
    started = time.perf_counter()
    record: dict = {}

    class Watch(Monitor):
        def on_check(self, trainer, errors):
            record.update(step=trainer.step, rel_l2={k: e.rel_l2 for k, e in errors.items()},
                          seconds=time.perf_counter() - started)
            if errors["u"].rel_l2 <= target_u:
                raise _Reached

    trainer = pinn_trainer(problem, reference)
    try:
        trainer.run(Watch())
        record["reached"] = False
    except _Reached:
        record["reached"] = True
    record["compile"] = trainer.objective.loss.compile_status
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--time-to-error", action="store_true", help="also the Kovasznay time-to-error race")
    parser.add_argument("--peer-adam", type=int, default=10000, help="DeepXDE Adam steps in the race")
    parser.add_argument("--peer-lbfgs", type=int, default=2000, help="DeepXDE L-BFGS iterations in the race")
    parser.add_argument("--out", type=Path, default=Path("bench_peer.json"))
    args = parser.parse_args(argv)

    dde = import_deepxde()
    if dde is None:
        print("DeepXDE is not installed; install it with  pip install -e '.[bench]'  (or pip install deepxde) "
              "and run this script again.")
        return 0
    result: dict = {"deepxde": dde.__version__, "torch": torch.__version__, "device": str(DEVICE),
                    "threads": torch.get_num_threads(),
                    "steps": []}
    for case in args.cases:
        row = step_times(dde, case, args.rounds, args.warmup)
        result["steps"].append(row)
        print(f"{case}: median step (ms) " + ", ".join(f"{k} {1000 * v:.2f}" for k, v in row["median_step_s"].items())
              + " | speed-up over DeepXDE " + ", ".join(f"{k} {v:.2f}x"
                                                        for k, v in row["speedup_over_deepxde"].items())
              + " | matmul MFLOP per step " + ", ".join(f"{k} {v:.1f}" for k, v in row["matmul_mflop_per_step"].items()),
              flush=True)
    if args.time_to_error:
        peer = peer_full_run(dde, args.peer_adam, args.peer_lbfgs)
        print(f"DeepXDE Kovasznay: {peer['wall_time_s']:.0f} s, rel L2 {peer['rel_l2']}", flush=True)
        ours = pinn_time_to(peer["rel_l2"]["u"], check_every=25)
        print(f"pinn Kovasznay: u rel L2 {ours['rel_l2']['u']:.3g} at {ours['seconds']:.1f} s "
              f"(reached: {ours['reached']})", flush=True)
        result["time_to_error"] = {"deepxde": peer, "pinn": ours,
                                   "speedup": peer["wall_time_s"] / ours["seconds"] if ours["reached"] else None}
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
