"""Settings that cannot fit in memory, refused before anything is allocated.

``--set sampling.interior=3000000000`` or ``--set net.width=200000`` would otherwise fail minutes
later with an allocator's traceback, or get the process killed. :func:`check_memory` compares a
*lower bound* on what training holds with the memory free on the run's device, and refuses with
the numbers and the setting to lower. Being a lower bound, it refuses only settings that cannot
fit; settings that pass may still need several times the estimate.

What the bound counts, in the run's dtype unless said otherwise:

- the collocation points: drawn as float64 arrays, then copied into the run's dtype;
- the activations a backward pass keeps: for every point, every hidden neuron holds its value and
  its first derivatives along every input (what any PDE residual differentiates), once;
- the weights four times over (weights, gradients and Adam's two moments), plus L-BFGS's history of
  two vectors per remembered step;
- with Gauss-Newton steps, the Jacobian (one row per point, one column per weight) and the square
  matrix of the normal equations.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from pinn.pde.conditions import Initial, Periodic
from pinn.nets import ModifiedMLP, Net
from pinn.pde.observations import Data
from pinn.pde.build import loss_conditions, points_for
from pinn.train.phases import LBFGS, LevenbergMarquardt

if TYPE_CHECKING:
    from pinn.pde.problem import Problem

FLOAT64_BYTES = 8  # geometry samplers draw points as float64 whatever the run's dtype


@dataclass(frozen=True)
class MemoryEstimate:
    """The bytes a training step certainly holds, by what holds them."""

    points: int  # collocation points: interior, boundary, initial (observed data are not counted)
    activations: int
    weights: int
    jacobian: int  # Gauss-Newton's; 0 without Gauss-Newton steps
    point_count: int
    weight_count: int
    neurons: int  # hidden neurons, all layers together
    values_per_neuron: int  # a value and its first derivatives along every input
    copies_of_weights: int
    dtype_bytes: int

    @property
    def total(self) -> int:
        return self.points + self.activations + self.weights + self.jacobian


def estimate_memory(problem: Problem) -> MemoryEstimate:
    """A lower bound on the memory a training step of ``problem`` needs with its current settings."""
    dtype_bytes = torch.finfo(getattr(torch, problem.training.numerics.dtype)).bits // 8
    lbfgs = [p for p in problem.training.schedule if isinstance(p, LBFGS) and p.steps]
    point_count = problem.sampling.interior + sum(
        points_for(problem, condition) * (2 if isinstance(condition, Periodic) else 1)
        for condition in loss_conditions(problem).values() if not isinstance(condition, Data))
    n_inputs = len(problem.inputs)
    weight_count = count_weights(problem.net, n_inputs, len(problem.outputs))
    neurons = sum(problem.net.layer_widths)
    values_per_neuron = 1 + n_inputs
    copies = 4 + 2 * max((min(p.history, p.steps) for p in lbfgs), default=0)
    jacobian = (point_count + weight_count) * weight_count * dtype_bytes if _newton(problem) else 0
    return MemoryEstimate(
        points=point_count * n_inputs * (FLOAT64_BYTES + dtype_bytes),
        activations=point_count * neurons * values_per_neuron * dtype_bytes,
        weights=weight_count * copies * dtype_bytes,
        jacobian=jacobian,
        point_count=point_count, weight_count=weight_count, neurons=neurons, values_per_neuron=values_per_neuron,
        copies_of_weights=copies, dtype_bytes=dtype_bytes)


def count_weights(net: Net, n_inputs: int, n_outputs: int) -> int:
    """The trainable weights of ``net`` for a problem with these numbers of inputs and outputs (the
    fully connected layers, which is all of an MLP or a ModifiedMLP and a lower bound for any Net)."""
    embedded = net.embedded_width(n_inputs)
    widths = net.layer_widths
    sizes = [embedded, *widths, n_outputs]
    count = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    if isinstance(net, ModifiedMLP):  # its two encoders of the embedded input
        count += 2 * (embedded + 1) * widths[0]
    return count


def available_memory(device: torch.device) -> int | None:
    """Bytes free for this process on ``device`` now, or None where that cannot be read."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    limits = [value for value in (_meminfo_available(), _cgroup_available()) if value is not None]
    if not limits:
        limits = [value for value in (_sysconf_available(),) if value is not None]
    return min(limits) if limits else None


