"""Pure drawing parts of the TUI: braille plots, images and spectrograms in text, and the choice of a
terminal graphics protocol."""

import torch

torch.set_num_threads(1)

import os  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

from sigdae.tui import render  # noqa: E402
from sigdae.tui.plot import Series, braille_plot  # noqa: E402


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
