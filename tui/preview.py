"""A run's preview (rewritten by training after every epoch): clean / noisy / denoised.

Two renderers, switched with ``g``: "graphics" shows the pictures as real images through a terminal
graphics protocol (kitty's or Sixel, via textual-image; see :mod:`sigdae.tui.graphics`) where the
terminal supports one, and is the default there; "text" draws half-block grids in colour, or shade
characters without colour (``m`` switches), and is used everywhere else (tmux, NO_COLOR, tests).
Images show PSNR, audio shows spectrograms with SI-SDR against the clean clip, and ``w`` writes the
three clips as WAV files to listen to. The file is re-read when it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from sigdae.runs import Preview, RunDir
from sigdae.runs.preview import VARIANTS
from sigdae.tui import render
from sigdae.tui.picture_modes import PictureModes

CHECK_S = 2.0
SPECTROGRAM_ORDER = ("noisy", "clean", "denoised")


@dataclass(frozen=True)
class ScoredPreview(Preview):
    """A run's preview with what the screen shows beside the pictures: scores, labels, spectrograms."""

    @classmethod
    def of(cls, preview: Preview) -> "ScoredPreview":
        return cls(preview.signal, preview.epoch, preview.sample_rate, preview.arrays)

    @cached_property
    def scores(self) -> dict[str, float]:
        clean = self.arrays["clean"]
        score = render.psnr if self.is_image else render.si_sdr
        return {name: score(self.arrays[name], clean) for name in ("noisy", "denoised")}

    def metrics(self) -> dict[str, float]:
        return dict(self.scores)

    @cached_property
    def spectrograms(self) -> dict[str, np.ndarray]:
        """dB spectrograms of the first clip of each variant (audio only)."""
        return {k: render.stft_db(self.arrays[k][0]) for k in VARIANTS}

    @cached_property
    def labels(self) -> dict[str, str]:
        metric = "PSNR" if self.is_image else "SI-SDR"
        noisy, denoised = self.scores["noisy"], self.scores["denoised"]
        gain = f" ({denoised - noisy:+.2f})" if np.isfinite(denoised - noisy) else ""
        return {"clean": "clean", "noisy": f"noisy  {metric} {noisy:.2f} dB",
                "denoised": f"denoised  {metric} {denoised:.2f} dB{gain}"}

    def warm(self) -> "ScoredPreview":
        """Compute the metrics (and spectrograms) now, off the UI thread."""
        self.labels
        if not self.is_image:
            self.spectrograms
        return self


