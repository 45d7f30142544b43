"""Render training events on the terminal with Rich (a plain line per epoch when not a terminal)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class ProgressDisplay:
    """An event listener: ``Trainer(..., listeners=[ProgressDisplay()])``."""

    def __init__(self, console: Console | None = None, quiet: bool = False):
        self.console = console or Console(stderr=True, soft_wrap=True)  # a log file gets whole lines
        self.quiet = quiet
        self.progress: Progress | None = None
        self.task_id = None

    def __call__(self, event: dict[str, Any]) -> None:
        handler = getattr(self, f"on_{event['type']}", None)
        if handler and not self.quiet:
            handler(event)

    def on_start(self, e: dict[str, Any]) -> None:
        budget = f", {e['max_minutes']:g} min budget" if e.get("max_minutes") else ""
        resumed = f", resumed after epoch {e['resumed_from_epoch']}" if e.get("resumed_from_epoch") else ""
        self.console.print(f"[bold]training[/] {escape(str(e['model']))} ({e['parameters']:,} parameters) on "
                           f"{e['device']}: {escape(str(e['task']))}, corruption {escape(str(e['corruption']))}, "
                           f"{e['epochs']} epochs{budget}{resumed}")
        if self.console.is_terminal:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     TextColumn("{task.percentage:>3.0f}%"),
                                     TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[speed]}"),
                                     TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                     console=self.console, transient=False)
            self.progress.start()
            self.task_id = self.progress.add_task("train", total=1.0, loss="-", speed="")

    def on_step(self, e: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.update(self.task_id, completed=e["progress"], description=f"epoch {e['epoch']}",
                                 loss=f"{e['loss']:.4f}", speed=f"{e['samples_per_s']:,.0f} samples/s")

    def on_epoch(self, e: dict[str, Any]) -> None:
        metrics = "  ".join(f"{k} {v:.4f}" for k, v in e["val"].items())
        star = " *" if e["improved"] else ""
        line = f"epoch {e['epoch']:>3}  train loss {e['train_loss']:.4f}  val {metrics}{star}"
        if self.progress is not None:
            self.progress.update(self.task_id, completed=e["progress"])
            self.progress.console.print(line)
        else:
            self.console.print(line)

    def on_end(self, e: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        note = f": {escape(str(e['error']))}" if e.get("error") else ""
        self.console.print(f"[bold]{e['status']}[/] after {e['epoch']} epochs, {e['step']} steps, "
                           f"{e['elapsed']:.0f} s; best epoch {e['best_epoch']}{note}")
