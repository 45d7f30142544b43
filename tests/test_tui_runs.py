"""Pure parts of the TUI and what it stands on: run directories and process state (``sigdae.runs``), the
event fold, plots, pictures, the form rules."""

import torch

torch.set_num_threads(1)

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sigdae import runs  # noqa: E402
from sigdae.runs import RunDir, RunStatus  # noqa: E402
from sigdae.tui import render  # noqa: E402
from sigdae.tui.catalog import load_catalog  # noqa: E402
from sigdae.tui.formatting import format_age, format_duration  # noqa: E402
from sigdae.tui.plot import Series, braille_plot  # noqa: E402
from sigdae.tui.run_form import build_config, check_corruption, fields_for_task, initial_values  # noqa: E402
from sigdae.tui.run_state import RunState  # noqa: E402

HOST = os.uname().nodename


@pytest.fixture
def live_pid():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "sigdae-test-run"])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture
def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass", "sigdae-test-run"])
    proc.wait()
    return proc.pid


def write_run(path, **info):
    run = RunDir(path)
    run.create(exist_ok=False)
    run.write_status(RunStatus(**{"host": HOST, "updated": time.time(), **info}))
    return path


def status_of(**info) -> str:
    return runs.effective_status(RunStatus.from_dict(info))


def test_pid_alive_needs_a_live_sigdae_process(live_pid, dead_pid):
    assert runs.pid_alive(live_pid)
    assert not runs.pid_alive(dead_pid)
    assert not runs.pid_alive(None) and not runs.pid_alive(0)
    unrelated = subprocess.Popen(["sleep", "30"])
    try:
        assert not runs.pid_alive(unrelated.pid), "a reused pid of another program is not a training process"
    finally:
        unrelated.kill()
        unrelated.wait()


def test_effective_status(live_pid, dead_pid):
    assert status_of(status="running", pid=live_pid, host=HOST) == "running"
    assert status_of(status="running", pid=dead_pid, host=HOST) == "interrupted"
    assert status_of(status="starting", pid=dead_pid, host=HOST) == "failed"
    assert status_of(status="running", pid=dead_pid, host="elsewhere") == "running"
    assert status_of(status="finished", pid=dead_pid) == "finished"
    assert status_of() == "unknown"


def test_scan_runs_lists_runs_newest_first(tmp_path, live_pid, dead_pid):
    write_run(tmp_path / "a", status="finished", updated=time.time() - 7200, task="mnist", model="conv",
              epoch=3, best=21.5, monitor="psnr")
    write_run(tmp_path / "b", status="running", pid=live_pid, updated=time.time() - 10)
    write_run(tmp_path / "c", status="running", pid=dead_pid, updated=time.time() - 60)
    (tmp_path / "not-a-run").mkdir()
    RunDir(tmp_path / "d").create()
    RunDir(tmp_path / "d").events_file.write_text("")
    found = runs.scan_runs(tmp_path)
    assert [r.name for r in found] == ["d", "b", "c", "a"]  # d: no run.json, dated by its events file
    by_name = {r.name: r for r in found}
    assert set(by_name) == {"a", "b", "c", "d"}
    assert by_name["a"].status == "finished" and by_name["a"].best == 21.5 and by_name["a"].epoch == 3
    assert by_name["b"].live and not by_name["b"].resumable
    assert by_name["c"].status == "interrupted" and not by_name["c"].resumable  # no last.pt
    RunDir(tmp_path / "c").last_checkpoint.write_bytes(b"x")
    assert runs.load_run(tmp_path / "c").resumable
    assert by_name["d"].status == "unknown"
    assert runs.scan_runs(tmp_path / "missing") == []


