"""Reconstruction losses, their combination from a spec, and weight regularisation.

Every entry of ``LOSSES`` is a ready-to-call loss object: ``loss(pred, target, logits=None) -> scalar``,
where ``pred`` is the model output in signal space and ``logits`` (optional) its pre-activation
(``model.forward_raw``), used by losses that are more stable on logits (``bce``). Options are set by
building a new instance: ``type(LOSSES.get("stft"))(fft_sizes=[256, 512], ...)`` or, in a spec,
``{"stft": {"weight": 0.5, "fft_sizes": [256, 512]}}``.

Built-ins: ``mse``, ``l1``, ``bce``, ``psnr``, ``charbonnier``, ``si_sdr`` (here), ``stft``,
``spectral``, ``compressed`` (in ``sigdae.spectral_losses``) and ``perceptual``
(``sigdae.perceptual_loss``). ``build_loss("l1*1.0 + stft*0.5")`` gives a
``CombinedLoss`` that records the unweighted value of each part of its last call in ``last_parts``.
"""

from __future__ import annotations

import inspect
import math
import re
from typing import Any, Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from sigdae.registry import LOSSES, RegistryError


class LossError(ValueError):
    """A loss was specified or called wrongly (one readable line)."""


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


def per_sample_mean(values: torch.Tensor) -> torch.Tensor:
    """(N, ...) -> (N,): the mean over everything but the batch dimension."""
    return values.reshape(values.shape[0], -1).mean(dim=1)


# ------------------------------------------------------------------------------------ pointwise

@register_loss("mse")
class MSELoss(Loss):
    """Mean squared error."""

    def compute(self, pred, target, logits):
        return F.mse_loss(pred, target)


@register_loss("l1")
class L1Loss(Loss):
    """Mean absolute error."""

    def compute(self, pred, target, logits):
        return F.l1_loss(pred, target)


@register_loss("bce")
class BCELoss(Loss):
    """Binary cross-entropy for targets in [0, 1]. With ``logits`` it uses the numerically stable
    ``binary_cross_entropy_with_logits``; otherwise BCE on ``pred`` clamped to [eps, 1 - eps]."""

    def __init__(self, eps: float = 1e-7):
        super().__init__(eps=eps)
        self.eps = eps

    def compute(self, pred, target, logits):
        if logits is not None:
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.binary_cross_entropy(pred.clamp(self.eps, 1 - self.eps), target)


@register_loss("psnr")
class PSNRLoss(Loss):
    """Negative mean per-sample PSNR in dB: mean_i 10*log10(MSE_i + eps) - 20*log10(data_range).

    Lower is better: for data in [0, 1] (``data_range=1``) the value is exactly -mean_i PSNR_i, so
    minimising it maximises the mean per-image PSNR (not the PSNR of the batch-mean MSE).
    """

    def __init__(self, data_range: float = 1.0, eps: float = 1e-10):
        super().__init__(data_range=data_range, eps=eps)
        if not data_range > 0:
            raise LossError(f"psnr: data_range={data_range!r} must be positive")
        self.data_range, self.eps = float(data_range), float(eps)

    def compute(self, pred, target, logits):
        mse = per_sample_mean((pred - target).pow(2))
        return (10 * torch.log10(mse + self.eps)).mean() - 20 * math.log10(self.data_range)


@register_loss("charbonnier")
class CharbonnierLoss(Loss):
    """Charbonnier (smooth L1): mean sqrt((pred - target)^2 + eps^2)."""

    def __init__(self, eps: float = 1e-3):
        super().__init__(eps=eps)
        self.eps = float(eps)

    def compute(self, pred, target, logits):
        return torch.sqrt((pred - target).pow(2) + self.eps**2).mean()


@register_loss("si_sdr")
class SISDRLoss(Loss):
    """Negative scale-invariant SDR in dB (Le Roux et al. 2019), mean over batch and channels.

    Each channel row of (N, T) or (N, C, T) is made zero-mean; the target is scaled by the optimal
    alpha = <pred, target> / ||target||^2 and SI-SDR = 10 log10(||alpha target||^2 / ||pred - alpha target||^2).
    """

    def __init__(self, eps: float = 1e-8):
        super().__init__(eps=eps)
        self.eps = float(eps)

    def compute(self, pred, target, logits):
        if pred.ndim < 2:
            raise LossError(f"si_sdr: expected (N, T) or (N, C, T), got {tuple(pred.shape)}")
        p = pred.reshape(-1, pred.shape[-1])
        t = target.reshape(-1, target.shape[-1])
        p = p - p.mean(dim=1, keepdim=True)
        t = t - t.mean(dim=1, keepdim=True)
        alpha = (p * t).sum(dim=1, keepdim=True) / (t.pow(2).sum(dim=1, keepdim=True) + self.eps)
        projection = alpha * t
        residual = p - projection
        ratio = (projection.pow(2).sum(dim=1) + self.eps) / (residual.pow(2).sum(dim=1) + self.eps)
        return -(10 * torch.log10(ratio)).mean()


# the spectral and perceptual losses register themselves too; imported here so ``import sigdae.losses`` has them all
from sigdae import perceptual_loss, spectral_losses  # noqa: E402,F401


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


# --------------------------------------------------------------------------------- regularisation

_NORM_LAYERS = tuple(t for t in (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm,
                                 getattr(nn, "RMSNorm", None), nn.LocalResponseNorm) if t is not None)


def regularised_weights(model: nn.Module) -> list[torch.Tensor]:
    """Weight matrices and kernels of ``model``: parameters named ``*weight*`` with 2+ dimensions,
    outside normalisation layers (biases, norm scales and other vectors are left alone)."""
    weights = []
    for module in model.modules():
        if isinstance(module, _NORM_LAYERS):
            continue
        for name, p in module.named_parameters(recurse=False):
            if "weight" in name and p.ndim >= 2:
                weights.append(p)
    return weights


def weight_penalty(model: nn.Module, l1: float = 0.0, l2: float = 0.0) -> torch.Tensor:
    """l1 * sum |w| + l2 * sum w^2 over the model's weight tensors (a differentiable scalar)."""
    weights = regularised_weights(model)
    device = weights[0].device if weights else torch.device("cpu")
    total = torch.zeros((), device=device)
    for w in weights:
        if l1:
            total = total + l1 * w.abs().sum()
        if l2:
            total = total + l2 * w.pow(2).sum()
    return total
