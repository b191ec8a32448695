"""The trained model as data, so that reading a run never has to execute its problem file.

A model is a network (framework code, :mod:`pinn.nets`, rebuilt from the settings in
``config.json``) and, in many problems, the user's own code: exact conditions and known parts
(the output transform), derived quantities, or a network class of the user's. At the end of a run
such a model is recorded in ``model_graph.pt``: its prediction (points -> outputs and derived
quantities) as a graph of ATen operations, the C++ tensor operations PyTorch runs, traced once with
fake tensors. The graph takes the weights as inputs: they stay in ``checkpoint.pt``.

Reading it back runs nothing from the file: it is read with ``torch.load(weights_only=True)``
(numbers, strings, lists and tensors only), each operation is looked up by name among ATen's and
must be a pure tensor function (no file names, nothing that only has effects, no argument changed
in place), and a small interpreter here runs them. ``torch.export`` would have been the obvious format, but
``torch.export.load`` is not safe on a file from elsewhere: it unpickles parts of the archive with
``torch.load(weights_only=False)`` and ``pickle.loads``, parses shape expressions with
``sympy.sympify`` (``eval``), and resolves call targets by attribute lookups from the ``torch``
module (``torch.os.system`` is one).

User code that cannot be traced (numpy on the values, branches on them) is not recorded; the run
still completes, logs a warning, and :func:`pinn.load` then needs ``trust=True`` for it.

This module is longer than the house's 400 lines because the writer and the checking reader must
agree on one format and one list of rules; it is to be split by that seam (record / read) when the
package is laid out by job (issue 14).
"""
from __future__ import annotations

import json
import logging
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from pinn.io import CorruptFileError, atomic_write
from pinn.model import Model
from pinn.nets import MLP, ModifiedMLP, Net
from pinn.pde.build import build_model
from pinn.unknowns import Unknown, UnknownValues

if TYPE_CHECKING:
    from pinn.problem import Problem

log = logging.getLogger(__name__)

GRAPH_FILE = "model_graph.pt"
FORMAT = "pinn model graph"
VERSION = 1
CHUNK = 1024
"""Points per run of the graph: traced for this many, so the last chunk of a prediction is padded."""

NETS: dict[str, type[Net]] = {"MLP": MLP, "ModifiedMLP": ModifiedMLP}
"""The network classes rebuilt from config.json alone (a problem's own class is code)."""

OUTPUT_CODE = ("exact conditions", "known parts", "network")
"""The kinds of user code that the outputs themselves depend on (derived quantities come after)."""

_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128,
    torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)}
_LAYOUTS = {"strided": torch.strided}
_MEMORY_FORMATS = {str(m).removeprefix("torch."): m for m in (
    torch.contiguous_format, torch.preserve_format, torch.channels_last, torch.channels_last_3d)}
_LEAF_TYPES = {"TensorType", "IntType", "SymIntType", "FloatType", "SymFloatType", "BoolType", "SymBoolType",
               "NumberType", "DeviceObjType", "NoneType"}
_MODE_ARGUMENTS = {"rounding_mode", "approximate", "reduce", "reduction", "mode", "interpolation", "side", "indexing",
                   "equation", "norm", "ord", "p", "UPLO", "driver", "padding", "pad_mode", "assert_msg"}
"""The string arguments an operation may take: choices among a few modes, never a file or a message to print."""
_OPERATION_NAME = re.compile(r"_?[A-Za-z][A-Za-z0-9_]*")


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


