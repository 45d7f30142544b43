"""The new-run form's rules, without widgets: parse and check each field, and build the run config.

Every check returns a one-line message the form shows next to the field, so bad input never reaches
the training process.
"""

from __future__ import annotations

import ast
import copy
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from sigdae.errors import ConfigError, SigdaeError
from sigdae.tui.catalog import Catalog, split_device
from sigdae.values import parse_value

if TYPE_CHECKING:
    from sigdae.corruptions import Corruption
    from sigdae.tasks import Task

AUTO = "auto"   # the corruption spec that means "the task's own noise", built from its data settings


class FieldError(ConfigError):
    """A form field's value is wrong (one line)."""


def parse_int(text: str, low: int, what: str) -> int:
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise FieldError(f"{what} must be a whole number") from None
    if value < low:
        raise FieldError(f"{what} must be at least {low}")
    return value


def parse_float(text: str, low: float, what: str, strict: bool = False) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise FieldError(f"{what} must be a number, e.g. 0.001 or 1e-3") from None
    if value != value or value < low or (strict and value == low):
        raise FieldError(f"{what} must be {'above' if strict else 'at least'} {low}")
    return value


def parse_folders(text: str, what: str, required: bool) -> list[str]:
    folders = [part.strip() for part in text.split(",") if part.strip()]
    if required and not folders:
        raise FieldError(f"{what}: give at least one folder (comma-separated)")
    missing = [f for f in folders if not Path(f).expanduser().is_dir()]
    if missing:
        raise FieldError(f"{what}: no such folder: {missing[0]}")
    return [str(Path(f).expanduser()) for f in folders]


def parse_folder(text: str, what: str, inside: tuple[str, ...] = ()) -> str:
    """One folder, or "" for none; ``inside`` names subfolders it must hold."""
    text = text.strip()
    if not text:
        return ""
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise FieldError(f"{what}: no such folder: {text}")
    missing = [name for name in inside if not (folder / name).is_dir()]
    if missing:
        raise FieldError(f"{what}: {text} has no {' or '.join(name + '/' for name in missing)} inside "
                         f"(it needs {' and '.join(name + '/' for name in inside)})")
    return str(folder)


def parse_literal(text: str, what: str) -> Any:
    """A TOML value (``3``, ``[16, 32]``, ``"relu"``, ``true``); a bare word is taken as a string."""
    try:
        return parse_value(text, plain_text=False)
    except ValueError:
        word = text.strip()
        if word.replace("_", "").replace("-", "").isalnum():
            return word
        raise FieldError(f"{what}: not a value (numbers, [1, 2] lists, true/false or words)") from None


def default_corruption(task: Task | None, data: dict[str, Any]) -> Corruption:
    """What ``auto`` means for ``task`` with these [data] settings."""
    if task is None:
        raise FieldError(f"corruption: '{AUTO}' needs a registered task")
    try:
        return task.default_corruption(task.data({"data": data}))
    except (SigdaeError, LookupError, ValueError) as exc:
        raise FieldError(f"corruption: {AUTO}: {str(exc).splitlines()[0]}") from None


def check_corruption(spec: str, task: Task | None, data: dict[str, Any] | None = None) -> str:
    """The normalised spec string, or FieldError with the parser's one-line message. ``auto`` stays
    ``auto`` (training resolves it) once the task's default corruption builds from ``data``."""
    from sigdae.corruptions import CorruptionError, parse

    if not spec.strip():
        raise FieldError("corruption: give at least one, e.g. gaussian(std=0.3)")
    if spec.strip() == AUTO:
        corruption = default_corruption(task, data or {})
    else:
        try:
            corruption = parse(spec)
        except (CorruptionError, LookupError, ValueError) as exc:
            raise FieldError(f"corruption: {str(exc).splitlines()[0]}") from None
    signal = task.signal if task is not None else None
    if signal and signal not in corruption.supports:
        raise FieldError(f"corruption: {corruption.spec()} does not work on {signal}s "
                         f"(it supports {', '.join(sorted(corruption.supports))})")
    return AUTO if spec.strip() == AUTO else corruption.spec()


def check_model(name: str, options: dict[str, Any]) -> None:
    """Build the model once to let its constructor judge the options (remembered per set of options)."""
    error = _model_error(name, repr(sorted(options.items())))
    if error:
        raise FieldError(error)


