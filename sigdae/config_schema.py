"""What a run config may hold: its sections and keys, the type of each [train] value and its limits.

Every mistake is one :class:`~sigdae.errors.ConfigError` line that names the key, with a suggestion for a
misspelt one. The [model] options are checked by the model's constructor and [data] by the task.
"""

from __future__ import annotations

import difflib
import math
from typing import Any, Iterable

from sigdae.errors import ConfigError

TOP_LEVEL = ("task", "seed", "device", "recipe", "model", "corruption", "loss", "data", "train")
SECTION_KEYS = {"corruption": ("spec",), "loss": ("spec", "penalties", "l1", "l2")}

# [train] numbers: (lowest, highest, lowest excluded)
TRAIN_LIMITS: dict[str, tuple[float, float, bool]] = {
    "epochs": (1, math.inf, False), "max_minutes": (0, math.inf, False), "steps_per_epoch": (0, math.inf, False),
    "batch_size": (1, math.inf, False), "lr": (0, math.inf, True), "min_lr_ratio": (0, 1, False),
    "warmup": (0, 1, False), "weight_decay": (0, math.inf, False), "adam_eps": (0, math.inf, True),
    "grad_clip": (0, math.inf, False), "early_stop_patience": (0, math.inf, False),
    "log_every_s": (0, math.inf, False), "val_batches": (0, math.inf, False), "lr_batch": (0, math.inf, False),
}


def unknown_key(where: str, key: str, known: Iterable[str]) -> ConfigError:
    known = list(known)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(known)}"
    return ConfigError(f"unknown {where} setting '{key}' ({hint})")


def check_keys(where: str, table: dict[str, Any], known: Iterable[str]) -> None:
    known = list(known)
    for key in table:
        if key not in known:
            raise unknown_key(where, key, known)


def check_sections(config: dict[str, Any]) -> None:
    check_keys("top-level", config, TOP_LEVEL)
    for section in ("model", "corruption", "loss", "data", "train"):
        if section in config and not isinstance(config[section], dict):
            raise ConfigError(f"[{section}] must be a table, not {config[section]!r}")
    for section, keys in SECTION_KEYS.items():
        check_keys(f"[{section}]", config.get(section, {}), keys)
    if not isinstance(config.get("seed", 0), int) or isinstance(config.get("seed"), bool):
        raise ConfigError(f"seed must be a whole number, not {config['seed']!r}")
    for key in ("task", "device"):
        if key in config and not isinstance(config[key], str):
            raise ConfigError(f"{key} must be a string, not {config[key]!r}")


def check_train(train: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Each [train] value has its default's type (a whole number where the default is one) and limits."""
    for key, value in train.items():
        default = defaults[key]
        if isinstance(default, (bool, str, list, dict)):
            continue  # checked where they are used (amp, schedule, optimizer, init, widen, adam_betas)
        if isinstance(default, int) and (not isinstance(value, int) or isinstance(value, bool)):
            raise ConfigError(f"train.{key} must be a whole number, not {value!r}")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ConfigError(f"train.{key} must be a finite number, not {value!r}")
        low, high, open_low = TRAIN_LIMITS.get(key, (-math.inf, math.inf, False))
        if value < low or value > high or (open_low and value == low):
            bound = f"above {low:g}" if open_low else f"at least {low:g}"
            bound += f" and at most {high:g}" if high != math.inf else ""
            raise ConfigError(f"train.{key} must be {bound}, not {value!r}")
    if train.get("widen") and not train.get("init"):
        raise ConfigError("train.widen needs train.init (--init): the trained model to widen")
