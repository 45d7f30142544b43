"""A folder of experiment outputs (``sigdae experiment NAME --out DIR``): list them, start one as its own
process, stop it, and read a report back as text blocks. No Textual, torch or matplotlib here.

An experiment started from the TUI writes ``experiment.log`` (its output) and ``launch.json`` (its pid,
name and size) into its folder; one started from the command line has neither, and shows as finished
once its ``results.json`` is there.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigdae.errors import RunError
from sigdae.fileio import atomic_write_text
from sigdae.runs import pid_alive

LAUNCH_FILE = "launch.json"
LOG_FILE = "experiment.log"
RESULTS_FILE = "results.json"
REPORT_FILE = "report.md"
_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class ExperimentFolder:
    """One experiment's output folder as the experiments list shows it."""

    name: str
    path: Path
    experiment: str = ""
    size: str = ""
    status: str = "finished"   # finished, running, stopped or failed
    seconds: float | None = None
    figures: tuple[str, ...] = ()
    updated: float = 0.0
    pid: int | None = None

    @property
    def live(self) -> bool:
        return self.status == "running"

    @property
    def report(self) -> Path:
        return self.path / REPORT_FILE

    @property
    def log(self) -> Path:
        return self.path / LOG_FILE


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def load_experiment(path: str | os.PathLike) -> ExperimentFolder | None:
    """The folder's experiment, or None when it holds no experiment output and was not launched here."""
    path = Path(path)
    launch = _read_json(path / LAUNCH_FILE)
    results = _read_json(path / RESULTS_FILE)
    results_time = _mtime(path / RESULTS_FILE)
    if not launch and not results and not (path / REPORT_FILE).exists():
        return None
    fresh_results = bool(results) and results_time >= float(launch.get("started", 0.0))
    pid = launch.get("pid") if isinstance(launch.get("pid"), int) else None
    same_host = launch.get("host", socket.gethostname()) == socket.gethostname()
    if launch and not fresh_results and (not same_host or pid_alive(pid)):
        status = "running"
    elif launch and not fresh_results:
        status = "stopped" if launch.get("stopped") else "failed"
    else:
        status = "finished"
    shown = results if fresh_results or not launch else {}
    updated = max(_mtime(path / name) for name in (LAUNCH_FILE, RESULTS_FILE, REPORT_FILE, LOG_FILE))
    return ExperimentFolder(name=path.name, path=path,
                            experiment=str(shown.get("experiment") or launch.get("experiment", "")),
                            size=str(shown.get("size") or launch.get("size", "")), status=status,
                            seconds=shown.get("seconds"), figures=tuple(shown.get("figures", ())),
                            updated=updated, pid=pid)


def scan_experiments(root: str | os.PathLike) -> list[ExperimentFolder]:
    """Every experiment folder directly under ``root``, newest first."""
    root = Path(root)
    try:
        folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []
    found = [e for e in map(load_experiment, folders) if e is not None]
    return sorted(found, key=lambda e: (-e.updated, e.name))


def check_folder_name(root: str | os.PathLike, name: str) -> str | None:
    """An error message for a bad or taken output folder name, or None."""
    if not name:
        return "give the output folder a name"
    if not _NAME_OK.match(name):
        return "use letters, digits, '.', '_' or '-' (no spaces or slashes)"
    folder = Path(root) / name
    if folder.exists() and any(folder.iterdir()):
        return f"'{name}' already holds files: choose another folder"
    return None


def default_folder_name(experiment: str, quick: bool) -> str:
    """The folder ``sigdae experiment`` writes to by default (experiments/NAME or NAME-quick)."""
    return f"{experiment}-quick" if quick else experiment


def experiment_command(experiment: str, out: Path, quick: bool) -> list[str]:
    return [sys.executable, "-m", "sigdae.cli", "experiment", experiment, "--out", str(out),
            *(["--quick"] if quick else [])]


