"""Training across processes: the few collective operations the trainer and its phases need.

Start a run on several processes with torchrun; it sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``
in each process, and :func:`setup` joins them (gloo on CPUs, NCCL on GPUs, one GPU per process by
``LOCAL_RANK``)::

    torchrun --nproc-per-node 2 -m pinn.solve problems/heat1d.py
    # several machines: the same command on each, with torchrun's rendezvous
    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint HOST:29400 -m pinn.solve FILE

Each process evaluates the loss on its own share of the points; the phases then make every process
take the same step from the same global numbers: gradients and loss terms averaged by one
``all_reduce`` of a flat tensor (:func:`average_`), Levenberg-Marquardt's ``J^T J`` and ``J^T r`` the
same way, loss-balancing norms from averaged per-term gradients. The averages are the global loss
because each process's terms are its share's means, weighted to its share of the points.

Why not ``DistributedDataParallel``: with losses built from derivatives in the inputs, its bucketed
hooks did not average every gradient (a residual-only loss gives the output bias no gradient, the
bucket never completes and each process silently keeps its own), see issue 19. One all-reduce of
the flattened gradient is exact and costs the same.

A process that dies (killed, out of memory, a lost machine) makes the next collective of the others
fail: :class:`ProcessLost` then names it. Every process records its rank, host and pid when the group
is joined (:func:`setup`); the survivors check which processes of their own machine are gone, and
say honestly that those on other machines cannot be checked from there. From then on SIGTERM is
ignored, so that torchrun's signal to the survivors does not cut their report short (torchrun kills
them after its grace period otherwise).

With one process (no ``WORLD_SIZE`` above 1, or no process group) every function here is a no-op.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import torch
import torch.distributed as dist
from torch import Tensor

logger = logging.getLogger(__name__)

__all__ = ["Peer", "ProcessLost", "WeightsDiverged", "active", "average", "average_", "broadcast_", "broadcast_object",
           "check_identical", "gather_rows", "launched", "maximum", "rank", "setup", "teardown", "world_size"]

_OWNED = False  # setup() made the process group: teardown() ends it
LOST_WAIT_S = 2.0  # how long a survivor waits for a dying process of its machine to be gone


class Peer(NamedTuple):
    """One process of the run: its rank, the host it runs on and its process id there."""

    rank: int
    host: str
    pid: int


_PEERS: list[Peer] = []  # every process of the group, by rank (recorded by setup())


class ProcessLost(RuntimeError):
    """A collective operation failed: another process of the run died or its connection broke. The
    message names the processes of this machine that are gone (rank, host, pid), or says that none is
    and which processes, on other machines, could not be checked.

    Attributes:
        lost: the processes found gone (empty when none could be found).
    """

    def __init__(self, message: str, lost: list[Peer]) -> None:
        super().__init__(message)
        self.lost = lost


class WeightsDiverged(RuntimeError):
    """The processes of a run hold different weights: their steps went apart, and the run cannot go on."""


def launched() -> bool:
    """Whether torchrun (or a launcher like it) started this process as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def active() -> bool:
    """Whether this process trains with others (a process group of more than one)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's number, 0 to ``world_size() - 1`` (0 alone)."""
    return dist.get_rank() if active() else 0


def world_size() -> int:
    """How many processes train together (1 alone)."""
    return dist.get_world_size() if active() else 1


def share_of(count: int) -> slice | None:
    """This process's contiguous share of ``count`` items, in process order (the chunks of
    ``torch.tensor_split``); None where it takes all of them: one process, or fewer items than
    processes (each then evaluates the whole batch, whose mean is the same everywhere)."""
    processes = world_size()
    if processes == 1 or count < processes:
        return None
    size, larger = divmod(count, processes)
    me = rank()
    start = me * size + min(me, larger)
    return slice(start, start + size + (1 if me < larger else 0))


