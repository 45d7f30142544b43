"""What a ``denoise`` run did, file by file: the result :func:`sigdae.denoise_files.denoise_path` returns,
the ``--json`` report, and the summary lines."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sigdae.interrupts import signal_name

DENOISED, SKIPPED, FAILED, INTERRUPTED, NOT_STARTED = "denoised", "skipped", "failed", "interrupted", "not started"
STATUSES = (DENOISED, SKIPPED, FAILED, INTERRUPTED, NOT_STARTED)


@dataclass
class FileResult:
    """One input file: where its output goes, and what happened (``status`` is one of :data:`STATUSES`;
    ``error`` is the one-line reason of a failure)."""

    input: str
    output: str
    status: str = NOT_STARTED
    seconds: float = 0.0
    error: str | None = None


@dataclass
class DenoiseReport:
    """The outcome of denoising a file or a folder: one :class:`FileResult` per input file, in order."""

    input: str
    output: str
    folder: bool
    files: list[FileResult] = field(default_factory=list)
    signal: int | None = None  # the signal that interrupted the run, if one did

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == FAILED]

    @property
    def written(self) -> list[tuple[Path, Path]]:
        """(input, output) of every file denoised by this run."""
        return [(Path(f.input), Path(f.output)) for f in self.files if f.status == DENOISED]

    @property
    def interrupted(self) -> bool:
        return self.signal is not None

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "output": self.output,
                "interrupted_by": signal_name(self.signal) if self.signal is not None else None,
                "summary": {status: self.count(status) for status in STATUSES},
                "files": [asdict(f) for f in self.files]}

    def summary(self) -> str:
        """``denoised 3 files -> out (1 failed, 2 skipped: ...)``."""
        done = self.count(DENOISED)
        notes = []
        if self.failed:
            notes.append(f"{len(self.failed)} failed")
        skipped = self.count(SKIPPED)
        if skipped:
            notes.append(f"{skipped} skipped: {'its output exists' if skipped == 1 else 'their outputs exist'}, "
                         "--overwrite redoes them")
        extra = f" ({'; '.join(notes)})" if notes else ""
        return f"denoised {done} file{'s' if done != 1 else ''} -> {_output_name(self.output)}{extra}"

    def interruption(self) -> str:
        """What an interrupted run kept and what it did not write."""
        kept = self.count(DENOISED)
        cut = [f for f in self.files if f.status == INTERRUPTED]
        waiting = self.count(NOT_STARTED)
        parts = [f"kept {kept} finished output{'s' if kept != 1 else ''} in {self.output}" if kept
                 else "no output was finished"]
        if cut:
            names = ", ".join(_output_name(f.output) for f in cut[:3]) + (f" and {len(cut) - 3} more" if len(cut) > 3 else "")
            parts.append(f"did not write {names} (temporary file removed)")
        if waiting:
            parts.append(f"{waiting} file{'s' if waiting != 1 else ''} not started")
        return f"interrupted by {signal_name(self.signal or 0)}: {'; '.join(parts)}"


def _output_name(path: str) -> str:
    return "standard output" if path == "-" else path