def check_memory(problem: Problem) -> None:
    """Raise ValueError, naming the setting to lower, when a training step of ``problem`` cannot fit in
    the memory free on its device."""
    from pinn.train.trainer import resolve_device

    try:
        device = resolve_device(problem.training.numerics.device)
    except ValueError:  # no such device: the run reports that itself
        return
    free = available_memory(device)
    estimate = estimate_memory(problem)
    if free is None or estimate.total <= free:
        return
    setting, detail, remedy = _largest_part(problem, estimate)
    where = "of GPU memory free on " + str(device) if device.type == "cuda" else "of memory available"
    raise ValueError(f"{setting} needs at least {_size(estimate.total)} of memory for a training step ({detail}), "
                     f"more than the {_size(free)} {where}; {remedy}")


TYPICAL_POINTS, TYPICAL_NEURONS = 4000, 128  # the order of a problem's usual points and hidden neurons


def _largest_part(problem: Problem, estimate: MemoryEstimate) -> tuple[str, str, str]:
    """The setting behind the largest part of the estimate, what that part counts, and the remedy."""
    dtype = problem.training.numerics.dtype
    parts = {"points": estimate.points + estimate.activations, "weights": estimate.weights,
             "jacobian": estimate.jacobian}
    largest = max(parts, key=parts.get)
    net_setting = _net_setting(problem.net)
    if largest == "points":
        # Points x neurons: blame the factor further beyond its default (millions of points, or of neurons).
        if estimate.point_count / TYPICAL_POINTS >= estimate.neurons / TYPICAL_NEURONS:
            setting, remedy = _largest_point_setting(problem)
        else:
            setting, remedy = net_setting, f"lower {net_setting.partition('=')[0]}"
        return (setting,
                f"{estimate.point_count:,} points x {estimate.neurons:,} hidden neurons x {estimate.values_per_neuron} "
                f"values and derivatives x {estimate.dtype_bytes} bytes ({dtype}), and the points themselves",
                remedy)
    if largest == "weights":
        return (net_setting,
                f"{estimate.weight_count:,} weights x {estimate.copies_of_weights} copies x {estimate.dtype_bytes} "
                f"bytes ({dtype}): the weights, their gradients, Adam's moments and L-BFGS's history",
                f"lower {net_setting.partition('=')[0]}")
    newton = _newton(problem)
    return (f"{newton.name}.steps={newton.steps} with {net_setting}",
            f"Gauss-Newton's Jacobian of {estimate.point_count:,} points x {estimate.weight_count:,} weights, and "
            f"its {estimate.weight_count:,} x {estimate.weight_count:,} normal equations",
            f"set {newton.name}.steps=0, or use a smaller network (Gauss-Newton is meant for a few "
            "thousand weights)")


def _newton(problem: Problem) -> LevenbergMarquardt | None:
    """The schedule's first Levenberg-Marquardt phase that takes steps (its Jacobian is the largest array)."""
    return next((p for p in problem.training.schedule if isinstance(p, LevenbergMarquardt) and p.steps), None)


def _largest_point_setting(problem: Problem) -> tuple[str, str]:
    """The setting that asks for the most points, and the remedy."""
    sampling = problem.sampling
    candidates = [(sampling.interior, "sampling.interior=", "lower sampling.interior")]
    for name, condition in loss_conditions(problem).items():
        if isinstance(condition, Data):
            continue
        if condition.points is not None:
            candidates.append((condition.points, f"condition {name!r} with points=",
                               f"lower the points of condition {name!r}"))
        else:
            setting = "sampling.initial" if isinstance(condition, Initial) else "sampling.boundary"
            candidates.append((points_for(problem, condition), f"{setting}=", f"lower {setting}"))
    count, setting, remedy = max(candidates, key=lambda candidate: candidate[0])
    return f"{setting}{count}", remedy


def _net_setting(net: Net) -> str:
    if net.hidden is not None:
        return f"net.hidden={tuple(net.hidden)}"
    return f"net.depth={net.depth}" if net.depth > net.width else f"net.width={net.width}"


def _size(count: int) -> str:
    """``count`` bytes in the largest binary unit that keeps the number at 1 or more (up to TiB)."""
    value, unit = float(count), "bytes"
    for larger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.0f} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def _meminfo_available() -> int | None:
    """Linux's estimate of the memory available without swapping (page cache included)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available() -> int | None:
    """What a container's memory limit leaves (cgroup v2, then v1), or None without a limit."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit, usage = Path(limit_file).read_text().strip(), Path(usage_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit() and usage.isdigit() and int(limit) < 2**60:  # v1 writes a huge number for "no limit"
            return max(int(limit) - int(usage), 0)
        return None
    return None


def _sysconf_available() -> int | None:
    """Free physical pages (not counting reclaimable cache), where the platform says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
