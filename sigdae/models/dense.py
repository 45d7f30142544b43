"""The classic dense (fully connected) autoencoder family for flattened signals.

Every model here takes (N, D), (N, C, T) or (N, C, H, W), flattens each sample to ``in_features`` values
and returns a batch of the input's shape. Registered names:

* ``dense`` - the classic Keras DAE, 784-128-64-32-64-128-784, ReLU, sigmoid output, Glorot init;
* ``undercomplete`` - one bottleneck layer of ``code`` units;
* ``sparse`` - a sparsity penalty on the code (KL to a target rate ``rho``, or mean |h|);
* ``contractive`` - sigmoid encoder with the Frobenius norm of its Jacobian as penalty.

The VAE and the stacked DAE live in ``vae.py`` and ``stacked.py`` and reuse the helpers below.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from sigdae.models.base import Denoiser, ModelError, check_activation
from sigdae.registry import MODELS

HIDDEN_ACTIVATIONS = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
}


# ----------------------------------------------------------------------------------------- helpers

def check_positive_int(owner: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ModelError(f"{owner}: {key}={value!r} must be a positive integer")
    return value


def check_layer_sizes(owner: str, key: str, value: Any) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ModelError(f"{owner}: {key}={value!r} must be a non-empty list of positive integers")
    return [check_positive_int(owner, key, v) for v in value]


def check_hidden_activation(owner: str, name: Any) -> str:
    if name not in HIDDEN_ACTIVATIONS:
        raise ModelError(f"{owner}: unknown activation {name!r} (choose from {', '.join(HIDDEN_ACTIVATIONS)})")
    return name


def check_dropout(owner: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ModelError(f"{owner}: dropout={value!r} must be a number in [0, 1)")
    return float(value)


def glorot_linear(n_in: int, n_out: int) -> nn.Linear:
    """A linear layer initialised like Keras' ``Dense``: Glorot-uniform weights, zero bias."""
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(sizes: Sequence[int], activation: str, *, last_activation: str | None, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers through ``sizes``; ``activation`` (and dropout) after each hidden layer and
    ``last_activation`` after the last one (``None``: the last layer stays linear)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(glorot_linear(n_in, n_out))
        is_last = i == len(sizes) - 2
        act = last_activation if is_last else activation
        if act is not None:
            layers.append(HIDDEN_ACTIVATIONS[act]())
        if dropout > 0 and not is_last:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def flatten_input(owner: str, x: torch.Tensor, in_features: int) -> torch.Tensor:
    """(N, D), (N, C, T) or (N, C, H, W) -> (N, in_features), with a readable error on a size mismatch."""
    if x.ndim not in (2, 3, 4):
        raise ModelError(f"{owner}: expected input of shape (N, D), (N, C, T) or (N, C, H, W), got {tuple(x.shape)}")
    flat = x.reshape(x.shape[0], -1)
    if flat.shape[1] != in_features:
        raise ModelError(f"{owner}: input has {flat.shape[1]} values per sample (shape {tuple(x.shape)}) "
                         f"but in_features={in_features}")
    return flat


# -------------------------------------------------------------------------------------------- models

@MODELS.register("dense")
class DenseAE(Denoiser):
    """Dense denoising autoencoder with a mirrored decoder (the classic Keras 784-128-64-32-64-128-784).

    Options: ``in_features`` (flattened sample size), ``hidden`` (encoder sizes, the last is the code;
    the decoder mirrors them), ``activation`` (hidden layers), ``output_activation``, ``dropout``
    (after each hidden layer).
    """

    signal = "any"

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (128, 64, 32), activation: str = "relu",
                 output_activation: str = "sigmoid", dropout: float = 0.0):
        owner = type(self).name or type(self).__name__
        in_features = check_positive_int(owner, "in_features", in_features)
        hidden = check_layer_sizes(owner, "hidden", hidden)
        activation = check_hidden_activation(owner, activation)
        dropout = check_dropout(owner, dropout)
        super().__init__(in_features=in_features, hidden=hidden, activation=activation,
                         output_activation=output_activation, dropout=dropout)
        self.output_activation = check_activation(output_activation, owner)
        self.in_features = in_features
        self.code_size = hidden[-1]
        self.encoder = mlp([in_features, *hidden], activation, last_activation=self._code_activation(activation),
                           dropout=dropout)
        self.decoder = mlp([*reversed(hidden), in_features], activation, last_activation=None, dropout=dropout)

    def _code_activation(self, activation: str) -> str:
        return activation

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of a batch (any accepted input shape) -> (N, code_size)."""
        return self.encoder(flatten_input(self._owner(), x, self.in_features))

    def forward_raw(self, x: torch.Tensor) -> torch.Tensor:
        code = self.encode(x)
        self._remember(x, code)
        return self.decoder(code).reshape(x.shape)

    def _remember(self, x: torch.Tensor, code: torch.Tensor) -> None:
        """Hook for subclasses whose penalties need the last forward's tensors."""

    def _owner(self) -> str:
        return self.name or type(self).__name__


@MODELS.register("undercomplete")
class UndercompleteAE(DenseAE):
    """Dense autoencoder with a single bottleneck of ``code`` units (in_features-code-in_features)."""

    def __init__(self, in_features: int = 784, code: int = 32, activation: str = "relu",
                 output_activation: str = "sigmoid", dropout: float = 0.0):
        code = check_positive_int(type(self).name, "code", code)
        super().__init__(in_features=in_features, hidden=[code], activation=activation,
                         output_activation=output_activation, dropout=dropout)
        self.config = {"in_features": self.in_features, "code": code, "activation": activation,
                       "output_activation": output_activation, "dropout": float(dropout)}