def _normal_priority() -> None:
    """In the child: undo the TUI's lower priority (nice 10), where allowed."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except PermissionError:
        pass


def launch_experiment(experiment: str, out: str | os.PathLike, quick: bool = False) -> int:
    """Start ``sigdae experiment`` as its own process (it outlives the caller), writing into ``out``
    with its output in ``out/experiment.log``; returns the pid."""
    out = Path(out)
    current = load_experiment(out)
    if current is not None and current.live:
        raise RunError(f"an experiment is already running in {out}")
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with open(out / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(experiment_command(experiment, out, quick), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, cwd=os.getcwd(),
                                preexec_fn=_normal_priority)
    threading.Thread(target=proc.wait, daemon=True, name=f"reap-{proc.pid}").start()
    _write_launch(out, {"experiment": experiment, "size": "quick" if quick else "full", "pid": proc.pid,
                        "host": socket.gethostname(), "started": started})
    return proc.pid


def _write_launch(out: Path, fields: dict[str, Any]) -> None:
    atomic_write_text(out / LAUNCH_FILE, json.dumps(fields, indent=1) + "\n")


def stop_experiment(path: str | os.PathLike) -> bool:
    """End a running experiment (SIGTERM to its process group); False if it is not running."""
    found = load_experiment(path)
    if found is None or not found.live or found.pid is None:
        return False
    try:
        os.killpg(found.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    _write_launch(found.path, {**_read_json(found.path / LAUNCH_FILE), "stopped": True})
    return True


def log_tail(path: Path, lines: int = 12) -> list[str]:
    """The last ``lines`` lines of a log file (empty when there is none)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


# --- report.md as blocks ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A part of a report: ``kind`` is "heading", "code", "text", "table" or "figure"."""

    kind: str
    text: str = ""                        # heading, code and text; a figure's caption
    rows: tuple[tuple[str, ...], ...] = ()  # table: the header row first
    right: tuple[bool, ...] = ()          # table: which columns are right-aligned
    file: str = ""                        # figure: the PNG's file name in the folder


_FIGURE = re.compile(r"^!\[(?P<caption>[^\]]*)\]\((?P<file>[^)]+)\)$")


def _table_cells(line: str) -> tuple[str, ...]:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return tuple(c.strip().replace("\\|", "|") for c in cells)


def report_blocks(markdown: str) -> list[Block]:
    """The blocks of a report written by :class:`sigdae.experiments.report.Report` (paragraphs separated
    by blank lines; a figure's italic caption line is folded into the figure)."""
    blocks: list[Block] = []
    for part in re.split(r"\n\s*\n", markdown.strip()):
        part = part.strip()
        if not part:
            continue
        lines = part.splitlines()
        figure = _FIGURE.match(part)
        if part.startswith("#"):
            blocks.append(Block("heading", part.lstrip("#").strip()))
        elif part.startswith("```"):
            blocks.append(Block("code", "\n".join(line for line in lines if not line.startswith("```"))))
        elif figure:
            blocks.append(Block("figure", figure["caption"], file=figure["file"]))
        elif len(lines) >= 2 and lines[0].startswith("|") and set(lines[1].replace("|", "").strip()) <= set("-: "):
            right = tuple(c.endswith(":") for c in _table_cells(lines[1]))
            blocks.append(Block("table", rows=tuple(_table_cells(line) for line in [lines[0], *lines[2:]]),
                                right=right))
        elif blocks and blocks[-1].kind == "figure" and part.startswith("*") and part.strip("*") == blocks[-1].text:
            continue
        else:
            blocks.append(Block("text", " ".join(lines).replace("**", "")))
    return blocks


def table_lines(block: Block) -> list[str]:
    """A table block as aligned text lines (header, rule, rows)."""
    count = max(len(row) for row in block.rows)
    rows = [row + ("",) * (count - len(row)) for row in block.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(count)]
    right = block.right + (False,) * (count - len(block.right))

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.rjust(w) if r else cell.ljust(w) for cell, w, r in zip(row, widths, right)).rstrip()

    return [line(rows[0]), "  ".join("─" * w for w in widths), *map(line, rows[1:])]