def spectrogram_rows(height: int) -> int:
    """Rows per spectrogram so that three of them and their labels fit ``height`` rows (3 to 8)."""
    return max(3, min(8, (height - 3) // 3))


def draw_preview(preview: ScoredPreview, width: int, mode: str, height: int = 27) -> Text:
    labels = preview.labels
    if preview.is_image:
        return render.image_grid([(labels[k], preview.arrays[k]) for k in VARIANTS], width, mode)
    dbs = preview.spectrograms
    top = float(np.nan_to_num(dbs["clean"].max()))
    out = Text(no_wrap=True)
    for i, name in enumerate(SPECTROGRAM_ORDER):
        out.append(("\n" if i else "") + labels[name] + "\n", style="bold")
        out.append_text(render.spectrogram_lines(dbs[name], width, spectrogram_rows(height), top, mode))
    return out


def graphic_pictures(preview: ScoredPreview, width: int, height: int, cell: tuple[int, int]) -> list[tuple[str, Any]]:
    """(label, PIL image sized to whole cells) for each variant, in display order, all fitting
    ``width`` x ``height`` cells together with their labels."""
    from sigdae.tui import graphics

    per_row = max(2, (height - 3) // 3)
    out = []
    if preview.is_image:
        for name in VARIANTS:
            strip = graphics.image_strip(preview.arrays[name], 8)
            cols, rows = graphics.fit_cells(strip.shape[1], strip.shape[0], width, per_row, cell)
            out.append((preview.labels[name], graphics.to_pil(strip, cols, rows, cell)))
        return out
    dbs = preview.spectrograms
    top = float(np.nan_to_num(dbs["clean"].max()))
    rows = min(per_row, 12)
    for name in SPECTROGRAM_ORDER:
        rgb = render.heat_rgb(render.spectrogram_level(dbs[name], top))
        out.append((preview.labels[name], graphics.to_pil(rgb, width, rows, cell, smooth=True)))
    return out


def write_wavs(preview: ScoredPreview, folder: Path) -> list[Path]:
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in VARIANTS:
        path = folder / f"epoch{preview.epoch:03d}-{name}.wav"
        wave = np.clip(np.nan_to_num(preview.arrays[name][0].reshape(-1)), -1.0, 1.0)
        soundfile.write(str(path), wave, preview.sample_rate or 16000, subtype="PCM_16")
        paths.append(path)
    return paths


class PreviewScreen(PictureModes, Screen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("w", "write_wavs", "Write WAVs"),
        Binding("g", "toggle_renderer", "Graphics/text"),
        Binding("m", "toggle_mode", "Colour/shade"),
        Binding("q", "app.request_quit", "Quit"),
    ]

    def __init__(self, run_dir: Path, graphics: str | None = None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.run = RunDir(self.run_dir)
        self.preview: ScoredPreview | None = None
        self.mode: str | None = None        # text renderer: "color" (half blocks) or "shade"
        self.renderer = "text"              # "graphics" or "text"
        self.protocol: str | None = None    # the graphics protocol, if the terminal has one
        self.protocol_reason = ""
        self._graphics_option = graphics
        self._mtime = 0.0
        self._pictures: list[tuple[Static, Any]] = []  # (label, textual-image widget) in graphics mode

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="preview-title")
        with VerticalScroll(id="preview-body"):
            yield Static("loading preview…", id="preview-picture")
            yield Vertical(id="preview-graphics")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.run_dir.name} · preview"
        self.choose_renderer()
        self.query_one("#preview-graphics").display = False
        self.check_file()
        self.set_interval(CHECK_S, self.check_file)

    def on_unmount(self) -> None:
        self._clear_graphics()

    def check_file(self) -> None:
        mtime = self.run.preview_mtime()
        if mtime and mtime != self._mtime:
            self._mtime = mtime
            self.load()

    @work(thread=True, exclusive=True, group="preview")
    def load(self) -> None:
        try:
            preview = ScoredPreview.of(self.run.read_preview()).warm()
        except (OSError, KeyError, ValueError, IndexError) as exc:
            self.app.call_from_thread(self.notify, f"cannot read the preview: {exc}", severity="error")
            return
        if self.renderer == "graphics":
            self._load_graphics()
        self.app.call_from_thread(self.show, preview)

    def _load_graphics(self) -> bool:
        """Import textual-image (first time only); on failure fall back to text for good."""
        from sigdae.tui import graphics

        try:
            graphics.load_widgets()
            return True
        except Exception as exc:  # a broken or missing textual-image must not take the preview down
            self.protocol, self.protocol_reason = None, f"textual-image unavailable: {exc}"
            self.renderer = "text"
            return False

    def show(self, preview: ScoredPreview) -> None:
        self.preview = preview
        self.draw()

    def _body_size(self) -> tuple[int, int]:
        return max(20, self.app.size.width - 4), max(6, self.app.size.height - 3)

    def draw(self) -> None:
        preview = self.preview
        if preview is None:
            return
        kind = "images" if preview.is_image else f"audio, {preview.sample_rate} Hz"
        how = f"graphics ({self.protocol})" if self.renderer == "graphics" else f"text, {self.mode}"
        self.query_one("#preview-title", Static).update(f"epoch {preview.epoch} · {kind} · {how} · updates as epochs finish")
        width, height = self._body_size()
        picture = self.query_one("#preview-picture", Static)
        box = self.query_one("#preview-graphics", Vertical)
        if self.renderer == "graphics" and self._draw_graphics(preview, box, width, height):
            picture.display, box.display = False, True
            return
        self._clear_graphics()
        picture.display, box.display = True, False
        picture.update(draw_preview(preview, width, self.mode or "color", height))

    def _draw_graphics(self, preview: ScoredPreview, box: Vertical, width: int, height: int) -> bool:
        from sigdae.tui import graphics

        if not self._load_graphics() or self.protocol is None:
            return False
        widget_class = graphics.load_widgets()[self.protocol]
        cell = graphics.cell_size()
        pictures = graphic_pictures(preview, width, height, cell)
        if len(self._pictures) != len(pictures) or not all(isinstance(w, widget_class) for _, w in self._pictures):
            self._clear_graphics()
            box.remove_children()
            self._pictures = [(Static(classes="graphics-label"), widget_class(classes="graphics-image"))
                              for _ in pictures]
            box.mount_all([w for pair in self._pictures for w in pair])
        for (label, image), (text, picture) in zip(pictures, self._pictures):
            text.update(Text(label, style="bold"))
            picture.styles.width = image.width // cell[0]
            picture.styles.height = image.height // cell[1]
            picture.image = image
        return True

    def _clear_graphics(self) -> None:
        """Free the images held by the terminal (kitty keeps them until told)."""
        for _, picture in self._pictures:
            if picture.image is not None:
                picture.image = None

    def on_resize(self) -> None:
        self.draw()

    def redraw(self) -> None:
        self.draw()

    def action_write_wavs(self) -> None:
        if self.preview is None:
            self.notify("no preview loaded yet", severity="warning")
            return
        if self.preview.is_image:
            self.notify("WAV files are written for audio runs only", severity="warning")
            return
        try:
            paths = write_wavs(self.preview, self.run_dir / "preview-wav")
        except (OSError, RuntimeError) as exc:  # soundfile raises RuntimeError subclasses
            self.notify(f"cannot write WAV files: {exc}", severity="error")
            return
        self.notify(f"wrote {len(paths)} WAV files to {paths[0].parent}")
