"""Runs on disk, without any UI: scan a runs directory, tell a live run from a dead one, launch,
stop and resume training processes.

Training always runs as its own process in a new session (``start_new_session``), writing to its run
directory, so it outlives the TUI and the SSH connection; the TUI only reads the files it writes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigdae.config import atomic_write_text, dumps_toml

LIVE = ("running", "starting")
RESUMABLE = ("interrupted", "stopped", "failed")


@dataclass(frozen=True)
class RunInfo:
    """One run directory as the runs list shows it."""

    name: str
    path: Path
    status: str
    task: str = ""
    model: str = ""
    corruption: str = ""
    device: str = ""
    epoch: int = 0
    best: float | None = None
    monitor: str = ""
    updated: float = 0.0
    pid: int | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE and (self.path / "last.pt").exists()


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


def read_run_json(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        return {}


def effective_status(info: dict[str, Any], host: str | None = None) -> str:
    """The status in run.json, corrected for a training process that died without saying so."""
    status = str(info.get("status") or "unknown")
    if status not in LIVE:
        return status
    if info.get("host") not in (None, host or socket.gethostname()):
        return status  # started on another machine: its pid means nothing here
    if pid_alive(info.get("pid")):
        return status
    return "interrupted" if status == "running" else "failed"


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / f).exists() for f in ("run.json", "events.jsonl", "config.toml"))


def load_run(run_dir: Path, host: str | None = None) -> RunInfo:
    info = read_run_json(run_dir)
    best = info.get("best")
    best = float(best) if isinstance(best, (int, float)) and abs(best) != float("inf") else None
    pid = info.get("pid")
    updated = info.get("updated") or _mtime(run_dir / "events.jsonl") or _mtime(run_dir)
    return RunInfo(name=run_dir.name, path=run_dir, status=effective_status(info, host),
                   task=str(info.get("task", "")), model=str(info.get("model", "")),
                   corruption=str(info.get("corruption", "")), device=str(info.get("device", "")),
                   epoch=int(info.get("epoch") or 0), best=best, monitor=str(info.get("monitor") or ""),
                   updated=float(updated), pid=pid if isinstance(pid, int) else None)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def scan_runs(runs_dir: str | os.PathLike) -> list[RunInfo]:
    """Every run directly under ``runs_dir``, newest first."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    host = socket.gethostname()
    runs = [load_run(p, host) for p in root.iterdir() if not p.name.startswith(".") and is_run_dir(p)]
    return sorted(runs, key=lambda r: (-r.updated, r.name))


def format_age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "--:--"
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_run_name(runs_dir: str | os.PathLike, name: str) -> str | None:
    """An error message for a bad or taken run name, or None."""
    if not name:
        return "give the run a name"
    if not _NAME_OK.match(name):
        return "use letters, digits, '.', '_' or '-' (no spaces or slashes)"
    if (Path(runs_dir) / name).exists():
        return f"a run named '{name}' already exists"
    return None


def suggest_run_name(runs_dir: str | os.PathLike, base: str, now: float | None = None) -> str:
    stem = f"{base}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}"
    name, n = stem, 2
    while (Path(runs_dir) / name).exists():
        name, n = f"{stem}-{n}", n + 1
    return name


def _train_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sigdae.cli", "train", *args, "--quiet"]


def _normal_priority() -> None:
    """In the child: undo the TUI's own lower priority (``sigdae.tui.app.run``), where allowed."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except PermissionError:  # an unprivileged user cannot raise priority back; training then runs at nice 10
        pass


def _spawn(command: list[str], run_dir: Path) -> int:
    with open(run_dir / "train.log", "ab") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=os.getcwd(), preexec_fn=_normal_priority)
    # reap it when it ends so it does not linger as a zombie while the TUI stays open
    threading.Thread(target=proc.wait, daemon=True, name=f"reap-{proc.pid}").start()
    return proc.pid


def _write_starting(run_dir: Path, pid: int, fields: dict[str, Any]) -> None:
    if read_run_json(run_dir).get("pid") == pid:
        return  # the child already wrote its own status; do not turn it back into "starting"
    info = {**fields, "status": "starting", "pid": pid, "host": socket.gethostname(), "updated": time.time()}
    atomic_write_text(run_dir / "run.json", json.dumps(info, indent=1))


def launch_run(config: dict[str, Any], run_dir: str | os.PathLike) -> int:
    """Write ``config.toml`` into a new run directory and start training there; returns the pid."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=False)
    atomic_write_text(run_dir / "config.toml", dumps_toml(config))
    pid = _spawn(_train_command("--config", str(run_dir / "config.toml"), "--run-dir", str(run_dir)), run_dir)
    _write_starting(run_dir, pid, {"task": config.get("task", ""), "model": config.get("model", {}).get("name", ""),
                                   "corruption": config.get("corruption", {}).get("spec", ""),
                                   "device": str(config.get("device", "auto"))})
    return pid


def resume_run(run_dir: str | os.PathLike) -> int:
    """Continue a stopped or interrupted run from its ``last.pt``; returns the new pid."""
    run_dir = Path(run_dir)
    info = read_run_json(run_dir)
    if effective_status(info) in LIVE:
        raise RuntimeError(f"{run_dir.name} is still running")
    if not (run_dir / "last.pt").exists():
        raise RuntimeError(f"{run_dir.name} has no checkpoint (last.pt) to resume from")
    (run_dir / "STOP").unlink(missing_ok=True)  # a stale request would stop the new process at once
    pid = _spawn(_train_command("--resume", str(run_dir)), run_dir)
    _write_starting(run_dir, pid, {k: v for k, v in info.items() if k not in ("status", "error")})
    return pid


def request_stop(run_dir: str | os.PathLike) -> bool:
    """Ask a live run to stop gracefully (it checkpoints first); False if it is not running."""
    run_dir = Path(run_dir)
    if effective_status(read_run_json(run_dir)) not in LIVE:
        return False
    (run_dir / "STOP").touch()
    return True


def terminate_run(run_dir: str | os.PathLike) -> bool:
    """SIGTERM the run's process (the trainer also stops gracefully on it)."""
    info = read_run_json(Path(run_dir))
    if effective_status(info) not in LIVE:
        return False
    try:
        os.kill(int(info["pid"]), signal.SIGTERM)
    except (ProcessLookupError, PermissionError, KeyError, ValueError):
        return False
    return True


def delete_run(run_dir: str | os.PathLike) -> None:
    run_dir = Path(run_dir)
    if effective_status(read_run_json(run_dir)) in LIVE:
        raise RuntimeError(f"{run_dir.name} is running: stop it before deleting it")
    shutil.rmtree(run_dir)


def log_tail(run_dir: str | os.PathLike, lines: int = 5) -> list[str]:
    """The last lines of ``train.log`` (where a crash's traceback ends up)."""
    try:
        with open(Path(run_dir) / "train.log", "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]
