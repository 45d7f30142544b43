"""The experiments view: every experiment folder under the experiments directory, the highlighted one's
report (its text and tables) and figures; ``n`` starts ``sigdae experiment`` as its own process (the dialog
is :mod:`sigdae.tui.experiment_dialog`).

Figures are drawn like the run preview (:mod:`sigdae.tui.preview`): through a terminal graphics protocol
where the terminal has one (textual-image, via :mod:`sigdae.tui.graphics`), else as colour half-blocks or
shade characters; ``g`` and ``m`` switch. The PNGs are read (with Pillow) off the UI thread, and re-read
when the report changes, as it does when a running experiment finishes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from sigdae.errors import RunError
from sigdae.tui import render
from sigdae.tui.experiment_folders import (Block, ExperimentFolder, launch_experiment, log_tail, report_blocks,
                                           scan_experiments, stop_experiment, table_lines)
from sigdae.tui.formatting import format_age, format_duration, status_text
from sigdae.tui.picture_modes import PictureModes

REFRESH_S = 2.0
COLUMNS = (("folder", 20), ("experiment", 14), ("size", 5), ("status", 8), ("took", 7), ("figs", 4), ("age", 4))


class LoadedReport:
    """What the body shows for one folder: its report blocks and figures (RGB arrays), or its log."""

    def __init__(self, folder: ExperimentFolder, key: tuple):
        self.folder, self.key = folder, key
        self.blocks: list[Block] = []
        self.figures: dict[str, np.ndarray] = {}
        self.log: list[str] = []

    @classmethod
    def read(cls, folder: ExperimentFolder, key: tuple) -> "LoadedReport":
        from PIL import Image

        loaded = cls(folder, key)
        if folder.status == "finished" and folder.report.exists():
            loaded.blocks = report_blocks(folder.report.read_text(errors="replace"))
            for block in loaded.blocks:
                if block.kind == "figure":
                    try:
                        with Image.open(folder.path / block.file) as image:
                            loaded.figures[block.file] = np.asarray(image.convert("RGB"))
                    except (OSError, ValueError):
                        pass  # a missing or broken PNG: its caption still shows
        else:
            loaded.log = log_tail(folder.log, 15)
        return loaded


def block_text(block: Block) -> Text:
    """A report block other than a figure as text (tables as aligned columns, the header in bold)."""
    if block.kind == "table":
        lines = table_lines(block)
        return Text.assemble((lines[0], "bold"), "\n", "\n".join(lines[1:]))
    style = {"heading": "bold", "code": "green"}.get(block.kind, "dim" if block.text.startswith("Size `") else "")
    return Text(block.text, style=style)


def log_text(loaded: LoadedReport) -> Text:
    """What shows for an experiment without a report: its status and the end of its log."""
    folder = loaded.folder
    out = Text.assemble((f"{folder.experiment or folder.name}: {folder.status}", "bold"),
                        ("  (the end of experiment.log)" if loaded.log else "  (no report yet)", "dim"))
    for line in loaded.log:
        out.append("\n" + line)
    return out


def figure_lines(rgb: np.ndarray, width: int, max_lines: int, mode: str) -> Text:
    """An RGB figure as half-block (or shade) text at most ``width`` cells by ``max_lines`` lines."""
    from PIL import Image

    h, w = rgb.shape[:2]
    scale = min(width / w, 2 * max_lines / h, 1.0)
    cols, rows = max(1, round(w * scale)), max(2, round(h * scale / 2) * 2)
    small = np.asarray(Image.fromarray(rgb).resize((cols, rows), Image.Resampling.BOX), dtype=int)
    if mode == "color":
        return Text("\n").join(render.pixel_rows(small[r], small[r + 1]) for r in range(0, rows, 2))
    return Text("\n").join(render.image_lines(small.mean(axis=-1) / 255.0, "shade"))


class ExperimentsScreen(PictureModes, Screen):
    DEFAULT_CSS = """
    #experiments { height: auto; max-height: 7; }
    #experiment-detail { height: 1; padding: 0 1; background: $boost; }
    #experiment-body { height: 1fr; padding: 0 1; }
    #experiment-report { height: auto; }
    #experiment-report Static { height: auto; margin-bottom: 1; }
    #experiment-report .table-box { height: auto; margin-bottom: 1; }
    #experiment-report .report-table { width: auto; margin-bottom: 0; text-wrap: nowrap; }
    #experiment-report .figure-text { width: auto; text-wrap: nowrap; }
    #experiment-report .figure-caption { margin-bottom: 0; text-style: bold; }
    #experiment-report .figure-image { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("n", "start", "Start"),
        Binding("s", "stop", "Stop"),
        Binding("g", "toggle_renderer", "Graphics/text"),
        Binding("m", "toggle_mode", "Colour/shade"),
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("q", "app.request_quit", "Quit"),
    ]

    def __init__(self, experiments_dir: Path, graphics: str | None = None):
        super().__init__()
        self.experiments_dir = Path(experiments_dir)
        self.folders: list[ExperimentFolder] = []
        self.loaded: LoadedReport | None = None
        self.mode = "color"
        self.renderer = "text"
        self.protocol: str | None = None
        self.protocol_reason = ""
        self._graphics_option = graphics
        self._shown: tuple = ()
        self._pictures: list[Any] = []  # textual-image widgets in graphics mode

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="experiments", cursor_type="row", zebra_stripes=True)
        yield Static(id="experiment-detail")
        with VerticalScroll(id="experiment-body"):
            yield Vertical(id="experiment-report")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.experiments_dir} · experiments"
        self.choose_renderer()
        table = self.query_one(DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        self.refresh_folders()
        self.set_interval(REFRESH_S, self.refresh_folders)

    def on_unmount(self) -> None:
        self._clear_graphics()

    # --- the list -----------------------------------------------------------------------------------------

    def refresh_folders(self) -> None:
        self.folders = scan_experiments(self.experiments_dir)
        now = time.time()
        rows = tuple((f.name, f.experiment, f.size, f.status, format_duration(f.seconds), str(len(f.figures)),
                      format_age(now - f.updated)) for f in self.folders)
        if rows != self._shown:
            table = self.query_one(DataTable)
            selected = self.selected()
            table.clear()
            for row in rows:
                table.add_row(*row[:3], status_text(row[3]), *row[4:], key=row[0])
            self._shown = rows
            names = [f.name for f in self.folders]
            if selected is not None and selected.name in names:
                table.move_cursor(row=names.index(selected.name))
        self.show_selected()

    def selected(self) -> ExperimentFolder | None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        return self.folders[row] if self.folders and 0 <= row < len(self.folders) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_selected()

    def show_selected(self) -> None:
        folder = self.selected()
        detail = self.query_one("#experiment-detail", Static)
        if folder is None:
            detail.update(f"No experiments in {self.experiments_dir} yet. Press [b]n[/] to start one "
                          "(or run `sigdae experiment NAME --out DIR` there).")
            self.loaded = None
            self._draw_report()
            return
        where = f"pid {folder.pid}" if folder.live and folder.pid else str(folder.path)
        detail.update(Text.assemble((folder.name, "bold"), "  ",
                                    status_text(folder.status), f"  {where}"))
        key = (folder.path, folder.status, folder.updated)
        if self.loaded is None or self.loaded.key != key:
            self.load(folder, key)

    @work(thread=True, exclusive=True, group="experiment-report")
    def load(self, folder: ExperimentFolder, key: tuple) -> None:
        try:
            loaded = LoadedReport.read(folder, key)
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"cannot read {folder.report}: {exc}", severity="error")
            return
        if self.renderer == "graphics" and loaded.figures:
            self._load_graphics()
        self.app.call_from_thread(self.show, loaded)

    def show(self, loaded: LoadedReport) -> None:
        self.loaded = loaded
        self._draw_report()

    # --- figures ------------------------------------------------------------------------------------------

    def _figure_box(self) -> tuple[int, int]:
        return max(20, self.app.size.width - 4), max(6, self.app.size.height - 8)

    def _draw_report(self) -> None:
        """One widget per report block, figures where the report has them."""
        box = self.query_one("#experiment-report", Vertical)
        self._clear_graphics()
        box.remove_children()
        self._pictures = []
        loaded = self.loaded
        if loaded is None:
            return
        if not loaded.blocks:
            box.mount(Static(log_text(loaded), classes="report-log"))
            return
        width, height = self._figure_box()
        graphics_class = self._graphics_class() if self.renderer == "graphics" and loaded.figures else None
        widgets: list[Any] = []
        for block in loaded.blocks:
            if block.kind == "table":  # a wide table scrolls sideways on its own; the text still wraps
                widgets.append(HorizontalScroll(Static(block_text(block), classes="report-table"), classes="table-box"))
                continue
            if block.kind != "figure":
                widgets.append(Static(block_text(block), classes=f"report-{block.kind}"))
                continue
            widgets.append(Static(block.text, classes="figure-caption"))
            rgb = loaded.figures.get(block.file)
            if rgb is None:
                widgets.append(Static(Text(f"({block.file} cannot be read)", style="dim"), classes="figure-missing"))
            elif graphics_class is None:
                widgets.append(Static(figure_lines(rgb, width, height, self.mode or "color"), classes="figure-text"))
            else:
                picture = graphics_class(classes="figure-image")
                self._size_picture(picture, rgb, width, height)
                self._pictures.append(picture)
                widgets.append(picture)
        box.mount_all(widgets)

    def _graphics_class(self) -> type | None:
        from sigdae.tui import graphics

        if self.protocol is None or not self._load_graphics():
            return None
        return graphics.load_widgets()[self.protocol]

    def _size_picture(self, picture: Any, rgb: np.ndarray, width: int, height: int) -> None:
        from PIL import Image

        from sigdae.tui import graphics

        cell = graphics.cell_size()
        cols, rows = graphics.fit_cells(rgb.shape[1], rgb.shape[0], width, height, cell)
        picture.styles.width, picture.styles.height = cols, rows
        picture.image = Image.fromarray(rgb).resize((cols * cell[0], rows * cell[1]), Image.Resampling.LANCZOS)

    def _load_graphics(self) -> bool:
        """Import textual-image (first time only); on failure fall back to text for good."""
        from sigdae.tui import graphics

        try:
            graphics.load_widgets()
            return True
        except Exception as exc:  # a broken or missing textual-image must not take the view down
            self.protocol, self.protocol_reason = None, f"textual-image unavailable: {exc}"
            self.renderer = "text"
            return False

    def _clear_graphics(self) -> None:
        """Free the images held by the terminal (kitty keeps them until told)."""
        for picture in self._pictures:
            if picture.image is not None:
                picture.image = None

    def on_resize(self) -> None:
        if self.loaded is not None:
            self._draw_report()

    def redraw(self) -> None:
        self._draw_report()

    # --- start and stop -----------------------------------------------------------------------------------

    def action_start(self) -> None:
        def chosen(choice: tuple[str, str, bool] | None) -> None:
            if choice is None:
                return
            experiment, folder, quick = choice
            try:
                pid = launch_experiment(experiment, self.experiments_dir / folder, quick)
            except (RunError, OSError) as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(f"started {experiment}{' --quick' if quick else ''} in {folder} (pid {pid})")
            self.refresh_folders()
            names = [f.name for f in self.folders]
            if folder in names:
                self.query_one(DataTable).move_cursor(row=names.index(folder))

        from sigdae.tui.experiment_dialog import StartExperimentDialog

        self.app.push_screen(StartExperimentDialog(self.experiments_dir), chosen)

    def action_stop(self) -> None:
        folder = self.selected()
        if folder is not None and stop_experiment(folder.path):
            self.notify(f"stopped the experiment in {folder.name}")
            self.refresh_folders()
        elif folder is not None:
            self.notify(f"{folder.name} is not running", severity="warning")
