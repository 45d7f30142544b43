"""End to end in a real terminal: `sigdae tui` under tmux starts a run, is killed (as when an SSH
connection drops), training goes on, and a new `sigdae tui` re-attaches to the run.

tmux is required (CI installs it with `apt-get install -y tmux`); without it this test fails.
"""

import torch

torch.set_num_threads(1)

import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from tui_waiting import poll, wait_until  # noqa: E402

from sigdae.runs import RunDir, load_run, read_events, scan_runs  # noqa: E402

SIGDAE = Path(sys.executable).parent / "sigdae"
FOCUS_ROUND = 24  # Tabs that take the focus round the whole run form


class Tmux:
    """A private tmux server (its own socket) holding one session that runs a command."""

    def __init__(self, socket: str):
        self.socket = socket

    def __call__(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        return out.stdout

    def start(self, command: str) -> None:
        # `; sleep` keeps the pane (and any traceback in it) readable if the TUI dies
        self("new-session", "-d", "-s", "main", "-x", "100", "-y", "30", f"{command}; sleep 600")

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "main")

    def keys(self, *keys: str) -> None:
        for key in keys:  # one at a time, as typed
            self("send-keys", "-t", "main", key)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        return wait_until(lambda: re.search(pattern, self.screen()), timeout, f"{pattern!r} on the terminal",
                          shows=self.screen, poll_s=0.2)

    def cursor_line(self) -> str:
        """The line the terminal's cursor is on (a text field puts it there when it gets the focus)."""
        row = int(self("display-message", "-p", "-t", "main", "#{cursor_y}").strip() or 0)
        lines = self.screen().splitlines()
        return lines[row] if row < len(lines) else ""

    def field_line(self, label: str) -> str:
        return next((line.strip() for line in self.screen().splitlines() if line.strip().startswith(label)), "")

    def retype(self, label: str, value: str) -> None:
        """Clear the focused field ``label``, type ``value`` and wait until the form shows it.

        Keys bound to actions (Tab, Ctrl+U) take effect after the characters typed right behind them, so
        each waits for its effect before the next keys go."""
        self.keys("C-u")
        wait_until(lambda: self.field_line(label) == label, 30, f"{label} to be cleared", shows=self.screen)
        self.keys(*value)
        self.wait_for(rf"{re.escape(label)}\s+{re.escape(value)}\b", 30)

    def fill(self, label: str, tabs: int, value: str) -> None:
        """Tab ``tabs`` times to the field ``label``, then type ``value`` over its text.

        A Tab can still be in flight (or be taken before the field it should leave) on a loaded machine;
        when the focus has not reached ``label`` after a while, it goes on round the form until it does."""
        self.keys(*["Tab"] * tabs)
        for _ in range(FOCUS_ROUND):
            if poll(lambda: self.cursor_line().strip().startswith(label), 10, poll_s=0.1):
                return self.retype(label, value)
            self.keys("Tab")
        pytest.fail(f"the focus never reached {label}; the terminal shows:\n{self.screen()}")

    def kill(self) -> None:
        self("kill-server")


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: the end-to-end TUI test needs it (apt-get install -y tmux)")
    server = Tmux(f"sigdae-test-{os.getpid()}")
    yield server
    server.kill()
    for run in scan_runs(tmp_path / "runs"):
        if run.live and run.pid:
            os.kill(run.pid, signal.SIGKILL)


def epochs_logged(run_dir: Path) -> int:
    return sum(event["type"] == "epoch" for event in read_events(RunDir(run_dir).events_file))


def test_tui_in_tmux_survives_a_dropped_terminal(tmp_path, tmux):
    runs_dir = tmp_path / "runs"
    command = f"cd {tmp_path} && {SIGDAE} tui --runs-dir {runs_dir}"
    tmux.start(command)
    tmux.wait_for(r"No runs in", 60)

    tmux.keys("n")
    tmux.wait_for(r"p: float = 1.0", 60)  # the corruption help: the form is built and checked
    # focus order: name, task, recipe, epochs, steps/epoch, batch, lr, time budget, train images, val images
    tmux.retype("Run name", "e2e")  # the name field has the focus when the form opens
    tmux.keys("Tab", "Tab")
    for tabs, label, value in ((1, "Epochs", "200"), (1, "Steps/epoch (0=all)", "4"), (1, "Batch size", "32"),
                               (3, "Train images (0=all)", "512"), (1, "Val images (0=all)", "256")):
        tmux.fill(label, tabs, value)
    form = tmux.wait_for(r"Val images \(0=all\)\s+256", 30).string
    assert re.search(r"Run name\s+e2e", form) or "e2e" in form
    tmux.keys("C-s")

    run_dir = runs_dir / "e2e"
    seen = tmux.wait_for(r"epoch ([1-9]\d*)/200", 120)
    config = RunDir(run_dir).config_file.read_text()
    for setting in ("epochs = 200", "steps_per_epoch = 4", "batch_size = 32", "limit = 512", "val_limit = 256"):
        assert setting in config, f"{setting!r} not in config.toml:\n{config}"
    assert "samples/s" in seen.string

    tmux.kill()  # the terminal goes away, as when the SSH connection drops
    at_kill = epochs_logged(run_dir)
    wait_until(lambda: epochs_logged(run_dir) >= at_kill + 2, 60, "training to go on after the TUI was killed",
               poll_s=0.2)
    assert load_run(run_dir).status == "running"

    before_attach = epochs_logged(run_dir)
    tmux.start(command)  # a new session re-attaches
    tmux.wait_for(r"e2e\s+running", 60)
    tmux.keys("Enter")
    attached = tmux.wait_for(r"epoch (\d+)/200", 60)
    assert int(attached.group(1)) >= at_kill + 2
    # the log is rebuilt from events.jsonl: epochs logged before the TUI came back are shown too
    # (which ones depends on how far training got: the panel keeps the latest lines)
    shown = [int(k) for k in re.findall(r"epoch (\d+)/200\s+train", attached.string)]
    assert any(k <= before_attach for k in shown), "the history before the reconnect is shown too"
    tmux.keys("s")
    tmux.wait_for(r"e2e\s+stopped", 60)
    assert load_run(run_dir).status == "stopped"
