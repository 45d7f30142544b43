"""The dialog that starts an experiment from the TUI: which one, quick or full size, and its output folder."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from sigdae.tui.experiment_folders import check_folder_name, default_folder_name


class StartExperimentDialog(ModalScreen[tuple[str, str, bool] | None]):
    """Which experiment, quick or full size, and the output folder under the experiments directory;
    dismisses with (experiment, folder name, quick) or None."""

    DEFAULT_CSS = """
    StartExperimentDialog { align: center middle; }
    StartExperimentDialog Select, StartExperimentDialog Checkbox, StartExperimentDialog Input { margin-top: 1; }
    StartExperimentDialog .field-error { padding-left: 0; }
    """
    BINDINGS = [Binding("ctrl+s", "start", "Start", priority=True), Binding("escape", "cancel", "Cancel")]

    def __init__(self, experiments_dir: Path):
        super().__init__()
        self.experiments_dir = experiments_dir
        self._suggested = ""
        self._summaries: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        from sigdae.experiments import EXPERIMENTS

        with Vertical(classes="dialog"):
            yield Label("Start an experiment", classes="question")
            yield Select([(name, name) for name in EXPERIMENTS], value=next(iter(EXPERIMENTS)), allow_blank=False,
                         id="experiment-name", compact=True)
            yield Static("", id="experiment-summary", classes="explain")
            yield Checkbox("quick (small models on a subset: minutes, not tens of minutes)", True,
                           id="experiment-quick", compact=True)
            yield Input(placeholder="output folder", id="experiment-folder", compact=True)
            yield Static("", id="experiment-folder-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Start [ctrl+s]", id="start", variant="primary")
                yield Button("Cancel [esc]", id="cancel")

    def on_mount(self) -> None:
        self._suggest()
        self._load_summaries()

    @work(thread=True, group="experiment-summaries", exit_on_error=False)
    def _load_summaries(self) -> None:
        from sigdae.experiments import summaries  # imports torch: off the UI thread

        found = summaries()
        self.app.call_from_thread(self._show_summary, found)

    def _show_summary(self, found: dict[str, str] | None = None) -> None:
        if found is not None:
            self._summaries = found
        name = str(self.query_one("#experiment-name", Select).value)
        self.query_one("#experiment-summary", Static).update(self._summaries.get(name, ""))

    def _suggest(self) -> None:
        """Fill the folder with the default name for the choice, unless the user typed their own."""
        folder = self.query_one("#experiment-folder", Input)
        name = str(self.query_one("#experiment-name", Select).value)
        suggestion = default_folder_name(name, self.query_one("#experiment-quick", Checkbox).value)
        if folder.value in ("", self._suggested):
            folder.value = suggestion
        self._suggested = suggestion

    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _choice_changed(self) -> None:
        self._suggest()
        self._show_summary()

    @on(Input.Changed)
    def _check_folder(self) -> None:
        error = check_folder_name(self.experiments_dir, self.query_one("#experiment-folder", Input).value.strip())
        box = self.query_one("#experiment-folder-error", Static)
        box.update(error or "")
        box.display = error is not None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_start() if event.button.id == "start" else self.dismiss(None)

    def action_start(self) -> None:
        folder = self.query_one("#experiment-folder", Input).value.strip()
        if check_folder_name(self.experiments_dir, folder):
            self._check_folder()
            return
        self.dismiss((str(self.query_one("#experiment-name", Select).value), folder,
                      self.query_one("#experiment-quick", Checkbox).value))

    def action_cancel(self) -> None:
        self.dismiss(None)
