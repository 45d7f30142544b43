"""Composition: a sequence of corruptions (``a + b``) and a random choice among them (``a | b``).

Importing this module defines the ``+`` and ``|`` operators on :class:`Corruption` (the base class
cannot import its own subclasses); ``sigdae.corruptions`` imports it, so they are always there.
"""

from __future__ import annotations

import math

from typing import Any, Sequence

import torch

from sigdae.corruptions.base import Corruption, CorruptionError, Params, select
from sigdae.values import format_value


class Chain(Corruption):
    """Apply corruptions one after another."""

    name = "chain"

    def __init__(self, steps: Sequence[Corruption], p: float = 1.0):
        if not steps:
            raise CorruptionError("chain: needs at least one corruption")
        self.steps = list(steps)
        super().__init__(p=p)
        self.supports = frozenset.intersection(*(frozenset(s.supports) for s in self.steps))
        self.needs_sample_rate = any(s.needs_sample_rate for s in self.steps)

    def draw_params(self, x: torch.Tensor, generator, sample_rate) -> Params:
        return {"steps": [s.draw(x, generator, sample_rate) for s in self.steps]}

    def apply_params(self, x: torch.Tensor, params: Params, sample_rate) -> torch.Tensor:
        for step, step_params in zip(self.steps, params["steps"]):
            x = step.apply(x, step_params, sample_rate)
        return x

    def spec(self) -> str:
        if self.p != 1.0:
            return f"chain({', '.join(s.spec() for s in self.steps)}, p={format_value(self.p)})"
        return " + ".join(_wrap(s, OneOf) for s in self.steps)

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "p": self.p, "steps": [s.to_config() for s in self.steps]}


class OneOf(Corruption):
    """Apply exactly one of several corruptions to each sample (optionally weighted)."""

    name = "oneof"

    def __init__(self, choices: Sequence[Corruption], weights: Sequence[float] | None = None, p: float = 1.0):
        if len(choices) < 2:
            raise CorruptionError("oneof: needs at least two corruptions")
        weights = list(weights) if weights is not None else [1.0] * len(choices)
        if (len(weights) != len(choices) or any(not isinstance(w, (int, float)) or isinstance(w, bool)
                                                or not math.isfinite(w) or w < 0 for w in weights)
                or sum(weights) <= 0):
            raise CorruptionError("oneof: weights must be finite, non-negative, one per choice, not all zero")
        self.choices = list(choices)
        self.weights = [float(w) for w in weights]
        super().__init__(p=p)
        self.supports = frozenset.intersection(*(frozenset(c.supports) for c in self.choices))
        self.needs_sample_rate = any(c.needs_sample_rate for c in self.choices)

    def draw_params(self, x: torch.Tensor, generator, sample_rate) -> Params:
        n = x.shape[0]
        probs = torch.tensor(self.weights) / sum(self.weights)
        u = self.rand(n, generator, x).cpu()
        which = torch.bucketize(u, torch.cumsum(probs, 0)[:-1].contiguous(), right=True)
        return {"which": which.to(x.device), "choices": [c.draw(x, generator, sample_rate) for c in self.choices]}

    def apply_params(self, x: torch.Tensor, params: Params, sample_rate) -> torch.Tensor:
        out = x.clone()
        which = params["which"]
        for k, (choice, choice_params) in enumerate(zip(self.choices, params["choices"])):
            index = (which == k).nonzero().flatten()
            if index.numel():
                out[index] = choice.apply(x[index], select(choice_params, index), sample_rate)
        return out

    def spec(self) -> str:
        if self.weights != [1.0] * len(self.choices) or self.p != 1.0:
            extra = "" if self.weights == [1.0] * len(self.choices) else f", weights={format_value(self.weights)}"
            extra += "" if self.p == 1.0 else f", p={format_value(self.p)}"
            return f"oneof({', '.join(c.spec() for c in self.choices)}{extra})"
        return "(" + " | ".join(c.spec() for c in self.choices) + ")"

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "p": self.p, "weights": self.weights,
                "choices": [c.to_config() for c in self.choices]}


def _wrap(c: Corruption, needs_parens: type) -> str:
    s = c.spec()
    return f"({s})" if isinstance(c, needs_parens) and not s.startswith(("(", "oneof(")) else s


def _steps(c: Corruption) -> list[Corruption]:
    return list(c.steps) if isinstance(c, Chain) else [c]


def _then(first: Corruption, second: Corruption) -> Corruption:
    return Chain([*_steps(first), *_steps(second)])


def _either(first: Corruption, second: Corruption) -> Corruption:
    return OneOf([first, second])


Corruption.__add__ = _then  # type: ignore[method-assign]
Corruption.__or__ = _either  # type: ignore[method-assign]