# ---------------------------------------------------------------------------------------------- recording
def record_model(problem: Problem, model: Model, folder: Path) -> None:
    """Write ``folder/model_graph.pt`` when the model holds user code (and remove a stale one when it
    does not); log a warning for the code that cannot be recorded (the run is unaffected)."""
    path = Path(folder) / GRAPH_FILE
    code = model_description(problem)["code"]
    outputs_need_code = any(kind in code for kind in OUTPUT_CODE)
    failure = None
    for with_derived in ((True, False) if problem.derived else (False,)):
        if not (with_derived or outputs_need_code):
            break  # a plain network is rebuilt from config.json: no graph needed for the outputs alone
        try:
            graph = _trace(problem, model, with_derived)
        except Exception as err:  # NotRecordable, or anything else: the run's results come first
            failure = failure or (str(err) if isinstance(err, NotRecordable) else _first_line(err))
            continue
        atomic_write(path, lambda tmp: torch.save(graph, tmp))
        if failure:
            _warn_derived_not_recorded(folder, problem, failure)
        return
    path.unlink(missing_ok=True)
    if failure and not outputs_need_code:
        _warn_derived_not_recorded(folder, problem, failure)
    elif failure:
        log.warning("%s: the model's %s could not be recorded as data (%s); reading this run's predictions "
                    "needs pinn.load(run, trust=True), which runs problem.py", folder, _describe(code), failure)


def _warn_derived_not_recorded(folder: Path, problem: Problem, failure: str) -> None:
    log.warning("%s: the model's %s could not be recorded as data (%s); pinn.load(run) predicts the outputs "
                "only, pinn.load(run, trust=True) all of them, by running problem.py",
                folder, _describe({"derived quantities": list(problem.derived)}), failure)


def _describe(code: dict[str, list[str]], kinds: tuple[str, ...] = (*OUTPUT_CODE, "derived quantities")) -> str:
    """E.g. ``exact conditions 'ends', 'initial'; derived quantities 'flux'``."""
    return "; ".join(f"{kind} {', '.join(repr(str(name)) for name in code[kind])}" for kind in kinds if kind in code)


class _Prediction(nn.Module):
    """What the graph computes: the outputs, then the derived quantities, as columns."""

    def __init__(self, model: Model, with_derived: bool) -> None:
        super().__init__()
        self.model = model
        self.with_derived = with_derived

    def forward(self, points: Tensor) -> Tensor:
        if not self.with_derived:
            return self.model(points)
        with torch.enable_grad():  # the derived quantities differentiate the outputs
            f = self.model.fields(points)
            columns = [f.field(name) for name in self.model.outputs]
            columns += [fn(f).reshape(-1) for fn in self.model.derived.values()]
        return torch.stack(columns, dim=1)


