"""The few lines that end a run on the console: each field's error, each parameter, the verdict."""
from __future__ import annotations

from pathlib import Path


def summary(metrics: dict, folder: Path) -> str:
    """The summary of a finished run, from its metrics.json."""
    lines = [f"{metrics['problem']}: {metrics['steps']} steps in {metrics['training_time_s']:.1f} s on "
             f"{metrics['device']}"]
    for name, e in metrics["fields"].items():
        met = "" if e["tolerance"] is None else (" <= " if e["passed"] else " > ") + f"{e['tolerance']:.1e}"
        lines.append(f"  {name}: relative L2 {e['rel_l2']:.3e}{met}, max abs {e['max_abs']:.3e}")
    for name, p in metrics["parameters"].items():
        known = "" if p["true_value"] is None else f" (true {p['true_value']:.6g}, relative error {p['rel_error']:.3e}"
        known += "" if p["tolerance"] is None else (" <= " if p["passed"] else " > ") + f"{p['tolerance']:.1e}"
        lines.append(f"  {name} = {p['value']:.6g}{known}{')' if known else ''}")
    if metrics["failure"]:
        lines.append(f"  training failed: {metrics['failure']}")
    if metrics.get("stopped_early_at") is not None:
        lines.append(f"  stopped early at step {metrics['stopped_early_at']} (stop_when)")
    if metrics.get("warning"):
        lines.append(f"  warning: {metrics['warning']}")
    lines.append(f"  {verdict(metrics)}; results in {folder}")
    return "\n".join(lines)


def verdict(metrics: dict) -> str:
    """The verdict of a finished run in words: ``PASSED``, ``FAILED`` (training failed) or ``FAILED: tolerance
    not met``."""
    return "PASSED" if metrics.get("passed") else "FAILED" if metrics.get("failure") else "FAILED: tolerance not met"
