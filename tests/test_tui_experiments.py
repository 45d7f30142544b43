"""The TUI's experiments view: experiment folders (``sigdae.tui.experiment_folders``) and the screen driven
with Textual's Pilot, on experiment folders written here, and experiments started as real processes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from textual.widgets import Checkbox, DataTable, Input, Select, Static
from tui_waiting import until, wait_until

from sigdae.experiments.report import Report
from sigdae.runs import pid_alive
from sigdae.tui import experiment_folders as folders
from sigdae.tui.app import SigdaeApp

SIZE = (100, 40)


def shown(widget) -> str:
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


def report_shown(app) -> str:
    return "\n".join(shown(w) for w in app.screen.query("#experiment-report Static"))


def screen_text(app) -> str:
    return "\n".join(f"#{w.id}: {shown(w)}" for w in app.screen.query(Static) if w.id) + "\n" + report_shown(app)


def write_experiment(folder: Path, seconds: float = 96.0) -> Path:
    """An anomaly-like report with a table and two figures, written the way `sigdae experiment` writes it."""
    report = Report(folder, "Experiment: anomaly", "sigdae experiment anomaly")
    report.text("A dense DAE trained on the digits 0-4 only; the held-out digits are the anomalies.")
    report.table(["held-out digit", "AUC", "images"], [["5", 0.873, 892], ["all | held out", 0.784, 4861]])
    report.text("Mean AUC over the held-out classes: **0.787**.")
    red = np.zeros((60, 100, 3), dtype=np.uint8)
    red[..., 0] = 220
    Image.fromarray(red).save(report.path("roc.png"))
    report.figure(report.path("roc.png"), "ROC curve of each held-out digit.")
    stripes = np.zeros((40, 120, 3), dtype=np.uint8)
    stripes[:, ::2] = 255
    Image.fromarray(stripes).save(report.path("errors.png"))
    report.figure(report.path("errors.png"), "Distribution of the reconstruction error.")
    report.write({"experiment": "anomaly", "size": "full", "seconds": seconds})
    return folder


@pytest.fixture
def dirs(tmp_path):
    """(runs dir, experiments dir); any experiment process still running at the end is killed."""
    (tmp_path / "runs").mkdir()
    root = tmp_path / "experiments"
    root.mkdir()
    yield tmp_path / "runs", root
    for found in folders.scan_experiments(root):
        if found.live and found.pid:
            os.killpg(found.pid, signal.SIGKILL)


def write_launch(folder: Path, **fields) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / folders.LAUNCH_FILE).write_text(json.dumps({"experiment": "pca", "size": "quick", "host": os.uname().nodename,
                                                          "started": time.time(), **fields}))


# --- folders ----------------------------------------------------------------------------------------------

def test_report_blocks_read_back_what_report_writes(tmp_path):
    folder = write_experiment(tmp_path / "anomaly")
    blocks = folders.report_blocks((folder / "report.md").read_text())
    assert [b.kind for b in blocks] == ["heading", "code", "text", "table", "text", "figure", "figure"]
    assert blocks[0].text == "Experiment: anomaly" and blocks[1].text == "sigdae experiment anomaly"
    table = blocks[3]
    assert table.rows == (("held-out digit", "AUC", "images"), ("5", "0.873", "892"),
                          ("all | held out", "0.784", "4861"))
    assert table.right == (False, True, True)
    assert blocks[4].text == "Mean AUC over the held-out classes: 0.787."
    assert [(b.file, b.text) for b in blocks[5:7]] == [("roc.png", "ROC curve of each held-out digit."),
                                                       ("errors.png", "Distribution of the reconstruction error.")]
    lines = folders.table_lines(table)
    assert lines[0] == "held-out digit    AUC  images"
    assert lines[2] == "5               0.873     892"
    assert lines[3] == "all | held out  0.784    4861"


def test_status_of_experiment_folders(tmp_path, live_pid):
    dead = subprocess.Popen([sys.executable, "-c", "pass", "sigdae-test-run"])
    dead.wait()
    write_experiment(tmp_path / "from-the-cli")
    write_launch(tmp_path / "running", pid=live_pid)
    write_launch(tmp_path / "died", pid=dead.pid)
    write_launch(tmp_path / "stopped", pid=dead.pid, stopped=True)
    write_launch(tmp_path / "done", pid=dead.pid, started=time.time() - 60)
    write_experiment(tmp_path / "done")
    (tmp_path / "not-an-experiment").mkdir()
    (tmp_path / "a-file.txt").write_text("x")

    found = {f.name: f for f in folders.scan_experiments(tmp_path)}
    assert set(found) == {"from-the-cli", "running", "died", "stopped", "done"}
    assert {name: f.status for name, f in found.items()} == {
        "from-the-cli": "finished", "running": "running", "died": "failed", "stopped": "stopped", "done": "finished"}
    assert found["running"].live and found["running"].pid == live_pid and found["running"].experiment == "pca"
    done = found["done"]
    assert (done.experiment, done.size, done.seconds, done.figures) == ("anomaly", "full", 96.0, ("roc.png", "errors.png"))
    assert folders.scan_experiments(tmp_path / "missing") == []


def test_folder_names_and_commands(tmp_path):
    write_experiment(tmp_path / "anomaly")
    (tmp_path / "empty").mkdir()
    assert folders.check_folder_name(tmp_path, "pca-quick") is None
    assert folders.check_folder_name(tmp_path, "empty") is None
    assert "already holds files" in folders.check_folder_name(tmp_path, "anomaly")
    assert "no spaces or slashes" in folders.check_folder_name(tmp_path, "a/b")
    assert folders.check_folder_name(tmp_path, "")
    assert folders.default_folder_name("pca", True) == "pca-quick" and folders.default_folder_name("pca", False) == "pca"
    assert folders.experiment_command("pca", tmp_path / "x", True) == [
        sys.executable, "-m", "sigdae.cli", "experiment", "pca", "--out", str(tmp_path / "x"), "--quick"]


# --- the screen -------------------------------------------------------------------------------------------

async def open_experiments(pilot, app) -> None:
    await pilot.press("e")
    await until(pilot, lambda: type(app.screen).__name__ == "ExperimentsScreen", 10, "the experiments view")


@pytest.mark.asyncio
async def test_experiments_view_lists_folders_and_shows_report_and_figures_as_text(dirs):
    runs_dir, root = dirs
    write_launch(root / "broken", experiment="vae-samples", pid=999_999_999)
    (root / "broken" / folders.LOG_FILE).write_text("training VAE\nTraceback (most recent call last):\nValueError: boom\n")
    for name in os.listdir(root / "broken"):
        os.utime(root / "broken" / name, (time.time() - 3600,) * 2)
    write_experiment(root / "anomaly")
    app = SigdaeApp(runs_dir, preload=False, experiments_dir=root)
    async with app.run_test(size=SIZE) as pilot:
        await open_experiments(pilot, app)
        screen = app.screen
        await until(pilot, lambda: "0.873" in report_shown(app), 10, "the report", shows=lambda: screen_text(app))
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        rows = {str(table.get_row_at(i)[0]): [str(c) for c in table.get_row_at(i)] for i in range(2)}
        assert rows["anomaly"][1:6] == ["anomaly", "full", "finished", "01:36", "2"]
        assert rows["broken"][1:4] == ["vae-samples", "quick", "failed"]
        text = report_shown(app)
        assert "sigdae experiment anomaly" in text and "Mean AUC over the held-out classes: 0.787." in text
        assert "held-out digit    AUC  images" in text and "all | held out  0.784    4861" in text
        assert "![" not in text, "figures are drawn, not shown as markdown"
        captions = [shown(w) for w in screen.query(".figure-caption")]
        assert captions == ["ROC curve of each held-out digit.", "Distribution of the reconstruction error."]
        pictures = list(screen.query(".figure-text"))
        assert len(pictures) == 2
        # the headless test terminal has no colour: shade characters first, m switches to half blocks
        assert set(shown(pictures[0])) <= set(" ░▒▓█\n")
        await pilot.press("m")
        roc = screen.query(".figure-text").first().content
        # 100x60 px shrunk to the 96 cells the body has, one pixel a cell across and two down
        assert set(roc.plain) <= {"▀", "\n"} and [len(line) for line in roc.plain.splitlines()] == [96] * 29
        assert any(span.style.color and span.style.color.triplet == (220, 0, 0) for span in roc.spans)

        table.focus()
        await pilot.press("down")
        await until(pilot, lambda: "ValueError: boom" in report_shown(app), 10, "the failed experiment's log")
        assert not list(screen.query(".figure-text"))
        assert "failed" in shown(screen.query_one("#experiment-detail"))
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ == "RunsScreen", 10, "the runs list")


@pytest.mark.asyncio
async def test_experiment_figures_through_a_graphics_protocol_when_asked(dirs):
    from textual_image.widget import SixelImage

    runs_dir, root = dirs
    write_experiment(root / "anomaly")
    app = SigdaeApp(runs_dir, preload=False, graphics="sixel", experiments_dir=root)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiments(pilot, app)
        screen = app.screen
        await until(pilot, lambda: len(screen._pictures) == 2, 10, "the figures", shows=lambda: screen_text(app))
        await pilot.pause()
        for picture in screen._pictures:
            assert isinstance(picture, SixelImage) and picture.image is not None
            assert picture.region.width <= 76 and picture.region.height <= 16
        await pilot.press("g")
        assert screen.renderer == "text" and len(list(screen.query(".figure-text"))) == 2
        pictures = screen._pictures
        assert all(picture.image is None for picture in pictures), "leaving graphics frees the images"


@pytest.mark.asyncio
async def test_start_an_experiment_process_and_stop_it(dirs):
    runs_dir, root = dirs
    app = SigdaeApp(runs_dir, preload=False, experiments_dir=root)
    async with app.run_test(size=SIZE) as pilot:
        await open_experiments(pilot, app)
        assert "No experiments in" in shown(app.screen.query_one("#experiment-detail"))
        await pilot.press("n")
        await until(pilot, lambda: type(app.screen).__name__ == "StartExperimentDialog", 10, "the dialog")
        dialog = app.screen
        assert dialog.query_one("#experiment-folder", Input).value == "noise-sweep-quick"
        dialog.query_one("#experiment-name", Select).value = "pca"
        await pilot.pause()
        assert dialog.query_one("#experiment-folder", Input).value == "pca-quick"
        dialog.query_one("#experiment-quick", Checkbox).value = False
        await pilot.pause()
        assert dialog.query_one("#experiment-folder", Input).value == "pca"
        dialog.query_one("#experiment-quick", Checkbox).value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        screen = app.screen
        await until(pilot, lambda: type(screen).__name__ == "ExperimentsScreen" and screen.folders, 10,
                    "the started experiment", shows=lambda: screen_text(app))
        started = screen.folders[0]
        assert (started.name, started.experiment, started.size, started.status) == ("pca-quick", "pca", "quick", "running")
        command = Path(f"/proc/{started.pid}/cmdline").read_bytes().split(b"\0")
        assert command[1:] == [b"-m", b"sigdae.cli", b"experiment", b"pca", b"--out", str(root / "pca-quick").encode(),
                               b"--quick", b""]
        assert os.getsid(started.pid) == started.pid, "it runs in its own session, so it outlives the TUI"
        assert "running" in shown(screen.query_one("#experiment-detail"))
        await pilot.press("s")
        await until(pilot, lambda: screen.folders and screen.folders[0].status == "stopped", 20, "the stop",
                    shows=lambda: screen_text(app))
        assert not pid_alive(started.pid)


@pytest.mark.asyncio
async def test_a_finished_experiment_shows_its_report(dirs, monkeypatch):
    """The view follows a launched experiment to the end; a stand-in process writes its report."""
    runs_dir, root = dirs
    go = root.parent / "go"
    script = ("import sys, time; from pathlib import Path\n"
              "while not Path(sys.argv[3]).exists(): time.sleep(0.05)\n"
              "sys.path.insert(0, sys.argv[1]); from test_tui_experiments import write_experiment\n"
              "write_experiment(Path(sys.argv[2]), seconds=3.0)")
    monkeypatch.setattr(folders, "experiment_command", lambda name, out, quick: [
        sys.executable, "-c", script, str(Path(__file__).parent), str(out), str(go), "sigdae-test-experiment"])
    pid = folders.launch_experiment("anomaly", root / "anomaly")
    app = SigdaeApp(runs_dir, preload=False, experiments_dir=root)
    async with app.run_test(size=SIZE) as pilot:
        await open_experiments(pilot, app)
        screen = app.screen
        assert screen.folders[0].status == "running"
        go.touch()
        await until(pilot, lambda: "0.873" in report_shown(app), 20,
                    "the finished report", shows=lambda: screen_text(app))
        assert screen.folders[0].status == "finished" and screen.folders[0].seconds == 3.0
    wait_until(lambda: not pid_alive(pid), 10, "the stand-in process to end")


def test_sigdae_tui_takes_an_experiments_folder(monkeypatch):
    import sigdae.tui.app
    from sigdae.cli.program import main

    calls = []
    monkeypatch.setattr(sigdae.tui.app, "run", lambda **kwargs: calls.append(kwargs) or 0)
    assert main(["tui", "--runs-dir", "r", "--experiments-dir", "e"]) == 0
    assert main(["tui"]) == 0
    assert calls == [{"runs_dir": "r", "experiments_dir": "e"}, {"runs_dir": "runs", "experiments_dir": None}]
    assert SigdaeApp("somewhere/runs").experiments_dir == Path("somewhere/experiments")
    assert SigdaeApp("runs", experiments_dir="e").experiments_dir == Path("e")