def _trace(problem: Problem, model: Model, with_derived: bool) -> dict:
    """The graph of ``model``'s prediction, checked against the model itself, as torch.save content."""
    from torch.fx.experimental.proxy_tensor import make_fx

    state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    clone = build_model(problem, model.dtype, torch.device("cpu"), seed=0)  # traced on the CPU, whatever ran
    clone.load_state_dict(state)
    prediction = _Prediction(clone, with_derived)
    names = list(state)

    def predict(*tensors: Tensor) -> Tensor:
        weights = {f"model.{name}": tensor for name, tensor in zip(names, tensors)}
        return torch.func.functional_call(prediction, weights, (tensors[-1],))

    example = torch.zeros(CHUNK, len(problem.inputs), dtype=model.dtype)
    try:
        # Fake tensors carry no values: code that reads them (numpy, a branch on a value) fails here
        # instead of being recorded with the values of one trace.
        traced = make_fx(predict, tracing_mode="fake")(*state.values(), example)
        if any(_changes_in_place(node.target) for node in traced.graph.nodes):
            # In-place operations (``value[mask] = 0`` in a condition's value): trace the graph
            # again, now free of autograd, as the same function without them.
            pure = torch.func.functionalize(traced, remove="mutations_and_views")
            traced = make_fx(pure, tracing_mode="fake")(*state.values(), example)
    except Exception as err:  # anything the user's code raises under tracing
        raise NotRecordable(_first_line(err)) from None
    columns = list(problem.outputs) + (list(problem.derived) if with_derived else [])
    graph = {"chunk": CHUNK, "inputs": list(problem.inputs), "columns": columns,
             "dtype": str(model.dtype).removeprefix("torch."),
             "state": [{"name": n, "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
                       for n, t in state.items()]}
    constants: list[Tensor] = []
    graph["nodes"], graph["output"] = _serialise(traced, len(state) + 1, constants)
    content = {"format": FORMAT, "version": VERSION, "graph": json.dumps(graph), "constants": constants}
    _check_reproduces(problem, clone, RecordedGraph(content, state, "the recorded graph"))
    return content


def _serialise(traced: torch.fx.GraphModule, n_inputs: int, constants: list[Tensor]) -> tuple[list, dict]:
    """The traced graph's nodes as JSON data: each value is numbered (the inputs first) and referred
    to as ``{"value": number}``."""
    numbers: dict[torch.fx.Node, int] = {}
    nodes: list[dict] = []

    def encode(value: Any) -> Any:
        if isinstance(value, torch.fx.Node):
            return {"value": numbers[value]}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, torch.dtype):
            return {"dtype": str(value).removeprefix("torch.")}
        if isinstance(value, torch.layout):
            return {"layout": str(value).removeprefix("torch.")}
        if isinstance(value, torch.memory_format):
            return {"memory_format": str(value).removeprefix("torch.")}
        if isinstance(value, torch.device):
            return {"device": "cpu"}
        raise NotRecordable(f"an operation takes a {type(value).__name__}, which a graph cannot hold")

    output = None
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            numbers[node] = len(numbers)
            continue
        if node.op == "output":
            output = encode(node.args[0])
            continue
        if node.op == "get_attr":  # a tensor the user's code made (a constant)
            constants.append(getattr(traced, node.target).detach().cpu().clone())
            nodes.append({"constant": len(constants) - 1})
        elif node.op == "call_function" and node.target is operator.getitem:  # one result of several
            nodes.append({"getitem": encode(list(node.args))})
        elif node.op == "call_function" and isinstance(node.target, torch._ops.OpOverload):
            operation = node.target
            reason = _refusal(operation)
            if reason:
                raise NotRecordable(f"the operation {operation} {reason}")
            nodes.append({"op": operation._schema.name.removeprefix("aten::"), "overload": operation._overloadname,
                          "args": encode(list(node.args)),
                          "kwargs": {key: encode(value) for key, value in node.kwargs.items()}})
        else:
            raise NotRecordable(f"the traced graph calls {node.target}, which is not an ATen operation")
        numbers[node] = n_inputs + len(nodes) - 1
    if not isinstance(output, dict) or "value" not in output:
        raise NotRecordable("the traced prediction does not return one tensor")
    return nodes, output


