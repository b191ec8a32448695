"""``--set KEY=VALUE``: change any training default of a problem without editing its file.

Keys are ``section.field`` with section ``net``, ``sampling`` or ``training`` (e.g.
``training.adam_steps=500``, ``net.width=64``, ``sampling.method=lhs``); a field name alone is
accepted when only one section has it.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from pinn.problem import Problem

SECTIONS = ("net", "sampling", "training")


def settable_keys(problem: Problem) -> list[str]:
    """Every key ``--set`` accepts for this problem."""
    return [f"{s}.{f.name}" for s in SECTIONS for f in dataclasses.fields(getattr(problem, s))]


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
    changes: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for key, text in overrides.items():
        section, name = _resolve_key(problem, key)
        kind = next(f.type for f in dataclasses.fields(getattr(problem, section)) if f.name == name)
        changes[section][name] = _convert(key, text, kind)
    replaced = {}
    for section, values in changes.items():
        if values:
            try:
                replaced[section] = dataclasses.replace(getattr(problem, section), **values)
            except ValueError as err:
                raise ValueError(f"--set {section}: {err}") from None
    return problem.with_settings(**replaced) if replaced else problem


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
    raise ValueError(f"unknown --set key {key!r}{hint}; valid keys: {', '.join(keys)}")


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
    except ValueError:
        raise ValueError(f"--set {key}={value}: expected a value of type {expected}") from None
    return value
