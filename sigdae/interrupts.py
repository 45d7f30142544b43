"""Graceful stops: SIGINT and SIGTERM set a flag that long-running loops check between units of work."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequested(Exception):
    """Raised inside a loop when a graceful stop was asked for (a signal, or a run's STOP file)."""


class Interrupted(StopRequested):
    """A signal stopped the work; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_status(signum: int) -> int:
    """The shell's convention for a process ended by a signal: 128 + its number (130 for SIGINT)."""
    return 128 + int(signum)


@contextmanager
def _handling(handler) -> Iterator[None]:
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            handlers[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, previous in handlers.items():
            signal.signal(sig, previous)


@contextmanager
def graceful_stop(flag: dict) -> Iterator[None]:
    """While active, SIGINT/SIGTERM set ``flag["stop"]`` (and ``flag["signal"]`` to the signal's number)
    instead of ending the process (main thread only; elsewhere signals cannot be caught and this does
    nothing). The previous handlers come back on exit."""

    def on_signal(signum, frame):  # noqa: ARG001
        flag["stop"] = True
        flag["signal"] = signum

    with _handling(on_signal):
        yield


@contextmanager
def signals_raise() -> Iterator[None]:
    """While active, SIGINT/SIGTERM raise :class:`Interrupted` at once, even inside a blocking read (for
    waits that have no loop to check a flag in); the previous handlers come back on exit."""

    def on_signal(signum, frame):  # noqa: ARG001
        raise Interrupted(signum)

    with _handling(on_signal):
        yield
