"""What the writer (:mod:`pinn.recorded.record`) and the reader (:mod:`pinn.recorded.read`,
:mod:`pinn.recorded.load`) of ``model_graph.pt`` agree on: the file, its format and version, the
kinds of user code a model holds, and which ATen operations a graph may run."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from pinn.nets import NETS

if TYPE_CHECKING:
    from pinn.pde.problem import Problem

GRAPH_FILE = "model_graph.pt"
FORMAT = "pinn model graph"
VERSION = 1
CHUNK = 1024
"""Points per run of the graph: traced for this many, so the last chunk of a prediction is padded."""

OUTPUT_CODE = ("exact conditions", "known parts", "network")
"""The kinds of user code that the outputs themselves depend on (derived quantities come after)."""

_LEAF_TYPES = {"TensorType", "IntType", "SymIntType", "FloatType", "SymFloatType", "BoolType", "SymBoolType",
               "NumberType", "DeviceObjType", "NoneType"}
_MODE_ARGUMENTS = {"rounding_mode", "approximate", "reduce", "reduction", "mode", "interpolation", "side", "indexing",
                   "equation", "norm", "ord", "p", "UPLO", "driver", "padding", "pad_mode", "assert_msg"}
"""The string arguments an operation may take: choices among a few modes, never a file or a message to print."""


class NotRecordable(Exception):
    """The model's code cannot be recorded as a graph; the message says why."""


def model_description(problem: Problem) -> dict:
    """config.json ``model``: what reading the run without its problem file needs, and which parts
    of the model are the user's code (by kind: exact conditions, known parts, derived quantities,
    network)."""
    code: dict[str, list[str]] = {}
    exact = [name for name, condition in problem.conditions.items() if condition.exact]
    net_type = type(problem.net)
    for kind, names in (("exact conditions", exact), ("known parts", list(problem.known)),
                        ("derived quantities", list(problem.derived)),
                        ("network", [] if NETS.get(net_type.__name__) is net_type
                         else [f"{net_type.__module__}.{net_type.__qualname__}"])):
        if names:
            code[kind] = names
    return {"net": net_type.__name__, "time": problem.time, "code": code}


def describe_code(code: dict[str, list[str]], kinds: tuple[str, ...] = (*OUTPUT_CODE, "derived quantities")) -> str:
    """E.g. ``exact conditions 'ends', 'initial'; derived quantities 'flux'``."""
    return "; ".join(f"{kind} {', '.join(repr(str(name)) for name in code[kind])}" for kind in kinds if kind in code)


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def refusal(operation: torch._ops.OpOverload) -> str | None:
    """Why ``operation`` may not run from a file (None if it may): it must be a pure tensor function,
    taking tensors, numbers, lists of them and mode names, changing none of them, and returning values."""
    schema = operation._schema
    if operation.namespace != "aten":
        return "is not an ATen operation"
    if changes_in_place(operation):
        return "changes one of its arguments in place"
    for argument in schema.arguments:
        if not _allowed_type(argument.type, argument.name):
            return f"takes {argument.name} of type {argument.type}"
    if not schema.returns:
        return "returns nothing (it only has effects)"
    for result in schema.returns:
        if not _allowed_type(result.type, None):
            return f"returns a {result.type}"
    return None


def changes_in_place(target: Any) -> bool:
    return isinstance(target, torch._ops.OpOverload) and any(
        argument.alias_info is not None and argument.alias_info.is_write for argument in target._schema.arguments)


def _allowed_type(kind: torch._C.JitType, name: str | None) -> bool:
    label = kind.kind()
    if label in ("OptionalType", "ListType"):
        return _allowed_type(kind.getElementType(), name)
    if label == "StringType":
        return name in _MODE_ARGUMENTS
    return label in _LEAF_TYPES
