"""Sharper previews through a terminal graphics protocol (kitty's, or Sixel), drawn by ``textual-image``.

Which protocol, if any, is decided from the environment only. textual-image decides by itself *at import
time*: it writes query sequences (``ESC [ c`` and a kitty graphics query) to stdout and reads the answer
from stdin with a timeout, and asks for the cell size with ``ESC [ 16 t`` when ``TIOCGWINSZ`` has no
pixel sizes (and fails with ZeroDivisionError when it reports 0 columns). Once Textual runs, its input
thread owns stdin: the answers would arrive as keystrokes and the queries would be stray output. So
:func:`load_widgets` imports textual-image with those queries switched off and the cell size filled in
from ``TIOCGWINSZ`` (or 10x20 pixels); nothing is written to the terminal on import.

``SIGDAE_TUI_GRAPHICS`` overrides the detection: ``off`` (text always), ``kitty``, ``sixel`` or ``auto``.
Nothing here is imported before the preview screen opens.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any, Mapping, NamedTuple

import numpy as np

ENV = "SIGDAE_TUI_GRAPHICS"
PROTOCOLS = ("kitty", "sixel")
_OFF = ("off", "0", "no", "none", "false", "text")


class Choice(NamedTuple):
    protocol: str | None  # "kitty", "sixel" or None (text)
    reason: str           # why, for the title line and the notification when graphics are unavailable


def detect(env: Mapping[str, str] | None = None) -> Choice:
    """The graphics protocol this terminal understands, judged from environment variables alone."""
    env = os.environ if env is None else env
    wanted = env.get(ENV, "auto").strip().lower() or "auto"
    if wanted in _OFF:
        return Choice(None, f"{ENV}={wanted}")
    if wanted in ("kitty", "tgp"):
        return Choice("kitty", f"{ENV}={wanted}")
    if wanted == "sixel":
        return Choice("sixel", f"{ENV}={wanted}")
    term = env.get("TERM", "").lower()
    program = env.get("TERM_PROGRAM", "").lower()
    if env.get("TMUX") or env.get("STY") or term.startswith(("screen", "tmux")):
        return Choice(None, "tmux/screen do not pass graphics through")
    if env.get("NO_COLOR"):
        return Choice(None, "NO_COLOR is set")
    if term == "xterm-kitty" or env.get("KITTY_WINDOW_ID") or term == "xterm-ghostty" or program == "ghostty":
        return Choice("kitty", "kitty graphics protocol")
    if program == "wezterm" or term.startswith(("foot", "mlterm", "contour")) or env.get("MLTERM"):
        return Choice("sixel", "Sixel")
    if _version(env.get("KONSOLE_VERSION", "")) >= (220400,):
        return Choice("sixel", "Sixel")
    if (program == "iterm.app" or env.get("LC_TERMINAL", "").lower() == "iterm2") and _version(
            env.get("TERM_PROGRAM_VERSION") or env.get("LC_TERMINAL_VERSION", "")) >= (3, 5):
        return Choice("sixel", "Sixel")
    return Choice(None, "no graphics protocol detected")


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def choose(app: Any, option: str | None = "auto") -> Choice:
    """The protocol for ``app``: its ``graphics`` option ("auto", "off", "kitty", "sixel"), else :func:`detect`.

    Auto never picks graphics in a headless app (``App.run_test``), so tests and snapshots stay text.
    The kitty protocol marks its cells with a 24-bit foreground colour (the image id): it needs a
    true-colour console and no NO_COLOR, even when asked for explicitly.
    """
    option = (option or "auto").lower()
    if option in _OFF:
        return Choice(None, "text renderer chosen")
    if option in PROTOCOLS:
        choice = Choice(option, f"{option} chosen")
    elif getattr(app, "is_headless", False):
        return Choice(None, "headless")
    else:
        choice = detect()
    if choice.protocol == "kitty":
        if os.environ.get("NO_COLOR"):
            return Choice(None, "the kitty protocol does not work with NO_COLOR")
        if getattr(getattr(app, "console", None), "color_system", None) != "truecolor":
            return Choice(None, "the kitty protocol needs true colour (COLORTERM=truecolor)")
    return choice


# --- textual-image, imported without touching the terminal ---------------------------------------------

def _cell_pixels() -> tuple[int, int]:
    """Cell size in pixels from TIOCGWINSZ (no escape sequences), else TEXTUAL_CELL_WIDTH/HEIGHT, else 10x20."""
    try:
        import fcntl
        import struct
        import termios

        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is None or not stream.isatty():
                continue
            rows, cols, width, height = struct.unpack("HHHH", fcntl.ioctl(stream.fileno(), termios.TIOCGWINSZ, b"\0" * 8))
            if rows and cols and width and height and width // cols and height // rows:
                return width // cols, height // rows
    except (ImportError, OSError, ValueError):
        pass
    w, h = os.environ.get("TEXTUAL_CELL_WIDTH", ""), os.environ.get("TEXTUAL_CELL_HEIGHT", "")
    if w.isdigit() and h.isdigit() and int(w) and int(h):
        return int(w), int(h)
    return 10, 20


@contextmanager
def _no_terminal_query(*_args: Any, **_kwargs: Any):
    from textual_image._terminal import TerminalError

    raise TerminalError("sigdae: terminal queries are disabled while Textual owns the terminal")
    yield  # pragma: no cover


_widgets: dict[str, type] | None = None


def load_widgets() -> dict[str, type]:
    """textual-image's widget classes by protocol, imported on first use without any terminal query."""
    global _widgets
    if _widgets is None:
        from textual_image import _terminal

        # filled before anything asks, so get_cell_size() never writes ESC [ 16 t
        _terminal.get_cell_size._result = _terminal.CellSize(*_cell_pixels())  # type: ignore[attr-defined]
        # the renderable modules bind this name on import and use it for their support queries
        _terminal.capture_terminal_response = _no_terminal_query  # type: ignore[assignment]
        from textual_image.widget import SixelImage, TGPImage

        _widgets = {"kitty": TGPImage, "sixel": SixelImage}
    return _widgets


