"""Training across two processes (gloo on CPU) gives what one process gives over the same points.

One pair of processes (``torch.multiprocessing.spawn``, a file rendezvous) does every two-process
run once, for the whole module: their start costs more than their training. Each test then compares
what they left with a one-process run here.
"""
import json
import os
import warnings
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import pinn
from pinn.loading import load_problem
from pinn.overrides import apply_overrides
from pinn.pde.objective import pinn_trainer
from pinn.train.settings import Balance, Numerics, Training

HEAT1D = str(Path(__file__).resolve().parent.parent / "problems" / "heat1d.py")
PROCESSES = 2
STEPS = 30  # heat1d's Adam and L-BFGS shares of them
STOP_AT = 12  # the interrupted run's stop (a stop_when on process 0)


def _numerics() -> Numerics:
    return Numerics(dtype="float64", device="cpu", seed=3)


def _small_problem():
    """heat1d with a network small enough for Levenberg-Marquardt."""
    return apply_overrides(load_problem(HEAT1D), {"net.width": 8, "net.depth": 2, "sampling.interior": 301})


def _every_phase() -> Training:
    schedule = [pinn.Adam(8, learning_rate=3e-3), pinn.LBFGS(10), pinn.LevenbergMarquardt(3)]
    return Training(schedule, numerics=_numerics(), balance=Balance(every=4))


def _flat(trainer) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in trainer.parameters])


def _gradient(points: int = 1000) -> tuple[torch.Tensor, dict]:
    problem = apply_overrides(load_problem(HEAT1D), {"sampling.interior": points})
    trainer = pinn_trainer(problem, None, Training([pinn.Adam(1)], numerics=_numerics()))
    terms = trainer.differentiate()
    return torch.cat([p.grad.reshape(-1) for p in trainer.parameters]), terms


def _worker(rank: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=PROCESSES)
    try:
        out = Path(out)
        for points in (1000, 1001):  # equal shares; shares of 501 and 500 points
            gradient, terms = _gradient(points)
            torch.save({"gradient": gradient, "terms": terms}, out / f"gradient{rank}-{points}.pt")
        trainer = pinn_trainer(_small_problem(), None, _every_phase())
        trainer.run()
        torch.save({"weights": _flat(trainer), "step": trainer.step}, out / f"phases{rank}.pt")
        pinn.fit(HEAT1D, out / "heat", steps=STEPS, device="cpu", progress=False)
        pinn.fit(HEAT1D, out / "stopped", steps=STEPS, device="cpu", progress=False,
                 stop_when=lambda row: row["step"] >= STOP_AT)
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> Path:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for attempt in range(2):
        out = tmp_path_factory.mktemp("two")
        try:
            mp.spawn(_worker, args=(str(out / "rendezvous"), str(out)), nprocs=PROCESSES, join=True)
            return out
        except mp.ProcessExitedException as err:
            # Seen once, in one full CI run of the suite: a worker aborted inside gloo ("terminate called without
            # an active exception", SIGABRT) and did not recur in isolation, under load, or in later full runs.
            # One fresh pair is started again; the checks below still judge whatever it leaves. A second
            # abort fails the tests.
            if attempt == 1:
                raise
            warnings.warn(f"the two-process workers aborted ({err}); starting them once more")
    raise AssertionError("unreachable")


@pytest.mark.parametrize("points", [1000, 1001])
def test_gradient_is_the_single_process_gradient(two_processes, points):
    """float64: the averaged gradient of two shares of the points (equal, or 501 and 500) is the
    gradient over all of them, and so are the loss terms."""
    alone, terms = _gradient(points)
    for rank in range(PROCESSES):
        saved = torch.load(two_processes / f"gradient{rank}-{points}.pt")
        assert float((saved["gradient"] - alone).abs().max()) <= 1e-12 * float(alone.abs().max())
        for name, value in terms.items():
            assert saved["terms"][name] == pytest.approx(value, rel=1e-12, abs=0)


def test_weights_identical_after_every_phase(two_processes):
    """Adam (with loss balancing), L-BFGS and Levenberg-Marquardt: both processes end with the same
    weights, bit for bit, and those of one process over the same points (to rounding)."""
    first, second = (torch.load(two_processes / f"phases{rank}.pt") for rank in range(PROCESSES))
    assert torch.equal(first["weights"], second["weights"])
    alone = pinn_trainer(_small_problem(), None, _every_phase())
    alone.run()
    assert alone.step == first["step"] == 8 + 10 + 3
    weights = _flat(alone)
    assert float((first["weights"] - weights).abs().max()) <= 1e-8 * float(weights.abs().max())


def _errors(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())["fields"]


def test_heat1d_two_processes_same_errors_as_one(two_processes, tmp_path):
    two = _errors(two_processes / "heat")
    alone = pinn.fit(HEAT1D, tmp_path / "one", steps=STEPS, device="cpu", progress=False)
    assert json.loads((two_processes / "heat" / "metrics.json").read_text())["processes"] == PROCESSES
    for name, field in alone.metrics["fields"].items():
        assert two[name]["rel_l2"] == pytest.approx(field["rel_l2"], rel=1e-10, abs=0)
        assert two[name]["max_abs"] == pytest.approx(field["max_abs"], rel=1e-10, abs=0)
    assert not (two_processes / "heat" / "checkpoint.pt.tmp").exists()


def test_two_process_checkpoint_resumes_with_one(two_processes, tmp_path):
    """The run stopped at a checkpoint by two processes, resumed by one, ends as the uninterrupted run."""
    stopped = two_processes / "stopped"
    state = torch.load(stopped / "checkpoint.pt", weights_only=True)
    assert STOP_AT <= state["step"] < STEPS
    resumed = pinn.fit(HEAT1D, stopped, resume=True, steps=STEPS, device="cpu", progress=False)
    assert resumed.metrics["steps"] == STEPS and resumed.metrics["processes"] == 1
    whole = _errors(two_processes / "heat")
    for name, field in resumed.metrics["fields"].items():
        assert field["rel_l2"] == pytest.approx(whole[name]["rel_l2"], rel=1e-10, abs=0)


def test_more_processes_than_points_is_refused():
    """Every process needs a share of every batch: too many processes is a clear error, before training."""
    trainer = pinn_trainer(_small_problem(), None, Training([pinn.Adam(1)], numerics=_numerics()))
    objective = trainer.objective
    objective.processes = 400
    with pytest.raises(ValueError, match=r"400 processes cannot share the points of the interior \(301\)"):
        objective._set_points(objective.all_points)


def test_a_process_without_a_gpu_of_its_own_is_refused(monkeypatch):
    """torchrun starting more processes on a machine than it has GPUs: the process left without one says so."""
    from pinn.train import distributed

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"process 1 \(local rank 1\) has no GPU of its own: this machine shows 1"):
        distributed.setup("cuda")
    assert not distributed.active()