@functools.lru_cache(maxsize=64)
def _model_error(name: str, options_repr: str) -> str | None:
    from sigdae.models import build_model

    try:
        build_model(name, **dict(ast.literal_eval(options_repr)))
    except Exception as exc:  # any constructor complaint is the user's input to fix
        return f"model: {str(exc).splitlines()[0] or type(exc).__name__}"
    return None


# field id -> (dotted config key, parser)
TRAIN_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "epochs": ("train.epochs", lambda t: parse_int(t, 1, "epochs")),
    "steps_per_epoch": ("train.steps_per_epoch", lambda t: parse_int(t, 0, "steps per epoch")),
    "batch_size": ("train.batch_size", lambda t: parse_int(t, 1, "batch size")),
    "lr": ("train.lr", lambda t: parse_float(t, 0.0, "learning rate", strict=True)),
    "max_minutes": ("train.max_minutes", lambda t: parse_float(t, 0.0, "time budget")),
    "limit": ("data.limit", lambda t: parse_int(t, 0, "training images")),
    "val_limit": ("data.val_limit", lambda t: parse_int(t, 0, "validation images")),
    "clean_dirs": ("data.clean_dirs", lambda t: parse_folders(t, "clean speech folders", True)),
    "noise_dirs": ("data.noise_dirs", lambda t: parse_folders(t, "noise folders", False)),
    "rir_dir": ("data.rir_dir", lambda t: parse_folder(t, "RIR folder")),
    "pairs_dir": ("data.pairs_dir", lambda t: parse_folder(t, "validation pairs folder", ("clean", "noisy"))),
}


def fields_for_task(task: Task | None) -> list[str]:
    """The training settings, and the [data] settings that ``task`` reads."""
    data_keys = set(getattr(task, "data_defaults", None) or ())
    return [f for f, (key, _) in TRAIN_FIELDS.items()
            if not key.startswith("data.") or key.removeprefix("data.") in data_keys]


def initial_values(config: dict[str, Any]) -> dict[str, str]:
    """Text for each field from a recipe config (with the trainer's defaults filled in)."""
    from sigdae.config import complete

    config = complete({key: value for key, value in config.items() if key != "description"})
    values = {}
    for field_id, (key, _) in TRAIN_FIELDS.items():
        section, leaf = key.split(".")
        value = config.get(section, {}).get(leaf, 0 if section == "data" and leaf.endswith("limit") else "")
        values[field_id] = ", ".join(value) if isinstance(value, list) else str(value)
    return values


def format_literal(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_literal(v) for v in value) + "]"
    return str(value)


def build_config(catalog: Catalog, recipe_name: str, values: dict[str, str], model: str,
                 model_values: dict[str, str], corruption: str, device: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The run config and the per-field errors (empty when it can be started)."""
    from sigdae.config import set_dotted

    errors: dict[str, str] = {}
    if recipe_name not in catalog.recipes:
        return {}, {"recipe": "choose a recipe"}
    config = copy.deepcopy(catalog.recipes[recipe_name])
    config.pop("description", None)
    config["recipe"] = recipe_name
    config["device"], processes = split_device(device)
    task = catalog.task(config["task"])
    for field_id in fields_for_task(task):
        key, parse = TRAIN_FIELDS[field_id]
        try:
            set_dotted(config, key, parse(values.get(field_id, "")))
        except FieldError as exc:
            errors[field_id] = str(exc)
    options: dict[str, Any] = {}
    for option, text in model_values.items():
        if text.strip():
            try:
                options[option] = parse_literal(text, option)
            except FieldError as exc:
                errors[f"model-{option}"] = str(exc)
    if not any(k.startswith("model-") for k in errors):
        try:
            check_model(model, options)
        except FieldError as exc:
            errors["model"] = str(exc)
    config["model"] = {"name": model, **options}
    batch = config.get("train", {}).get("batch_size")
    if processes > 1 and "batch_size" not in errors and isinstance(batch, int) and batch % processes:
        errors["batch_size"] = f"the batch size must divide evenly among the {processes} GPUs"
    try:
        config["corruption"] = {"spec": check_corruption(corruption, task, config.get("data", {}))}
    except FieldError as exc:
        errors["corruption"] = str(exc)
    return config, errors
