"""Optimizers and the learning-rate schedule (a pure function of the run's progress)."""

from __future__ import annotations

import math
from typing import Any

import torch

from sigdae.config import ConfigError


def lr_factor(progress: float, warmup: float, schedule: str, min_ratio: float) -> float:
    """Learning-rate multiplier at a fraction ``progress`` of the run: ``cosine`` or ``linear`` decay to
    ``min_ratio`` after the warm-up; ``constant`` and ``plateau`` (halved by the trainer) stay at 1.
    The name was checked with the rest of the config (:func:`sigdae.config.complete`)."""
    if warmup > 0 and progress < warmup:
        return max(progress / warmup, 1e-3)
    if schedule not in ("cosine", "linear"):
        return 1.0
    t = min(1.0, (progress - warmup) / max(1e-9, 1 - warmup))
    decay = 1 - t if schedule == "linear" else 0.5 * (1 + math.cos(math.pi * t))
    return min_ratio + (1 - min_ratio) * decay


def batch_scaled_lr(lr: float, batch_size: int, lr_batch: int, rule: str) -> float:
    """``lr``, tuned at batch size ``lr_batch``, carried to ``batch_size``: times the square root of the
    ratio (``sqrt``: keeps the update's noise scale for Adam-type optimizers) or the ratio itself
    (``linear``: the rule for SGD with momentum). ``lr_batch = 0`` leaves ``lr`` as it is."""
    if not lr_batch:
        return lr
    ratio = batch_size / lr_batch
    return lr * (ratio if rule == "linear" else math.sqrt(ratio))


def make_optimizer(model: torch.nn.Module, train: dict[str, Any]) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    kind = train["optimizer"]
    if kind in ("adam", "adamw"):
        betas = train["adam_betas"]
        if not (isinstance(betas, (list, tuple)) and len(betas) == 2 and all(
                isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)):
            raise ConfigError(f"train.adam_betas must be two numbers in [0, 1), got {betas!r}")
        adam = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return adam(params, lr=train["lr"], betas=(float(betas[0]), float(betas[1])), eps=train["adam_eps"],
                    weight_decay=train["weight_decay"])
    if kind == "sgd":
        return torch.optim.SGD(params, lr=train["lr"], momentum=0.9, weight_decay=train["weight_decay"])
    raise ConfigError(f"unknown optimizer '{kind}' (adam, adamw, sgd)")
