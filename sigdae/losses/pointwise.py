"""Pointwise losses: ``mse``, ``l1``, ``bce``, ``psnr``, ``charbonnier`` and ``si_sdr``.

``psnr`` and ``si_sdr`` are the negatives of the quality metrics, computed by the same functions as
``sigdae.metrics`` (in the inputs' dtype, so they stay differentiable).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sigdae.errors import LossError
from sigdae.losses.base import Loss, register_loss
from sigdae.metrics import per_sample_mse, si_sdr_db


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
        # eps is added rather than used as a floor (as the metric does) so the gradient never vanishes
        mse = per_sample_mse(pred, target)
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
        rows_p = pred.reshape(-1, pred.shape[-1])
        rows_t = target.reshape(-1, target.shape[-1])
        return -si_sdr_db(rows_p, rows_t, self.eps).mean()