def cell_size() -> tuple[int, int]:
    """(width, height) of a terminal cell in pixels, as textual-image uses it."""
    load_widgets()
    from textual_image._terminal import get_cell_size

    size = get_cell_size()
    return size.width, size.height


# --- pictures ---------------------------------------------------------------------------------------------

def fit_cells(px_w: int, px_h: int, max_w: int, max_h: int, cell: tuple[int, int]) -> tuple[int, int]:
    """The largest (cols, rows) within ``max_w`` x ``max_h`` cells showing a ``px_w`` x ``px_h`` picture
    without changing its shape."""
    scale = min(max_w * cell[0] / px_w, max_h * cell[1] / px_h)
    rows = max(1, min(max_h, int(px_h * scale / cell[1])))
    # whole rows round the height down: narrow the picture to match, so it is not squashed
    cols = round(rows * cell[1] * px_w / px_h / cell[0])
    return max(1, min(max_w, cols)), rows


def image_strip(batch: np.ndarray, count: int, gap: int = 2) -> np.ndarray:
    """Up to ``count`` grey images (N, [1,] H, W) in [0, 1] side by side, as uint8 RGB with black gaps."""
    batch = np.nan_to_num(np.asarray(batch, dtype=float)).reshape(-1, *np.asarray(batch).shape[-2:])[:count]
    h, w = batch.shape[-2:]
    out = np.zeros((h, len(batch) * (w + gap) - gap), dtype=np.uint8)
    for i, img in enumerate(batch):
        out[:, i * (w + gap):i * (w + gap) + w] = (np.clip(img, 0, 1) * 255).round()
    return np.repeat(out[..., None], 3, axis=-1)


def to_pil(rgb: np.ndarray, cols: int, rows: int, cell: tuple[int, int], smooth: bool = False):
    """An RGB array as a PIL image of exactly ``cols`` x ``rows`` cells (so textual-image does not
    resample it again); nearest neighbour keeps image pixels sharp, bilinear suits spectrograms."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    size = (cols * cell[0], rows * cell[1])
    return img.resize(size, Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST)
