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
in place), and a small interpreter (:mod:`pinn.recorded.read`) runs them. ``torch.export`` would
have been the obvious format, but ``torch.export.load`` is not safe on a file from elsewhere: it
unpickles parts of the archive with ``torch.load(weights_only=False)`` and ``pickle.loads``, parses
shape expressions with ``sympy.sympify`` (``eval``), and resolves call targets by attribute lookups
from the ``torch`` module (``torch.os.system`` is one).

User code that cannot be traced (numpy on the values, branches on them) is not recorded; the run
still completes, logs a warning, and :func:`pinn.load` then needs ``trust=True`` for it.

The package is split by job: :mod:`~pinn.recorded.record` writes the graph at the end of a run,
:mod:`~pinn.recorded.read` checks and interprets it, :mod:`~pinn.recorded.load` makes a model from
a run folder's data for :func:`pinn.load`, and :mod:`~pinn.recorded.format` holds what writer and
reader agree on (the file's format and the operations a graph may run).
"""
from pinn.recorded.format import GRAPH_FILE, NotRecordable, model_description
from pinn.recorded.load import CodeOnlyModel, GraphModel, TrustRequiredError, load_weights, model_from_data
from pinn.recorded.read import RecordedGraph
from pinn.recorded.record import record_model

__all__ = ["GRAPH_FILE", "CodeOnlyModel", "GraphModel", "NotRecordable", "RecordedGraph", "TrustRequiredError",
           "load_weights", "model_description", "model_from_data", "record_model"]
