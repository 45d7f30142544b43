"""A run's preview (``preview.npz``, rewritten after every epoch): clean / noisy / denoised.

Images are drawn as half-block grids (shade characters without colour); audio as spectrograms with
SI-SDR, and ``w`` writes the three clips as WAV files to listen to. The file is re-read when it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from sigdae.tui import render

CHECK_S = 2.0
VARIANTS = ("clean", "noisy", "denoised")


@dataclass(frozen=True)
class Preview:
    signal: str
    epoch: int
    sample_rate: int
    arrays: dict[str, np.ndarray]

    def metrics(self) -> dict[str, float]:
        clean = self.arrays["clean"]
        score = render.psnr if self.signal == "image" else render.si_sdr
        return {name: score(self.arrays[name], clean) for name in ("noisy", "denoised")}


def load_preview(path: Path) -> Preview:
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: np.asarray(data[name], dtype=np.float32) for name in VARIANTS}
        return Preview(str(data["signal"]), int(data["epoch"]), int(data["sample_rate"]), arrays)


def draw_preview(preview: Preview, width: int, mode: str) -> Text:
    metric = "PSNR" if preview.signal == "image" else "SI-SDR"
    scores = preview.metrics()
    labels = {"clean": "clean", **{k: f"{k}  {metric} {v:.2f} dB" for k, v in scores.items()}}
    if preview.signal == "image":
        return render.image_grid([(labels[k], preview.arrays[k]) for k in ("clean", "noisy", "denoised")],
                                 width, mode)
    dbs = {k: render.stft_db(preview.arrays[k][0]) for k in VARIANTS}
    top = float(dbs["clean"].max())
    out = Text(no_wrap=True)
    for i, name in enumerate(("noisy", "clean", "denoised")):
        out.append(("\n" if i else "") + labels[name] + "\n", style="bold")
        out.append_text(render.spectrogram_lines(dbs[name], width, 8, top, mode))
    return out


def write_wavs(preview: Preview, folder: Path) -> list[Path]:
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in VARIANTS:
        path = folder / f"epoch{preview.epoch:03d}-{name}.wav"
        wave = np.clip(preview.arrays[name][0].reshape(-1), -1.0, 1.0)
        soundfile.write(str(path), wave, preview.sample_rate or 16000, subtype="PCM_16")
        paths.append(path)
    return paths


class PreviewScreen(Screen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("w", "write_wavs", "Write WAVs"),
        Binding("m", "toggle_mode", "Colour/shade"),
        Binding("q", "app.request_quit", "Quit"),
    ]

    def __init__(self, run_dir: Path):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.preview: Preview | None = None
        self.mode: str | None = None
        self._mtime = 0.0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="preview-title")
        with VerticalScroll(id="preview-body"):
            yield Static("loading preview…", id="preview-picture")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.run_dir.name} · preview"
        self.mode = render.auto_mode(self.app.console.color_system)
        self.check_file()
        self.set_interval(CHECK_S, self.check_file)

    def check_file(self) -> None:
        try:
            mtime = (self.run_dir / "preview.npz").stat().st_mtime
        except OSError:
            return
        if mtime != self._mtime:
            self._mtime = mtime
            self.load()

    @work(thread=True, exclusive=True, group="preview")
    def load(self) -> None:
        try:
            preview = load_preview(self.run_dir / "preview.npz")
        except (OSError, KeyError, ValueError) as exc:
            self.app.call_from_thread(self.notify, f"cannot read preview.npz: {exc}", severity="error")
            return
        self.app.call_from_thread(self.show, preview)

    def show(self, preview: Preview) -> None:
        self.preview = preview
        self.draw()

    def draw(self) -> None:
        preview = self.preview
        if preview is None:
            return
        kind = "images" if preview.signal == "image" else f"audio, {preview.sample_rate} Hz"
        self.query_one("#preview-title", Static).update(
            f"epoch {preview.epoch} · {kind} · {self.mode} · updates as epochs finish")
        width = max(20, self.app.size.width - 4)
        self.query_one("#preview-picture", Static).update(draw_preview(preview, width, self.mode or "color"))

    def on_resize(self) -> None:
        self.draw()

    def action_toggle_mode(self) -> None:
        self.mode = "shade" if self.mode == "color" else "color"
        self.draw()

    def action_write_wavs(self) -> None:
        if self.preview is None or self.preview.signal == "image":
            self.notify("WAV files are written for audio runs only", severity="warning")
            return
        paths = write_wavs(self.preview, self.run_dir / "preview-wav")
        self.notify(f"wrote {len(paths)} WAV files to {paths[0].parent}")
