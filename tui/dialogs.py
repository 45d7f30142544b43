"""Small modal questions: confirm a deletion, and what to do with running training on quit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmDialog(ModalScreen[bool]):
    """Yes / no; dismisses with True for yes. "No" has the focus, so Enter keeps what was asked about."""

    AUTO_FOCUS = "#no"
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, yes: str = "Yes"):
        super().__init__()
        self.question, self.yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} [y]", id="yes", variant="error")
                yield Button("No [n]", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class QuitDialog(ModalScreen[str]):
    """Leaving while runs train: dismisses with "leave", "stop" or "cancel"."""

    BINDINGS = [Binding("l,y,q", "answer('leave')", "Leave running"),
                Binding("s", "answer('stop')", "Stop them"),
                Binding("escape,n,c", "answer('cancel')", "Cancel")]

    def __init__(self, running: list[str]):
        super().__init__()
        self.running = running

    def compose(self) -> ComposeResult:
        names = ", ".join(self.running[:4]) + (" …" if len(self.running) > 4 else "")
        with Vertical(classes="dialog"):
            yield Label(f"{len(self.running)} run(s) still training: {names}", classes="question")
            yield Label("Training is a separate process: leaving the TUI does not stop it, and "
                        "`sigdae tui` re-attaches later. Leave it running?", classes="explain")
            with Horizontal(classes="buttons"):
                yield Button("Leave running [l]", id="leave", variant="primary")
                yield Button("Stop & quit [s]", id="stop", variant="error")
                yield Button("Cancel [esc]", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(str(event.button.id))

    def action_answer(self, value: str) -> None:
        self.dismiss(value)
