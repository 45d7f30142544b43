"""Weight regularisation: L1/L2 penalties on a model's weight matrices and kernels."""

from __future__ import annotations

import torch
from torch import nn

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
