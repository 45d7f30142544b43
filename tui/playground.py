"""Corruption playground: pick any registered corruption (plugins too), set its parameters, see the
effect on sample digits or on a spectrogram of a synthetic voice at once, copy the spec for the CLI.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, LoadingIndicator, Select, Static

from sigdae.tui import render
from sigdae.tui.catalog import Catalog, describe_param, load_catalog
from sigdae.tui.run_form import format_literal

SAMPLE_RATE = 16000


def sample_signal(kind: str) -> Any:
    """Eight MNIST test digits, or half a second of a synthetic voiced sound (both deterministic)."""
    if kind == "image":
        from sigdae.datasets.mnist import MNIST

        return MNIST("test").images[:8]
    from sigdae.samples import sample_batch

    return sample_batch("waveform", n=1)


def build_spec(name: str, texts: dict[str, str]) -> str:
    args = ", ".join(f"{k}={v.strip()}" for k, v in texts.items() if v.strip())
    return f"{name}({args})"


def corrupt(spec: str, seed: int) -> tuple[str, str, np.ndarray, np.ndarray]:
    """(normalised spec, signal kind, clean, noisy) as numpy; raises CorruptionError on a bad spec."""
    import torch

    from sigdae.corruptions import parse

    corruption = parse(spec)
    kind = "image" if "image" in corruption.supports else "waveform"
    if kind not in corruption.supports:
        kind = "spectrogram"
    clean = sample_signal("image" if kind == "image" else "waveform")
    if kind == "spectrogram":  # a magnitude spectrogram corruption: corrupt |STFT| itself
        clean = torch.stft(clean.reshape(1, -1), 512, 128, window=torch.hann_window(512), return_complex=True)
        clean = clean.abs().unsqueeze(1)
    generator = torch.Generator().manual_seed(seed)
    noisy = corruption(clean, generator, sample_rate=SAMPLE_RATE if corruption.needs_sample_rate else None)
    return corruption.spec(), kind, clean.numpy(), noisy.numpy()


def draw_effect(kind: str, clean: np.ndarray, noisy: np.ndarray, width: int, mode: str) -> Text:
    if kind == "image":
        return render.image_grid([("clean", clean), ("corrupted", np.clip(noisy, 0, 1))], width, mode)
    if kind == "spectrogram":
        dbs = [20 * np.log10(np.abs(a[0, 0]) + 1e-8) for a in (clean, noisy)]
    else:
        dbs = [render.stft_db(a) for a in (clean, noisy)]
    snr = "" if kind == "spectrogram" else f"  SI-SDR {render.si_sdr(noisy, clean):.2f} dB"
    top = float(dbs[0].max())
    out = Text("clean (spectrogram of a synthetic voice)\n", style="bold", no_wrap=True)
    out.append_text(render.spectrogram_lines(dbs[0], width, 7, top, mode))
    out.append(f"\ncorrupted{snr}\n", style="bold")
    out.append_text(render.spectrogram_lines(dbs[1], width, 7, top, mode))
    return out


class PlaygroundScreen(Screen):
    BINDINGS = [Binding("ctrl+y", "copy_spec", "Copy spec", priority=True),
                Binding("ctrl+r", "reseed", "New noise", priority=True),
                Binding("ctrl+t", "toggle_mode", "Colour/shade", priority=True),
                Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, corruption: str | None = None):
        super().__init__()
        self.initial = corruption
        self.catalog: Catalog | None = None
        self.seed = 0
        self.spec = ""
        self.mode: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield LoadingIndicator(id="loading")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "corruption playground"
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        catalog = load_catalog()
        self.app.call_from_thread(self.build, catalog)

    async def build(self, catalog: Catalog) -> None:
        self.catalog = catalog
        names = list(catalog.corruptions)
        first = self.initial if self.initial in names else ("gaussian" if "gaussian" in names else names[0])
        await self.query_one("#loading").remove()
        body = VerticalScroll(
            Horizontal(Label("Corruption", classes="field-label"),
                       Select([(n, n) for n in names], value=first, allow_blank=False, id="pick", compact=True), classes="field-row"),
            Static(id="summary", classes="help"),
            Vertical(id="params"),
            Static(id="spec", classes="spec"),
            Static(id="effect"),
            id="playground")
        await self.mount(body, before=self.query_one(Footer))
        await self.show_params(first)
        self.query_one("#pick", Select).focus()

    async def show_params(self, name: str) -> None:
        info = self.catalog.corruptions[name]
        self.query_one("#summary", Static).update(
            f"{info['summary']}\nsupports: {', '.join(info.get('supports', []))}   origin: {info.get('origin', '?')}")
        box = self.query_one("#params", Vertical)
        await box.remove_children()
        await box.mount_all([
            Vertical(Horizontal(Label(p["name"], classes="field-label"),
                                Input(format_literal(p["default"]), id=f"param-{p['name']}", compact=True), classes="field-row"),
                     Static(describe_param(p), classes="help"), classes="field")
            for p in info.get("params", [])])
        self.update_effect()

    @on(Select.Changed, "#pick")
    async def picked(self, event: Select.Changed) -> None:
        if self.catalog and isinstance(event.value, str):
            await self.show_params(str(event.value))

    @on(Input.Changed)
    def param_changed(self) -> None:
        self.update_effect()

    def current_spec(self) -> str:
        name = str(self.query_one("#pick", Select).value)
        return build_spec(name, {inp.id.removeprefix("param-"): inp.value for inp in self.query("#params Input")})

    def update_effect(self) -> None:
        if self.catalog is not None:
            self.mode = self.mode or render.auto_mode(self.app.console.color_system)
            self.compute(self.current_spec(), self.seed, max(20, self.app.size.width - 4), self.mode)

    @work(thread=True, exclusive=True, group="effect", exit_on_error=False)
    def compute(self, spec: str, seed: int, width: int, mode: str) -> None:
        from sigdae.corruptions import CorruptionError

        try:
            spec, kind, clean, noisy = corrupt(spec, seed)
        except (CorruptionError, LookupError, ValueError) as exc:
            self.app.call_from_thread(self.show_error, str(exc).splitlines()[0])
            return
        picture = draw_effect(kind, clean, noisy, width, mode)
        self.app.call_from_thread(self.show_effect, spec, picture)

    def show_effect(self, spec: str, picture: Text) -> None:
        self.spec = spec
        self.query_one("#spec", Static).update(Text.assemble(("spec: ", "bold"), (spec, "bold cyan"),
                                                             ("   ctrl+y copies it", "dim")))
        self.query_one("#spec").remove_class("error")
        self.query_one("#effect", Static).update(picture)

    def show_error(self, message: str) -> None:
        self.spec = ""
        spec = self.query_one("#spec", Static)
        spec.update(Text(message, style="bold red"))
        spec.add_class("error")

    def action_copy_spec(self) -> None:
        if not self.spec:
            self.notify("fix the parameters first", severity="warning")
            return
        self.app.copy_to_clipboard(self.spec)
        self.notify(f"copied: {self.spec}  (use it as --corruption '{self.spec}')")

    def action_toggle_mode(self) -> None:
        self.mode = "shade" if self.mode == "color" else "color"
        self.update_effect()

    def action_reseed(self) -> None:
        self.seed += 1
        self.update_effect()