def _check_reproduces(problem: Problem, model: Model, graph: RecordedGraph) -> None:
    """The graph must give the model's own predictions at points of the domain (fewer than a chunk,
    so the padding is exercised too)."""
    points = problem.domain.sample_interior(CHUNK // 4 + 3, "uniform", np.random.default_rng(0))
    try:
        got = graph.predict(points)
    except Exception as err:  # an operation that fails on real values
        raise NotRecordable(f"the recorded graph fails to run ({_first_line(err)})") from None
    want = model.predict(points)
    tolerance = 1e-10 if model.dtype == torch.float64 else 1e-4
    for name in graph.columns:
        scale = max(1.0, float(np.nanmax(np.abs(want[name]), initial=0.0)))
        if not np.allclose(got[name], want[name], rtol=tolerance, atol=tolerance * scale, equal_nan=True):
            gap = float(np.nanmax(np.abs(got[name] - want[name])))
            raise NotRecordable(f"the recorded graph differs from the model in {name} (by up to {gap:.3g})")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


# ------------------------------------------------------------------------------------------------ checks
def _refusal(operation: torch._ops.OpOverload) -> str | None:
    """Why ``operation`` may not run from a file (None if it may): it must be a pure tensor function,
    taking tensors, numbers, lists of them and mode names, changing none of them, and returning values."""
    schema = operation._schema
    if operation.namespace != "aten":
        return "is not an ATen operation"
    if _changes_in_place(operation):
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


def _changes_in_place(target: Any) -> bool:
    return isinstance(target, torch._ops.OpOverload) and any(
        argument.alias_info is not None and argument.alias_info.is_write for argument in target._schema.arguments)


def _allowed_type(kind: torch._C.JitType, name: str | None) -> bool:
    label = kind.kind()
    if label in ("OptionalType", "ListType"):
        return _allowed_type(kind.getElementType(), name)
    if label == "StringType":
        return name in _MODE_ARGUMENTS
    return label in _LEAF_TYPES


# ------------------------------------------------------------------------------------------------ reading
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
        reason = _refusal(operation)
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


# ------------------------------------------------------------------------------------ models from data
class TrustRequiredError(RuntimeError):
    """A prediction needs code that the run folder holds only as code (its ``problem.py``):
    ``pinn.load(run, trust=True)`` runs that file."""


class _LoadedModel:
    """What a model read without its code holds besides its prediction: names and unknowns."""

    def __init__(self, inputs: tuple[str, ...], outputs: tuple[str, ...], time: str | None,
                 unknowns: UnknownValues) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.time = time
        self.unknowns = unknowns


class GraphModel(_LoadedModel):
    """A trained model read from ``model_graph.pt`` and the checkpoint: predicts with the recorded graph."""

    def __init__(self, graph: RecordedGraph, inputs: tuple[str, ...], outputs: tuple[str, ...],
                 time: str | None, unknowns: UnknownValues) -> None:
        super().__init__(inputs, outputs, time, unknowns)
        self.graph = graph

    def predict(self, points: np.ndarray | Tensor, batch_size: int | None = None) -> dict[str, np.ndarray]:
        """The outputs, and the derived quantities recorded with them, at ``points`` (N, number of inputs)."""
        return self.graph.predict(points)


class CodeOnlyModel(_LoadedModel):
    """A trained model whose prediction needs the run's code: :meth:`predict` says what and why."""

    def __init__(self, inputs: tuple[str, ...], outputs: tuple[str, ...], time: str | None,
                 unknowns: UnknownValues, reason: str) -> None:
        super().__init__(inputs, outputs, time, unknowns)
        self.reason = reason

    def predict(self, points: np.ndarray | Tensor, batch_size: int | None = None) -> dict[str, np.ndarray]:
        raise TrustRequiredError(self.reason)


def model_from_data(folder: Path, config: dict, state: dict) -> Model | GraphModel | CodeOnlyModel:
    """The model of the run in ``folder`` from what it holds as data: the network from ``config.json``
    and the checkpoint ``state``, the user's code from ``model_graph.pt``. Nothing of the folder runs."""
    folder = Path(folder)
    config_path = folder / "config.json"
    inputs, outputs = _names(config, "inputs", config_path), _names(config, "outputs", config_path)
    description = config.get("model")
    dtype = {"float32": torch.float32, "float64": torch.float64}.get(
        config.get("training", {}).get("dtype") if isinstance(config.get("training"), dict) else None)
    if dtype is None:
        raise CorruptFileError(f"{config_path} does not say the run's dtype (training.dtype float32 or float64)")
    unknowns = _unknowns(config, config_path, state, dtype)
    if not isinstance(description, dict) or not isinstance(description.get("code"), dict):
        return CodeOnlyModel(inputs, outputs, None, unknowns, (
            f"{folder} was written by a pinn that did not record its model as data, so its predictions need "
            f"its problem.py: if you trust that folder, pinn.load(run, trust=True) runs it"))
    time = description.get("time") if description.get("time") in inputs else None
    code = {kind: names for kind, names in description["code"].items() if isinstance(names, list)}
    graph_path = folder / GRAPH_FILE
    if graph_path.is_file():
        graph = RecordedGraph(_read_graph(graph_path), state["model"], str(graph_path))
        if graph.inputs != inputs or graph.columns[:len(outputs)] != outputs:
            raise CorruptFileError(f"{graph_path} does not fit {config_path}: it maps {', '.join(graph.inputs)} to "
                                   f"{', '.join(graph.columns)}, the run {', '.join(inputs)} to {', '.join(outputs)}")
        _warn_missing_derived(folder, code, graph.columns, "could not be recorded as data when the run finished")
        return GraphModel(graph, inputs, outputs, time, unknowns)
    if any(kind in code for kind in OUTPUT_CODE):
        finished = (folder / "metrics.json").is_file()
        why = ("which could not be recorded as data when the run finished (it logged a warning saying why)"
               if finished else "and the run has not finished: they are recorded as data only at its end")
        return CodeOnlyModel(inputs, outputs, time, unknowns, (
            f"{folder}: the model's {_describe(code, OUTPUT_CODE)} are code in its problem.py, {why}. If you "
            "trust that folder, pinn.load(run, trust=True) runs problem.py and predicts with it"))
    model = _network_model(folder, config, description, state, inputs, outputs, time, unknowns, dtype)
    _warn_missing_derived(folder, code, outputs, "are recorded as data only when the run finishes"
                          if not (folder / "metrics.json").is_file() else "could not be recorded as data")
    return model


def _network_model(folder: Path, config: dict, description: dict, state: dict, inputs: tuple[str, ...],
                   outputs: tuple[str, ...], time: str | None, unknowns: UnknownValues,
                   dtype: torch.dtype) -> Model:
    """A plain network rebuilt from its settings in config.json, with the checkpoint's weights."""
    config_path = folder / "config.json"
    net_type = NETS.get(description.get("net"))
    settings = config.get("net")
    if net_type is None or not isinstance(settings, dict):
        raise CorruptFileError(f"{config_path} names no network pinn can build ({description.get('net')!r})")
    try:
        spec = net_type(**settings)
        width = len(inputs)
        # The input box (normalisation) is a buffer of the network: the checkpoint's value replaces these.
        net = spec.build(width, len(outputs), torch.zeros(width, dtype=dtype), torch.ones(width, dtype=dtype),
                         torch.Generator().manual_seed(0))
    except (TypeError, ValueError) as err:
        raise CorruptFileError(f"{config_path} holds network settings pinn cannot build ({err})") from None
    model = Model(net, None, inputs, outputs, time, unknowns.unknowns).to(dtype=dtype)
    return load_weights(model, state, folder / "checkpoint.pt", str(config_path))


def load_weights(model: nn.Module, state: dict, checkpoint: Path, described_by: str) -> nn.Module:
    """``model`` with the checkpoint's weights, in eval mode; CorruptFileError if they do not fit the
    network that ``described_by`` (config.json, or problem.py with it) describes."""
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError) as err:
        detail = " ".join(line.strip() for line in str(err).splitlines()[:3])
        raise CorruptFileError(f"{checkpoint} does not fit the network of {described_by} ({detail})") from None
    return model.eval()


