"""Reading a run executes nothing from its folder unless the caller says so (``pinn.load(run, trust=True)``):
the network comes from config.json and the checkpoint, the problem's own code from the graph a finished
run records (model_graph.pt), and solution.h5 is read only for the data it holds itself."""
import json
import logging
import os
import pickle
import shutil
import textwrap

import h5py
import numpy as np
import pytest
import torch

import pinn
from pinn.output.files import CorruptFileError
from pinn.solve import main

from conftest import TINY_PROBLEM

EXACT = (("pinn.Dirichlet(space.boundary, 0.0)", "pinn.Dirichlet(space.boundary, 0.0, exact=True)"),
         ("pinn.Initial(lambda x: torch.sin(pi * x))", "pinn.Initial(lambda x: torch.sin(pi * x), exact=True)"))

# A known part (computed in place), derived quantities (derivatives of the output) and no reference.
KNOWN_AND_DERIVED = (("reference=pinn.references.analytic(exact, resolution=21),\n    tolerance={\"u\": 0.5},",
                      "known={\"u\": known_part},\n"
                      "    derived={\"flux\": lambda f: -0.1 * f.u_x, \"curvature\": lambda f: f.u_xx},"),
                     ("problem = pinn.Problem(",
                      "def known_part(x, t):\n"
                      "    part = 0.5 * torch.sin(pi * x) * torch.exp(-t)\n"
                      "    part[x > 0.9] *= 0.5\n"
                      "    return part\n\n"
                      "problem = pinn.Problem("))

NOT_TRACEABLE = (("pinn.Dirichlet(space.boundary, 0.0)",
                  "pinn.Dirichlet(space.boundary, lambda x, t: torch.as_tensor(np.zeros_like(x.detach().numpy())), "
                  "exact=True)"),
                 ("import torch\n", "import torch\nimport numpy as np\n"))


def problem_text(changes) -> str:
    text = TINY_PROBLEM
    for old, new in changes:
        assert old in text, f"test setup: {old!r} not in the problem text"
        text = text.replace(old, new)
    return text


def finished_run(write_problem, tmp_path, changes=(), name="run"):
    out = tmp_path / name
    assert main([str(write_problem(problem_text(changes))), "--out", str(out), "--quiet"]) in (0, 1)
    return out


@pytest.fixture(scope="module")
def shared_runs(tmp_path_factory):
    """Two finished runs, made once for the tests that tamper with a copy of one: a plain network
    (``plain``) and one with exact conditions (``exact``)."""
    folder = tmp_path_factory.mktemp("shared")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pinn.output.figures.run_plots", lambda *args, **kwargs: None)
        for name, changes in (("plain", ()), ("exact", EXACT)):
            path = folder / f"{name}.py"
            path.write_text(textwrap.dedent(problem_text(changes)))
            assert main([str(path), "--out", str(folder / name), "--quiet"]) == 0
    return folder


@pytest.fixture
def exact_run(shared_runs, tmp_path):
    return shutil.copytree(shared_runs / "exact", tmp_path / "exact")


@pytest.fixture
def plain_run(shared_runs, tmp_path):
    return shutil.copytree(shared_runs / "plain", tmp_path / "plain")


def booby_trap(run, tmp_path):
    """Replace the run's copy of its problem file by one that leaves a marker and fails; the marker."""
    marker = tmp_path / "problem-py-ran"
    (run / "problem.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit('problem.py ran')\n")
    return marker


def points(n=1500, seed=1):
    """Points of the unit square (x, t), more than one chunk of the recorded graph and a ragged end."""
    return np.random.default_rng(seed).random((n, 2))


