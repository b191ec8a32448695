"""A process of a two-process run dies: the survivor names it, keeps the last checkpoint, and one
process resumes the run from it to the same end as a run never interrupted.

Two processes (spawned, a file rendezvous with a short timeout) train a small heat1d; process 1
kills itself with SIGKILL right after the checkpoint of step ``KILL_AT``.
"""
import datetime
import multiprocessing
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

import pinn
import pinn.api as api
from pinn.train.trainer import Monitor

HEAT1D = str(Path(__file__).resolve().parent.parent / "problems" / "heat1d.py")
PROCESSES = 2
STEPS = 12
KILL_AT = 6  # process 1 dies after the checkpoint of this step
SETTINGS = {"net.width": 8, "net.depth": 2, "sampling.interior": 200, "adam.steps": STEPS, "lbfgs.steps": 0,
            "checks.checkpoint_every": 2}
JOIN_S = 240  # the whole pair, imports included, on a busy machine


class _DiesAfterCheckpoint(Monitor):
    """Process 1's monitor: SIGKILL once the checkpoint of step KILL_AT is written (by process 0)."""

    def on_checkpoint(self, trainer) -> None:
        if trainer.step >= KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)


def _worker(rank: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    # gloo's default timeout is 30 minutes: a short one, should a collective wait rather than fail
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=PROCESSES,
                            timeout=datetime.timedelta(seconds=60))
    if rank == 1:
        api.Monitor = _DiesAfterCheckpoint  # the monitor process 1's trainer reports to
    try:
        pinn.fit(HEAT1D, Path(out) / "run", settings=SETTINGS, device="cpu", dtype="float64", progress=False)
    except pinn.RunFault as err:
        (Path(out) / "message.txt").write_text(str(err))


@pytest.fixture(scope="module")
def killed(tmp_path_factory) -> tuple[Path, list[int], list[int]]:
    """The folder of the pair's run, the processes' pids and their exit codes."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = tmp_path_factory.mktemp("killed")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker, args=(rank, str(out / "rendezvous"), str(out)))
               for rank in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(JOIN_S)
    hung = [worker for worker in workers if worker.is_alive()]
    for worker in hung:
        worker.kill()
        worker.join()
    assert not hung, "a process of the pair hung after the other died"
    return out, [w.pid for w in workers], [w.exitcode for w in workers]


def test_the_survivor_names_the_dead_process(killed):
    out, pids, codes = killed
    assert codes == [0, -signal.SIGKILL]  # process 0 reported (RunFault, caught), process 1 was killed
    message = (out / "message.txt").read_text()
    assert f"the run stopped at step {KILL_AT}: process 1 (pid {pids[1]} on {socket.gethostname()}) has died" \
        in message
    assert f"the checkpoint of step {KILL_AT} is kept" in message
    assert f"python -m pinn.solve {HEAT1D} --out {out / 'run'} --resume" in message
    assert "--force-resume" not in message  # nothing was edited: the run resumes as it is
    assert (out / "run" / "error.log").read_text().count("ProcessLost") >= 1
    assert not list((out / "run").glob(".*.tmp"))  # nothing half-written


def test_the_checkpoint_resumes_with_one_process(killed, tmp_path):
    """The kept checkpoint is intact: one process resumes it and ends as the uninterrupted run does."""
    out, _, _ = killed
    state = torch.load(out / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == KILL_AT
    resumed = pinn.fit(HEAT1D, out / "run", resume=True, device="cpu", progress=False)
    assert resumed.metrics["steps"] == STEPS and resumed.metrics["processes"] == 1
    whole = pinn.fit(HEAT1D, tmp_path / "whole", settings=SETTINGS, device="cpu", dtype="float64", progress=False)
    for name, field in whole.metrics["fields"].items():
        assert resumed.metrics["fields"][name]["rel_l2"] == pytest.approx(field["rel_l2"], rel=1e-10, abs=0)


def test_processes_on_other_machines_are_not_guessed_at(monkeypatch):
    """A broken exchange where no process of this machine is gone: the message says which processes
    (on which machines) could not be checked, and what the backend said."""
    from pinn.train import distributed

    here = socket.gethostname()
    peers = [distributed.Peer(0, here, os.getpid()), distributed.Peer(1, "node-b", 4242),
             distributed.Peer(2, "node-b", 4243)]
    monkeypatch.setattr(distributed, "_PEERS", peers)
    failure = RuntimeError("Connection closed by peer [10.0.0.2]:1234\nmore detail")
    message = distributed._describe_lost(distributed._lost_processes(wait_s=0), failure)
    assert message == (f"a process of another machine died or its connection broke: every process on {here} "
                       "still runs; processes 1, 2 (on node-b) cannot be checked from here, see their logs "
                       "(Connection closed by peer [10.0.0.2]:1234)")
    sibling = subprocess.Popen(["true"])
    sibling.wait()  # gone (reaped): named, with the others still unknown
    monkeypatch.setattr(distributed, "_PEERS", [*peers, distributed.Peer(3, here, sibling.pid)])
    lost = distributed._lost_processes(wait_s=0)
    assert lost == [distributed.Peer(3, here, sibling.pid)]
    assert distributed._describe_lost(lost, failure) == (
        f"process 3 (pid {sibling.pid} on {here}) has died; processes 1, 2 on other machines cannot be checked "
        "from here")