def test_stop_delete_and_resume_refuse_what_they_must(tmp_path, live_pid, dead_pid):
    live = write_run(tmp_path / "live", status="running", pid=live_pid)
    done = write_run(tmp_path / "done", status="finished", pid=dead_pid)
    assert runs.request_stop(live) and RunDir(live).stop_requested()
    assert not runs.request_stop(done) and not RunDir(done).stop_requested()
    with pytest.raises(RuntimeError, match="running"):
        runs.delete_run(live)
    with pytest.raises(RuntimeError, match="running"):
        runs.resume_run(live)
    with pytest.raises(RuntimeError, match="last.pt"):
        runs.resume_run(done)
    runs.delete_run(done)
    assert not done.exists()


def test_names_and_durations(tmp_path):
    assert runs.check_run_name(tmp_path, "") == "give the run a name"
    assert "letters" in runs.check_run_name(tmp_path, "a b")
    assert "letters" in runs.check_run_name(tmp_path, "../x")
    (tmp_path / "taken").mkdir()
    assert "already exists" in runs.check_run_name(tmp_path, "taken")
    assert runs.check_run_name(tmp_path, "mnist-1") is None
    first = runs.suggest_run_name(tmp_path, "mnist", now=0)
    (tmp_path / first).mkdir()
    assert runs.suggest_run_name(tmp_path, "mnist", now=0) == f"{first}-2"
    assert [format_age(s) for s in (5, 125, 7300, 200000)] == ["5s", "2m", "2h", "2d"]
    assert format_duration(None) == "--:--" and format_duration(75) == "01:15"
    assert format_duration(3725) == "1:02:05"


def test_log_tail(tmp_path):
    RunDir(tmp_path).log_file.write_text("a\n\nb\nTraceback\nValueError: bad\n")
    assert RunDir(tmp_path).log_tail(2) == ["Traceback", "ValueError: bad"]
    assert RunDir(tmp_path / "nothing").log_tail() == []


def test_run_state_folds_events():
    state = RunState()
    t = 1_700_000_000.0
    state.apply([
        {"type": "start", "time": t, "device": "cpu", "task": "mnist", "model": "conv", "parameters": 1234,
         "epochs": 2, "steps_per_epoch": 4, "batch_size": 32, "resumed_from_epoch": 0},
        {"type": "step", "time": t + 1, "epoch": 1, "step": 2, "loss": 0.5, "progress": 0.25, "eta": 3.0,
         "samples_per_s": 100.0, "elapsed": 1.0, "memory": {"gpu_allocated_mb": 10.0}},
        {"type": "epoch", "time": t + 2, "epoch": 1, "step": 4, "train_loss": 0.4, "val": {"loss": 0.3, "psnr": 18.0},
         "monitor": "psnr", "best": 18.0, "best_epoch": 1, "improved": True, "progress": 0.5, "eta": 2.0},
    ])
    assert (state.status, state.epoch, state.step, state.samples_per_s) == ("running", 1, 4, 100.0)
    assert state.train_steps == {2: 0.5} and state.val_epochs == {1: 0.3}
    assert state.best_text() == "psnr 18.00 dB (epoch 1)"
    assert "epoch 1/2" in state.log[-1] and "★ best" in state.log[-1] and "psnr 18.00 dB" in state.log[-1]
    state.apply([{"type": "end", "time": t + 3, "status": "stopped", "elapsed": 2.5, "error": None}])
    assert state.status == "stopped" and "stopped after 1 epochs" in state.log[-1]
    state.apply([{"type": "start", "time": t + 9, "resumed_from_epoch": 1, "epochs": 2}])
    assert state.status == "running" and "resumed at epoch 1" in state.log[-1]


def test_braille_plot():
    text = braille_plot([Series("train", [0, 1, 2, 3], [1.0, 0.5, 0.25, 0.2], "green"),
                         Series("val", [1, 2], [0.6, 0.3], "yellow")], width=40, height=8)
    lines = text.plain.split("\n")
    assert len(lines) == 8 and all(len(line) <= 40 for line in lines)
    assert any(0x2800 < ord(ch) <= 0x28FF for ch in text.plain)
    assert "1.05" in lines[0] or "1.0" in lines[0]
    assert "━ train" in lines[-1] and "━ val" in lines[-1]
    assert "waiting" in braille_plot([Series("x", [], [], "red")], 40, 8).plain
    assert braille_plot([Series("x", [0], [float("nan")], "red")], 40, 8, log_y=True).plain.strip()


