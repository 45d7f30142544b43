"""Waiting in the TUI tests: for a condition, up to a deadline, never for a fixed time.

``until`` drives a Textual Pilot (the app keeps running while it polls); ``wait_until`` and ``poll``
watch anything else (a tmux pane, files a training process writes).
"""

from __future__ import annotations

import time
from typing import Callable

import pytest

POLL_S = 0.05


async def until(pilot, condition: Callable[[], object], timeout: float = 20.0, what: str = "the condition",
                shows: Callable[[], str] | None = None) -> None:
    """Let the app run until ``condition()`` holds, then until it has handled what that set off."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}" + (f"; it shows:\n{shows()}" if shows else ""))
        await pilot.pause(POLL_S)
    await pilot.pause()


def poll(condition: Callable[[], object], timeout: float, poll_s: float = POLL_S):
    """What ``condition()`` returns once it is true, or None when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            return None
        time.sleep(poll_s)


def wait_until(condition: Callable[[], object], timeout: float, what: str,
               shows: Callable[[], str] | None = None, poll_s: float = POLL_S):
    """Poll ``condition()`` until it returns something true (which is returned); fail after ``timeout``."""
    result = poll(condition, timeout, poll_s)
    if not result:
        pytest.fail(f"timed out after {timeout}s waiting for {what}" + (f"; it shows:\n{shows()}" if shows else ""))
    return result
