"""Dense variational autoencoder (Kingma & Welling 2014) with a diagonal Gaussian latent."""

from __future__ import annotations

from typing import Sequence

import torch

from sigdae.models.base import Denoiser, ModelError, check_activation
from sigdae.models.dense import (check_dropout, check_hidden_activation, check_layer_sizes, check_positive_int,
                                 flatten_input, glorot_linear, mlp)
from sigdae.registry import MODELS

LOGVAR_RANGE = (-30.0, 20.0)  # keeps exp(logvar) finite early in training


@MODELS.register("vae")
class VAE(Denoiser):
    """Variational autoencoder: encoder -> (mu, logvar) -> z -> decoder.

    Training mode samples z = mu + sigma * eps (reparameterisation, global torch RNG); eval mode decodes
    the mean. ``penalties()["kl"]`` is KL(q(z|x) || N(0, I)) of the last forward, summed over latent
    dimensions and averaged over samples. ``sample(n)`` decodes draws from the prior.
    """

    signal = "any"

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (256,), latent: int = 16,
                 activation: str = "relu", output_activation: str = "sigmoid", dropout: float = 0.0):
        owner = type(self).name
        in_features = check_positive_int(owner, "in_features", in_features)
        hidden = check_layer_sizes(owner, "hidden", hidden)
        latent = check_positive_int(owner, "latent", latent)
        activation = check_hidden_activation(owner, activation)
        dropout = check_dropout(owner, dropout)
        super().__init__(in_features=in_features, hidden=hidden, latent=latent, activation=activation,
                         output_activation=output_activation, dropout=dropout)
        self.output_activation = check_activation(output_activation, owner)
        self.in_features = in_features
        self.latent = latent
        self.encoder = mlp([in_features, *hidden], activation, last_activation=activation, dropout=dropout)
        self.to_mu = glorot_linear(hidden[-1], latent)
        self.to_logvar = glorot_linear(hidden[-1], latent)
        self.decoder = mlp([latent, *reversed(hidden), in_features], activation, last_activation=None,
                           dropout=dropout)
        self._last_posterior: tuple[torch.Tensor, torch.Tensor] | None = None

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of q(z|x), each (N, latent)."""
        h = self.encoder(flatten_input(self.name, x, self.in_features))
        return self.to_mu(h), self.to_logvar(h).clamp(*LOGVAR_RANGE)

    def forward_raw(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.posterior(x)
        self._last_posterior = (mu, logvar)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        return self.decoder(z).reshape(x.shape)

    def penalties(self) -> dict[str, torch.Tensor]:
        if self._last_posterior is None:
            return {}
        return {"kl": kl_to_standard_normal(*self._last_posterior)}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None,
               shape: Sequence[int] | None = None) -> torch.Tensor:
        """Decode ``n`` draws from the prior N(0, I): (n, in_features), or (n, *shape) if ``shape`` is given."""
        n = check_positive_int(self.name, "n", n)
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent, generator=generator, device=device)
        out = self.activate(self.decoder(z))
        if shape is not None:
            if torch.Size(shape).numel() != self.in_features:
                raise ModelError(f"{self.name}: sample shape {tuple(shape)} does not hold {self.in_features} values")
            out = out.reshape(n, *shape)
        return out


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)), summed over dimensions, averaged over the batch."""
    per_sample = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
    return per_sample.mean()

