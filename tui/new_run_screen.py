"""The new-run form: task and recipe, training settings, device, corruption chain and model options.

Everything is checked as it is typed (messages under the fields); Start hands the config to
:func:`sigdae.runs.launch_run` (which writes the run directory and starts training as its own process),
then the screen dismisses with the new run directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Footer, Header, Input, Label, LoadingIndicator, Select, Static

from sigdae.runs import check_run_name, launch_run, suggest_run_name
from sigdae.tui.catalog import Catalog, describe_param, load_catalog, split_device
from sigdae.tui.run_form import (AUTO, TRAIN_FIELDS, FieldError, build_config, default_corruption,
                                 fields_for_task, format_literal, initial_values)

FIELD_LABELS = {"epochs": "Epochs", "steps_per_epoch": "Steps/epoch (0=all)", "batch_size": "Batch size",
                "lr": "Learning rate", "max_minutes": "Time budget min", "limit": "Train images (0=all)",
                "val_limit": "Val images (0=all)", "clean_dirs": "Clean speech dirs", "noise_dirs": "Noise dirs",
                "rir_dir": "RIR folder", "pairs_dir": "Val pairs folder"}
PLACEHOLDERS = {"noise_dirs": "optional: folders of noise recordings, comma-separated",
                "rir_dir": "optional: room impulse responses (else synthetic reverb)",
                "pairs_dir": "optional: clean/ + noisy/ pairs to validate on"}
# data folders a recipe leaves empty keep what was typed, so switching between speech recipes keeps them
FOLDER_FIELDS = ("clean_dirs", "noise_dirs", "rir_dir", "pairs_dir")
VALIDATE_DELAY_S = 0.2
_NAMES_IN_SPEC = re.compile(r"([A-Za-z_][\w.]*)\s*(?=\(|\+|\||$)")


def field_row(label: str, widget: Any, field_id: str) -> Vertical:
    widget.compact = True  # one line per field, so the form fits 80x24
    return Vertical(Horizontal(Label(label, classes="field-label"), widget, classes="field-row"),
                    Static("", id=f"{field_id}-error", classes="field-error"), id=f"{field_id}-field",
                    classes="field")


class NewRunScreen(Screen[Path | None]):
    BINDINGS = [Binding("ctrl+s", "start", "Start run", priority=True),
                Binding("escape", "cancel", "Cancel")]

    def __init__(self, runs_dir: Path):
        super().__init__()
        self.runs_dir = runs_dir
        self.catalog: Catalog | None = None
        self.errors: dict[str, str] = {}
        self.config: dict[str, Any] = {}
        self._recipe_shown = self._model_shown = ""
        self._suggested_name = ""
        self._validate_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield LoadingIndicator(id="loading")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "new run"
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        catalog = load_catalog()
        self.app.call_from_thread(self.build_form, catalog)

    # ---- building the form ---------------------------------------------------------------------
    async def build_form(self, catalog: Catalog) -> None:
        self.catalog = catalog
        tasks = catalog.tasks()
        task = tasks[0]
        recipe_name = catalog.recipes_for(task)[0]
        form = VerticalScroll(id="form")
        await self.query_one("#loading").remove()
        await self.mount(form, before=self.query_one(Footer))
        self._suggested_name = suggest_run_name(self.runs_dir, recipe_name)
        await form.mount_all([
            field_row("Run name", Input(self._suggested_name, id="name"), "name"),
            field_row("Task", Select([(catalog.task_label(t), t) for t in tasks], value=task, allow_blank=False,
                                     id="task"), "task"),
            field_row("Recipe", Select([], allow_blank=True, id="recipe"), "recipe"),
            Static(id="recipe-help", classes="help"),
            *[field_row(FIELD_LABELS[f], Input(id=f, placeholder=PLACEHOLDERS.get(f, "")), f) for f in TRAIN_FIELDS],
            field_row("Device", Select(catalog.devices, value="auto", allow_blank=False, id="device"), "device"),
            field_row("Corruption", Input(id="corruption", placeholder="e.g. gaussian(std=0.3) + masking"),
                      "corruption"),
            field_row("Add corruption", Select([], prompt="append one to the chain", id="add-corruption"), "add"),
            Static(id="corruption-help", classes="help"),
            field_row("Model", Select([(m, m) for m in catalog.models], allow_blank=False, id="model"), "model"),
            Static(id="model-help", classes="help"),
            Vertical(id="model-options"),
            Horizontal(Button("Start [ctrl+s]", id="start", variant="success"),
                       Static(id="form-status"), id="start-row"),
        ])
        await self.apply_task(task)
        self.query_one("#name", Input).focus()

    async def apply_task(self, task: str) -> None:
        recipes = self.catalog.recipes_for(task)
        recipe_select = self.query_one("#recipe", Select)
        recipe_select.set_options([(r, r) for r in recipes])
        shown = fields_for_task(self.catalog.task(task))
        for field_id in TRAIN_FIELDS:
            self.query_one(f"#{field_id}-field").display = field_id in shown
        signal = getattr(self.catalog.task(task), "signal", None)
        names = [n for n, d in self.catalog.corruptions.items() if not signal or signal in d.get("supports", ())]
        self.query_one("#add-corruption", Select).set_options([(n, n) for n in names])
        if recipes:
            recipe_select.value = recipes[0]
            await self.apply_recipe(recipes[0])

    async def apply_recipe(self, name: str) -> None:
        recipe = self.catalog.recipes[name]
        self.query_one("#recipe-help", Static).update(recipe.get("description", ""))
        self._recipe_shown = name
        name_input = self.query_one("#name", Input)
        if name_input.value.strip() in ("", self._suggested_name):  # not typed by the user: follow the recipe
            self._suggested_name = suggest_run_name(self.runs_dir, name)
            name_input.value = self._suggested_name
        for field_id, text in initial_values(recipe).items():
            if text or field_id not in FOLDER_FIELDS:
                self.query_one(f"#{field_id}", Input).value = text
        self.query_one("#corruption", Input).value = recipe.get("corruption", {}).get("spec", "")
        self.query_one("#model", Select).value = recipe["model"]["name"]
        await self.apply_model(recipe["model"]["name"], recipe["model"])
        self.input_changed()

    async def apply_model(self, model: str, values: dict[str, Any]) -> None:
        self._model_shown = model
        box = self.query_one("#model-options", Vertical)
        await box.remove_children()
        rows = [field_row(f"  {opt.name}", Input(format_literal(values.get(opt.name)), id=f"model-{opt.name}",
                                                 placeholder=f"default: {format_literal(opt.default) or 'none'}"),
                          f"model-{opt.name}")
                for opt in self.catalog.models.get(model, [])]
        await box.mount_all(rows)
        self.query_one("#model-help", Static).update(self.catalog.model_summaries.get(model, ""))

    # ---- reacting to input --------------------------------------------------------------------------
    @on(Select.Changed, "#task")
    async def task_changed(self, event: Select.Changed) -> None:
        if self.catalog and isinstance(event.value, str):
            await self.apply_task(str(event.value))

    @on(Select.Changed, "#recipe")
    async def recipe_changed(self, event: Select.Changed) -> None:
        if self.catalog and isinstance(event.value, str) and event.value != self._recipe_shown:
            await self.apply_recipe(str(event.value))

    @on(Select.Changed, "#model")
    async def model_changed(self, event: Select.Changed) -> None:
        if self.catalog and isinstance(event.value, str) and event.value != self._model_shown:
            recipe = self.catalog.recipes.get(str(self.query_one("#recipe", Select).value), {})
            same = recipe.get("model", {}).get("name") == event.value
            await self.apply_model(str(event.value), recipe["model"] if same else {})
            self.input_changed()

    @on(Select.Changed, "#add-corruption")
    def add_corruption(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str):
            return
        spec = self.query_one("#corruption", Input)
        current = spec.value.strip()
        if current == AUTO:  # "auto" is no name in a chain: write out what it stands for
            current = self._resolved_auto()
        spec.value = f"{current} + {event.value}" if current else str(event.value)
        event.select.clear()

    def _resolved_auto(self) -> str:
        """The spec ``auto`` stands for with the form's data settings, or "" where it cannot be built."""
        task = self.catalog.task(str(self.config.get("task", ""))) if self.catalog else None
        try:
            return default_corruption(task, self.config.get("data", {})).spec()
        except FieldError:
            return ""

    @on(Input.Changed)
    @on(Select.Changed, "#device")
    def input_changed(self) -> None:
        # filling the form fires a burst of these: check once the burst (or the typing) pauses
        if self._validate_timer is not None:
            self._validate_timer.stop()
        self._validate_timer = self.set_timer(VALIDATE_DELAY_S, self.validate)

    def validate(self) -> None:
        if self.catalog is None:
            return
        values = {f: self.query_one(f"#{f}", Input).value for f in TRAIN_FIELDS}
        model_values = {inp.id.removeprefix("model-"): inp.value for inp in self.query("#model-options Input")}
        spec = self.query_one("#corruption", Input).value
        self.config, self.errors = build_config(
            self.catalog, str(self.query_one("#recipe", Select).value), values,
            str(self.query_one("#model", Select).value), model_values, spec, str(self.query_one("#device", Select).value))
        name_error = check_run_name(self.runs_dir, self.query_one("#name", Input).value.strip())
        if name_error:
            self.errors["name"] = name_error
        for error_label in self.query(".field-error"):
            field_id = error_label.id.removesuffix("-error")
            error_label.update(self.errors.get(field_id, ""))
            error_label.display = field_id in self.errors
        for inp in self.query(Input):
            inp.set_class(inp.id in self.errors, "-invalid")
        self.show_corruption_help(spec)
        status = self.query_one("#form-status", Static)
        status.update(f"{len(self.errors)} problem(s): {next(iter(self.errors.values()))}" if self.errors
                      else "ready: ctrl+s starts training in its own process")
        status.set_class(bool(self.errors), "error")

    def show_corruption_help(self, spec: str) -> None:
        lines = []
        if spec.strip() == AUTO and "corruption" not in self.errors:
            task = self.catalog.task(str(self.config.get("task", "")))
            lines.append(f"[b]{AUTO}[/b]: the default noise of {escape(task.label if task else 'the task')}: "
                         f"{escape(self._resolved_auto())}")
        for name in dict.fromkeys(_NAMES_IN_SPEC.findall(spec)):
            info = self.catalog.corruptions.get(name)
            if info:
                lines.append(f"[b]{name}[/b]: {escape(info['summary'])}")
                lines += [f"  {escape(describe_param(p))}" for p in info.get("params", [])]
        self.query_one("#corruption-help", Static).update("\n".join(lines), layout=True)

    # ---- actions ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.catalog is None:
            return
        self.validate()
        if self.errors:
            field_id = next(iter(self.errors))
            self.notify(self.errors[field_id], title="cannot start yet", severity="error")
            target = self.query(f"#{field_id}")
            if target:
                target.first().focus()
            return
        run_dir = self.runs_dir / self.query_one("#name", Input).value.strip()
        try:
            launch_run(self.config, run_dir, processes=split_device(str(self.query_one("#device", Select).value))[1])
        except OSError as exc:
            self.notify(f"could not start: {exc}", severity="error")
            return
        self.dismiss(run_dir)

    def action_cancel(self) -> None:
        self.dismiss(None)
