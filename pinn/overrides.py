"""``--set KEY=VALUE``: change any training setting of a problem without editing its file.

Keys are ``section.setting``. The sections are ``net`` and ``sampling`` (the problem's), the
training concerns ``numerics``, ``checks``, ``guard`` and ``balance``, and every phase of the
schedule under its name (``adam``, ``lbfgs``, ``levenberg_marquardt``, ``adam_2`` ...): for example
``adam.steps=500``, ``adam.learning_rate=3e-3``, ``numerics.dtype=float32``, ``net.width=64``,
``sampling.method=lhs``, ``lbfgs.stall=100,1e-4`` (a :class:`pinn.Stall`'s patience and
min_decrease; ``none`` removes it), ``sampling.causal=16,1.0`` (a :class:`pinn.Causal`'s slabs,
epsilon and optionally update_every; ``none`` removes it), and ``time_budget=10m`` (``--time-budget``).
A setting's name alone is accepted when only one section has it
(``seed``, ``width``).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from pinn.pde.causal import Causal
from pinn.declaration import Declaration
from pinn.pde.problem import Problem
from pinn.train.phases import Phase, Stall
from pinn.train.settings import parse_duration

TIME_BUDGET = "time_budget"  # the training's time budget (``--time-budget``), a duration such as 10m
PROBLEM_SECTIONS = ("net", "sampling")
TRAINING_SECTIONS = ("numerics", "checks", "guard", "balance")
_PHASE_FIXED = ("name",)  # a phase's name is how it is reached, not a setting

#: Keys of the flat ``training.*`` settings before phases were objects, and what they are now.
RENAMED = {
    "adam_steps": "adam.steps", "learning_rate": "adam.learning_rate",
    "learning_rate_final": "adam.learning_rate_final", "warmup_steps": "adam.warmup_steps",
    "lbfgs_steps": "lbfgs.steps", "lbfgs_history": "lbfgs.history",
    "gauss_newton_steps": "levenberg_marquardt.steps", "gauss_newton_damping": "levenberg_marquardt.damping",
    "dtype": "numerics.dtype", "device": "numerics.device", "seed": "numerics.seed",
    "derivatives": "numerics.derivatives", "compile": "numerics.compile",
    "check_every": "checks.check_every", "checkpoint_every": "checks.checkpoint_every",
    "divergence_factor": "guard.divergence_factor", "max_recoveries": "guard.max_recoveries",
    "recovery_lr_factor": "guard.recovery_lr_factor",
    "balance_every": "balance.every", "balance_momentum": "balance.momentum",
}


def _sections(problem: Problem) -> dict[str, Any]:
    """Every section ``--set`` reaches, by name: the problem's, the training concerns', the phases'."""
    training = problem.training
    own = problem.sections() if isinstance(problem, Declaration) else {s: getattr(problem, s) for s in PROBLEM_SECTIONS}
    return {**own,
            **{s: getattr(training, s) for s in TRAINING_SECTIONS},
            **{phase.name: phase for phase in training.schedule}}


def settable_keys(problem: Problem) -> list[str]:
    """Every key ``--set`` accepts for this problem."""
    return [f"{name}.{f.name}" for name, section in _sections(problem).items() for f in dataclasses.fields(section)
            if not (isinstance(section, Phase) and f.name in _PHASE_FIXED)]


def step_overrides(problem: Problem, steps: int) -> dict[str, int]:
    """``--steps N``: the settings that make the schedule ``steps`` long in all (each phase keeps its share,
    see :meth:`pinn.Training.with_total_steps`); ValueError if it cannot be."""
    return {f"{phase.name}.steps": phase.steps for phase in problem.training.with_total_steps(steps).schedule}


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """``["a.b=1", ...]`` to ``{"a.b": "1"}``; a malformed item raises ValueError."""
    result = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        result[key.strip()] = value.strip()
    return result


def apply_overrides(problem: Problem, overrides: dict[str, Any]) -> Problem:
    """A copy of ``problem`` with the overrides applied (values as text or already typed), made by
    :meth:`Problem.with_settings`: the declaration is not checked again, only what the changed
    settings reach (a new dtype repeats the dry run)."""
    sections = _sections(problem)
    changes: dict[str, dict[str, Any]] = {}
    overrides = dict(overrides)
    budget = overrides.pop(TIME_BUDGET, None)
    if budget is not None:
        try:
            seconds = parse_duration(budget)
        except ValueError as err:
            raise ValueError(f"--time-budget: {err}") from None
        problem = problem.with_settings(training=problem.training.replace(time_budget=seconds))
    for key, text in overrides.items():
        section, name = _resolve_key(problem, key)
        kind = next(f.type for f in dataclasses.fields(sections[section]) if f.name == name)
        changes.setdefault(section, {})[name] = _convert(key, text, kind)
    replaced: dict[str, Any] = {}
    for section, values in changes.items():
        try:
            replaced[section] = dataclasses.replace(sections[section], **values)
        except ValueError as err:
            raise ValueError(f"--set {section}: {err}") from None
    if not replaced:
        return problem
    training = problem.training
    schedule = tuple(replaced.get(phase.name, phase) for phase in training.schedule)
    phases = {phase.name for phase in training.schedule}
    concerns = {s: replaced[s] for s in TRAINING_SECTIONS if s in replaced}
    try:
        training = training.replace(schedule=schedule, **concerns)
    except ValueError as err:
        raise ValueError(f"--set: {err}") from None
    own = {s: value for s, value in replaced.items() if s not in TRAINING_SECTIONS and s not in phases}
    return problem.with_settings(training=training, **own)


def _resolve_key(problem: Problem, key: str) -> tuple[str, str]:
    keys = settable_keys(problem)
    if key in keys:
        section, name = key.split(".", 1)
        return section, name
    matches = [k for k in keys if k.split(".", 1)[1] == key]
    if len(matches) == 1:
        section, name = matches[0].split(".", 1)
        return section, name
    hint = f" (ambiguous: {', '.join(matches)})" if matches else ""
    old = key.removeprefix("training.")
    if not matches and old in RENAMED:
        hint = f" (renamed: {RENAMED[old]}{'' if RENAMED[old] in keys else ', where the schedule has that phase'})"
    raise ValueError(f"unknown --set key {key!r}{hint}; valid keys: {', '.join(keys)}, {TIME_BUDGET}")


def _convert(key: str, value: Any, kind: Any) -> Any:
    if not isinstance(value, str):
        return value
    kind = expected = str(kind)
    if kind.endswith(" | None"):  # an optional setting: "none" switches it off
        if value.lower() == "none":
            return None
        kind, expected = kind[: -len(" | None")], kind[: -len(" | None")] + " or none"
    try:
        if kind == "bool":
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return value.lower() in ("true", "1", "yes")
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind.startswith("tuple[int"):
            return tuple(int(v) for v in value.replace(" ", "").strip("()").split(",") if v)
        if kind == "Causal":
            return Causal.parse(value)
        if kind == "Stall":
            patience, _, decrease = value.partition(",")
            return Stall(int(patience), float(decrease)) if decrease else Stall(int(patience))
    except ValueError as err:
        detail = f" ({err})" if str(err) else ""
        raise ValueError(f"--set {key}={value}: expected a value of type {expected}{detail}") from None
    return value