def test_loading_runs_nothing_from_the_folder(plain_run, tmp_path):
    run = plain_run
    trusted = pinn.load(run, trust=True).predict(points())
    marker = booby_trap(run, tmp_path)
    solution = pinn.load(run)
    np.testing.assert_array_equal(solution.predict(points())["u"], trusted["u"])
    assert not marker.exists()
    assert not (run / "model_graph.pt").exists()  # a plain network needs no graph: config.json rebuilds it
    assert solution.inputs == ("x", "t") and solution.outputs == ("u",) and solution.parameters == {}
    assert solution.metrics["passed"] is True and solution.config["problem"] == "tiny"
    assert solution.grid()["predicted"]["u"].shape == (21, 21)
    assert not marker.exists()


def test_exact_conditions_predict_from_the_recorded_graph(exact_run, tmp_path):
    run = exact_run
    trusted = pinn.load(run, trust=True).predict(points())
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["code"] == {"exact conditions": ["ends", "initial"]}
    marker = booby_trap(run, tmp_path)
    solution = pinn.load(run)
    predicted = solution.predict(points())
    np.testing.assert_allclose(predicted["u"], trusted["u"], rtol=1e-12, atol=1e-12)
    on_boundary = np.array([[0.0, 0.3], [1.0, 0.7], [0.25, 0.0]])  # the exact values hold exactly
    np.testing.assert_allclose(solution.predict(on_boundary)["u"], [0.0, 0.0, np.sin(np.pi / 4)], atol=1e-15)
    saved = solution.grid()
    x, t = saved["grid"]["x"], saved["grid"]["t"]
    grid_points = np.stack([m.ravel() for m in np.meshgrid(x, t, indexing="ij")], axis=1)
    np.testing.assert_allclose(solution.predict(grid_points)["u"], saved["predicted"]["u"].ravel(), rtol=1e-12,
                               atol=1e-12)
    assert not marker.exists()

    # A run that has not finished yet (checkpoint, no graph) explains what it lacks.
    (run / "model_graph.pt").unlink()
    (run / "metrics.json").unlink()
    with pytest.raises(pinn.TrustRequiredError, match=r"exact conditions 'ends', 'initial' are code in its "
                                                      r"problem.py, and the run has not finished.*trust=True"):
        pinn.load(run).predict(points())
    assert not marker.exists()


def test_known_parts_and_derived_quantities_predict_from_the_recorded_graph(write_problem, tmp_path, no_plots):
    run = finished_run(write_problem, tmp_path, KNOWN_AND_DERIVED)
    assert (run / "model_graph.pt").exists()
    trusted = pinn.load(run, trust=True).predict(points())
    assert set(trusted) == {"u", "flux", "curvature"}
    marker = booby_trap(run, tmp_path)
    predicted = pinn.load(run).predict(points())
    assert set(predicted) == set(trusted)
    for name in trusted:
        np.testing.assert_allclose(predicted[name], trusted[name], rtol=1e-12, atol=1e-12)
    assert not marker.exists()


def test_an_inverse_problem_gives_its_parameters_without_trust(write_problem, tmp_path, no_plots):
    changes = (("0.1 * f.u_xx", "f.k * f.u_xx"),
               ("net=pinn.MLP", "unknowns=[pinn.Unknown('k', initial=0.3, positive=True)],\n    net=pinn.MLP"),
               *EXACT)
    run = finished_run(write_problem, tmp_path, changes)
    trusted = pinn.load(run, trust=True)
    marker = booby_trap(run, tmp_path)
    solution = pinn.load(run)
    assert solution.parameters == trusted.parameters and set(solution.parameters) == {"k"}
    np.testing.assert_allclose(solution.predict(points())["u"], trusted.predict(points())["u"], rtol=1e-12,
                               atol=1e-12)
    assert not marker.exists()


