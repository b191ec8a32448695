"""The other families share their batches across processes: the float64 gradient averaged over two
processes (gloo on CPU) is the one-process gradient over the same batch, to 1e-12.

One pair of processes computes every family's gradients once for the module; each test compares them
with one process here. Batches of odd sizes: the shares differ by one.
"""
import datetime
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import pinn
from pinn.dynamics import sde
from pinn.dynamics.integrate import Integration
from pinn.nets.fno import FNO
from pinn.operators import Samples
from pinn.operators.model import OperatorModel
from pinn.operators.objective import OperatorObjective

PROCESSES = 2
OPERATOR_BATCHES = (7, 1)  # shares of 4 and 3; a batch smaller than the processes, evaluated whole by each
SDE_BATCHES = (25, None)  # a random batch of 25 steps; all 70 observed steps
SDE_STEPS = 6  # a whole SDE run across the processes, to compare with one process's
DYNAMICS = ("data", "rates")  # windows integrated by rk4 (7 of 4 observations); the estimated rates (80)
DOPRI5_AGREES = 1e-6  # dopri5's shares choose their own steps: the gradient agrees to its accuracy only


def _operator(batch: int) -> OperatorObjective:
    rng = np.random.default_rng(0)
    grid = np.linspace(0.0, 1.0, 16)
    inputs, outputs = rng.normal(size=(9, 1, 16)), rng.normal(size=(9, 1, 16))
    model = OperatorModel(FNO(modes=(4,), width=6, layers=2), inputs, outputs, False,
                          torch.Generator().manual_seed(0), torch.float64)
    return OperatorObjective(model, Samples(inputs, outputs, (grid,)), batch, 3, torch.device("cpu"), torch.float64)


def _sde(batch: int | None) -> sde.TransitionLikelihood:
    return _sde_problem(batch).build()[0]


def _sde_problem(batch: int | None, steps: int = 1) -> sde.SDEProblem:
    ou = sde.OrnsteinUhlenbeck(theta=1.0, mu=0.5, sigma=0.5, start=2.0)
    rng = np.random.default_rng(0)
    times = np.arange(0.0, 1.0 + 1e-9, 0.1)
    paths = sde.paths_from_arrays(times, ou.simulate(times, rng.uniform(-1.0, 2.0, 7), rng))
    problem = sde.SDEProblem(
        name="ou", states="x", paths=paths, reference=ou,
        drift=sde.Parametric(lambda x, t, p: p.theta * (p.mu - x) + p.c * x**2,
                             [pinn.Unknown("theta", 0.3, positive=True), pinn.Unknown("mu", 0.1),
                              pinn.Unknown("c", 0.05)]),
        diffusion=sde.Parametric(lambda x, t, p: p.sigma * (1 + 0.1 * x**2), [pinn.Unknown("sigma", 1.0, positive=True)]),
        likelihood=sde.Likelihood(batch_steps=batch or 0),
        training=pinn.Training([pinn.Adam(steps, learning_rate=0.05)], numerics=pinn.Numerics(dtype="float64", seed=5)),
        validation=sde.Validation(times=(0.5,), paths=20, step=0.1))
    return problem


def _sde_general(batch: int | None) -> sde.TransitionLikelihood:
    """Two states with general noise: the full-covariance likelihood, whose shares sum as the diagonal one's."""
    truth = sde.MultivariateOrnsteinUhlenbeck(A=[[1.2, 0.8], [-0.8, 1.0]], mu=[1.0, -1.0],
                                              S=[[0.5, 0.0], [0.3, 0.4]], start=[2.0, 0.0])
    rng = np.random.default_rng(1)
    times = np.arange(0.0, 1.0 + 1e-9, 0.1)
    values = truth.simulate(times, rng.uniform(-1.0, 2.0, (7, 2)), rng)
    s = [pinn.Unknown("s11", 1.0, positive=True), pinn.Unknown("s21", 0.1), pinn.Unknown("s22", 0.8, positive=True)]
    problem = sde.SDEProblem(
        name="ou2", states="x y", paths=sde.paths_from_arrays(times, values), reference=truth, noise="general",
        drift=sde.Parametric(lambda x, t, p: -(x - p.m) * p.k, [pinn.Unknown("k", 0.5), pinn.Unknown("m", 0.2)]),
        diffusion=sde.Parametric(lambda x, t, p: sde.matrix([[p.s11, 0.0], [p.s21, p.s22]]), s),
        likelihood=sde.Likelihood(scheme="local_linear", batch_steps=batch or 0),
        training=pinn.Training([pinn.Adam(1)], numerics=pinn.Numerics(dtype="float64", seed=5)),
        validation=sde.Validation(times=(0.5,), paths=20, step=0.1))
    return problem.build()[0]


def _dynamics(term: str, method: str = "rk4"):
    rotation = np.array([[-0.5, 1.0], [-1.0, -0.5]])
    truth = pinn.TrueSystem(lambda t, y: y @ rotation)
    times = np.linspace(0, 4, 41)
    integration = Integration(method="rk4", step=0.05) if method == "rk4" else Integration(rtol=1e-7, atol=1e-9)
    problem = pinn.Dynamics(
        name="rotation", states="x y", net=pinn.MLP(width=8, depth=1), integration=integration,
        data=[truth.observe([1.0, 0.0], times, name="a"), truth.observe([0.0, 2.0], times, name="b")],
        windows=pinn.Windows(length=4, batch=7),
        training=pinn.Training([pinn.LBFGS(1, terms=("rates",)), pinn.Adam(1)],
                               numerics=pinn.Numerics(dtype="float64", seed=2)))
    objective = problem.trainer(None).objective
    objective.select((term,))
    return objective


