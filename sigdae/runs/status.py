"""``run.json``: what state a run is in, and which process (on which host) owns it."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIVE = ("running", "starting")
RESUMABLE = ("interrupted", "stopped", "failed")


@dataclass
class RunStatus:
    """The fields of ``run.json``. ``best`` is None until a validation score exists."""

    status: str = "unknown"             # starting | running | finished | stopped | interrupted | failed
    pid: int | None = None
    host: str = ""
    device: str = ""
    task: str = ""
    model: str = ""
    corruption: str = ""
    updated: float = 0.0
    error: str | None = None
    epoch: int = 0
    best: float | None = None
    monitor: str = ""
    processes: int = 1                  # training processes (several: torchrun, one per GPU)
    extra: dict[str, Any] = field(default_factory=dict)   # keys a newer sigdae wrote, kept as they were

    @classmethod
    def from_dict(cls, info: dict[str, Any]) -> "RunStatus":
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        best = info.get("best")
        pid = info.get("pid")
        return cls(status=str(info.get("status") or "unknown"),
                   pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
                   host=str(info.get("host") or ""), device=str(info.get("device") or ""),
                   task=str(info.get("task") or ""), model=str(info.get("model") or ""),
                   corruption=str(info.get("corruption") or ""), updated=_number(info.get("updated")),
                   error=info.get("error") if isinstance(info.get("error"), str) else None,
                   epoch=int(_number(info.get("epoch"))),
                   best=float(best) if _finite(best) else None, monitor=str(info.get("monitor") or ""),
                   processes=max(1, int(_number(info.get("processes", 1)))),
                   extra={k: v for k, v in info.items() if k not in names})

    def to_dict(self) -> dict[str, Any]:
        info = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        info["best"] = self.best if _finite(self.best) else None  # JSON has no infinities
        return {**self.extra, **info}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def mine(cls, status: str, **fields: Any) -> "RunStatus":
        """A status owned by this process, on this host, stamped now."""
        return cls(status=status, pid=os.getpid(), host=socket.gethostname(), updated=time.time(), **fields)


def _number(value: Any) -> float:
    return float(value) if _finite(value) else 0.0


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def pid_alive(pid: int | None) -> bool:
    """True if ``pid`` is a running (not zombie) sigdae process on this machine."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True  # no /proc (macOS): the kill probe is all we have
    try:
        state = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = proc.joinpath("cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    # a pid from before a reboot may now belong to an unrelated program
    return state not in ("Z", "X") and b"sigdae" in cmdline


def effective_status(info: RunStatus, host: str | None = None) -> str:
    """The recorded status, corrected for a training process that died without saying so."""
    if info.status not in LIVE:
        return info.status
    if info.host not in ("", host or socket.gethostname()):
        return info.status  # started on another machine: its pid means nothing here
    if pid_alive(info.pid):
        return info.status
    return "interrupted" if info.status == "running" else "failed"