def test_braille_plot_draws_losses_that_are_not_positive_on_a_linear_axis():
    """The MNIST recipe's loss is -PSNR: a log axis would drop every point, so the plot goes linear."""
    series = [Series("train", [0.1, 0.2, 0.3], [-11.0, -14.5, -16.0], "green")]
    text = braille_plot(series, width=40, height=8, log_y=True)
    assert "waiting" not in text.plain and any(0x2800 < ord(ch) <= 0x28FF for ch in text.plain)
    assert "-11" in text.plain.split("\n")[0] or "-10" in text.plain.split("\n")[0]
    assert "linear y" in text.plain
    assert "linear y" not in braille_plot([Series("t", [0, 1], [0.5, 0.2], "green")], 40, 8, log_y=True).plain


def test_image_and_spectrogram_rendering():
    img = np.zeros((28, 28))
    img[:14] = 1.0
    lines = render.image_lines(img, "color")
    assert len(lines) == 14 and all(len(line) == 28 for line in lines)
    assert set(render.image_lines(img, "shade")[0].plain) == {"█"}
    assert render.fit_images(8, 28, 240) == (1, 8) and render.fit_images(8, 28, 76) == (2, 5)
    grid = render.image_grid([("clean", np.stack([img] * 8)[:, None])], width=76)
    assert grid.plain.startswith("clean\n") and len(grid.plain.split("\n")) == 1 + 7
    t = np.arange(16000) / 16000
    wave = np.sin(2 * np.pi * 440 * t)
    db = render.stft_db(wave)
    assert db.shape[0] == 257 and abs(db.max(axis=1).argmax() - 440 / 8000 * 256) <= 1
    picture = render.spectrogram_lines(db, 60, 6, float(db.max()))
    assert len(picture.plain.split("\n")) == 6
    assert render.si_sdr(wave, wave) > 60 and render.si_sdr(wave + 0.1 * np.cos(7 * t), wave) < 60
    assert render.psnr(img, img) == float("inf") and 9.9 < render.psnr(img * 0 + 0.5 * (img > 0) + 0.25, img) < 20
    assert render.auto_mode(None) == "shade" and render.auto_mode("256") in ("color", "shade")


def test_form_rules_build_a_config_or_explain_the_problem(tmp_path):
    catalog = load_catalog()
    values = {**initial_values(catalog.recipes["mnist"]), "epochs": "3", "steps_per_epoch": "4", "limit": "512"}
    config, errors = build_config(catalog, "mnist", values, "conv", {"channels": "[8, 16]"}, "gaussian(std=0.3)", "cpu")
    assert errors == {}
    assert config["train"]["epochs"] == 3 and config["data"]["limit"] == 512 and config["device"] == "cpu"
    assert config["model"] == {"name": "conv", "channels": [8, 16]} and config["corruption"]["spec"] == "gaussian(std=0.3)"
    bad = {**values, "epochs": "0", "lr": "fast", "batch_size": "1.5"}
    _, errors = build_config(catalog, "mnist", bad, "conv", {"nonsense": "3"}, "gaussian(std=", "cpu")
    assert errors["epochs"] == "epochs must be at least 1"
    assert "learning rate must be a number" in errors["lr"] and "whole number" in errors["batch_size"]
    assert "unknown option 'nonsense'" in errors["model"] and "ended early" in errors["corruption"]
    with pytest.raises(ValueError, match="does not work on images"):
        check_corruption("hum", catalog.task("mnist"))


