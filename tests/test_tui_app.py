"""The TUI driven with Textual's Pilot through each screen's main path, with real training processes."""

import torch

torch.set_num_threads(1)

import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from textual.widgets import DataTable, Select, Static  # noqa: E402
from tui_waiting import until  # noqa: E402

from sigdae.runs import Preview, RunDir, RunStatus, read_events, scan_runs  # noqa: E402
from sigdae.tui.app import SigdaeApp  # noqa: E402

pytestmark = pytest.mark.asyncio
SIZE = (100, 40)


def shown(widget) -> str:
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


def screen_text(app) -> str:
    return "\n".join(f"#{w.id}: {shown(w)}" for w in app.screen.query(Static) if w.id)


async def wait_for(pilot, condition, timeout: float, what: str) -> None:
    await until(pilot, condition, timeout, what, shows=lambda: screen_text(pilot.app))


async def type_into(pilot, selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector).focus()
    await pilot.press("end", "ctrl+u", *text)


def events(run_dir: Path) -> list[dict]:
    return list(read_events(RunDir(run_dir).events_file))


@pytest.fixture
def runs_dir(tmp_path):
    """A runs directory; any training process still alive at the end is stopped."""
    root = tmp_path / "runs"
    root.mkdir()
    yield root
    for run in scan_runs(root):
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
        await wait_for(pilot, lambda: "epochs" in app.screen.errors, 10, "the epochs message")
        assert "epochs must be a whole number" in shown(app.screen.query_one("#epochs-error"))
        await pilot.press("ctrl+s")
        assert not (runs_dir / "tiny").exists()
        # 100 epochs of 4 steps so that the stop below lands mid-run
        for selector, text in (("#epochs", "100"), ("#steps_per_epoch", "4"), ("#batch_size", "32"),
                               ("#limit", "512"), ("#val_limit", "256"), ("#corruption", "gaussian(std=0.4, clip=true)")):
            await type_into(pilot, selector, text)
        await wait_for(pilot, lambda: app.screen.config.get("corruption", {}).get("spec") == "gaussian(std=0.4, clip=true)",
                       10, "the form to check the last field")
        assert "ready" in shown(app.screen.query_one("#form-status"))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunScreen", 10, "the run view")
        run_dir = runs_dir / "tiny"
        config = RunDir(run_dir).config_file.read_text()
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
        assert RunDir(run_dir).last_checkpoint.exists()
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
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunsScreen", 10, "the runs list")
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 1 and str(table.get_row_at(0)[1]) == "stopped", 10,
                       "the stopped run in the list")
        assert table.row_count == 1
        assert [str(c) for c in table.get_row_at(0)][:2] == ["tiny", "stopped"]


def write_run(run_dir: Path, status: str, pid: int | None = None, **extra) -> RunDir:
    run = RunDir(run_dir)
    run.create(exist_ok=False)
    info = {"status": status, "pid": pid or 0, "host": os.uname().nodename, "task": "mnist", "model": "conv",
            "corruption": "gaussian(std=0.3)", "device": "cpu", "updated": time.time() - 60, **extra}
    run.write_status(RunStatus(**info))
    return run


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
        await pilot.press("d")
        assert app.screen.focused.id == "no", "the dialog's default answer keeps the run"
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunsScreen", 10, "the runs list")
        assert (runs_dir / "old").exists()
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: table.row_count == 1, 10, "the deleted run to leave the list")
        assert not (runs_dir / "old").exists() and table.row_count == 1

        await pilot.press("q")
        assert type(app.screen).__name__ == "QuitDialog"
        assert "live" in " ".join(shown(w) for w in app.screen.query("Label"))
        await pilot.press("escape")
        assert app.is_running and type(app.screen).__name__ == "RunsScreen"
        await pilot.press("q", "l")
        await wait_for(pilot, lambda: app.return_code is not None, 10, "the app to exit")
    assert sleeper.poll() is None, "leaving the TUI does not touch the training process"
    assert not RunDir(runs_dir / "live").stop_requested()


