"""Stacked denoising autoencoder (Vincent et al. 2010) with greedy layer-wise pretraining.

Layer k is a one-hidden-layer DAE: ``encoders[k]`` maps code c_k (c_0 = the flattened input) to c_{k+1}
and ``decoders[k]`` maps it back. ``pretrain_layerwise`` trains them one at a time, each on corrupted
copies of the clean codes of the layers below; the unrolled network (all encoders, then all decoders in
reverse) is then the model itself, ready for end-to-end fine-tuning with the ordinary trainer.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from sigdae.models.base import ACTIVATIONS, Denoiser, ModelError, check_activation
from sigdae.models.dense import (HIDDEN_ACTIVATIONS, check_hidden_activation, check_layer_sizes, check_positive_int,
                                 flatten_input, glorot_linear)
from sigdae.registry import MODELS

Corruption = Callable[[torch.Tensor, "torch.Generator | None"], torch.Tensor]


@MODELS.register("stacked")
class StackedDAE(Denoiser):
    """Stacked denoising autoencoder: ``hidden`` encoder sizes, mirrored decoders, ``activation`` between
    layers (sigmoid as in the paper). Pretrain with ``pretrain_layerwise``, then fine-tune end to end."""

    signal = "any"

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (256, 128), activation: str = "sigmoid",
                 output_activation: str = "sigmoid"):
        owner = type(self).name
        in_features = check_positive_int(owner, "in_features", in_features)
        hidden = check_layer_sizes(owner, "hidden", hidden)
        activation = check_hidden_activation(owner, activation)
        super().__init__(in_features=in_features, hidden=hidden, activation=activation,
                         output_activation=output_activation)
        self.output_activation = check_activation(output_activation, owner)
        self.in_features = in_features
        sizes = [in_features, *hidden]
        self.encoders = nn.ModuleList(glorot_linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.decoders = nn.ModuleList(glorot_linear(b, a) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = HIDDEN_ACTIVATIONS[activation]()

    @property
    def depth(self) -> int:
        return len(self.encoders)

    def encode(self, x: torch.Tensor, layers: int | None = None) -> torch.Tensor:
        """The code after the first ``layers`` encoders (all by default) of a batch of any accepted shape."""
        h = flatten_input(self.name, x, self.in_features)
        for enc in self.encoders[: self.depth if layers is None else layers]:
            h = self.act(enc(h))
        return h

    def decode_raw(self, code: torch.Tensor) -> torch.Tensor:
        """Code of the top layer -> flat pre-activation reconstruction (N, in_features)."""
        h = code
        for k in reversed(range(self.depth)):
            h = self.decoders[k](h)
            if k > 0:
                h = self.act(h)
        return h

    def forward_raw(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_raw(self.encode(x)).reshape(x.shape)

    def layer_reconstruction(self, k: int, code: torch.Tensor) -> torch.Tensor:
        """Layer k as a one-hidden-layer DAE: c_k -> c_{k+1} -> reconstruction of c_k (in c_k's range)."""
        out = self.decoders[k](self.act(self.encoders[k](code)))
        return ACTIVATIONS[self.output_activation](out) if k == 0 else self.act(out)


def pretrain_layerwise(model: StackedDAE, data: torch.Tensor, corruption: Corruption, epochs_per_layer: int = 5,
                       batch_size: int = 64, lr: float = 1e-3, generator: torch.Generator | None = None,
                       code_corruption: Corruption | None = None) -> list[list[float]]:
    """Greedy layer-wise pretraining of ``model`` on ``data`` (a batch of samples in the input shape).

    Layer k learns to reconstruct the clean codes c_k (computed with the already trained layers below)
    from ``corruption(c_k, generator)`` with an MSE loss and Adam; ``corruption`` sees the data in its own
    shape for layer 0 and (N, hidden[k-1]) codes above (``code_corruption`` replaces it there if the data
    corruption cannot take flat codes). Returns the mean training loss of every epoch, per layer. The
    model is left in training mode with every parameter trainable, ready for end-to-end fine-tuning.
    """
    if not isinstance(model, StackedDAE):
        raise ModelError(f"pretrain_layerwise needs a StackedDAE, got {type(model).__name__}")
    if data.ndim < 2 or data.shape[0] == 0:
        raise ModelError(f"pretrain_layerwise: data must be a non-empty batch, got shape {tuple(data.shape)}")
    epochs_per_layer = check_positive_int("pretrain_layerwise", "epochs_per_layer", epochs_per_layer)
    batch_size = check_positive_int("pretrain_layerwise", "batch_size", batch_size)
    flatten_input(model.name, data[:1], model.in_features)  # readable error on a size mismatch
    rng_device = generator.device if generator is not None else torch.device("cpu")
    history: list[list[float]] = []
    model.train()
    for k in range(model.depth):
        with torch.no_grad():
            inputs = data if k == 0 else model.encode(data, layers=k)
        corrupt = corruption if k == 0 or code_corruption is None else code_corruption
        params = [*model.encoders[k].parameters(), *model.decoders[k].parameters()]
        optimiser = torch.optim.Adam(params, lr=lr)
        losses = []
        for _ in range(epochs_per_layer):
            order = torch.randperm(inputs.shape[0], generator=generator, device=rng_device).to(inputs.device)
            total, count = 0.0, 0
            for start in range(0, inputs.shape[0], batch_size):
                clean = inputs[order[start:start + batch_size]]
                with torch.no_grad():
                    noisy = corrupt(clean, generator)
                target = clean.reshape(clean.shape[0], -1)
                recon = model.layer_reconstruction(k, noisy.reshape(noisy.shape[0], -1))
                loss = F.mse_loss(recon, target)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item() * clean.shape[0]
                count += clean.shape[0]
            losses.append(total / count)
        history.append(losses)
    for p in model.parameters():
        p.requires_grad_(True)
    model.train()
    return history
