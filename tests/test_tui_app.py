"""The TUI driven with Textual's Pilot through each screen's main path, with real training processes."""

import torch

torch.set_num_threads(1)

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from textual.widgets import DataTable, Static  # noqa: E402

from sigdae.tui import runs as runs_mod  # noqa: E402
from sigdae.tui.app import SigdaeApp  # noqa: E402

pytestmark = pytest.mark.asyncio
SIZE = (100, 40)


def shown(widget) -> str:
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


def screen_text(app) -> str:
    return "\n".join(f"#{w.id}: {shown(w)}" for w in app.screen.query(Static) if w.id)


async def wait_for(pilot, condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}; screen shows:\n{screen_text(pilot.app)}")
        await pilot.pause(0.2)


async def type_into(pilot, selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector).focus()
    await pilot.press("end", "ctrl+u", *text)


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture
def runs_dir(tmp_path):
    """A runs directory; any training process still alive at the end is stopped."""
    root = tmp_path / "runs"
    root.mkdir()
    yield root
    for run in runs_mod.scan_runs(root):
        if run.live and run.pid:
            os.kill(run.pid, signal.SIGKILL)


@pytest.fixture
def sleeper():
    """A live process whose command line says sigdae (what the TUI takes for a training process)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "sigdae-test-run"])
    yield proc
    proc.kill()
    proc.wait()


async def test_new_run_watch_stop_resume_preview(runs_dir):
    app = SigdaeApp(runs_dir, preload=False)
    async with app.run_test(size=SIZE) as pilot:
        assert "No runs" in shown(app.screen.query_one("#run-detail"))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query("#name"), 60, "the new-run form")
        await type_into(pilot, "#name", "tiny")
        # bad input: an inline message, and ctrl+s does not start anything
        await type_into(pilot, "#epochs", "ten")
        await pilot.pause(0.5)
        assert "epochs must be a whole number" in shown(app.screen.query_one("#epochs-error"))
        await pilot.press("ctrl+s")
        assert not (runs_dir / "tiny").exists()
        # 100 epochs of 4 steps so that the stop below lands mid-run
        for selector, text in (("#epochs", "100"), ("#steps_per_epoch", "4"), ("#batch_size", "32"),
                               ("#limit", "512"), ("#val_limit", "256"), ("#corruption", "gaussian(std=0.4, clip=true)")):
            await type_into(pilot, selector, text)
        await pilot.pause(0.5)
        assert "ready" in shown(app.screen.query_one("#form-status"))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunScreen", 10, "the run view")
        run_dir = runs_dir / "tiny"
        config = (run_dir / "config.toml").read_text()
        assert "epochs = 100" in config and "limit = 512" in config and "gaussian(std=0.4, clip=true)" in config

        # progress arrives from the separate training process
        await wait_for(pilot, lambda: app.screen.state.epoch >= 1, 120, "the first epoch")
        stats = shown(app.screen.query_one("#run-stats"))
        assert "/100" in stats and "samples/s" in stats
        assert "epoch 1/100" in shown(app.screen.query_one("#run-log"))
        assert "tiny" in shown(app.screen.query_one("#run-title"))
        assert app.screen.query_one("#loss-plot").series[0].ys, "the loss curve has points"

        await pilot.press("s")
        await wait_for(pilot, lambda: "stopped" in shown(app.screen.query_one("#run-title")), 60, "the stop")
        stopped_at = app.screen.state.epoch
        assert (run_dir / "last.pt").exists()
        assert events(run_dir)[-1]["type"] == "end" and events(run_dir)[-1]["status"] == "stopped"

        await pilot.press("r")
        await wait_for(pilot, lambda: any(e["type"] == "start" and e.get("resumed_from_epoch") for e in events(run_dir)),
                       60, "the resumed process to start")
        await wait_for(pilot, lambda: "resumed at epoch" in shown(app.screen.query_one("#run-log")), 5, "the log")
        await wait_for(pilot, lambda: app.screen.state.epoch > stopped_at, 120, "an epoch after the resume")
        assert "running" in shown(app.screen.query_one("#run-title"))

        await pilot.press("p")
        await wait_for(pilot, lambda: "PSNR" in shown(app.screen.query_one("#preview-picture")), 20, "the preview")
        picture = shown(app.screen.query_one("#preview-picture"))
        assert "clean" in picture and "noisy  PSNR" in picture and "denoised  PSNR" in picture
        # the headless test terminal has no colour, so shade characters come first; m switches to half blocks
        assert "shade" in shown(app.screen.query_one("#preview-title"))
        assert "░" in picture and "▀" not in picture
        await pilot.press("m")
        assert "color" in shown(app.screen.query_one("#preview-title"))
        assert "▀" in shown(app.screen.query_one("#preview-picture"))

        await pilot.press("escape", "s")
        await wait_for(pilot, lambda: "stopped" in shown(app.screen.query_one("#run-title")), 60, "the second stop")
        await pilot.press("escape")
        await pilot.pause(0.3)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        assert [str(c) for c in table.get_row_at(0)][:2] == ["tiny", "stopped"]


def write_run(run_dir: Path, status: str, pid: int | None = None, **extra) -> None:
    run_dir.mkdir(parents=True)
    info = {"status": status, "pid": pid or 0, "host": os.uname().nodename, "task": "mnist", "model": "conv",
            "corruption": "gaussian(std=0.3)", "device": "cpu", "updated": time.time() - 60, **extra}
    (run_dir / "run.json").write_text(json.dumps(info))


async def test_delete_needs_confirmation_and_quit_leaves_training_running(runs_dir, sleeper):
    write_run(runs_dir / "old", "finished", epoch=3, best=20.5, monitor="psnr")
    write_run(runs_dir / "live", "running", pid=sleeper.pid)
    app = SigdaeApp(runs_dir, preload=False)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert rows == {"old": "finished", "live": "running"}
        names = [r.name for r in app.screen.runs]
        table.move_cursor(row=names.index("live"))
        await pilot.press("d")  # a running run is not deleted
        assert (runs_dir / "live").exists()
        table.move_cursor(row=names.index("old"))
        await pilot.press("d")
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("n")
        assert (runs_dir / "old").exists()
        await pilot.press("d", "y")
        await pilot.pause(0.2)
        assert not (runs_dir / "old").exists() and table.row_count == 1

        await pilot.press("q")
        assert type(app.screen).__name__ == "QuitDialog"
        assert "live" in " ".join(shown(w) for w in app.screen.query("Label"))
        await pilot.press("escape")
        assert app.is_running and type(app.screen).__name__ == "RunsScreen"
        await pilot.press("q", "l")
        await pilot.pause(0.2)
    assert sleeper.poll() is None, "leaving the TUI does not touch the training process"
    assert not (runs_dir / "live" / "STOP").exists()


async def test_playground_validates_and_shows_the_effect(runs_dir):
    app = SigdaeApp(runs_dir, preload=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await wait_for(pilot, lambda: app.screen.query("#param-std"), 60, "the playground")
        await wait_for(pilot, lambda: "gaussian(" in shown(app.screen.query_one("#spec")), 20, "the first effect")
        assert "░" in shown(app.screen.query_one("#effect"))  # no colour in the test terminal: shades
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "▀" in shown(app.screen.query_one("#effect")), 20, "half blocks")
        assert any("noise standard deviation" in shown(w) for w in app.screen.query(".help"))
        await type_into(pilot, "#param-std", "-2")
        await wait_for(pilot, lambda: "out of range" in shown(app.screen.query_one("#spec")), 20, "the range error")
        await type_into(pilot, "#param-std", "0.5")
        await wait_for(pilot, lambda: app.screen.spec == "gaussian(std=0.5)", 20, "the new spec")
        assert "corrupted" in shown(app.screen.query_one("#effect"))
        await pilot.press("ctrl+y")
        assert any("gaussian(std=0.5)" in str(n.message) for n in app._notifications)


def write_audio_run(run_dir: Path, seconds: float = 1.0, rate: int = 16000) -> dict:
    """A finished speech run whose preview.npz holds a tone, the tone in noise and a cleaner copy."""
    write_run(run_dir, "finished", task="speech-wave", epoch=2, best=9.5, monitor="si_sdr")
    t = np.arange(int(seconds * rate)) / rate
    clean = (0.5 * np.sin(2 * np.pi * 440 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    noise = np.random.default_rng(0).standard_normal(t.size).astype(np.float32)
    arrays = {"clean": clean, "noisy": clean + 0.3 * noise, "denoised": clean + 0.03 * noise}
    np.savez(run_dir / "preview.npz", **{k: v.reshape(1, 1, -1) for k, v in arrays.items()}, epoch=2,
             signal="waveform", sample_rate=rate)
    (run_dir / "events.jsonl").write_text(json.dumps(
        {"type": "end", "time": time.time(), "status": "finished", "epoch": 2, "step": 10}) + "\n")
    return arrays


async def open_preview(pilot, app) -> None:
    await pilot.press("enter")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "RunScreen", 10, "the run view")
    await pilot.press("p")
    await wait_for(pilot, lambda: getattr(app.screen, "preview", None) is not None, 20, "the preview")
    await pilot.pause(0.2)


async def test_audio_preview_shows_spectrograms_and_writes_wavs(runs_dir):
    import soundfile

    from sigdae.tui.render import si_sdr

    arrays = write_audio_run(runs_dir / "speech")
    app = SigdaeApp(runs_dir, preload=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_preview(pilot, app)
        title = shown(app.screen.query_one("#preview-title"))
        assert "epoch 2" in title and "audio, 16000 Hz" in title and "text" in title
        picture = shown(app.screen.query_one("#preview-picture"))
        lines = picture.splitlines()
        noisy_db, denoised_db = si_sdr(arrays["noisy"], arrays["clean"]), si_sdr(arrays["denoised"], arrays["clean"])
        assert denoised_db > noisy_db + 10
        labels = [line for line in lines if not set(line) <= set(" ░▒▓█▀")]
        assert labels == [f"noisy  SI-SDR {noisy_db:.2f} dB", "clean",
                          f"denoised  SI-SDR {denoised_db:.2f} dB ({denoised_db - noisy_db:+.2f})"]
        # three spectrograms of equal height; with their labels they fit the 80x24 screen
        rows = [i for i, line in enumerate(lines) if line in labels] + [len(lines)]
        heights = {b - a - 1 for a, b in zip(rows, rows[1:])}
        assert len(heights) == 1 and heights.pop() >= 3
        body = app.screen.query_one("#preview-body")
        assert len(lines) <= body.content_region.height
        assert all(len(line) <= 76 for line in lines)
        # the tone is a bright band low in the clean spectrogram, the noise fills the noisy one
        assert "▓" in picture or "█" in picture

        await pilot.press("g")  # no graphics protocol in a headless app: text stays, with a reason
        assert app.screen.renderer == "text"
        assert any("text only" in str(n.message) for n in app._notifications)

        await pilot.press("w")
        await pilot.pause(0.2)
        assert any("wrote 3 WAV files" in str(n.message) for n in app._notifications)
    wavs = sorted((runs_dir / "speech" / "preview-wav").glob("*.wav"))
    assert [w.name for w in wavs] == ["epoch002-clean.wav", "epoch002-denoised.wav", "epoch002-noisy.wav"]
    for wav in wavs:
        data, rate = soundfile.read(str(wav), dtype="float32")
        assert rate == 16000 and data.shape == (16000,)
        name = wav.stem.split("-", 1)[1]
        assert np.abs(data - np.clip(arrays[name], -1, 1)).max() < 1e-3


async def test_preview_draws_through_a_graphics_protocol_when_asked(runs_dir):
    """Forced Sixel (auto never picks graphics in a headless app): three textual-image pictures
    sized to whole cells inside the 80x24 screen; g goes back to text and leaving frees them."""
    from textual_image.widget import SixelImage

    write_audio_run(runs_dir / "speech")
    app = SigdaeApp(runs_dir, preload=False, graphics="sixel")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_preview(pilot, app)
        screen = app.screen
        assert screen.renderer == "graphics" and "graphics (sixel)" in shown(screen.query_one("#preview-title"))
        assert not screen.query_one("#preview-picture").display
        body = screen.query_one("#preview-body").content_region
        pictures = screen._pictures
        assert [shown(label).split()[0] for label, _ in pictures] == ["noisy", "clean", "denoised"]
        for _, picture in pictures:
            assert isinstance(picture, SixelImage) and picture.image is not None
            assert body.contains_region(picture.region), (picture.region, body)
        await pilot.press("g")
        assert screen.renderer == "text" and screen.query_one("#preview-picture").display
        assert "SI-SDR" in shown(screen.query_one("#preview-picture"))
        assert all(picture.image is None for _, picture in pictures)
        await pilot.press("g", "escape")
        await pilot.pause(0.2)
        assert all(picture.image is None for _, picture in pictures)