async def test_run_names_use_the_columns_a_wider_terminal_has(runs_dir):
    names = ["speech-spec-20261204-101500", "speech-spec-20261204-101500-2"]
    for name in names:
        write_run(runs_dir / name, "finished", task="speech-spec")
    app = SigdaeApp(runs_dir, preload=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(DataTable)
        assert all(str(table.get_row_at(i)[0]).endswith("…") for i in range(2)), "80 columns: names are cut"
        await pilot.resize_terminal(120, 30)
        await wait_for(pilot, lambda: {str(table.get_row_at(i)[0]) for i in range(2)} == set(names), 10,
                       "the whole names")


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


async def test_run_view_draws_the_mnist_loss_curve_from_the_first_steps(runs_dir, sleeper):
    """The default MNIST recipe's loss is -PSNR: the live view draws it (on a linear axis) at once."""
    from sigdae.tui.plot import LinePlot

    run = write_run(runs_dir / "mnist", "running", pid=sleeper.pid)
    log = run.event_log()
    log.emit("start", device="cpu", task="mnist", model="conv", parameters=1000, epochs=10, steps_per_epoch=40,
             batch_size=64, resumed_from_epoch=0)
    for step, loss in ((10, -11.2), (20, -14.8), (30, -16.1)):
        log.emit("step", epoch=1, step=step, loss=loss, progress=step / 400, elapsed=step / 10, eta=40.0,
                 samples_per_s=600.0, lr=0.01, memory={})
    log.close()
    app = SigdaeApp(runs_dir, preload=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunScreen", 10, "the run view")
        await wait_for(pilot, lambda: app.screen.state.step == 30, 10, "the logged steps")
        plot = app.screen.query_one(LinePlot)
        drawn = plot.render().plain
        assert plot.log_y, "the view asks for a log axis; values that are not all positive get a linear one"
        assert "waiting" not in drawn and any(0x2800 < ord(ch) <= 0x28FF for ch in drawn)
        assert "━ train (steps)" in drawn and "linear y" in drawn
        assert "epoch 1/10" in shown(app.screen.query_one("#run-stats")), "the first epoch is epoch 1, not 0"
        await pilot.press("l")
        assert not plot.log_y and "linear y" not in plot.render().plain
        await pilot.press("l")
        assert any("not all positive" in str(n.message) for n in app._notifications)


async def test_new_run_form_starts_a_speech_recipe_with_its_defaults(runs_dir, tmp_path, monkeypatch):
    """Choosing a speech task fills the recipe's defaults ("auto" noise) and names the run after the
    recipe; clean speech, noise, RIR and validation-pair folders are fields of the form."""
    started = {}

    def launch_run(config, run_dir, processes=1):
        started.update(config=config, run_dir=Path(run_dir), processes=processes)
        return 0

    monkeypatch.setattr("sigdae.tui.new_run_screen.launch_run", launch_run)
    folders = {name: tmp_path / "data" / name for name in ("clean", "noise", "rirs", "pairs")}
    for folder in (*folders.values(), folders["pairs"] / "clean", folders["pairs"] / "noisy"):
        folder.mkdir(parents=True, exist_ok=True)
    app = SigdaeApp(runs_dir, preload=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query("#name"), 60, "the new-run form")
        screen = app.screen
        assert screen.query_one("#name").value.startswith("mnist-")
        screen.query_one("#task", Select).value = "speech-spec"
        await wait_for(pilot, lambda: screen.query_one("#recipe", Select).value == "speech-spec", 10, "the recipe")
        assert screen.query_one("#name").value.startswith("speech-spec-"), "the suggested name follows the recipe"
        assert screen.query_one("#corruption").value == "auto"
        assert screen.query_one("#rir_dir-field").display and not screen.query_one("#limit-field").display
        await wait_for(pilot, lambda: "clean_dirs" in screen.errors, 10, "the form's check")
        assert "corruption" not in screen.errors, screen.errors
        for field, folder in (("#clean_dirs", "clean"), ("#noise_dirs", "noise"), ("#rir_dir", "rirs"),
                              ("#pairs_dir", "pairs")):
            screen.query_one(field).value = str(folders[folder])  # as pasted: one change each
        await wait_for(pilot, lambda: screen.config.get("data", {}).get("pairs_dir") == str(folders["pairs"]), 10,
                       "the form to check the folders")
        assert screen.errors == {} and "ready" in shown(screen.query_one("#form-status"))
        help_text = shown(screen.query_one("#corruption-help"))
        assert "auto[/b]: the default noise of speech spectrogram: reverb(" in help_text
        assert f"dir={folders['rirs']}" in help_text and f"dir={folders['noise']}" in help_text
        screen.query_one("#rir_dir").value = str(tmp_path / "nowhere")
        await wait_for(pilot, lambda: "rir_dir" in screen.errors, 10, "the RIR folder message")
        assert "no such folder" in shown(screen.query_one("#rir_dir-error"))
        await type_into(pilot, "#name", "my-speech")
        screen.query_one("#task", Select).value = "speech-wave"
        await wait_for(pilot, lambda: screen.config.get("recipe") == "speech-wave", 10, "the second recipe")
        assert screen.query_one("#name").value == "my-speech", "a name the user typed stays"
        assert screen.query_one("#clean_dirs").value == str(folders["clean"]), "so do the data folders"
        screen.query_one("#rir_dir").value = str(folders["rirs"])
        await wait_for(pilot, lambda: screen.config.get("data", {}).get("rir_dir") == str(folders["rirs"]), 10,
                       "the form to check the RIR folder")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: started, 10, "the run to start")
    config = started["config"]
    assert started["run_dir"] == runs_dir / "my-speech" and started["processes"] == 1
    assert config["task"] == "speech-wave" and config["corruption"] == {"spec": "auto"}
    assert config["data"]["clean_dirs"] == [str(folders["clean"])] and config["data"]["noise_dirs"] == [str(folders["noise"])]
    assert config["data"]["rir_dir"] == str(folders["rirs"]) and config["data"]["pairs_dir"] == str(folders["pairs"])


def write_audio_run(run_dir: Path, seconds: float = 1.0, rate: int = 16000) -> dict:
    """A finished speech run whose preview.npz holds a tone, the tone in noise and a cleaner copy."""
    run = write_run(run_dir, "finished", task="speech-wave", epoch=2, best=9.5, monitor="si_sdr")
    t = np.arange(int(seconds * rate)) / rate
    clean = (0.5 * np.sin(2 * np.pi * 440 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    noise = np.random.default_rng(0).standard_normal(t.size).astype(np.float32)
    arrays = {"clean": clean, "noisy": clean + 0.3 * noise, "denoised": clean + 0.03 * noise}
    run.write_preview(Preview("waveform", 2, rate, {k: v.reshape(1, 1, -1) for k, v in arrays.items()}))
    log = run.event_log()
    log.emit("end", status="finished", epoch=2, step=10)
    log.close()
    return arrays


async def open_preview(pilot, app) -> None:
    await pilot.press("enter")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "RunScreen", 10, "the run view")
    await pilot.press("p")
    await wait_for(pilot, lambda: getattr(app.screen, "preview", None) is not None, 20, "the preview")


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
        await wait_for(pilot, lambda: any("WAV" in str(n.message) for n in app._notifications), 10, "the WAV files")
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
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunScreen", 10, "the run view")
        assert all(picture.image is None for _, picture in pictures)