def _read_graph(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise CorruptFileError(f"{path} is truncated, corrupt or not a pinn model graph ({_first_line(err)})") from None


def _names(config: dict, key: str, config_path: Path) -> tuple[str, ...]:
    names = config.get(key)
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise CorruptFileError(f"{config_path} does not list the run's {key}")
    return tuple(names)


def _unknowns(config: dict, config_path: Path, state: dict, dtype: torch.dtype) -> UnknownValues:
    """The unknown parameters declared in config.json, with their values from the checkpoint."""
    entries = config.get("unknowns", [])
    try:
        values = UnknownValues(tuple(Unknown(**entry) for entry in entries)).to(dtype=dtype)
    except (TypeError, ValueError) as err:
        raise CorruptFileError(f"{config_path} declares unknowns pinn cannot read ({err})") from None
    prefix = "unknowns."
    try:
        values.load_state_dict({k[len(prefix):]: v for k, v in state["model"].items() if k.startswith(prefix)})
    except (RuntimeError, TypeError, AttributeError) as err:
        detail = " ".join(line.strip() for line in str(err).splitlines()[:3])
        raise CorruptFileError(f"the checkpoint's unknowns do not fit those of {config_path} ({detail})") from None
    return values


def _warn_missing_derived(folder: Path, code: dict, columns: tuple[str, ...], why: str) -> None:
    missing = [name for name in code.get("derived quantities", []) if name not in columns]
    if missing:
        log.warning("%s: the %s are code in its problem.py and %s; predict returns the outputs only "
                    "(pinn.load(run, trust=True) computes them too, by running problem.py)",
                    folder, _describe({"derived quantities": missing}), why)
