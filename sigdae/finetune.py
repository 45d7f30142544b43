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
    keep this run's values, so a trained model can grow layers that start as the identity. ``train.widen``
    enlarges whole-number options of the init model (``{hidden = 384}``); :func:`load_init_state` then
    widens its weights so that the grown model starts computing what the init model did."""
    payload = checkpoint.load(config["train"]["init"])
    if payload.get("task", config["task"]) != config["task"]:
        raise ConfigError(f"train.init: {payload['path']} was trained for task '{payload['task']}', "
                          f"this run is '{config['task']}'")
    run_model = config["model"]
    adopted = {"name": payload["model"]["name"], **payload["model"]["config"]}
    grown = sorted(k for k in run_model if k not in adopted) if run_model.get("name") == adopted["name"] else []
    adopted.update({k: run_model[k] for k in grown})
    adopted.update(_widened_options(adopted, config["train"].get("widen") or {}))
    config["model"] = adopted
    config["train"]["init"] = payload["path"]
    return payload["model"]["state"], grown


def _widened_options(model: dict[str, Any], widen: Any) -> dict[str, int]:
    if not isinstance(widen, dict):
        raise ConfigError(f"train.widen must be a table of model options, such as {{hidden = 384}}, not {widen!r}")
    for key, size in widen.items():
        old = model.get(key)
        if not _whole(old) or not _whole(size) or size < old:
            raise ConfigError(f"train.widen: {key} must be a whole-number option of the init model "
                              f"({model['name']}) and at least its value {old!r}, not {size!r}")
    return dict(widen)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def widened(old: torch.Tensor, fresh: torch.Tensor) -> torch.Tensor:
    """``old`` in the leading corner of a tensor shaped as ``fresh``. New output rows (dim 0) keep their
    fresh initialisation; new inputs (every later dim) are zero, so layers that read new channels ignore
    them at first and the widened network computes what the narrow one did (for convolutions and linear
    layers with per-channel norms and activations between them), while gradients still reach every weight."""
    out = fresh.detach().clone()
    for dim in range(1, out.dim()):
        out.narrow(dim, old.shape[dim], out.shape[dim] - old.shape[dim]).zero_()
    out[tuple(slice(0, n) for n in old.shape)] = old
    return out


def _fit_to(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    own = model.state_dict()
    fitted = dict(state)
    for key, old in state.items():
        fresh = own.get(key)
        if fresh is None or fresh.shape == old.shape:
            continue
        if fresh.dim() != old.dim() or any(n < o for n, o in zip(fresh.shape, old.shape)):
            raise ConfigError(f"train.init: the weights do not fit the model ({key}: {tuple(old.shape)} cannot "
                              f"widen to {tuple(fresh.shape)})")
        fitted[key] = widened(old, fresh)
    return fitted


def load_init_state(model: torch.nn.Module, state: dict[str, torch.Tensor], may_lack_parameters: bool,
                    widen: bool = False) -> None:
    """The init weights; parameters they lack must be new layers (which start as the identity). With
    ``widen``, weights smaller than the model's are widened into them (see :func:`widened`)."""
    if widen:
        state = _fit_to(model, state)
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
