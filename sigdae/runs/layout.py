"""The files of a run directory, and the only code that knows their names.

    config.toml    the full run config (written once the run is set up)
    run.json       status, pid, host, device, ... (:class:`~sigdae.runs.status.RunStatus`)
    events.jsonl   what happened, one JSON event a line (:mod:`sigdae.runs.events`)
    last.pt        the latest checkpoint (optimizer and RNG state included: resumable)
    best.pt        the best checkpoint by the task's validation metric (inference only)
    preview.npz    clean / noisy / denoised validation examples of the last epoch
    STOP           present while a graceful stop is requested
    train.log      stdout and stderr of a training process started in the background
    epochs.csv     the epochs as CSV, with train.loggers = ["csv"] (:mod:`sigdae.runs.loggers`)
    run.lock       locked by the one process that trains in the folder (:mod:`sigdae.runs.lock`)
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sigdae.config import dumps_toml, load_toml
from sigdae import fileio
from sigdae.fileio import atomic_write_text
from sigdae.runs import lock
from sigdae.runs.events import EventLog, EventTail, Listener
from sigdae.runs.preview import Preview, read_preview, write_preview
from sigdae.runs.status import RunStatus, effective_status


class RunDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_file(self) -> Path:
        return self.path / "config.toml"

    @property
    def status_file(self) -> Path:
        return self.path / "run.json"

    @property
    def events_file(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def last_checkpoint(self) -> Path:
        return self.path / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.path / "best.pt"

    @property
    def preview_file(self) -> Path:
        return self.path / "preview.npz"

    @property
    def stop_file(self) -> Path:
        return self.path / "STOP"

    @property
    def log_file(self) -> Path:
        return self.path / "train.log"

    @property
    def epochs_csv_file(self) -> Path:
        return self.path / "epochs.csv"

    @property
    def lock_file(self) -> Path:
        return self.path / "run.lock"

    def checkpoint(self, name: str) -> Path:
        """``last`` or ``best``."""
        return {"last": self.last_checkpoint, "best": self.best_checkpoint}[name]

    def is_run(self) -> bool:
        return self.path.is_dir() and any(f.exists() for f in (self.status_file, self.events_file, self.config_file,
                                                               self.lock_file))

    def create(self, exist_ok: bool = True) -> None:
        self.path.mkdir(parents=True, exist_ok=exist_ok)

    def has_checkpoint(self) -> bool:
        return self.last_checkpoint.exists() or self.best_checkpoint.exists()

    # ---- the writer's lock ---------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Be the folder's only writer for the body (:class:`~sigdae.errors.RunError` if another process
        is); temporary files a killed writer left behind are removed first."""
        with lock.hold(self.lock_file, str(self.path)):
            self.remove_stale_temps()
            yield

    def is_locked(self) -> bool:
        """True while a training process holds the folder."""
        return lock.is_held(self.lock_file)

    def remove_stale_temps(self) -> list[Path]:
        """The temporary files a killed writer left beside the run's outputs (:mod:`sigdae.fileio` tells
        them from a live writer's by their lock), also of outputs this run may not write again."""
        outputs = [(f, ".tmp") for f in (self.config_file, self.status_file, self.last_checkpoint,
                                          self.best_checkpoint, self.epochs_csv_file)]
        outputs.append((self.preview_file, ".npz"))
        return [Path(tmp) for path, suffix in outputs for tmp in fileio.remove_stale_temps(path, suffix)]

    # ---- config.toml -----------------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        atomic_write_text(self.config_file, dumps_toml(config))

    def read_config(self) -> dict[str, Any]:
        return load_toml(self.config_file)

    # ---- run.json ----------------------------------------------------------------------------
    def read_status(self) -> RunStatus:
        """The recorded status; an empty one where run.json is missing or unreadable."""
        try:
            info = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return RunStatus()
        return RunStatus.from_dict(info) if isinstance(info, dict) else RunStatus()

    def write_status(self, status: RunStatus) -> None:
        atomic_write_text(self.status_file, status.to_json())

    def effective_status(self, host: str | None = None, status: RunStatus | None = None) -> str:
        """The recorded status, corrected for a process that died without saying so; a folder whose lock
        is held is running, whatever run.json says."""
        if self.is_locked():
            return "running"
        return effective_status(status or self.read_status(), host)

    def updated(self, status: RunStatus | None = None) -> float:
        """When the run last said something: run.json's stamp, else the event log's or the folder's mtime."""
        return (status or self.read_status()).updated or _mtime(self.events_file) or _mtime(self.path)

    # ---- STOP ----------------------------------------------------------------------------------
    def request_stop(self) -> None:
        self.stop_file.touch()

    def stop_requested(self) -> bool:
        return self.stop_file.exists()

    def clear_stop(self) -> None:
        self.stop_file.unlink(missing_ok=True)

    # ---- events.jsonl, preview.npz, train.log ------------------------------------------------
    def event_log(self, listeners: list[Listener] | None = None) -> EventLog:
        return EventLog(self.events_file, listeners)

    def tail_events(self) -> EventTail:
        return EventTail(self.events_file)

    def write_preview(self, preview: Preview) -> None:
        write_preview(self.preview_file, preview)

    def read_preview(self) -> Preview:
        return read_preview(self.preview_file)

    def preview_mtime(self) -> float:
        return _mtime(self.preview_file)

    def log_tail(self, lines: int = 5) -> list[str]:
        """The last lines of ``train.log`` (where a crash's traceback ends up)."""
        try:
            with open(self.log_file, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 8192))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.strip()][-lines:]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
