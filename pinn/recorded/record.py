"""Recording a trained model as data at the end of a run: its prediction traced (with fake tensors)
into a graph of ATen operations, checked to reproduce the model, written to ``model_graph.pt``."""
from __future__ import annotations

import json
import logging
import operator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from pinn.output.files import atomic_write
from pinn.pde.model import Model
from pinn.pde.build import build_model
from pinn.recorded.format import (CHUNK, FORMAT, GRAPH_FILE, OUTPUT_CODE, VERSION, NotRecordable, changes_in_place,
                                  describe_code, first_line, model_description, refusal)
from pinn.recorded.read import RecordedGraph

if TYPE_CHECKING:
    from pinn.pde.problem import Problem

log = logging.getLogger(__name__)


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
            failure = failure or (str(err) if isinstance(err, NotRecordable) else first_line(err))
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
                    "needs pinn.load(run, trust=True), which runs problem.py", folder, describe_code(code), failure)


def _warn_derived_not_recorded(folder: Path, problem: Problem, failure: str) -> None:
    log.warning("%s: the model's %s could not be recorded as data (%s); pinn.load(run) predicts the outputs "
                "only, pinn.load(run, trust=True) all of them, by running problem.py",
                folder, describe_code({"derived quantities": list(problem.derived)}), failure)


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
        # A tensor the model keeps outside its state (a geometry's bounds in a distance factor) is a
        # constant of the graph: it is allowed in, and recorded with the graph's constants.
        traced = make_fx(predict, tracing_mode="fake", _allow_non_fake_inputs=True)(*state.values(), example)
        if any(changes_in_place(node.target) for node in traced.graph.nodes):
            # In-place operations (``value[mask] = 0`` in a condition's value): trace the graph
            # again, now free of autograd, as the same function without them.
            pure = torch.func.functionalize(traced, remove="mutations_and_views")
            traced = make_fx(pure, tracing_mode="fake", _allow_non_fake_inputs=True)(*state.values(), example)
    except Exception as err:  # anything the user's code raises under tracing
        raise NotRecordable(first_line(err)) from None
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
            reason = refusal(operation)
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
        raise NotRecordable(f"the recorded graph fails to run ({first_line(err)})") from None
    want = model.predict(points)
    tolerance = 1e-10 if model.dtype == torch.float64 else 1e-4
    for name in graph.columns:
        scale = max(1.0, float(np.nanmax(np.abs(want[name]), initial=0.0)))
        if not np.allclose(got[name], want[name], rtol=tolerance, atol=tolerance * scale, equal_nan=True):
            gap = float(np.nanmax(np.abs(got[name] - want[name])))
            raise NotRecordable(f"the recorded graph differs from the model in {name} (by up to {gap:.3g})")
