"""Compare variants of an FNO problem side by side: the same short training of each, one after another in one
process, and their test errors at the training resolution and zero-shot at the finer ones, as JSON.

A variant is ``label:key=value,key=value``; a key is ``net.<setting>``, ``data.<setting>``, ``splits.<setting>``
or ``physics`` (replaced in the problem, values read as Python literals, text otherwise), or a training key
that ``--set`` takes (``adam.learning_rate``, ...). Every variant trains ``--steps`` Adam steps on
``--train`` inputs, so the errors compare the variants at equal work, not at convergence, and wall times on a
shared machine say nothing. Also reported: the share of the squared test error within ``--band`` training grid
spacings of the walls (where zero-shot super-resolution errors gather), at every resolution, and the operator's
own grid dependence: at each finer resolution whose grid holds the training grid's nodes, the mean relative L2
between its predictions there and its predictions at the training resolution (the same inputs; a
resolution-invariant operator gives 0).

    OMP_NUM_THREADS=1 python scripts/fno_variants.py problems/darcy_fno.py --train 300 --steps 500 \\
        "zeros:" "reflect:net.padding_mode=reflect" --json runs/variants.json
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import logging
import re
from pathlib import Path

import h5py
import numpy as np
import torch

import pinn
from pinn.loading import load_problem
from pinn.operators.objective import relative_l2
from pinn.output.files import write_json

REPLACED = ("net", "data", "splits")


def parse_variant(text: str) -> tuple[str, dict[str, object]]:
    """``label:key=value,...`` as the label and its settings."""
    label, _, body = text.partition(":")
    settings = {}
    for item in filter(None, re.split(r",(?=\s*[\w.]+=)", body)):  # commas before a key, not in (6, 6)
        key, _, value = item.partition("=")
        try:
            settings[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            settings[key.strip()] = value.strip()
    return label, settings


def configure(problem, settings: dict[str, object]):
    """The problem with the replaced settings, and the rest (training keys) for ``pinn.fit(settings=...)``."""
    training = {}
    for key, value in settings.items():
        section, _, name = key.partition(".")
        if section in REPLACED:
            problem = dataclasses.replace(problem, **{section: dataclasses.replace(getattr(problem, section),
                                                                                     **{name: value})})
        elif key == "physics":
            problem = dataclasses.replace(problem, physics=value)
        else:
            training[key] = value
    return problem, training


def wall_share(solution: Path, resolution: int, trained: int, band: float) -> float:
    """The share of the summed squared test error at nodes within ``band`` training spacings of a wall."""
    with h5py.File(solution, "r") as f:
        error = f[f"resolution_{resolution}"]["error_u"][()]
    n = error.shape[-1]
    distance = np.minimum(np.arange(n), np.arange(n)[::-1]) / (n - 1) * (trained - 1)  # in training spacings
    near = (distance[:, None] <= band) | (distance[None, :] <= band)
    squares = error**2
    return float(squares[:, near].sum() / squares.sum())


def grid_dependence(solution: Path, resolution: int, trained: int, periodic: bool) -> float | None:
    """The mean relative L2 between the predictions at ``resolution``, taken at the training grid's nodes, and
    the predictions at the training resolution; None when the finer grid does not hold those nodes."""
    step, rest = divmod(resolution, trained) if periodic else divmod(resolution - 1, trained - 1)
    if rest:
        return None
    with h5py.File(solution, "r") as f:
        fine = f[f"resolution_{resolution}"]["predicted_u"][()]
        coarse = f[f"resolution_{trained}"]["predicted_u"][()]
    common = fine[(slice(None), *(slice(None, None, step),) * (fine.ndim - 1))]
    return float(relative_l2(torch.as_tensor(common), torch.as_tensor(coarse)).mean())


def run_variant(problem, label: str, settings: dict, out: Path, band: float) -> dict:
    problem, training = configure(problem, settings)
    solution = pinn.fit(problem, out / label, overwrite=True, progress=False, settings=training)
    metrics = solution.metrics
    errors = {int(r): v["u"] for r, v in metrics["error_by_resolution"].items()}
    base = errors[problem.data.resolution]
    result = {"variant": label, "settings": settings, "test_rel_l2": {str(r): e for r, e in errors.items()},
              "ratio": {str(r): e / base for r, e in errors.items() if r != problem.data.resolution},
              "wall_share": {str(r): wall_share(out / label / "solution.h5", r, problem.data.resolution, band)
                             for r in errors},
              "grid_dependence": {str(r): grid_dependence(out / label / "solution.h5", r, problem.data.resolution,
                                                          problem.task.periodic)
                                  for r in errors if r != problem.data.resolution},
              "epochs": metrics.get("epochs"), "steps": metrics["steps"]}
    if "physics_residual_by_resolution" in metrics:
        result["physics_residual"] = metrics["physics_residual_by_resolution"]
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problem", type=Path)
    parser.add_argument("variants", nargs="+", help="label:key=value,key=value")
    parser.add_argument("--train", type=int, default=300, help="training inputs of every variant")
    parser.add_argument("--steps", type=int, default=500, help="Adam steps of every variant")
    parser.add_argument("--test-resolutions", default=None, help="e.g. 63 (default: the problem's)")
    parser.add_argument("--band", type=float, default=2.0, help="training grid spacings from a wall")
    parser.add_argument("--out", type=Path, default=Path("runs/fno_variants"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    base = load_problem(args.problem)
    data = base.data if args.test_resolutions is None else dataclasses.replace(
        base.data, test_resolutions=tuple(int(r) for r in args.test_resolutions.split(",")))
    adam = dataclasses.replace(base.training.schedule[0], steps=args.steps)
    base = dataclasses.replace(base, splits=dataclasses.replace(base.splits, train=args.train), data=data,
                               training=dataclasses.replace(base.training, schedule=[adam], time_budget=None))
    results = [run_variant(base, *parse_variant(text), args.out, args.band) for text in args.variants]
    if args.json is not None:
        write_json(args.json, {"problem": base.name, "train_samples": args.train, "steps": args.steps,
                               "note": "short trainings at equal steps, one after another in one process on a "
                                       "shared 2-core machine: compare the variants, not with the full runs",
                               "results": results})


if __name__ == "__main__":
    main()