def setup(device: str) -> bool:
    """Join the processes torchrun started (``WORLD_SIZE`` > 1), unless a process group exists already.

    ``device`` is the run's device type (``cpu`` or ``cuda``): gloo for cpu; for cuda, NCCL and this
    process's GPU is ``LOCAL_RANK``. Returns whether a group was made here (:func:`teardown` ends it).

    Raises:
        ValueError: a process would have no GPU of its own (more processes per machine than GPUs).
    """
    global _OWNED
    if not launched() or (dist.is_available() and dist.is_initialized()):
        if active():  # a group made by the caller (a test, a script): its processes are recorded all the same
            _record_peers()
        return False
    if not dist.is_available():
        raise ValueError("WORLD_SIZE > 1 asks for several processes, but this torch was built without "
                         "torch.distributed")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    backend = "gloo"
    if torch.device(device).type == "cuda":
        count = torch.cuda.device_count()
        if local >= count:
            raise ValueError(f"process {os.environ.get('RANK', '?')} (local rank {local}) has no GPU of its own: "
                             f"this machine shows {count}; start at most {count} processes per machine "
                             f"(torchrun --nproc-per-node {count}), or use --device cpu")
        torch.cuda.set_device(local)  # "cuda" now means this process's GPU
        backend = "nccl"
    dist.init_process_group(backend)
    _OWNED = True
    logger.debug("process %d of %d joined (%s)", dist.get_rank(), dist.get_world_size(), backend)
    _record_peers()
    return True


def _record_peers() -> None:
    """Every process's rank, host and pid, on every process: a dead one can then be named."""
    me = (socket.gethostname(), os.getpid())
    gathered: list[object] = [None] * dist.get_world_size()
    with _collective():
        dist.all_gather_object(gathered, me)
    _PEERS[:] = [Peer(rank, host, pid) for rank, (host, pid) in enumerate(gathered)]


def teardown() -> None:
    """End the process group :func:`setup` made (nothing otherwise)."""
    global _OWNED
    if _OWNED and dist.is_initialized():
        try:
            dist.destroy_process_group()
        except RuntimeError as err:  # a group broken by a lost process: what is left of it goes with this process
            logger.debug("ending the process group failed: %s", err)
    _OWNED = False
    _PEERS.clear()


@contextmanager
def _collective() -> Iterator[None]:
    """Around every collective operation: its failure (a process died, a connection broke, a timeout)
    becomes :class:`ProcessLost`, naming the processes gone."""
    try:
        yield
    except ProcessLost:
        raise
    except RuntimeError as err:  # gloo and NCCL raise RuntimeError (DistBackendError, DistNetworkError among them)
        _ignore_termination()
        lost = _lost_processes()
        raise ProcessLost(_describe_lost(lost, err), lost) from err