def _gradient(objective) -> tuple[torch.Tensor, float]:
    """The gradient of the objective's one term, averaged over the processes, and the term's mean."""
    (term,) = objective.terms().values()
    term.backward()
    gradient = torch.cat([p.grad.reshape(-1) for p in objective.parameters() if p.grad is not None])
    if dist.is_initialized():
        both = torch.cat([gradient, term.detach().reshape(1)])
        dist.all_reduce(both)
        both /= dist.get_world_size()
        return both[:-1], float(both[-1])
    return gradient, float(term.detach())


def _gradients() -> dict:
    return {**{f"operator-{b}": _gradient(_operator(b)) for b in OPERATOR_BATCHES},
            **{f"sde-{b}": _gradient(_sde(b)) for b in SDE_BATCHES},
            **{f"sde-general-{b}": _gradient(_sde_general(b)) for b in SDE_BATCHES},
            **{f"dynamics-{term}": _gradient(_dynamics(term)) for term in DYNAMICS},
            "dynamics-dopri5": _gradient(_dynamics("data", "dopri5"))}


def _worker(rank: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=PROCESSES,
                            timeout=datetime.timedelta(seconds=60))
    try:
        torch.save(_gradients(), Path(out) / f"gradients{rank}.pt")
        run = pinn.fit(_sde_problem(25, steps=SDE_STEPS), Path(out) / "sde", progress=False)
        (Path(out) / f"sde{rank}.json").write_text(json.dumps(run.metrics))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> list[dict]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for attempt in range(2):
        out = tmp_path_factory.mktemp("families")
        try:
            mp.spawn(_worker, args=(str(out / "rendezvous"), str(out)), nprocs=PROCESSES, join=True)
            return [{**torch.load(out / f"gradients{rank}.pt"), "sde": json.loads((out / f"sde{rank}.json").read_text())}
                    for rank in range(PROCESSES)]
        except mp.ProcessExitedException as err:  # as in test_distributed.py: one rare gloo abort is retried
            if attempt == 1:
                raise
            warnings.warn(f"the two-process workers aborted ({err}); starting them once more")
    raise AssertionError("unreachable")


@pytest.mark.parametrize("name", [f"operator-{b}" for b in OPERATOR_BATCHES] + [f"sde-{b}" for b in SDE_BATCHES]
                         + [f"sde-general-{b}" for b in SDE_BATCHES]
                         + [f"dynamics-{term}" for term in DYNAMICS])
def test_two_processes_give_the_one_process_gradient(two_processes, name):
    alone, term = _gradients()[name]
    assert float(alone.abs().max()) > 0
    for saved in two_processes:
        gradient, mean = saved[name]
        assert float((gradient - alone).abs().max()) <= 1e-12 * float(alone.abs().max())
        assert mean == pytest.approx(term, rel=1e-12, abs=0)


def test_an_sde_run_on_two_processes_ends_as_on_one(two_processes, tmp_path):
    """The whole run (pinn.fit on both processes): every process ends with process 0's metrics, and the
    coefficients are the one-process run's."""
    first, second = (saved["sde"] for saved in two_processes)
    assert first == second and first["processes"] == PROCESSES and first["steps"] == SDE_STEPS
    alone = pinn.fit(_sde_problem(25, steps=SDE_STEPS), tmp_path / "alone", progress=False).metrics
    assert alone["processes"] == 1
    for name, value in alone["parameters"].items():
        assert first["parameters"][name]["value"] == pytest.approx(value["value"], rel=1e-10, abs=0)


def test_dopri5_shares_agree_to_the_solvers_accuracy(two_processes):
    """dopri5 chooses its steps for the windows it integrates together: a share's steps are its own."""
    alone, term = _gradients()["dynamics-dopri5"]
    for saved in two_processes:
        gradient, mean = saved["dynamics-dopri5"]
        assert float((gradient - alone).abs().max()) <= DOPRI5_AGREES * float(alone.abs().max())
        assert mean == pytest.approx(term, rel=DOPRI5_AGREES, abs=0)


def test_each_process_evaluates_only_its_share(monkeypatch):
    """The shares are what the processes evaluate (else the test above would hold trivially)."""
    from pinn.train import distributed

    whole = float(_operator(7).terms()["data"].detach())
    monkeypatch.setattr(distributed, "world_size", lambda: PROCESSES)
    monkeypatch.setattr(distributed, "rank", lambda: 1)
    shared = _operator(7)
    seen = []
    shared.module.register_forward_hook(lambda module, args, output: seen.append(args[0].shape[0]))
    share = float(shared.terms()["data"].detach())
    assert seen == [3]  # the second of the shares 4 and 3
    assert share != pytest.approx(whole, rel=1e-6)
    likelihood = _sde(None)
    assert likelihood.processes == PROCESSES
    assert float(likelihood.terms()["likelihood"].detach()) != pytest.approx(
        float(likelihood.negative_log_likelihood().detach()), rel=1e-6)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 8, 1001])
@pytest.mark.parametrize("processes", [1, 2, 3, 4])
def test_a_share_is_the_chunk_tensor_split_gives(monkeypatch, count, processes):
    from pinn.train import distributed

    monkeypatch.setattr(distributed, "world_size", lambda: processes)
    for me in range(processes):
        monkeypatch.setattr(distributed, "rank", lambda: me)
        share = distributed.share_of(count)
        if processes == 1 or count < processes:
            assert share is None
        else:
            expected = torch.tensor_split(torch.arange(count), processes)[me]
            assert torch.equal(torch.arange(count)[share], expected)
