"""A run, live: progress and ETA, loss curves, throughput and memory, recent log; stop and resume.

It tails the run's event log (once a second, only new bytes) through :class:`sigdae.runs.RunDir`, so it
attaches to any run: one started here, from the CLI, or before the SSH connection dropped.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static

from sigdae.errors import RunError
from sigdae.runs import RunDir, request_stop, resume_run
from sigdae.tui.formatting import format_duration, status_text
from sigdae.tui.plot import LinePlot, Series
from sigdae.tui.run_state import RunState

TAIL_S = 1.0
STATUS_S = 2.0


class RunScreen(Screen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Runs"),
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("p", "preview", "Preview"),
        Binding("l", "log_scale", "Log y"),
        Binding("q", "app.request_quit", "Quit"),
    ]

    def __init__(self, run_dir: Path):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.run = RunDir(self.run_dir)
        self.state = RunState()
        self.tail = self.run.tail_events()
        self.file_status = "unknown"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="run-title")
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=1.0, show_eta=False, show_percentage=False, id="progress")
            yield Static(id="eta")
        yield Static(id="run-stats")
        yield LinePlot(id="loss-plot", log_y=True)
        yield Static(id="run-log")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.run_dir.name
        self.check_status()
        self.poll_events()
        self.set_interval(TAIL_S, self.poll_events)
        self.set_interval(STATUS_S, self.check_status)

    def poll_events(self) -> None:
        if self.state.apply(self.tail.read()):
            self.show()

    def check_status(self) -> None:
        status = self.run.effective_status()
        if status != self.file_status:
            self.file_status = status
            self.poll_events()
            self.show()

    @property
    def status(self) -> str:
        """The run's recorded status knows about dead processes and fresh launches; events know the rest."""
        if self.file_status in ("interrupted", "failed"):
            return self.file_status
        if self.file_status == "starting":  # the status is polled less often than events are tailed
            return "running" if self.state.status == "running" else "starting"
        if self.file_status == "running" and self.state.status != "running":
            return "running"
        return self.state.status if self.state.events_seen else self.file_status

    def show(self) -> None:
        s = self.state
        title = Text.assemble((self.run_dir.name, "bold"), "  ", status_text(self.status),
                              f"  {s.task} · {s.model}" if s.model else "",
                              f" ({s.parameters:,} params)" if s.parameters else "")
        title.append(f"\n{s.corruption or ''}", style="dim")
        self.query_one("#run-title", Static).update(title)
        self.query_one("#progress", ProgressBar).update(progress=s.progress)
        eta = "done" if self.status == "finished" else f"ETA {format_duration(s.eta)}"
        self.query_one("#eta", Static).update(f" {s.progress:4.0%} {eta}")
        memory = "  ".join(f"{k.removeprefix('gpu_').removesuffix('_mb')} {v:.0f} MB" for k, v in s.memory.items())
        stats = (f"epoch {s.epoch_now()}/{s.epochs or '?'}  step {s.step}  {s.samples_per_s:,.0f} samples/s  "
                 f"elapsed {format_duration(s.elapsed)}\n"
                 f"device {s.device or '?'}{'  GPU ' + memory if memory else ''}  best {s.best_text()}")
        self.query_one("#run-stats", Static).update(stats)
        self.query_one(LinePlot).set_series(loss_series(s))
        lines = list(s.log)
        if self.status in ("failed", "interrupted") and not (s.error and lines):
            lines += [f"train.log: {line}" for line in self.run.log_tail(3)]
        elif self.status == "starting":
            lines.append("starting the training process (loading torch and data)…")
        self.query_one("#run-log", Static).update(Text("\n".join(lines[-6:]) or "no events yet", no_wrap=True,
                                                       overflow="ellipsis"))

    def action_stop(self) -> None:
        if request_stop(self.run.path):
            self.notify("stop requested: the run writes last.pt and ends as 'stopped'")
        else:
            self.notify("this run is not running", severity="warning")

    def action_resume(self) -> None:
        try:
            resume_run(self.run.path)
        except RunError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify("resuming from last.pt")
        self.check_status()

    def action_preview(self) -> None:
        from sigdae.tui.preview import PreviewScreen

        if not self.run.preview_mtime():
            self.notify("no preview yet: one is written at the end of each epoch", severity="warning")
            return
        self.app.push_screen(PreviewScreen(self.run_dir))

    def action_log_scale(self) -> None:
        plot = self.query_one(LinePlot)
        plot.toggle_log()
        if plot.log_y and not plot.log_shown and plot.series:
            self.notify("the losses are not all positive: the y axis stays linear", severity="warning")


def loss_series(state: RunState) -> list[Series]:
    """The loss curves: every logged training step (x in epochs) and the validation loss per epoch."""
    per_epoch = max(1, state.steps_per_epoch)
    steps = sorted(state.train_steps)
    epochs = sorted(state.val_epochs)
    return [Series("train (steps)", [k / per_epoch for k in steps], [state.train_steps[k] for k in steps], "green"),
            Series("val (epochs)", epochs, [state.val_epochs[k] for k in epochs], "yellow")]
