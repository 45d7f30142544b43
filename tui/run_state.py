"""What the live run view shows, folded from the run's events (pure: no UI, no torch)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sigdae.tui.formatting import format_duration, format_metric

LOG_LINES = 200


@dataclass
class RunState:
    status: str = "waiting"
    device: str = ""
    task: str = ""
    model: str = ""
    corruption: str = ""
    parameters: int = 0
    epochs: int = 0
    steps_per_epoch: int = 0
    batch_size: int = 0
    epoch: int = 0                      # epochs finished
    epoch_in_progress: int = 0          # the epoch the latest step belongs to (1 during the first)
    step: int = 0
    progress: float = 0.0
    eta: float | None = None
    elapsed: float = 0.0
    samples_per_s: float = 0.0
    lr: float = 0.0
    memory: dict[str, float] = field(default_factory=dict)
    monitor: str = ""
    best: float | None = None
    best_epoch: int = 0
    last_val: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    train_steps: dict[int, float] = field(default_factory=dict)    # global step -> loss
    train_epochs: dict[int, float] = field(default_factory=dict)   # epoch -> mean train loss
    val_epochs: dict[int, float] = field(default_factory=dict)     # epoch -> validation loss
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    events_seen: int = 0
    last_event_time: float = 0.0

    def apply(self, events: list[dict[str, Any]]) -> bool:
        """Fold new events in; True if anything changed."""
        for event in events:
            handler = getattr(self, f"_on_{event.get('type')}", None)
            if handler is not None:
                handler(event)
            self.events_seen += 1
            self.last_event_time = float(event.get("time") or self.last_event_time)
        return bool(events)

    def _on_start(self, e: dict[str, Any]) -> None:
        self.status = "running"
        self.error = None
        for key in ("device", "task", "model", "corruption", "parameters", "epochs", "steps_per_epoch", "batch_size"):
            if e.get(key) is not None:
                setattr(self, key, e[key])
        resumed = int(e.get("resumed_from_epoch") or 0)
        self.epoch, self.epoch_in_progress = resumed, 0
        what = f"resumed at epoch {resumed}" if resumed else "started"
        self._log(e, f"{what} on {self.device}: {self.model} ({self.parameters:,} parameters), "
                     f"{self.epochs} epochs × {self.steps_per_epoch} steps, batch {self.batch_size}")

    def _on_step(self, e: dict[str, Any]) -> None:
        self.step = int(e.get("step", self.step))
        self.epoch_in_progress = int(e.get("epoch", self.epoch + 1))
        self.epoch = max(self.epoch, self.epoch_in_progress - 1)
        self.train_steps[self.step] = float(e.get("loss", 0.0))
        self.progress = float(e.get("progress", self.progress))
        self.eta = e.get("eta")
        self.elapsed = float(e.get("elapsed", self.elapsed))
        self.samples_per_s = float(e.get("samples_per_s", 0.0))
        self.lr = float(e.get("lr", 0.0))
        self.memory = dict(e.get("memory") or {})

    def _on_epoch(self, e: dict[str, Any]) -> None:
        self.epoch = int(e.get("epoch", self.epoch))
        self.step = int(e.get("step", self.step))
        self.progress = float(e.get("progress", self.progress))
        self.eta = e.get("eta")
        self.elapsed = float(e.get("elapsed", self.elapsed))
        val = dict(e.get("val") or {})
        self.last_val = val
        self.monitor = str(e.get("monitor") or self.monitor)
        self.best, self.best_epoch = e.get("best"), int(e.get("best_epoch") or 0)
        self.train_epochs[self.epoch] = float(e.get("train_loss", 0.0))
        if "loss" in val:
            self.val_epochs[self.epoch] = float(val["loss"])
        metrics = "  ".join(f"{k} {format_metric(k, v)}" for k, v in val.items() if k != "loss")
        star = "  ★ best" if e.get("improved") else ""
        self._log(e, f"epoch {self.epoch}/{self.epochs}  train {e.get('train_loss', 0):.4f}  "
                     f"val {val.get('loss', float('nan')):.4f}  {metrics}{star}")

    def _on_end(self, e: dict[str, Any]) -> None:
        self.status = str(e.get("status", "finished"))
        self.error = e.get("error")
        self.elapsed = float(e.get("elapsed", self.elapsed))
        if self.status == "finished":
            self.progress, self.eta = 1.0, 0.0
        tail = f": {self.error}" if self.error else ""
        self._log(e, f"{self.status} after {self.epoch} epochs, {format_duration(self.elapsed)}{tail}")

    def _log(self, event: dict[str, Any], text: str) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(float(event.get("time") or 0)))
        self.log.append(f"{stamp} {text}")

    def epoch_now(self) -> int:
        """The epoch in progress while training runs, else the last one finished."""
        return max(self.epoch, self.epoch_in_progress) if self.status == "running" else self.epoch

    def best_text(self) -> str:
        if self.best is None or not self.monitor or abs(self.best) == float("inf"):
            return "-"
        return f"{self.monitor} {format_metric(self.monitor, self.best)} (epoch {self.best_epoch})"

