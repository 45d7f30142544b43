"""A run, live: progress and ETA, loss curves, throughput and memory, recent log; stop and resume.

It tails the run's ``events.jsonl`` (twice a second, only new bytes), so it attaches to any run: one
started here, from the CLI, or before the SSH connection dropped.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static

from sigdae.runs import EventTail
from sigdae.tui import runs as runs_mod
from sigdae.tui.plot import LinePlot, Series
from sigdae.tui.run_state import RunState
from sigdae.tui.runs_screen import status_text

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
        self.state = RunState()
        self.tail = EventTail(self.run_dir / "events.jsonl")
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
        status = runs_mod.effective_status(runs_mod.read_run_json(self.run_dir))
        if status != self.file_status:
            self.file_status = status
            self.poll_events()
            self.show()

    @property
    def status(self) -> str:
        """run.json knows about dead processes and fresh launches; events know the rest."""
        if self.file_status in ("interrupted", "failed"):
            return self.file_status
        if self.file_status == "starting":  # run.json is polled less often than events are tailed
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
        eta = "done" if self.status == "finished" else f"ETA {runs_mod.format_duration(s.eta)}"
        self.query_one("#eta", Static).update(f" {s.progress:4.0%} {eta}")
        memory = "  ".join(f"{k.removeprefix('gpu_').removesuffix('_mb')} {v:.0f} MB" for k, v in s.memory.items())
        stats = (f"epoch {s.epoch}/{s.epochs or '?'}  step {s.step}  {s.samples_per_s:,.0f} samples/s  "
                 f"elapsed {runs_mod.format_duration(s.elapsed)}\n"
                 f"device {s.device or '?'}{'  GPU ' + memory if memory else ''}  best {s.best_text()}")
        self.query_one("#run-stats", Static).update(stats)
        spe = max(1, s.steps_per_epoch)
        steps = sorted(s.train_steps)
        self.query_one(LinePlot).set_series([
            Series("train (steps)", [k / spe for k in steps], [s.train_steps[k] for k in steps], "green"),
            Series("val (epochs)", sorted(s.val_epochs), [s.val_epochs[k] for k in sorted(s.val_epochs)], "yellow"),
        ])
        lines = list(s.log)
        if self.status in ("failed", "interrupted") and not (s.error and lines):
            lines += [f"train.log: {line}" for line in runs_mod.log_tail(self.run_dir, 3)]
        elif self.status == "starting":
            lines.append("starting the training process (loading torch and data)…")
        self.query_one("#run-log", Static).update(Text("\n".join(lines[-6:]) or "no events yet", no_wrap=True,
                                                       overflow="ellipsis"))

    def action_stop(self) -> None:
        if runs_mod.request_stop(self.run_dir):
            self.notify("stop requested: the run writes last.pt and ends as 'stopped'")
        else:
            self.notify("this run is not running", severity="warning")

    def action_resume(self) -> None:
        try:
            runs_mod.resume_run(self.run_dir)
        except RuntimeError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify("resuming from last.pt")
        self.check_status()

    def action_preview(self) -> None:
        from sigdae.tui.preview import PreviewScreen

        if not (self.run_dir / "preview.npz").exists():
            self.notify("no preview yet: one is written at the end of each epoch", severity="warning")
            return
        self.app.push_screen(PreviewScreen(self.run_dir))

    def action_log_scale(self) -> None:
        self.query_one(LinePlot).toggle_log()
