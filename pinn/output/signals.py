"""Ctrl-C (SIGINT) and SIGTERM while training: stop after the current step, so that a checkpoint can
be saved and ``--resume`` continues exactly; a second signal stops at once.

Under torchrun every process catches them (the trainer agrees on the stop across processes after each
step). Ctrl-C there reaches a process twice, from the terminal and forwarded by torchrun: a repeat
within ``REPEAT_WINDOW_S`` of the first signal is the same request, not a second one."""
from __future__ import annotations

import logging
import signal
import threading
import time

from pinn.train import distributed

logger = logging.getLogger(__name__)

REPEAT_WINDOW_S = 2.0  # under torchrun: a signal this soon after the first is the same Ctrl-C


class StopOnSignal:
    """Within the block, SIGINT (Ctrl-C) and SIGTERM stop training after the current step (the
    caller then saves a checkpoint); a second signal stops at once, raising KeyboardInterrupt."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.received = False
        self._first = 0.0  # when the first signal came (time.monotonic)
        self.previous: dict[int, object] = {}

    def __enter__(self) -> "StopOnSignal":
        if threading.current_thread() is threading.main_thread():  # signals can only be caught there
            self.previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self.previous.items():
            if signal.getsignal(number) == self._handle:  # not one changed since (a lost process ignores SIGTERM)
                signal.signal(number, handler)

    def _handle(self, signum: int, frame: object) -> None:
        if self.received:
            if distributed.launched() and time.monotonic() - self._first < REPEAT_WINDOW_S:
                return  # the terminal's Ctrl-C and torchrun's forwarded copy of it
            raise KeyboardInterrupt
        self.received = True
        self._first = time.monotonic()
        self.trainer.request_stop()
        logger.warning("\n%s: stopping after the current step to save a checkpoint (signal again to stop at once)",
                       signal.Signals(signum).name)
