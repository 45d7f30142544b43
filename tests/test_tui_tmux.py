"""End to end in a real terminal: `sigdae tui` under tmux starts a run, is killed (as when an SSH
connection drops), training goes on, and a new `sigdae tui` re-attaches to the run.

tmux is required (CI installs it with `apt-get install -y tmux`); without it this test fails.
"""

import torch

torch.set_num_threads(1)

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from sigdae.tui import runs as runs_mod  # noqa: E402

SIGDAE = Path(sys.executable).parent / "sigdae"


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
        for key in keys:  # one at a time, as typed, so none is lost while the app is busy
            self("send-keys", "-t", "main", key)
            time.sleep(0.1)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.screen())
            if found:
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"no {pattern!r} on the terminal within {timeout}s; it shows:\n{self.screen()}")
            time.sleep(0.3)

    def kill(self) -> None:
        self("kill-server")


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: the end-to-end TUI test needs it (apt-get install -y tmux)")
    server = Tmux(f"sigdae-test-{os.getpid()}")
    yield server
    server.kill()
    for run in runs_mod.scan_runs(tmp_path / "runs"):
        if run.live and run.pid:
            os.kill(run.pid, signal.SIGKILL)


def epochs_logged(run_dir: Path) -> int:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return sum(json.loads(line)["type"] == "epoch" for line in lines if line.strip())


def test_tui_in_tmux_survives_a_dropped_terminal(tmp_path, tmux):
    runs_dir = tmp_path / "runs"
    command = f"cd {tmp_path} && {SIGDAE} tui --runs-dir {runs_dir}"
    tmux.start(command)
    tmux.wait_for(r"No runs in", 20)

    tmux.keys("n")
    tmux.wait_for(r"p: float = 1.0", 60)  # the corruption help: the form is built and checked
    # focus order: name, task, recipe, epochs, steps/epoch, batch, lr, time budget, train images, val images
    tmux.keys("C-u", *"e2e", "Tab", "Tab")
    # a field selects its text when focus arrives; typing at machine speed can beat that under load, so
    # pause after each Tab, as a person does
    for tabs, value in ((1, "200"), (1, "4"), (1, "32"), (3, "512"), (1, "256")):
        tmux.keys(*["Tab"] * tabs)
        time.sleep(0.5)
        tmux.keys(*value)
    form = tmux.wait_for(r"Val images \(0=all\)\s+256", 10).string
    assert re.search(r"Run name\s+e2e", form) or "e2e" in form
    tmux.keys("C-s")

    run_dir = runs_dir / "e2e"
    seen = tmux.wait_for(r"epoch ([1-9]\d*)/200", 120)
    config = (run_dir / "config.toml").read_text()
    for setting in ("epochs = 200", "steps_per_epoch = 4", "batch_size = 32", "limit = 512", "val_limit = 256"):
        assert setting in config, f"{setting!r} not in config.toml:\n{config}"
    assert "samples/s" in seen.string

    tmux.kill()  # the terminal goes away, as when the SSH connection drops
    at_kill = epochs_logged(run_dir)
    deadline = time.monotonic() + 60
    while epochs_logged(run_dir) < at_kill + 2:
        assert time.monotonic() < deadline, "training did not go on after the TUI was killed"
        time.sleep(0.5)
    assert runs_mod.load_run(run_dir).status == "running"

    before_attach = epochs_logged(run_dir)
    tmux.start(command)  # a new session re-attaches
    tmux.wait_for(r"e2e\s+running", 20)
    tmux.keys("Enter")
    attached = tmux.wait_for(r"epoch (\d+)/200", 20)
    assert int(attached.group(1)) >= at_kill + 2
    # the log is rebuilt from events.jsonl: epochs logged before the TUI came back are shown too
    # (which ones depends on how far training got: the panel keeps the latest lines)
    shown = [int(k) for k in re.findall(r"epoch (\d+)/200\s+train", attached.string)]
    assert any(k <= before_attach for k in shown), "the history before the reconnect is shown too"
    tmux.keys("s")
    tmux.wait_for(r"e2e\s+stopped", 60)
    assert runs_mod.load_run(run_dir).status == "stopped"
