"""Graceful stops: SIGINT and SIGTERM set a flag that long-running loops check between units of work."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class StopRequested(Exception):
    """Raised inside a loop when a graceful stop was asked for (a signal, or a run's STOP file)."""


@contextmanager
def graceful_stop(flag: dict[str, bool]) -> Iterator[None]:
    """While active, SIGINT/SIGTERM set ``flag["stop"]`` instead of ending the process (main thread only;
    elsewhere signals cannot be caught and this does nothing). The previous handlers come back on exit."""
    handlers = {}

    def on_signal(signum, frame):  # noqa: ARG001
        flag["stop"] = True

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
