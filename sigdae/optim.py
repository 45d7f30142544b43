"""Optimizers and the learning-rate schedule (a pure function of the run's progress)."""

from __future__ import annotations

import math
from typing import Any

import torch

from sigdae.config import ConfigError


def lr_factor(progress: float, warmup: float, schedule: str, min_ratio: float) -> float:
    """Learning-rate multiplier at a fraction ``progress`` of the run."""
    if warmup > 0 and progress < warmup:
        return max(progress / warmup, 1e-3)
    if schedule != "cosine":
        return 1.0
    t = min(1.0, (progress - warmup) / max(1e-9, 1 - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * t))


def make_optimizer(model: torch.nn.Module, train: dict[str, Any]) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    kind = train["optimizer"]
    if kind == "adam":
        return torch.optim.Adam(params, lr=train["lr"], eps=train["adam_eps"], weight_decay=train["weight_decay"])
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=train["lr"], eps=train["adam_eps"], weight_decay=train["weight_decay"])
    if kind == "sgd":
        return torch.optim.SGD(params, lr=train["lr"], momentum=0.9, weight_decay=train["weight_decay"])
    raise ConfigError(f"unknown optimizer '{kind}' (adam, adamw, sgd)")