def test_code_that_cannot_be_recorded_needs_trust(write_problem, tmp_path, no_plots, caplog):
    with caplog.at_level(logging.WARNING, logger="pinn.recorded"):
        run = finished_run(write_problem, tmp_path, NOT_TRACEABLE)
    assert "exact conditions 'ends' could not be recorded as data" in caplog.text
    assert ".numpy()" in caplog.text and "pinn.load(run, trust=True)" in caplog.text
    assert not (run / "model_graph.pt").exists()
    solution = pinn.load(run)
    assert solution.metrics is not None and solution.grid()["predicted"]["u"].shape == (21, 21)
    with pytest.raises(pinn.TrustRequiredError) as caught:
        solution.predict(points())
    message = str(caught.value)
    assert "exact conditions 'ends' are code in its problem.py" in message
    assert "could not be recorded as data when the run finished" in message
    assert "pinn.load(run, trust=True) runs problem.py" in message


def test_trust_runs_the_copy_of_the_problem_file(write_problem, tmp_path, no_plots):
    run = finished_run(write_problem, tmp_path, NOT_TRACEABLE)
    marker = tmp_path / "problem-py-ran"
    copy = run / "problem.py"
    copy.write_text(f"open({str(marker)!r}, 'w').close()\n" + copy.read_text())
    values = pinn.load(run, trust=True).predict(np.array([[0.0, 0.5], [0.5, 0.5]]))["u"]
    assert marker.exists()
    assert values[0] == 0.0 and np.isfinite(values[1])


# --------------------------------------------------------------------------- crafted model_graph.pt
def graph_content(run):
    content = torch.load(run / "model_graph.pt", weights_only=True)
    return content, json.loads(content["graph"])


def write_graph(run, content, graph):
    torch.save({**content, "graph": json.dumps(graph)}, run / "model_graph.pt")


@pytest.mark.parametrize("node, refusal", [
    ({"op": "from_file", "overload": "default", "args": ["/etc/passwd"], "kwargs": {}},
     "aten.from_file.default takes filename"),
    ({"op": "save", "overload": "default", "args": [{"value": 0}, "/tmp/x"], "kwargs": {}}, "aten.save.default takes"),
    ({"op": "_print", "overload": "default", "args": ["hello"], "kwargs": {}}, "aten._print.default takes s"),
    ({"op": "system", "overload": "default", "args": ["touch x"], "kwargs": {}}, "aten.system.default that does not"),
    ({"op": "os.system", "overload": "default", "args": [], "kwargs": {}}, "not an ATen name"),
    ({"op": "__class__", "overload": "__init__", "args": [], "kwargs": {}}, "not an ATen name"),
    ({"op": "add_", "overload": "Tensor", "args": [{"value": 0}, {"value": 0}], "kwargs": {}},
     "aten.add_.Tensor changes one of its arguments in place"),
    ({"op": "add", "overload": "Tensor", "args": [{"value": 10 ** 6}, 1], "kwargs": {}}, "refers to a value"),
])
def test_a_crafted_graph_cannot_run_anything_but_tensor_operations(exact_run, node, refusal):
    content, graph = graph_content(exact_run)
    graph["nodes"].insert(0, node)
    write_graph(exact_run, content, graph)
    with pytest.raises(CorruptFileError, match=r"model_graph.pt cannot be used: .*" + refusal.replace(".", r"\.")):
        pinn.load(exact_run)


