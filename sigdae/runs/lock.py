"""One writer per run directory: an OS file lock (``run.lock``) held by the training process.

The operating system drops the lock when the process ends, however it ends, so a lock is never stale on
the machine that holds it. The lock file names the holder (pid, host) for the message a second writer
gets. Where the OS has no such locks (Windows) the lock is always granted: one writer is not enforced.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sigdae.errors import RunError
from sigdae.fileio import try_lock

WAIT_S = 1.0  # how long to wait for a lock that another process may be about to release


@contextmanager
def hold(path: Path, run_name: str) -> Iterator[None]:
    """Hold the lock at ``path`` for the body, or raise :class:`RunError` naming the live holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        _acquire(fd, path, run_name)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _acquire(fd: int, path: Path, run_name: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not try_lock(fd):
        if time.monotonic() >= deadline:
            raise RunError(f"{run_name} is in use by a live training process{_holder(path)}: "
                           "wait for it or stop it first")
        time.sleep(0.05)


def is_held(path: Path) -> bool:
    """True while a live process holds the lock (checked without taking it for long)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return not try_lock(fd, shared=True)
    finally:
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        return f" (pid {int(info['pid'])} on {info['host']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
