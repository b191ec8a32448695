"""One Levenberg-Marquardt step with the loss conditions' Jacobian rows point by point (``new``) and
by reverse mode (``old``, the route before them), timed side by side.

Each round restores the same weights and damping and times one step by each route, in alternating
order; the medians over the rounds are written, with the Jacobian's share of a step and the largest
difference between the two routes' Jacobians (they must agree to rounding). The problem runs at its
own settings (network, points), untrained: a step's cost does not depend on the weights. Example::

    python scripts/bench_lm_step.py benchmarks/inverse_burgers.py --rounds 3 --out benchmarks/results_lm_rows.json
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

import pinn
from pinn.loading import load_problem
from pinn.overrides import apply_overrides
from pinn.pde.objective import pinn_trainer
from pinn.train.phases.levenberg_marquardt import LevenbergMarquardtRun

ROUTES = {"old": False, "new": True}  # the value of ResidualJacobian._per_point_conditions


def measure(path: Path, rounds: int, settings: dict[str, str]) -> dict:
    problem = apply_overrides(load_problem(path), settings)
    phase = pinn.LevenbergMarquardt(steps=rounds * len(ROUTES) + 1)
    # the trainer in a Levenberg-Marquardt phase: it updates no loss weights between the rounds
    problem = dataclasses.replace(problem, training=dataclasses.replace(problem.training, schedule=(phase,)))
    trainer = pinn_trainer(problem)
    objective = trainer.objective
    parameters = objective.trainable()
    theta = [p.detach().clone() for p in parameters]
    weights = trainer.balance.weights
    LevenbergMarquardtRun(phase, parameters).solve(trainer)  # warm-up: plans every site, compiles the loss
    jacobians = {}
    times: dict[str, list[float]] = {route: [] for route in ROUTES}
    jacobian_times: dict[str, list[float]] = {route: [] for route in ROUTES}
    for k in range(rounds):
        for route in (ROUTES if k % 2 == 0 else list(ROUTES)[::-1]):
            objective.jacobian._per_point_conditions = ROUTES[route]
            _restore(parameters, theta)
            start = time.perf_counter()
            rows, jacobian = objective.residuals_and_jacobian(weights)
            jacobian_times[route].append(time.perf_counter() - start)
            jacobians[route] = jacobian
            _restore(parameters, theta)
            step = LevenbergMarquardtRun(phase, parameters)
            start = time.perf_counter()
            step.solve(trainer)
            times[route].append(time.perf_counter() - start)
    _restore(parameters, theta)
    old, new = (statistics.median(times[r]) for r in ROUTES)
    return {
        "problem": path.stem,
        "rows": int(rows.numel()),
        "weights": int(sum(p.numel() for p in parameters)),
        "conditions_per_point": sorted(objective.jacobian._checked),
        "step_s": {route: statistics.median(t) for route, t in times.items()},
        "step_s_each": times,
        "jacobian_s": {route: statistics.median(t) for route, t in jacobian_times.items()},
        "speedup": old / new,
        "jacobian_max_difference": float((jacobians["old"] - jacobians["new"]).abs().max()),
        "jacobian_max": float(jacobians["old"].abs().max()),
    }


def _restore(parameters: list[torch.Tensor], values: list[torch.Tensor]) -> None:
    with torch.no_grad():
        for p, v in zip(parameters, values):
            p.copy_(v)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="problem settings")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    settings = dict(item.split("=", 1) for item in args.set)
    results = {"threads": torch.get_num_threads(), "torch": torch.__version__, "machine": platform.machine(),
               "rounds": args.rounds, "settings": settings,
               "results": [measure(path, args.rounds, settings) for path in args.problems]}
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
