"""Fine-tuning: start a run from another model's architecture and weights (``train.init``)."""

from __future__ import annotations

from typing import Any

import torch

from sigdae import checkpoint
from sigdae.errors import ConfigError


def adopt_init_model(config: dict[str, Any]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The init checkpoint's architecture replaces ``config["model"]`` (in place); returns its weights and
    the options taken from this run.

    Options the checkpoint does not record (added to the model since it was saved, such as ``context``)
    keep this run's values, so a trained model can grow layers that start as the identity."""
    payload = checkpoint.load(config["train"]["init"])
    if payload.get("task", config["task"]) != config["task"]:
        raise ConfigError(f"train.init: {payload['path']} was trained for task '{payload['task']}', "
                          f"this run is '{config['task']}'")
    run_model = config["model"]
    adopted = {"name": payload["model"]["name"], **payload["model"]["config"]}
    grown = sorted(k for k in run_model if k not in adopted) if run_model.get("name") == adopted["name"] else []
    adopted.update({k: run_model[k] for k in grown})
    config["model"] = adopted
    config["train"]["init"] = payload["path"]
    return payload["model"]["state"], grown


def load_init_state(model: torch.nn.Module, state: dict[str, torch.Tensor], may_lack_parameters: bool) -> None:
    """The init weights; parameters they lack must be new layers (which start as the identity)."""
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ConfigError(f"train.init: the weights do not fit the model ({str(exc).splitlines()[-1].strip()})")
    if result.unexpected_keys:
        raise ConfigError(f"train.init: the weights hold parameters the model lacks: "
                          f"{', '.join(result.unexpected_keys[:3])}")
    if result.missing_keys and not may_lack_parameters:
        raise ConfigError(f"train.init: the weights lack parameters of the model: "
                          f"{', '.join(result.missing_keys[:3])}")
