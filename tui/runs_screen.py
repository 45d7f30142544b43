"""Home: every run under the runs directory, refreshed every two seconds."""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from sigdae.errors import RunError
from sigdae.runs import RunInfo, delete_run, request_stop, resume_run, scan_runs
from sigdae.tui.dialogs import ConfirmDialog
from sigdae.tui.formatting import format_age, format_metric

STATUS_STYLE = {"running": "bold green", "starting": "green", "finished": "cyan", "stopped": "magenta",
                "interrupted": "bold yellow", "failed": "bold red"}
# sized to fit 80 columns; the device and the whole corruption chain are in the detail line below
COLUMNS = (("run", 16), ("status", 11), ("task", 5), ("model", 5), ("corruption", 12), ("ep", 3), ("best", 8),
           ("age", 3))
NARROWEST = 80
REFRESH_S = 2.0


class RunsTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open")]


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, "dim"))


def short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def best_cell(run: RunInfo) -> str:
    return "-" if run.best is None else format_metric(run.monitor, run.best)


def column_widths(screen_width: int, names: list[str]) -> dict[str, int]:
    """The columns' widths: columns beyond 80 go to run names as long as they need, then to the corruption."""
    widths = dict(COLUMNS)
    spare = max(0, screen_width - NARROWEST)
    grow = min(spare, max(0, max(map(len, names), default=0) - widths["run"]))
    widths["run"] += grow
    widths["corruption"] += spare - grow
    return widths


class RunsScreen(Screen):
    BINDINGS = [
        Binding("n", "new_run", "New"),
        Binding("r", "resume", "Resume"),
        Binding("s", "stop", "Stop"),
        Binding("d", "delete", "Delete"),
        Binding("c", "playground", "Corruptions"),
        Binding("e", "experiments", "Experiments"),
        Binding("q", "app.request_quit", "Quit"),
    ]

    def __init__(self, runs_dir: Path):
        super().__init__()
        self.runs_dir = runs_dir
        self.runs: list[RunInfo] = []
        self._shown: tuple = ()
        self._widths: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield RunsTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static(id="run-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_runs()
        self.set_interval(REFRESH_S, self.refresh_runs)

    def on_screen_resume(self) -> None:
        self.refresh_runs()

    def on_resize(self) -> None:
        self.refresh_runs()

    def refresh_runs(self) -> None:
        self.runs = scan_runs(self.runs_dir)
        now = time.time()
        rows = tuple((r.name, r.status, r.task, r.model, r.corruption, r.epoch, best_cell(r),
                      format_age(now - r.updated)) for r in self.runs)
        widths = column_widths(self.app.size.width, [r.name for r in self.runs])
        if rows != self._shown or widths != self._widths:
            self._fill_table(rows, widths)
        self._show_detail()

    def _fill_table(self, rows: tuple, widths: dict[str, int]) -> None:
        table = self.query_one(DataTable)
        selected = self.selected_run()
        table.clear(columns=widths != self._widths)
        if widths != self._widths:
            for label, _ in COLUMNS:
                table.add_column(label, width=widths[label], key=label)
        self._shown, self._widths = rows, widths
        for row in rows:
            name, status, task, model, corruption, epoch, best, age = row
            table.add_row(short(name, widths["run"]), status_text(status), short(task, widths["task"]),
                          short(model, widths["model"]), short(corruption, widths["corruption"]), str(epoch), best,
                          age, key=name)
        if selected is not None:
            names = [r.name for r in self.runs]
            if selected.name in names:
                table.move_cursor(row=names.index(selected.name))

    def _show_detail(self) -> None:
        detail = self.query_one("#run-detail", Static)
        run = self.selected_run()
        if run is None:
            detail.update(f"No runs in {self.runs_dir} yet. Press [b]n[/] to start one, "
                          "[b]c[/] to try corruptions.")
            return
        hint = {"interrupted": "  (its process died: press r to resume)",
                "stopped": "  (press r to resume)", "failed": "  (see train.log; r resumes from last.pt)"}
        where = f"{run.device}{f', pid {run.pid}' if run.live and run.pid else ''}"
        detail.update(Text.assemble((run.name, "bold"), "  ", status_text(run.status), f"  {where}",
                                    hint.get(run.status, "") if run.resumable or run.status == "failed" else "",
                                    "\n", (run.corruption or "-", "dim")))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def selected_run(self) -> RunInfo | None:
        table = self.query_one(DataTable)
        if not self.runs or table.row_count == 0:
            return None
        row = table.cursor_row
        return self.runs[row] if 0 <= row < len(self.runs) else None

    def action_open(self) -> None:
        from sigdae.tui.run_view import RunScreen

        run = self.selected_run()
        if run is not None:
            self.app.push_screen(RunScreen(run.path))

    def action_new_run(self) -> None:
        from sigdae.tui.new_run_screen import NewRunScreen

        def launched(run_dir: Path | None) -> None:
            if run_dir is not None:
                from sigdae.tui.run_view import RunScreen

                self.refresh_runs()
                self.app.push_screen(RunScreen(run_dir))

        self.app.push_screen(NewRunScreen(self.runs_dir), launched)

    def action_resume(self) -> None:
        run = self.selected_run()
        if run is None:
            return
        if not run.resumable:
            self.notify(f"{run.name} is {run.status}: only a stopped, interrupted or failed run "
                        "with a last.pt can be resumed", severity="warning")
            return
        try:
            resume_run(run.path)
        except RunError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"resuming {run.name}")
        self.refresh_runs()

    def action_stop(self) -> None:
        run = self.selected_run()
        if run is not None and request_stop(run.path):
            self.notify(f"asked {run.name} to stop (it writes last.pt first)")
        elif run is not None:
            self.notify(f"{run.name} is not running", severity="warning")

    def action_delete(self) -> None:
        run = self.selected_run()
        if run is None:
            return
        if run.live:
            self.notify(f"{run.name} is running: stop it (s) before deleting it", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                try:
                    delete_run(run.path)
                except RunError as exc:  # it was started again while the dialog was open
                    self.notify(str(exc), severity="error")
                    return
                self.notify(f"deleted {run.name}")
                self.refresh_runs()

        self.app.push_screen(ConfirmDialog(f"Delete run {run.name} and all its files?", yes="Delete"), confirmed)

    def action_playground(self) -> None:
        from sigdae.tui.playground import PlaygroundScreen

        self.app.push_screen(PlaygroundScreen())

    def action_experiments(self) -> None:
        from sigdae.tui.experiments_screen import ExperimentsScreen

        self.app.push_screen(ExperimentsScreen(self.app.experiments_dir))