def test_form_tasks_come_from_the_task_registry():
    from sigdae.tasks import TASKS

    catalog = load_catalog()
    assert catalog.tasks()[0] == "mnist" and {"speech-spec", "speech-wave"} <= set(catalog.tasks())
    for name in TASKS.list():  # "speech" too: every registered task has its label and signal
        task = catalog.task(name)
        assert catalog.task_label(name) == TASKS.get(name).label and task.signal in ("image", "waveform")
    assert catalog.task_label("not-registered") == "not-registered"
    assert "clean_dirs" in fields_for_task(catalog.task("speech")) and "limit" not in fields_for_task(catalog.task("speech"))
    assert "limit" in fields_for_task(catalog.task("mnist")) and "rir_dir" not in fields_for_task(catalog.task("mnist"))


def speech_folders(root):
    clean, noise, rirs, pairs = (root / name for name in ("clean", "noise", "rirs", "pairs"))
    for folder in (clean, noise, rirs, pairs / "clean", pairs / "noisy"):
        folder.mkdir(parents=True)
    return clean, noise, rirs, pairs


@pytest.mark.parametrize("recipe", ["speech-spec", "speech-wave"])
def test_form_starts_a_speech_recipe_with_its_defaults(tmp_path, recipe):
    """"auto" (the task's default noise mix) is a valid corruption; RIR and validation-pair folders are
    fields of their own, checked as typed."""
    catalog = load_catalog()
    clean, noise, rirs, pairs = speech_folders(tmp_path)
    defaults = catalog.recipes[recipe]
    values = {**initial_values(defaults), "clean_dirs": str(clean)}
    config, errors = build_config(catalog, recipe, values, defaults["model"]["name"], {},
                                  defaults["corruption"]["spec"], "cpu")
    assert errors == {}, errors
    assert config["corruption"] == {"spec": "auto"} and config["task"] == recipe
    assert config["data"]["clean_dirs"] == [str(clean)] and config["data"]["rir_dir"] == ""
    assert config["data"]["snr_db"] == defaults["data"]["snr_db"]

    values.update(noise_dirs=str(noise), rir_dir=str(rirs), pairs_dir=str(pairs))
    config, errors = build_config(catalog, recipe, values, defaults["model"]["name"], {}, "auto", "cpu")
    assert errors == {}, errors
    assert config["data"]["rir_dir"] == str(rirs) and config["data"]["pairs_dir"] == str(pairs)
    assert config["data"]["noise_dirs"] == [str(noise)]

    values.update(rir_dir=str(tmp_path / "missing"), pairs_dir=str(clean))
    _, errors = build_config(catalog, recipe, values, defaults["model"]["name"], {}, "auto", "cpu")
    assert errors["rir_dir"] == f"RIR folder: no such folder: {tmp_path / 'missing'}"
    assert "has no clean/ or noisy/ inside" in errors["pairs_dir"]
    assert "corruption" not in errors


def test_auto_corruption_is_checked_against_the_task_and_its_data(tmp_path):
    catalog = load_catalog()
    assert check_corruption("auto", catalog.task("mnist")) == "auto"  # noise_factor(factor=0.5)
    assert check_corruption(" auto ", catalog.task("speech-wave"), {"clean_dirs": [str(tmp_path)]}) == "auto"
    with pytest.raises(ValueError, match=r"corruption: auto: data.rumble=-1"):
        check_corruption("auto", catalog.task("speech"), {"rumble": -1})
    with pytest.raises(ValueError, match="registered task"):
        check_corruption("auto", None)
    with pytest.raises(ValueError, match="unknown corruption"):
        check_corruption("auto + gaussian", catalog.task("speech"))