@MODELS.register("sparse")
class SparseAE(DenseAE):
    """Sparse autoencoder: ``penalties()["sparsity"]`` is computed on the code of the last forward.

    ``sparsity="kl"``: sum over code units of KL(rho || rho_hat_j), rho_hat_j the batch-mean activation
    of sigmoid code unit j (Ng's formulation; needs ``code_activation="sigmoid"``).
    ``sparsity="l1"``: mean |h| over batch and code units.
    """

    SPARSITY_KINDS = ("kl", "l1")

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (256,), activation: str = "relu",
                 code_activation: str = "sigmoid", output_activation: str = "sigmoid", sparsity: str = "kl",
                 rho: float = 0.05, dropout: float = 0.0):
        owner = type(self).name
        self._code_act = check_hidden_activation(owner, code_activation)
        if sparsity not in self.SPARSITY_KINDS:
            raise ModelError(f"{owner}: sparsity={sparsity!r} must be one of {', '.join(self.SPARSITY_KINDS)}")
        if sparsity == "kl" and code_activation != "sigmoid":
            raise ModelError(f"{owner}: sparsity='kl' needs code_activation='sigmoid' (got {code_activation!r})")
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0.0 < rho < 1.0:
            raise ModelError(f"{owner}: rho={rho!r} must be a number in (0, 1)")
        super().__init__(in_features=in_features, hidden=hidden, activation=activation,
                         output_activation=output_activation, dropout=dropout)
        self.config.update(code_activation=code_activation, sparsity=sparsity, rho=float(rho))
        self.sparsity = sparsity
        self.rho = float(rho)
        self._last_code: torch.Tensor | None = None

    def _code_activation(self, activation: str) -> str:
        return self._code_act

    def _remember(self, x: torch.Tensor, code: torch.Tensor) -> None:
        self._last_code = code

    def penalties(self) -> dict[str, torch.Tensor]:
        if self._last_code is None:
            return {}
        h = self._last_code
        if self.sparsity == "l1":
            return {"sparsity": h.abs().mean()}
        eps = 1e-6
        rho_hat = h.mean(dim=0).clamp(eps, 1 - eps)
        rho = torch.as_tensor(self.rho, dtype=h.dtype, device=h.device)
        kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
        return {"sparsity": kl.sum()}


ACTIVATION_SLOPES = {
    # derivative of the activation written in terms of its output y
    "sigmoid": lambda y: y * (1 - y),
    "tanh": lambda y: 1 - y * y,
    "relu": lambda y: (y > 0).to(y.dtype),
    "identity": lambda y: torch.ones_like(y),
}


@MODELS.register("contractive")
class ContractiveAE(DenseAE):
    """Contractive autoencoder (Rifai et al. 2011): ``penalties()["contractive"]`` is the squared Frobenius
    norm of the encoder's Jacobian dh/dx, averaged over the batch.

    One encoder layer: sum_j (h_j (1 - h_j))^2 sum_i W_ji^2 (closed form, cheap). Deeper encoders: the
    exact per-sample Jacobian diag(a_L') W_L ... diag(a_1') W_1, differentiable (memory N x h x D).
    """

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (128,), activation: str = "sigmoid",
                 output_activation: str = "sigmoid"):
        owner = type(self).name
        if activation not in ACTIVATION_SLOPES:
            raise ModelError(f"{owner}: activation={activation!r} must be one of {', '.join(ACTIVATION_SLOPES)} "
                             "(the Jacobian is computed from layer outputs)")
        super().__init__(in_features=in_features, hidden=hidden, activation=activation,
                         output_activation=output_activation, dropout=0.0)
        del self.config["dropout"]
        self._last_layer_outputs: list[torch.Tensor] = []

    def _linear_layers(self) -> list[nn.Linear]:
        return [m for m in self.encoder if isinstance(m, nn.Linear)]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = flatten_input(self._owner(), x, self.in_features)
        outputs = []
        for module in self.encoder:
            h = module(h)
            if not isinstance(module, nn.Linear):
                outputs.append(h)
        self._last_layer_outputs = outputs
        return h

    def penalties(self) -> dict[str, torch.Tensor]:
        if not self._last_layer_outputs:
            return {}
        return {"contractive": self.jacobian_frobenius_sq()}

    def jacobian_frobenius_sq(self) -> torch.Tensor:
        """||dh/dx||_F^2 of the last forward's encoder, averaged over the batch."""
        slope = ACTIVATION_SLOPES[self.config["activation"]]
        layers, outputs = self._linear_layers(), self._last_layer_outputs
        if len(layers) == 1:
            row_norms = layers[0].weight.pow(2).sum(dim=1)  # sum_i W_ji^2, shape (h,)
            return (slope(outputs[0]).pow(2) * row_norms).sum(dim=1).mean()
        jac = slope(outputs[0]).unsqueeze(2) * layers[0].weight  # (N, h1, D)
        for layer, out in zip(layers[1:], outputs[1:]):
            jac = slope(out).unsqueeze(2) * torch.matmul(layer.weight, jac)
        return jac.pow(2).sum(dim=(1, 2)).mean()