def test_a_pickle_in_the_graph_file_is_refused(exact_run, tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    content, graph = graph_content(exact_run)
    with (exact_run / "model_graph.pt").open("wb") as handle:
        pickle.dump({**content, "constants": [Exploit()]}, handle, protocol=2)
    with pytest.raises(CorruptFileError, match="model_graph.pt is truncated, corrupt or not a pinn model graph"):
        pinn.load(exact_run)
    assert not marker.exists()


# -------------------------------------------------------------------------- crafted solution.h5
@pytest.fixture
def secret(tmp_path):
    """An HDF5 file and a raw file outside the run, which reading the run must never reach."""
    path = tmp_path / "secret.h5"
    with h5py.File(path, "w") as handle:
        handle["data"] = np.arange(441.0).reshape(21, 21)
    raw = tmp_path / "secret.bin"
    raw.write_bytes(np.arange(441.0).tobytes())
    return path, raw


@pytest.mark.parametrize("kind, refusal", [
    ("external link", "/predicted/u is a ExternalLink"),
    ("external group", "/reference is a ExternalLink"),
    ("soft link", "/predicted/u is a SoftLink"),
    ("virtual dataset", "/predicted/u is a virtual dataset"),
    ("external storage", "/predicted/u is stored in external files"),
])
def test_a_solution_file_that_points_outside_is_refused(plain_run, secret, kind, refusal):
    run = plain_run
    solution = pinn.load(run)
    secret_h5, secret_raw = secret
    with h5py.File(run / "solution.h5", "a") as handle:
        if kind == "external group":
            del handle["reference"]
            handle["reference"] = h5py.ExternalLink(str(secret_h5), "/")
        else:
            del handle["predicted/u"]
        if kind == "external link":
            handle["predicted/u"] = h5py.ExternalLink(str(secret_h5), "/data")
        elif kind == "soft link":
            handle["predicted/u"] = h5py.SoftLink("/error/u")
        elif kind == "virtual dataset":
            layout = h5py.VirtualLayout(shape=(21, 21), dtype="f8")
            layout[:] = h5py.VirtualSource(str(secret_h5), "data", shape=(21, 21))
            handle.create_virtual_dataset("predicted/u", layout)
        elif kind == "external storage":
            handle.create_dataset("predicted/u", shape=(21, 21), dtype="f8", external=[(str(secret_raw), 0, 441 * 8)])
    with pytest.raises(CorruptFileError, match=f"solution.h5: {refusal}.*this file is refused"):
        solution.grid()


@pytest.mark.parametrize("net", ["pinn.ModifiedMLP(width=8, depth=2, fourier_features=4)",
                                 "pinn.MLP(hidden=(8, 6), activation='sin', normalize_inputs=False)"])
def test_a_plain_network_is_rebuilt_from_its_settings(write_problem, tmp_path, no_plots, caplog, net):
    changes = (("net=pinn.MLP(width=8, depth=2)", f"net={net}"),
               (KNOWN_AND_DERIVED[0][0], 'derived={"flux": lambda f: -0.1 * f.u_x},'))
    run = finished_run(write_problem, tmp_path, changes)
    trusted = pinn.load(run, trust=True).predict(points())
    marker = booby_trap(run, tmp_path)
    predicted = pinn.load(run).predict(points())  # the derived quantity from the recorded graph
    for name in ("u", "flux"):
        np.testing.assert_allclose(predicted[name], trusted[name], rtol=1e-12, atol=1e-12)

    # Stopped before its end, the run has no graph: the network alone comes from config.json.
    for name in ("model_graph.pt", "metrics.json", "solution.h5"):
        (run / name).unlink()
    with caplog.at_level(logging.WARNING, logger="pinn.recorded"):
        solution = pinn.load(run)
    assert "derived quantities 'flux' are code in its problem.py" in caplog.text
    assert "predict returns the outputs only" in caplog.text
    predicted = solution.predict(points())
    assert set(predicted) == {"u"} and solution.metrics is None
    np.testing.assert_array_equal(predicted["u"], trusted["u"])
    assert not marker.exists()


def test_a_model_holding_tensors_outside_its_state_is_recorded():
    # poisson_inverse's exact Dirichlet value of a second field keeps the square's bounds as plain
    # tensors: they are constants of the graph (the trace once refused them, so loading needed trust).
    from pathlib import Path

    from pinn.loading import load_problem
    from pinn.pde.build import build_model
    from pinn.recorded.record import _trace
    problem = load_problem(Path(__file__).resolve().parents[1] / "benchmarks" / "poisson_inverse.py")
    model = build_model(problem, torch.float64, torch.device("cpu"), 0)
    content = _trace(problem, model, False)  # checks that the graph reproduces the model
    assert len(content["constants"]) >= 1
