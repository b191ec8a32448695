"""Ctrl-C (SIGINT) and SIGTERM while training: stop after the current step, so that a checkpoint can
be saved and ``--resume`` continues exactly; a second signal stops at once."""
from __future__ import annotations

import logging
import signal
import threading

logger = logging.getLogger(__name__)


class StopOnSignal:
    """Within the block, SIGINT (Ctrl-C) and SIGTERM stop training after the current step (the
    caller then saves a checkpoint); a second signal stops at once, raising KeyboardInterrupt."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.received = False
        self.previous: dict[int, object] = {}

    def __enter__(self) -> "StopOnSignal":
        if threading.current_thread() is threading.main_thread():  # signals can only be caught there
            self.previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def _handle(self, signum: int, frame: object) -> None:
        if self.received:
            raise KeyboardInterrupt
        self.received = True
        self.trainer.request_stop()
        logger.warning("\n%s: stopping after the current step to save a checkpoint (signal again to stop at once)",
                       signal.Signals(signum).name)
