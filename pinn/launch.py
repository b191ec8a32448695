"""``python -m pinn.solve --processes N PROBLEM.py``: pinn starts the N processes of a run on this machine
itself and ends with process 0's exit status, the run's verdict.

torchrun starts them as well, but its own exit status is 1 whatever its processes' were (2 for a bad
input, 1 for a missed tolerance, 130 for an interruption): under torchrun the verdict is in
``metrics.json`` (``passed``). Here each process is ``python -m pinn.solve`` with the same arguments and
the variables torchrun sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ...); they meet at a store this
process holds, as torchrun's workers meet at its agent's. Across several machines, use torchrun.

Ctrl-C reaches every process (from the terminal, or passed on by this one, as SIGTERM is): they stop at
the same step and save a checkpoint; the status is then 130. A process that dies makes the others
stop and name it; the status is process 0's (1, a fault), or 1 when process 0 itself was killed.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from torch.distributed import TCPStore

__all__ = ["LAUNCHED", "launch"]

logger = logging.getLogger(__name__)

LAUNCHED = "PINN_LAUNCHED_PROCESSES"  # set in the processes launch() starts: they ignore --processes
EXIT_FAULT, EXIT_INTERRUPTED = 1, 130  # as pinn.solve's
GRACE_S = 60.0  # once one process has ended, how long the others have to end (they stop at their next exchange)
KILL_AFTER_S = 10.0  # after that, SIGTERM; then SIGKILL once this has passed too


def launch(argv: list[str], processes: int) -> int:
    """Run ``python -m pinn.solve`` with the command line ``argv`` as ``processes`` processes of this machine;
    return process 0's exit status (1 if it was killed; 130 if interrupted before it could say)."""
    store = TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False, timeout=timedelta(minutes=30))
    common = {**os.environ, LAUNCHED: "1", "WORLD_SIZE": str(processes), "LOCAL_WORLD_SIZE": str(processes),
              "GROUP_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(store.port),
              "TORCHELASTIC_USE_AGENT_STORE": "True"}  # every process joins this store, as under torchrun's agent
    # As torchrun: the cores shared among the processes unless told, so that they do not fight over them.
    common.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // processes)))
    command = [sys.executable, "-m", "pinn.solve", *argv]
    workers: list[subprocess.Popen] = []
    received: list[int] = []

    def pass_on(signum: int, frame: object) -> None:  # the processes stop at a step and say what was kept
        received.append(signum)
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    previous = {s: signal.signal(s, pass_on) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for rank in range(processes):
            workers.append(subprocess.Popen(command, env={**common, "RANK": str(rank), "LOCAL_RANK": str(rank)}))
        _wait(workers)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for worker in workers:  # only after a failure of this process itself
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    status = workers[0].returncode
    if status >= 0:
        return status
    print(f"error: process 0 (pid {workers[0].pid}) was killed by {signal.Signals(-status).name}", file=sys.stderr)
    return EXIT_INTERRUPTED if received and -status in received else EXIT_FAULT


def _wait(workers: list[subprocess.Popen]) -> None:
    """Until every process has ended. Once one has, the others stop at their next exchange with it; a
    process that does not within ``GRACE_S`` (busy outside training, say) is stopped."""
    first_end: float | None = None
    stopped = False
    while any(worker.poll() is None for worker in workers):
        now = time.monotonic()
        if first_end is None and any(worker.returncode is not None for worker in workers):
            first_end = now
        if first_end is not None and now - first_end > GRACE_S + KILL_AFTER_S:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
        elif first_end is not None and now - first_end > GRACE_S and not stopped:
            stopped = True
            for worker in workers:
                if worker.poll() is None:
                    logger.warning("process %d (pid %d) has not ended %.0f s after another: stopping it",
                                   workers.index(worker), worker.pid, GRACE_S)
                    worker.terminate()
        time.sleep(0.05)
