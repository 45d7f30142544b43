"""Run configuration: nested dicts read from and written to TOML, with named recipes as defaults.

A run config has the sections ``task``, ``seed``, ``device``, ``[model]``, ``[corruption]``, ``[loss]``,
``[data]`` and ``[train]`` (see ``sigdae.recipes``). Values given on the command line override the file.
"""

from __future__ import annotations

import copy
import os
import tomllib
from typing import Any

import tomli_w

from sigdae.config_schema import check_keys, check_sections, check_train
from sigdae.errors import ConfigError
from sigdae.fileio import atomic_write_text  # noqa: F401  (its former home; callers may still import it here)
from sigdae.values import parse_value

TRAIN_DEFAULTS: dict[str, Any] = {
    "epochs": 10,
    "max_minutes": 0.0,         # 0: no time budget; otherwise stop (and anneal the lr) by wall time
    "steps_per_epoch": 0,       # 0: one pass over the training data
    "batch_size": 128,
    "lr": 1e-3,
    "lr_batch": 0,              # the batch size lr is tuned for: lr follows lr_rule to batch_size; 0: lr as given
    "lr_rule": "sqrt",          # sqrt | linear: how lr scales with batch_size / lr_batch
    "min_lr_ratio": 0.0,
    "schedule": "cosine",       # cosine | linear | constant | plateau
    "warmup": 0.0,              # fraction of the run
    "optimizer": "adam",        # adam | adamw | sgd
    "weight_decay": 0.0,
    "adam_eps": 1e-8,
    "adam_betas": [0.9, 0.999],
    "grad_clip": 0.0,
    "early_stop_patience": 0,   # epochs without improvement before stopping; 0 disables
    "amp": "auto",              # mixed precision where the hardware has it natively (CUDA; CPUs with bf16)
    "log_every_s": 1.0,
    "init": "",                 # checkpoint or run dir whose model (architecture and weights) starts the run
    "widen": {},                # larger sizes for the init model's options ({hidden = 384}), weights carried over
    "val_batches": 0,           # 0: the whole validation set
    "compile": "",              # torch.compile the model with this backend ("inductor" on a GPU); "": off
    "loggers": [],              # also write the events as: "csv" (epochs.csv), "tensorboard" (tensorboard/)
}

SCHEDULES = ("cosine", "linear", "constant", "plateau")
LR_RULES = ("sqrt", "linear")


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        renamed_model = key == "model" and isinstance(value, dict) and value.get("name") not in (
            None, (out.get("model") or {}).get("name"))
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not renamed_model:
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def complete(config: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults and check the shape of a config."""
    config = copy.deepcopy(config)
    check_sections(config)
    for key in ("task", "model"):
        if key not in config:
            raise ConfigError(f"config needs '{key}'")
    if "name" not in config["model"]:
        raise ConfigError("config [model] needs a 'name'")
    config.setdefault("seed", 0)
    config.setdefault("device", "auto")
    config.setdefault("corruption", {"spec": ""})
    config.setdefault("loss", {"spec": "mse"})
    config.setdefault("data", {})
    check_keys("[train]", config.get("train", {}), TRAIN_DEFAULTS)
    config["train"] = {**TRAIN_DEFAULTS, **config.get("train", {})}
    check_train(config["train"], TRAIN_DEFAULTS)
    if config["train"]["schedule"] not in SCHEDULES:
        raise ConfigError(f"unknown train.schedule '{config['train']['schedule']}' (known: {', '.join(SCHEDULES)})")
    if config["train"]["lr_rule"] not in LR_RULES:
        raise ConfigError(f"unknown train.lr_rule '{config['train']['lr_rule']}' (known: {', '.join(LR_RULES)})")
    return config


def load_toml(path: str | os.PathLike) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not valid TOML: it is not UTF-8 text") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder") from None


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_without_none(v) for v in value]
    return value


def dumps_toml(config: dict[str, Any]) -> str:
    """TOML text for a config: top-level scalars, then one table per section; None values are left out
    (TOML has no null)."""
    try:
        return tomli_w.dumps(_without_none(config))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot write the config as TOML: {exc}") from None


def set_dotted(config: dict[str, Any], dotted: str, value: Any) -> None:
    """``set_dotted(cfg, "train.lr", 1e-3)``."""
    *parents, leaf = dotted.split(".")
    node = config
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {dotted}: {key} is not a table")
    node[leaf] = value


def apply_override(config: dict[str, Any], item: str) -> None:
    """A ``--set KEY=VALUE`` item: the value is TOML where it parses (numbers, lists, booleans, quoted
    strings), otherwise the plain text."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set takes KEY=VALUE, got {item!r}")
    set_dotted(config, key.strip(), parse_value(text))
