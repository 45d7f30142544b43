"""The run's event log, ``events.jsonl``: one JSON object per line, appended and flushed.

Training writes it; the CLI's progress display and the TUI read it. A reader can tail a log that is
still growing (a partial last line is left for the next read); a line torn by a killed writer is skipped.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

Listener = Callable[[dict[str, Any]], None]


class EventLog:
    """Appends events to a file and hands each to the listeners (e.g. a Rich progress display)."""

    def __init__(self, path: str | os.PathLike | None, listeners: list[Listener] | None = None):
        self.path = Path(path) if path else None
        self.listeners = list(listeners or [])
        self._file = None

    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        event = {"type": type_, "time": time.time(), **fields}
        if self.path is not None and self._file is None:
            self._file = _open_for_append(self.path)
        if self._file:
            self._file.write(json.dumps(event, default=_jsonable) + "\n")
            self._file.flush()
        for listener in self.listeners:
            listener(event)
        return event

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None


def _open_for_append(path: Path):
    """Open the log for appending; a last line torn by a killed writer is ended first, so the next
    event starts on a line of its own (readers skip the torn one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torn = False
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell():
                f.seek(-1, os.SEEK_END)
                torn = f.read(1) != b"\n"
    except FileNotFoundError:
        pass
    file = open(path, "a", buffering=1)
    if torn:
        file.write("\n")
    return file


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


class EventTail:
    """Reads new complete events from a growing ``events.jsonl`` on each call to :meth:`read`."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.offset = 0
        self._partial = b""

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return events


def read_events(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    yield from EventTail(path).read()
