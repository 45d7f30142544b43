"""The loss contract, its registration, and the combination of registered losses from a spec.

Every entry of ``LOSSES`` is a ready-to-call loss object: ``loss(pred, target, logits=None) -> scalar``,
where ``pred`` is the model output in signal space and ``logits`` (optional) its pre-activation
(``model.forward_raw``), used by losses that are more stable on logits (``bce``). Options are set by
building a new instance: ``type(LOSSES.get("stft"))(fft_sizes=[256, 512], ...)`` or, in a spec,
``{"stft": {"weight": 0.5, "fft_sizes": [256, 512]}}``.

``build_loss("l1*1.0 + stft*0.5")`` gives a ``CombinedLoss`` that records the unweighted value of each
part of its last call in ``last_parts``.
"""

from __future__ import annotations

import inspect
import math
import re
from typing import Any, Callable, Mapping

import torch

from sigdae.errors import LossError
from sigdae.registry import LOSSES, RegistryError


class Loss:
    """Base class: subclasses set ``name`` and implement ``compute``; keyword options are kept in
    ``options`` (JSON-safe)."""

    name = ""

    def __init__(self, **options: Any):
        self.options = dict(options)

    def __call__(self, pred: torch.Tensor, target: torch.Tensor, logits: torch.Tensor | None = None) -> torch.Tensor:
        if pred.shape != target.shape:
            raise LossError(f"{self.name}: prediction {tuple(pred.shape)} and target {tuple(target.shape)} "
                            "differ in shape")
        if logits is not None and logits.shape != pred.shape:
            raise LossError(f"{self.name}: logits {tuple(logits.shape)} and prediction {tuple(pred.shape)} "
                            "differ in shape")
        return self.compute(pred, target, logits)

    def compute(self, pred: torch.Tensor, target: torch.Tensor, logits: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"options": dict(self.options)}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"


def register_loss(name: str) -> Callable[[type[Loss]], type[Loss]]:
    """Class decorator: registers a default-configured instance of the loss under ``name``."""

    def decorate(cls: type[Loss]) -> type[Loss]:
        cls.name = name
        LOSSES.add(name, cls(), origin=cls.__module__)
        return cls

    return decorate


# ------------------------------------------------------------------------------------- combining

_TERM = re.compile(r"^\s*(?:(?P<w1>[-+0-9.eE]+)\s*\*\s*)?(?P<name>[A-Za-z_][\w.-]*)(?:\s*\*\s*(?P<w2>[-+0-9.eE]+))?\s*$")


class CombinedLoss:
    """Weighted sum of registered losses. ``loss(pred, target, logits=None)`` returns the total;
    ``last_parts`` holds the unweighted value of every part of the last call (floats, for logging)."""

    def __init__(self, terms: list[tuple[str, float, Callable[..., torch.Tensor]]]):
        if not terms:
            raise LossError("a loss spec needs at least one loss")
        self.terms = terms
        self.last_parts: dict[str, float] = {}

    @property
    def weights(self) -> dict[str, float]:
        return {name: weight for name, weight, _ in self.terms}

    def __call__(self, pred: torch.Tensor, target: torch.Tensor, logits: torch.Tensor | None = None) -> torch.Tensor:
        total: torch.Tensor | None = None
        parts: dict[str, float] = {}
        for name, weight, loss in self.terms:
            value = loss(pred, target, logits=logits)
            parts[name] = float(value.detach())
            total = weight * value if total is None else total + weight * value
        self.last_parts = parts
        return total

    def spec(self) -> str:
        return " + ".join(f"{name}*{weight:g}" for name, weight, _ in self.terms)

    def __repr__(self) -> str:
        return f"CombinedLoss({self.spec()!r})"


def _known() -> str:
    return ", ".join(LOSSES.list()) or "none"


def _lookup(name: str) -> Callable[..., torch.Tensor]:
    try:
        return LOSSES.get(name)
    except RegistryError as exc:
        if name in LOSSES.failures:
            raise LossError(str(exc)) from None
        raise LossError(f"unknown loss '{name}' (known: {_known()})") from None


def _weight(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise LossError(f"loss '{name}': weight {value!r} must be a non-negative finite number")
    return float(value)


def _configured(name: str, options: Mapping[str, Any]) -> Callable[..., torch.Tensor]:
    base = _lookup(name)
    if not options:
        return base
    cls = type(base)
    if not isinstance(base, Loss):
        raise LossError(f"loss '{name}' takes no options (got {', '.join(options)})")
    accepted = [p for p in inspect.signature(cls).parameters if p != "self"]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise LossError(f"loss '{name}': unknown option '{unknown[0]}' (options: {', '.join(accepted) or 'none'})")
    return cls(**options)


def parse_loss_spec(spec: str) -> list[tuple[str, float]]:
    """``"l1*1.0 + stft*0.5"`` (or ``0.5*stft``; a bare name has weight 1) -> [(name, weight), ...]."""
    terms = []
    for raw in spec.split("+") if spec.strip() else []:
        match = _TERM.match(raw)
        if match is None:
            raise LossError(f"cannot read loss term {raw.strip()!r} in {spec!r} (write e.g. 'l1*1.0 + stft*0.5')")
        name, w = match["name"], match["w1"] or match["w2"]
        if match["w1"] and match["w2"]:
            raise LossError(f"loss term {raw.strip()!r} has two weights")
        try:
            weight = 1.0 if w is None else float(w)
        except ValueError:
            raise LossError(f"loss term {raw.strip()!r}: {w!r} is not a number") from None
        terms.append((name, weight))
    return terms


def build_loss(spec: str | Mapping[str, Any] | CombinedLoss) -> CombinedLoss:
    """A ``CombinedLoss`` from ``"bce"``, ``"l1*1.0 + stft*0.5"``, ``{"l1": 1.0, "stft": 0.5}`` or
    ``{"stft": {"weight": 0.5, "fft_sizes": [256, 512]}}``; unknown names raise a one-line LossError."""
    if isinstance(spec, CombinedLoss):
        return spec
    if isinstance(spec, str):
        items: list[tuple[str, Any]] = parse_loss_spec(spec)
    elif isinstance(spec, Mapping):
        items = list(spec.items())
    else:
        raise LossError(f"a loss spec is a string or a dict of name -> weight, got {type(spec).__name__}")
    terms, seen = [], set()
    for name, value in items:
        if name in seen:
            raise LossError(f"loss '{name}' appears twice in the spec")
        seen.add(name)
        options: dict[str, Any] = {}
        if isinstance(value, Mapping):
            options = dict(value)
            value = options.pop("weight", 1.0)
        terms.append((name, _weight(name, value), _configured(name, options)))
    return CombinedLoss(terms)