def test_graphics_protocol_detection_uses_the_environment_only():
    from sigdae.tui import graphics

    detect = lambda **env: graphics.detect(env).protocol  # noqa: E731
    assert detect(TERM="xterm-kitty") == "kitty"
    assert detect(TERM="xterm-256color", KITTY_WINDOW_ID="1") == "kitty"
    assert detect(TERM="xterm-256color", TERM_PROGRAM="WezTerm") == "sixel"
    assert detect(TERM="foot") == "sixel"
    assert detect(TERM="xterm-256color", KONSOLE_VERSION="230804") == "sixel"
    assert detect(TERM="xterm-256color", TERM_PROGRAM="iTerm.app", TERM_PROGRAM_VERSION="3.4.19") is None
    assert detect(TERM="xterm-256color", TERM_PROGRAM="iTerm.app", TERM_PROGRAM_VERSION="3.5.0") == "sixel"
    assert detect(TERM="xterm-256color") is None
    assert detect() is None
    # tmux and screen do not pass graphics through; NO_COLOR means text
    assert detect(TERM="tmux-256color", KITTY_WINDOW_ID="1") is None
    assert detect(TERM="xterm-kitty", TMUX="/run/user/1000/tmux/default,1,0") is None
    assert detect(TERM="screen.xterm-256color", TERM_PROGRAM="WezTerm") is None
    assert detect(TERM="xterm-kitty", NO_COLOR="1") is None
    # the override wins
    assert detect(TERM="xterm-kitty", SIGDAE_TUI_GRAPHICS="off") is None
    assert detect(TMUX="x", SIGDAE_TUI_GRAPHICS="sixel") == "sixel"
    assert detect(SIGDAE_TUI_GRAPHICS="kitty") == "kitty"


def test_graphics_choice_for_an_app(monkeypatch):
    from types import SimpleNamespace

    from sigdae.tui import graphics

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-kitty")
    for name in ("TMUX", "STY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(graphics.ENV, raising=False)
    app = lambda headless, colors="truecolor": SimpleNamespace(is_headless=headless,  # noqa: E731
                                                               console=SimpleNamespace(color_system=colors))
    assert graphics.choose(app(True)).protocol is None, "tests and snapshots always get text"
    assert graphics.choose(app(False)).protocol == "kitty"
    assert graphics.choose(app(False, "256")).protocol is None, "kitty marks its cells with 24-bit colours"
    assert graphics.choose(app(False), "off").protocol is None
    assert graphics.choose(app(True), "sixel").protocol == "sixel"
    monkeypatch.setenv("NO_COLOR", "1")
    assert graphics.choose(app(False), "kitty").protocol is None


def test_graphics_pictures_fit_whole_cells():
    from sigdae.tui import graphics

    assert graphics.fit_cells(238, 28, 76, 6, (10, 20)) == (68, 4)  # narrowed rather than squashed
    assert graphics.fit_cells(238, 28, 10, 6, (8, 16)) == (10, 1)
    strip = graphics.image_strip(np.full((3, 1, 4, 5), np.nan), 8, gap=2)
    assert strip.shape == (4, 3 * 5 + 2 * 2, 3) and strip.dtype == np.uint8
    picture = graphics.to_pil(strip, 7, 2, (10, 20))
    assert picture.size == (70, 40) and picture.mode == "RGB"


def test_importing_textual_image_does_not_touch_the_terminal():
    """textual-image queries the terminal when imported (ESC [ c, a kitty query, ESC [ 16 t), which
    must not happen once Textual owns it: sigdae imports it with those queries off."""
    import pty
    import select

    code = ("from sigdae.tui import graphics; graphics.load_widgets(); "
            "import textual_image.renderable as r, textual_image.widget as w; "
            "assert graphics.cell_size()[0] > 0")
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execv(sys.executable, [sys.executable, "-c", code])
    out = b""
    while select.select([fd], [], [], 20)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")
    assert out == b"", f"wrote to the terminal on import: {out!r}"


def test_launched_runs_do_not_inherit_the_tuis_lower_priority(tmp_path):
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os, sys, time
        from sigdae.runs import RunDir
        from sigdae.runs.manage import _spawn
        os.nice(10)                                   # as sigdae.tui.app.run does
        run = RunDir({str(tmp_path)!r})
        _spawn([sys.executable, "-c", "import os; print(os.nice(0))"], run)
        deadline = time.monotonic() + 20
        while not run.log_file.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)                          # polls until the child has written
        print(run.log_file.read_text().strip())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    expected = "0" if os.geteuid() == 0 else "10"   # only a privileged user may raise priority again
    assert out[-1] == expected
