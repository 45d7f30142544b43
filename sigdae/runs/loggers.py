"""Copies of a run's events in formats standard tools read: a CSV of epochs (``epochs.csv``) and
TensorBoard scalars (``tensorboard/``). ``events.jsonl`` stays the source of truth: a CSV can be made
from it at any time (:func:`export_csv`), also for runs trained without loggers.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any, Callable, Iterable

from sigdae.errors import ConfigError
from sigdae.fileio import atomic_write_text
from sigdae.runs.events import Listener, read_events
from sigdae.runs.layout import RunDir

FIXED_COLUMNS = ("epoch", "step", "elapsed", "train_loss")


def epoch_row(event: dict[str, Any]) -> dict[str, Any]:
    return {"epoch": event["epoch"], "step": event["step"], "elapsed": round(float(event["elapsed"]), 3),
            "train_loss": event["train_loss"], **{f"val_{k}": v for k, v in event.get("val", {}).items()}}


def epochs_csv(events: Iterable[dict[str, Any]]) -> str:
    rows = [epoch_row(e) for e in events if e.get("type") == "epoch"]
    columns = list(FIXED_COLUMNS) + sorted({k for row in rows for k in row} - set(FIXED_COLUMNS))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def export_csv(run: RunDir, out: str | os.PathLike | None = None) -> str:
    """Write the run's epochs as CSV (default ``RUN/epochs.csv``); returns the path."""
    path = str(out or run.epochs_csv_file)
    atomic_write_text(path, epochs_csv(read_events(run.events_file)))
    return path


class CsvLogger:
    """Rewrites ``epochs.csv`` after every epoch; a resumed run's earlier epochs are read from the event
    log once, at its start."""

    def __init__(self, run: RunDir):
        self.run = run
        self.epochs: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if event["type"] == "start":
            self.epochs = [e for e in read_events(self.run.events_file) if e.get("type") == "epoch"]
        elif event["type"] == "epoch":
            self.epochs.append(event)
            atomic_write_text(self.run.epochs_csv_file, epochs_csv(self.epochs))


class TensorBoardLogger:
    """Training loss and learning rate per logged step, validation metrics per epoch, under ``tensorboard/``."""

    def __init__(self, run: RunDir):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError("train.loggers: 'tensorboard' needs the tensorboard package "
                              "(pip install 'sigdae[tensorboard]')") from None
        self.open = lambda: SummaryWriter(str(run.path / "tensorboard"))
        self.writer = None  # opened with the first event, once the run holds its folder

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if self.writer is None:
            self.writer = self.open()
        if kind == "step":
            self.writer.add_scalar("train/loss", event["loss"], event["step"])
            self.writer.add_scalar("train/lr", event["lr"], event["step"])
        elif kind == "epoch":
            self.writer.add_scalar("train/epoch_loss", event["train_loss"], event["step"])
            for key, value in event.get("val", {}).items():
                self.writer.add_scalar(f"val/{key}", value, event["step"])
            self.writer.flush()
        elif kind == "end":
            self.writer.close()


LOGGERS: dict[str, Callable[[RunDir], Listener]] = {"csv": CsvLogger, "tensorboard": TensorBoardLogger}


def make_loggers(names: Any, run: RunDir) -> list[Listener]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"train.loggers must be a list of names ({', '.join(LOGGERS)}), not {names!r}")
    unknown = [n for n in names if n not in LOGGERS]
    if unknown:
        raise ConfigError(f"train.loggers: unknown logger '{unknown[0]}' (known: {', '.join(LOGGERS)})")
    return [LOGGERS[name](run) for name in names]
