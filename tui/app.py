"""The sigdae terminal UI: ``sigdae tui [--runs-dir DIR] [--experiments-dir DIR]``.

Home is the runs list; from there a new run, a run's live view, its previews, the corruption
playground and the experiments view. Nothing heavy (torch, registries) is imported before the first
screen is drawn.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding

from sigdae.runs import request_stop, scan_runs
from sigdae.tui.dialogs import QuitDialog


class SigdaeApp(App[int]):
    CSS_PATH = "sigdae.tcss"
    TITLE = "sigdae"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "request_quit", "Quit", show=False, priority=True)]

    def __init__(self, runs_dir: str | Path = "runs", preload: bool = True, graphics: str = "auto",
                 experiments_dir: str | Path | None = None):
        """``graphics``: how previews are drawn — "auto" (a terminal graphics protocol when the terminal
        has one, never in a headless test app), "off" (text always), "kitty" or "sixel" (forced).
        ``experiments_dir``: the experiment folders to show (default: ``experiments`` beside the runs
        folder)."""
        super().__init__()
        self.runs_dir = Path(runs_dir)
        self.experiments_dir = Path(experiments_dir) if experiments_dir else self.runs_dir.parent / "experiments"
        self.preload = preload
        self.graphics = graphics
        self.sub_title = str(self.runs_dir)

    def on_mount(self) -> None:
        from sigdae.tui.runs_screen import RunsScreen

        self.push_screen(RunsScreen(self.runs_dir))
        if self.preload:
            # warm the registries (imports torch) once the first screen is up, so forms open quickly
            self.set_timer(0.5, self._preload_catalog)

    @work(thread=True, group="preload", exit_on_error=False)
    def _preload_catalog(self) -> None:
        from sigdae.tui.catalog import load_catalog

        load_catalog()

    def action_request_quit(self) -> None:
        running = [r.name for r in scan_runs(self.runs_dir) if r.live]
        if not running:
            self.exit(0)
            return

        def decided(choice: str | None) -> None:
            if choice == "stop":
                for run in scan_runs(self.runs_dir):
                    if run.live:
                        request_stop(run.path)
            if choice in ("leave", "stop"):
                self.exit(0)

        self.push_screen(QuitDialog(running), decided)


def run(runs_dir: str | Path = "runs", experiments_dir: str | Path | None = None) -> int:
    """Run the TUI until the user quits; returns the process exit code."""
    # Yield the CPU to training: the UI needs little, and a busy core stalls torch's worker threads.
    # Runs the TUI launches start from the `sigdae train` command at normal priority, not this one.
    os.nice(10)
    app = SigdaeApp(runs_dir, experiments_dir=experiments_dir)
    app.run()
    return app.return_code or 0
