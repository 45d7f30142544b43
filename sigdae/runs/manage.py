"""A folder of runs: list them, tell a live run from a dead one, launch, stop, resume and delete.

Training launched from here runs as its own process in a new session (``start_new_session``), writing
to its run directory, so it outlives the caller (the TUI, an SSH connection); callers only read the files.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sigdae.errors import RunError
from sigdae.runs.layout import RunDir
from sigdae.runs.status import LIVE, RESUMABLE, RunStatus


@dataclass(frozen=True)
class RunInfo:
    """One run directory as a list of runs shows it: what its run.json records, with the status corrected
    for a process that died (or a folder a live process holds); the recorded fields read through."""

    name: str
    path: Path
    status: str
    recorded: RunStatus
    updated: float = 0.0

    def __getattr__(self, key: str):  # task, model, corruption, device, epoch, best, monitor, pid
        if key in _RECORDED:
            return getattr(self.recorded, key)
        raise AttributeError(key)

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE and RunDir(self.path).last_checkpoint.exists()


_RECORDED = {f.name for f in dataclasses.fields(RunStatus)} - {"status", "updated", "extra"}


def load_run(path: str | os.PathLike, host: str | None = None) -> RunInfo:
    run = RunDir(path)
    info = run.read_status()
    return RunInfo(name=run.name, path=run.path, status=run.effective_status(host, info), recorded=info,
                   updated=run.updated(info))


def scan_runs(runs_dir: str | os.PathLike) -> list[RunInfo]:
    """Every run under ``runs_dir``, newest first: the runs directly in it, and those one folder down (a
    group such as ``sigdae demo``'s ``demo-mnist/conv``, named by that relative path)."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    host = socket.gethostname()
    runs = []
    for path in _visible(root):
        if RunDir(path).is_run():
            runs.append(load_run(path, host))
        elif path.is_dir():
            runs += [replace(load_run(inner, host), name=f"{path.name}/{inner.name}")
                     for inner in _visible(path) if RunDir(inner).is_run()]
    return sorted(runs, key=lambda r: (-r.updated, r.name))


def _visible(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if not p.name.startswith(".")]
    except OSError:  # a folder that cannot be read holds no runs to show
        return []


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


def _train_command(*args: str, processes: int = 1) -> list[str]:
    """``sigdae train ARGS``, in ``processes`` processes under torchrun (one per GPU) when more than one."""
    launcher = [] if processes == 1 else ["-m", "torch.distributed.run", "--standalone",
                                          f"--nproc_per_node={processes}"]
    return [sys.executable, *launcher, "-m", "sigdae.cli", "train", *args, "--quiet"]


def _normal_priority() -> None:
    """In the child: undo a caller's lower priority (the TUI runs at nice 10), where allowed."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except PermissionError:  # an unprivileged user cannot raise priority back; training then runs at nice 10
        pass


def _spawn(command: list[str], run: RunDir) -> int:
    with open(run.log_file, "ab") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=os.getcwd(), preexec_fn=_normal_priority)
    # reap it when it ends so it does not linger as a zombie while the caller stays open
    threading.Thread(target=proc.wait, daemon=True, name=f"reap-{proc.pid}").start()
    return proc.pid


def _write_starting(run: RunDir, pid: int, fields: dict[str, Any]) -> None:
    if run.read_status().pid == pid:
        return  # the child already wrote its own status; do not turn it back into "starting"
    run.write_status(RunStatus(**fields, status="starting", pid=pid, host=socket.gethostname(),
                               updated=time.time()))


def launch_run(config: dict[str, Any], run_dir: str | os.PathLike, processes: int = 1) -> int:
    """Write ``config.toml`` into a new run directory and start training there, in ``processes``
    DistributedDataParallel processes (torchrun; one per GPU) when more than one; returns the pid."""
    if int(processes) != processes or processes < 1:
        raise RunError(f"processes must be a positive whole number, got {processes!r}")
    batch = int(config.get("train", {}).get("batch_size", 1))
    if batch % processes:
        raise RunError(f"the batch size {batch} must divide evenly among {processes} processes")
    run = RunDir(run_dir)
    run.create(exist_ok=False)
    run.write_config(config)
    pid = _spawn(_train_command("--config", str(run.config_file), "--run-dir", str(run.path),
                                processes=processes), run)
    _write_starting(run, pid, {"task": str(config.get("task", "")),
                               "model": str(config.get("model", {}).get("name", "")),
                               "corruption": str(config.get("corruption", {}).get("spec", "")),
                               "device": str(config.get("device", "auto")), "processes": processes})
    return pid


def resume_run(run_dir: str | os.PathLike) -> int:
    """Continue a stopped or interrupted run from its ``last.pt``, with as many processes as it had;
    returns the new pid."""
    run = RunDir(run_dir)
    info = run.read_status()
    if run.effective_status(status=info) in LIVE:
        raise RunError(f"{run.name} is still running")
    if not run.last_checkpoint.exists():
        raise RunError(f"{run.name} has no checkpoint (last.pt) to resume from")
    run.clear_stop()  # a stale request would stop the new process at once
    pid = _spawn(_train_command("--resume", str(run.path), processes=info.processes), run)
    _write_starting(run, pid, {"task": info.task, "model": info.model, "corruption": info.corruption,
                               "device": info.device, "epoch": info.epoch, "best": info.best,
                               "monitor": info.monitor, "processes": info.processes})
    return pid


def request_stop(run_dir: str | os.PathLike) -> bool:
    """Ask a live run to stop gracefully (it checkpoints first); False if it is not running."""
    run = RunDir(run_dir)
    if run.effective_status() not in LIVE:
        return False
    run.request_stop()
    return True


def terminate_run(run_dir: str | os.PathLike) -> bool:
    """SIGTERM the run's process (the trainer also stops gracefully on it)."""
    run = RunDir(run_dir)
    info = run.read_status()
    if run.effective_status(status=info) not in LIVE or info.pid is None:
        return False
    try:
        os.kill(info.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def delete_run(run_dir: str | os.PathLike) -> None:
    run = RunDir(run_dir)
    if run.effective_status() in LIVE:
        raise RunError(f"{run.name} is running: stop it before deleting it")
    shutil.rmtree(run.path)