def _ignore_termination() -> None:
    """The run is broken and this process is ending: torchrun's SIGTERM to the survivors must not cut its
    report short (torchrun kills it after its grace period otherwise)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _lost_processes(wait_s: float = LOST_WAIT_S) -> list[Peer]:
    """The processes of this machine that are gone; a dying process's connections close before its pid
    does, so this waits up to ``wait_s`` for one to be gone."""
    here = socket.gethostname()
    mine = [peer for peer in _PEERS if peer.host == here and peer.pid != os.getpid()]
    deadline = time.monotonic() + wait_s
    while True:
        lost = [peer for peer in mine if not _running(peer.pid)]
        if lost or not mine or time.monotonic() >= deadline:
            return lost
        time.sleep(0.05)


def _running(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    try:  # Linux: the state is the field after the parenthesised command name
        state = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _describe_lost(lost: list[Peer], err: RuntimeError) -> str:
    """What a survivor knows: which processes died, else which it could not check, and the failure itself."""
    here = socket.gethostname()
    cause = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    elsewhere = [peer for peer in _PEERS if peer.host != here]
    if lost:
        named = ", ".join(f"process {p.rank} (pid {p.pid} on {p.host})" for p in lost)
        verb = "has" if len(lost) == 1 else "have"
        message = f"{named} {verb} died"
        if elsewhere:
            message += f"; processes {_ranks(elsewhere)} on other machines cannot be checked from here"
        return message
    if not _PEERS:
        return f"a collective operation across the processes failed ({cause})"
    if elsewhere:
        hosts = ", ".join(sorted({p.host for p in elsewhere}))
        return (f"a process of another machine died or its connection broke: every process on {here} still "
                f"runs; processes {_ranks(elsewhere)} (on {hosts}) cannot be checked from here, see their logs "
                f"({cause})")
    return f"the connection between the processes broke, though every one of them still runs ({cause})"


def _ranks(group: list[Peer]) -> str:
    return ", ".join(str(p.rank) for p in group)


def average_(tensors: list[Tensor]) -> None:
    """Replace every tensor by its mean over the processes, in place, by one ``all_reduce`` of them
    flattened together (converted to the first one's dtype and device for the trip)."""
    if not tensors or not active():
        return
    first = tensors[0]
    flat = torch.cat([t.detach().reshape(-1).to(first.dtype) for t in tensors])
    with _collective():
        dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    with torch.no_grad():
        for t in tensors:
            t.copy_(flat[offset:offset + t.numel()].view_as(t))
            offset += t.numel()


def average(tensor: Tensor) -> Tensor:
    """The mean of ``tensor`` over the processes (``tensor`` itself alone)."""
    if not active():
        return tensor
    copy = tensor.detach().clone()
    average_([copy])
    return copy


def maximum(values: list[float], like: Tensor | None = None) -> list[float]:
    """The largest of each value over the processes (``values`` alone); ``like`` gives the device."""
    if not active():
        return list(values)
    packed = torch.tensor(values, dtype=torch.float64, device=_device(like))
    with _collective():
        dist.all_reduce(packed, op=dist.ReduceOp.MAX)
    return [float(v) for v in packed]


def gather_rows(local: Tensor, counts: list[int]) -> Tensor:
    """Every process's ``local`` rows (process ``p`` has ``counts[p]``), concatenated in process order."""
    if not active():
        return local
    padded = local.new_zeros((max(counts), *local.shape[1:]))
    padded[:local.shape[0]] = local
    parts = [torch.empty_like(padded) for _ in counts]
    with _collective():
        dist.all_gather(parts, padded)
    return torch.cat([part[:n] for part, n in zip(parts, counts)])


def broadcast_(tensors: list[Tensor]) -> None:
    """Give every process process 0's values of ``tensors``, in place."""
    if not active():
        return
    with torch.no_grad(), _collective():
        for t in tensors:
            dist.broadcast(t.data, src=0)


def broadcast_object(value: object) -> object:
    """Process 0's ``value`` on every process (picklable; ``value`` alone)."""
    if not active():
        return value
    box = [value if rank() == 0 else None]
    with _collective():
        dist.broadcast_object_list(box, src=0)
    return box[0]


def check_identical(tensors: list[Tensor], what: str = "weights") -> None:
    """Raise :class:`WeightsDiverged` on every process unless all hold exactly the same ``tensors``."""
    if not active() or not tensors:
        return
    flat = torch.cat([t.detach().reshape(-1).to(tensors[0].dtype) for t in tensors])
    high, low = flat.clone(), flat.clone()
    with _collective():
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
    spread = float((high - low).abs().max()) if flat.numel() else 0.0
    if not spread == 0.0:  # NaN counts as a difference
        raise WeightsDiverged(f"the {world_size()} processes hold different {what} (largest difference {spread:.3g}): "
                              "their steps went apart, which averaged gradients should make impossible; the run "
                              "stops, its last checkpoint (written before this one) is kept")


def _device(like: Tensor | None) -> torch.device:
    if like is not None:
        return like.device
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")

