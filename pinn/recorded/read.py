"""Reading a recorded graph: every name and reference checked when it is read, then run by a small
interpreter of ATen operations, with the weights given from the checkpoint."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pinn.output.files import CorruptFileError
from pinn.recorded.format import FORMAT, VERSION, refusal

_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128,
    torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)}
_LAYOUTS = {"strided": torch.strided}
_MEMORY_FORMATS = {str(m).removeprefix("torch."): m for m in (
    torch.contiguous_format, torch.preserve_format, torch.channels_last, torch.channels_last_3d)}
_OPERATION_NAME = re.compile(r"_?[A-Za-z][A-Za-z0-9_]*")


class RecordedGraph:
    """A model's prediction read from ``model_graph.pt`` content, run by an interpreter of ATen
    operations, with the weights given from the checkpoint."""

    def __init__(self, content: Any, state: dict[str, Tensor], label: str) -> None:
        self._label = label
        if not isinstance(content, dict) or content.get("format") != FORMAT:
            self._refuse("it is not a pinn model graph")
        if content.get("version") != VERSION:
            self._refuse(f"its version {content.get('version')!r} is not {VERSION}; record it again with this pinn")
        try:
            graph = json.loads(content["graph"])
        except (KeyError, TypeError, ValueError) as err:
            self._refuse(f"its graph is not valid JSON ({err})")
        constants = content.get("constants")
        if not isinstance(constants, list) or not all(isinstance(c, Tensor) for c in constants):
            self._refuse("its constants are not a list of tensors")
        self._constants = [c.cpu() for c in constants]
        self._read(graph, state)

    def _refuse(self, reason: str) -> None:
        raise CorruptFileError(f"{self._label} cannot be used: {reason}")

    def _read(self, graph: Any, state: dict[str, Tensor]) -> None:
        if not isinstance(graph, dict):
            self._refuse("its graph is not a JSON object")
        chunk, inputs, columns = graph.get("chunk"), graph.get("inputs"), graph.get("columns")
        if not isinstance(chunk, int) or not 1 <= chunk <= 1 << 20:
            self._refuse(f"its chunk size {chunk!r} is not a whole number from 1 to {1 << 20}")
        for label, names in (("inputs", inputs), ("columns", columns)):
            if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
                self._refuse(f"its {label} are not a list of names")
        dtype = _DTYPES.get(graph.get("dtype")) if isinstance(graph.get("dtype"), str) else None
        if dtype not in (torch.float32, torch.float64):
            self._refuse(f"its dtype {graph.get('dtype')!r} is not float32 or float64")
        self.chunk, self.inputs, self.columns, self.dtype = chunk, tuple(inputs), tuple(columns), dtype
        self._weights = self._weights_from(graph.get("state"), state)
        nodes = graph.get("nodes")
        if not isinstance(nodes, list):
            self._refuse("its nodes are not a list")
        self._steps = [self._step(node, len(self._weights) + 1 + i) for i, node in enumerate(nodes)]
        self._output = self._reference(graph.get("output"), len(self._weights) + 1 + len(nodes))

    def _weights_from(self, recorded: Any, state: dict[str, Tensor]) -> list[Tensor]:
        """The checkpoint's tensors in the order the graph takes them, checked against what it recorded."""
        if not isinstance(state, dict):
            raise CorruptFileError("the checkpoint holds no model weights")
        if not isinstance(recorded, list):
            self._refuse("its list of weights is missing")
        weights = []
        for entry in recorded:
            if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                    and isinstance(entry.get("shape"), list) and isinstance(entry.get("dtype"), str)):
                self._refuse("an entry of its list of weights is malformed")
            name = entry["name"]
            tensor = state.get(name)
            if not isinstance(tensor, Tensor) or list(tensor.shape) != entry["shape"] \
                    or str(tensor.dtype).removeprefix("torch.") != entry["dtype"]:
                raise CorruptFileError(f"the checkpoint does not fit {self._label}: its weight {name!r} "
                                       f"is missing or not of shape {entry['shape']} and dtype {entry['dtype']}")
            weights.append(tensor.detach().cpu())
        return weights

    def _reference(self, value: Any, available: int) -> int:
        if not (isinstance(value, dict) and set(value) == {"value"} and isinstance(value["value"], int)
                and not isinstance(value["value"], bool) and 0 <= value["value"] < available):
            self._refuse(f"it refers to a value that does not exist before it ({value!r})")
        return value["value"]

    def _step(self, node: Any, available: int) -> Callable[[list], Any]:
        """One node as a function of the values computed before it; every name and reference checked now."""
        if not isinstance(node, dict):
            self._refuse("a node is not a JSON object")
        if set(node) == {"constant"}:
            index = node["constant"]
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self._constants):
                self._refuse(f"a node refers to a constant that does not exist ({index!r})")
            constant = self._constants[index]
            return lambda values: constant
        if set(node) == {"getitem"}:
            args = node["getitem"]
            if not (isinstance(args, list) and len(args) == 2 and isinstance(args[1], int)):
                self._refuse("a getitem node is malformed")
            source, index = self._reference(args[0], available), args[1]

            def getitem(values: list) -> Any:
                sequence = values[source]
                if not isinstance(sequence, (list, tuple)):
                    raise CorruptFileError(f"{self._label}: a getitem node indexes a {type(sequence).__name__}")
                return sequence[index]

            return getitem
        if set(node) != {"op", "overload", "args", "kwargs"}:
            self._refuse(f"a node has the keys {sorted(node)}")
        operation = self._operation(node["op"], node["overload"])
        if not isinstance(node["args"], list) or not isinstance(node["kwargs"], dict):
            self._refuse(f"the arguments of a {node['op']} node are malformed")
        args = self._argument(node["args"], available)
        kwargs = {key: self._argument(value, available) for key, value in node["kwargs"].items()}

        def run(values: list) -> Any:
            return operation(*_resolve(args, values), **{k: _resolve(v, values) for k, v in kwargs.items()})

        return run

    def _operation(self, name: Any, overload: Any) -> torch._ops.OpOverload:
        """The ATen operation ``name.overload``, if it is a pure tensor function."""
        if not (isinstance(name, str) and isinstance(overload, str) and _OPERATION_NAME.fullmatch(name)
                and _OPERATION_NAME.fullmatch(overload)):
            self._refuse(f"it names an operation {name!r}.{overload!r} that is not an ATen name")
        try:
            packet = getattr(torch.ops.aten, name)
            operation = getattr(packet, overload)
        except (AttributeError, RuntimeError):
            self._refuse(f"it names an operation aten.{name}.{overload} that does not exist")
        if not isinstance(packet, torch._ops.OpOverloadPacket) or not isinstance(operation, torch._ops.OpOverload):
            self._refuse(f"aten.{name}.{overload} is not an ATen operation")
        reason = refusal(operation)
        if reason:
            self._refuse(f"the operation {operation} {reason}")
        return operation

    def _argument(self, value: Any, available: int) -> Any:
        """A decoded argument; references to earlier values stay as ``_Ref``."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self._argument(v, available) for v in value]
        if isinstance(value, dict) and len(value) == 1:
            (tag, content), = value.items()
            if tag == "value":
                return _Ref(self._reference(value, available))
            table = {"dtype": _DTYPES, "layout": _LAYOUTS, "memory_format": _MEMORY_FORMATS,
                     "device": {"cpu": torch.device("cpu")}}.get(tag)
            if table is not None and isinstance(content, str) and content in table:
                return table[content]
        self._refuse(f"an argument {value!r} is not a number, name, list or value reference")

    def run(self, points: Tensor) -> Tensor:
        """The columns at ``points`` (chunk, number of inputs)."""
        values: list[Any] = [*self._weights, points]
        with torch.no_grad():  # the graph holds every derivative it needs as operations
            for step in self._steps:
                values.append(step(values))
        result = values[self._output]
        if not isinstance(result, Tensor) or tuple(result.shape) != (points.shape[0], len(self.columns)):
            raise CorruptFileError(f"{self._label} returned {type(result).__name__} "
                                   f"{tuple(getattr(result, 'shape', ()))}, not one column per name")
        return result

    def predict(self, points: np.ndarray | Tensor) -> dict[str, np.ndarray]:
        """The columns at ``points`` (N, number of inputs) by name, chunk by chunk (the last one padded)."""
        array = torch.tensor(np.asarray(points), dtype=self.dtype)  # a copy, never the caller's array
        if array.ndim != 2 or array.shape[1] != len(self.inputs):
            raise ValueError(f"points must have shape (N, {len(self.inputs)}) for inputs {', '.join(self.inputs)}, "
                             f"got {tuple(array.shape)}")
        chunks = []
        for start in range(0, array.shape[0], self.chunk):
            piece = array[start:start + self.chunk]
            padding = piece[-1:].expand(self.chunk - piece.shape[0], -1)
            chunks.append(self.run(torch.cat([piece, padding]))[:piece.shape[0]])
        values = torch.cat(chunks).numpy() if chunks else np.zeros((0, len(self.columns)))
        return {name: values[:, j] for j, name in enumerate(self.columns)}


class _Ref:
    """An argument that is the value numbered ``index``."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _resolve(argument: Any, values: list) -> Any:
    if isinstance(argument, _Ref):
        return values[argument.index]
    if isinstance(argument, list):
        return [_resolve(a, values) for a in argument]
    return argument
