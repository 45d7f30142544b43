"""What every sigdae model is: an ``nn.Module`` built from a plain config dict, that maps a noisy
batch to a clean estimate of the same shape and can report regularisation terms of its last forward.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from sigdae.errors import ModelError  # noqa: F401  (raised here; importable from here)

ACTIVATIONS = {
    "identity": lambda y: y,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


class Denoiser(nn.Module):
    """Base class for models.

    * ``name``: registry name (set by ``MODELS.register``).
    * ``signal``: what it takes: ``image`` (N, C, H, W), ``waveform`` (N, C, T), ``spectrogram``, or ``any``.
    * ``config``: the keyword arguments it was built with (JSON/TOML-safe), saved in checkpoints.
    * ``forward_raw(x)`` gives the pre-activation output, ``forward(x)`` the output in signal space.
      A loss that is better computed on logits (BCE after a sigmoid) uses ``forward_raw``.
    * ``penalties()`` returns the regularisation terms of the last forward (sparsity, KL, contraction),
      each already a scalar; the trainer multiplies them by their weights.
    """

    name: ClassVar[str] = ""
    signal: ClassVar[str] = "any"
    output_activation: str = "identity"

    def __init__(self, **config: Any):
        super().__init__()
        self.config = dict(config)

    def forward_raw(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement forward_raw")

    def activate(self, raw: torch.Tensor) -> torch.Tensor:
        return ACTIVATIONS[self.output_activation](raw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.forward_raw(x))

    def penalties(self) -> dict[str, torch.Tensor]:
        return {}

    @torch.no_grad()
    def denoise(self, x: torch.Tensor) -> torch.Tensor:
        was_training = self.training
        self.eval()
        try:
            return self(x)
        finally:
            self.train(was_training)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"signal": cls.signal}


def fuse_batchnorm(module: nn.Module) -> nn.Module:
    """Fold each conv + batch-norm pair of an eval-mode model into one conv (faster inference, same output
    to float rounding). Works in place on ``nn.Sequential`` children; returns the module."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    convs = (nn.Conv1d, nn.Conv2d)
    norms = (nn.BatchNorm1d, nn.BatchNorm2d)
    for child in module.children():
        if isinstance(child, nn.Sequential):
            for i in range(len(child) - 1):
                conv, norm = child[i], child[i + 1]
                if isinstance(conv, convs) and isinstance(norm, norms) and norm.track_running_stats:
                    child[i], child[i + 1] = fuse_conv_bn_eval(conv, norm), nn.Identity()
        fuse_batchnorm(child)
    return module


def relu_in_place(module: nn.Module) -> nn.Module:
    """Let each ReLU of an inference-only model overwrite its input where that input is a fresh tensor: the
    output of the conv or linear layer just before it in an ``nn.Sequential`` (fused batch norms, now
    ``nn.Identity``, in between). Saves one allocation per activation, which on a CPU mostly means page
    faults on large spectrogram activations. Never use on a model that trains."""
    producers = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Linear)
    for child in module.modules():
        if isinstance(child, nn.Sequential):
            previous = None
            for layer in child:
                if isinstance(layer, nn.ReLU) and isinstance(previous, producers):
                    layer.inplace = True
                if not isinstance(layer, nn.Identity):
                    previous = layer
    return module


def check_activation(name: str, owner: str) -> str:
    if name not in ACTIVATIONS:
        raise ModelError(f"{owner}: unknown output activation '{name}' (choose from {', '.join(ACTIVATIONS)})")
    return name
