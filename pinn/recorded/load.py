"""A trained model from what its run folder holds as data (``pinn.load(run)``, without ``trust``):
a plain network rebuilt from ``config.json``, the user's code from ``model_graph.pt``, the weights
and unknowns from the checkpoint. Nothing of the folder runs."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from pinn.output.files import CorruptFileError
from pinn.pde.model import Model
from pinn.recorded.format import GRAPH_FILE, NETS, OUTPUT_CODE, describe_code, first_line
from pinn.recorded.read import RecordedGraph
from pinn.pde.unknowns import Unknown, UnknownValues

log = logging.getLogger(__name__)


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
        config.get("dtype") or (config.get("training", {}).get("dtype") if isinstance(config.get("training"), dict)
                                else None))
    if dtype is None:
        raise CorruptFileError(f"{config_path} does not say the run's dtype (dtype float32 or float64)")
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
            f"{folder}: the model's {describe_code(code, OUTPUT_CODE)} are code in its problem.py, {why}. If you "
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
        raise CorruptFileError(f"{path} is truncated, corrupt or not a pinn model graph ({first_line(err)})") from None


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
                    folder, describe_code({"derived quantities": missing}), why)
