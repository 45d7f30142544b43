"""One convolutional encoder/decoder for 1-D signals (waveforms) and 2-D signals (images, spectrograms).

Levels of ``blocks`` conv-norm-activation layers at the widths in ``channels``; between levels the
encoder downsamples by ``stride`` (max-pooling or a strided conv) and the decoder upsamples back
(transposed conv), optionally joined by skip connections (U-Net style when ``skip="concat"``). Inputs
whose size is not a multiple of ``stride ** (levels - 1)`` are padded and the output cropped back, so
the output always has the input's shape.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from sigdae.models.base import Denoiser, ModelError, check_activation
from sigdae.registry import MODELS

_ACTS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "leaky_relu": lambda: nn.LeakyReLU(0.1),
         "prelu": nn.PReLU, "elu": nn.ELU}
_NORMS = ("batch", "group", "instance", "none")


def _conv_cls(dim: int, transpose: bool = False) -> type[nn.Module]:
    if transpose:
        return nn.ConvTranspose1d if dim == 1 else nn.ConvTranspose2d
    return nn.Conv1d if dim == 1 else nn.Conv2d


def _norm(kind: str, dim: int, channels: int) -> nn.Module:
    if kind == "batch":
        return (nn.BatchNorm1d if dim == 1 else nn.BatchNorm2d)(channels)
    if kind == "group":
        return nn.GroupNorm(min(8, channels), channels)
    if kind == "instance":
        return nn.GroupNorm(channels, channels)
    return nn.Identity()


class CausalPad(nn.Module):
    """Left-pads the time axis so a conv sees only the present and the past."""

    def __init__(self, amount: int):
        super().__init__()
        self.amount = amount

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (self.amount, 0))


class CausalStridedConv1d(nn.Conv1d):
    """A strided downsampling conv (kernel == stride) whose output ``j`` sees inputs up to ``j * stride`` only."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.stride[0] - 1, 0)))


def space_to_depth(x: torch.Tensor, r: int) -> torch.Tensor:
    """(N, C, *S) -> (N, C*r^d, *S/r): each r-sized patch becomes channels (a cheap first downsampling)."""
    if x.dim() == 4:
        return F.pixel_unshuffle(x, r)
    n, c, t = x.shape
    return x.reshape(n, c, t // r, r).transpose(2, 3).reshape(n, c * r, t // r)


def depth_to_space(x: torch.Tensor, r: int) -> torch.Tensor:
    """The inverse of :func:`space_to_depth`."""
    if x.dim() == 4:
        return F.pixel_shuffle(x, r)
    n, c, t = x.shape
    return x.reshape(n, c // r, r, t).transpose(2, 3).reshape(n, c // r, t * r)


def coordinate_grid(x: torch.Tensor) -> torch.Tensor:
    """One channel per spatial axis holding the position along it, from -1 to 1 (CoordConv): lets the
    network learn where things usually are in aligned data, such as centred digits or faces."""
    axes = [torch.linspace(-1.0, 1.0, n, device=x.device, dtype=x.dtype) for n in x.shape[2:]]
    grids = torch.meshgrid(*axes, indexing="ij")
    return torch.stack(grids).unsqueeze(0).expand(x.shape[0], -1, *x.shape[2:])


class GlobalAttention(nn.Module):
    """Multi-head self-attention over every position of the deepest level (pre-norm, residual): global
    context at a small cost, for any input size."""

    def __init__(self, channels: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(channels)
        self.attn = nn.MultiheadAttention(channels, heads, batch_first=True)  # holds the projections

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # nn.MultiheadAttention's own forward, spelled out with batched matmuls: on the CPU it is twice as
        # fast for the few dozen positions a deepest level has, and it runs in bf16 under autocast
        n, c = x.shape[:2]
        tokens = x.flatten(2).transpose(1, 2)                                   # (N, L, C)
        qkv = F.linear(self.norm(tokens), self.attn.in_proj_weight, self.attn.in_proj_bias)
        q, k, v = qkv.reshape(n, -1, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        weights = torch.softmax((q @ k.transpose(-1, -2)) * (c // self.heads) ** -0.5, dim=-1)
        mixed = (weights @ v).transpose(1, 2).reshape(n, -1, c)
        out = tokens + F.linear(mixed, self.attn.out_proj.weight, self.attn.out_proj.bias)
        return out.transpose(1, 2).reshape(x.shape)


class TemporalContext(nn.Module):
    """Residual dilated convs along the last (time) axis of the deepest level, dilations 1, 2, 4, ...: a wide
    but finite context (so chunked inference stays exact) at little cost. Each block's output conv starts
    at zero, so the stack starts as the identity and can be added to a trained model."""

    def __init__(self, dim: int, channels: int, layers: int, kernel: int, norm: str, act: str):
        super().__init__()
        self.blocks = nn.ModuleList()
        for i in range(layers):
            dilation, padding = (2 ** i, 2 ** i * (kernel // 2))
            if dim == 2:  # dilate along time only; frequency keeps a plain kernel
                dilation, padding = (1, dilation), (kernel // 2, padding)
            out = _conv_cls(dim)(channels, channels, 1)
            nn.init.zeros_(out.weight)
            nn.init.zeros_(out.bias)
            self.blocks.append(nn.Sequential(
                _conv_cls(dim)(channels, channels, kernel, padding=padding, dilation=dilation, bias=norm == "none"),
                _norm(norm, dim, channels), _ACTS[act](), out))
        self.reach = (kernel // 2) * (2 ** layers - 1)  # deepest-level steps seen on each side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = x + block(x)
        return x


class ConvBlock(nn.Sequential):
    def __init__(self, dim: int, c_in: int, c_out: int, n: int, kernel: int, norm: str, act: str, causal: bool):
        layers: list[nn.Module] = []
        for i in range(n):
            if causal:
                layers += [CausalPad(kernel - 1), _conv_cls(dim)(c_in if i == 0 else c_out, c_out, kernel,
                                                                bias=norm == "none")]
            else:
                layers.append(_conv_cls(dim)(c_in if i == 0 else c_out, c_out, kernel, padding=kernel // 2,
                                             bias=norm == "none"))
            layers += [_norm(norm, dim, c_out), _ACTS[act]()]
        super().__init__(*layers)


@MODELS.register("conv")
class ConvAutoencoder(Denoiser):
    """Convolutional encoder/decoder (U-Net when skips are on) for ``dim=1`` or ``dim=2`` signals."""

    signal = "any"

    def __init__(self, dim: int = 2, in_channels: int = 1, out_channels: int | None = None,
                 channels: Sequence[int] = (16, 32, 64), blocks: int = 2, kernel: int = 3,
                 stride: int | Sequence[int | Sequence[int]] = 2,
                 down: str = "pool", skip: str = "concat", norm: str = "batch", act: str = "relu",
                 bottleneck: int | None = None, output_activation: str = "sigmoid", residual: bool = False,
                 causal: bool = False, dropout: float = 0.0, attention: int = 0, patch: int = 1,
                 coords: bool = False, context: int = 0):
        channels = [int(c) for c in channels]
        blocks = blocks if isinstance(blocks, int) else [int(b) for b in blocks]
        stride = stride if isinstance(stride, int) else [s if isinstance(s, int) else list(s) for s in stride]
        super().__init__(dim=dim, in_channels=in_channels, out_channels=out_channels, channels=channels,
                         blocks=blocks, kernel=kernel, stride=stride, down=down, skip=skip, norm=norm, act=act,
                         bottleneck=bottleneck, output_activation=output_activation, residual=residual,
                         causal=causal, dropout=dropout, attention=attention, patch=patch, coords=coords,
                         context=context)
        self._validate()
        self.strides = self._level_strides()
        self.dim, self.skip, self.residual = dim, skip, residual
        self.output_activation = output_activation
        out_channels = out_channels or in_channels
        self.patch = patch
        per_level = self._blocks_per_level()

        def block(c_in: int, c_out: int, level: int) -> ConvBlock:
            return ConvBlock(dim, c_in, c_out, per_level[level], kernel, norm, act, causal)

        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        self.coords = bool(coords)
        c_prev = (in_channels + (dim if coords else 0)) * patch ** dim
        for level, width in enumerate(channels):
            if level > 0:
                self.downs.append(self._downsample(down, c_prev, self.strides[level - 1]))
            self.encoders.append(block(c_prev, width, level))
            c_prev = width
        self.bottleneck = nn.Identity()
        if bottleneck:
            conv = _conv_cls(dim)
            self.bottleneck = nn.Sequential(conv(c_prev, bottleneck, 1), _ACTS[act](), conv(bottleneck, c_prev, 1),
                                            _ACTS[act]())
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.attention = GlobalAttention(c_prev, attention) if attention else nn.Identity()
        self.context = TemporalContext(dim, c_prev, context, kernel, norm, act) if context else None

        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for level, width, step in zip(range(len(channels) - 2, -1, -1), reversed(channels[:-1]),
                                      reversed(self.strides)):
            self.ups.append(_conv_cls(dim, transpose=True)(c_prev, width, step, stride=step))
            self.decoders.append(block(width * 2 if skip == "concat" else width, width, level))
            c_prev = width
        self.head = _conv_cls(dim)(c_prev, out_channels * patch ** dim, 1)

    def _validate(self) -> None:
        c = self.config
        if c["dim"] not in (1, 2):
            raise ModelError(f"conv: dim must be 1 or 2, got {c['dim']}")
        if not c["channels"] or min(c["channels"]) < 1:
            raise ModelError("conv: channels must be a non-empty list of positive widths")
        if c["kernel"] < 1 or (c["kernel"] % 2 == 0 and not c["causal"]):
            raise ModelError(f"conv: kernel must be odd (got {c['kernel']}) unless causal")
        self._blocks_per_level()
        if c["patch"] < 1 or (c["patch"] > 1 and c["causal"]):
            raise ModelError("conv: patch must be a positive int (and 1 for causal models)")
        for key, options in (("down", ("pool", "conv")), ("skip", ("concat", "add", "none")), ("norm", _NORMS),
                             ("act", tuple(_ACTS))):
            if c[key] not in options:
                raise ModelError(f"conv: {key} must be one of {', '.join(options)} (got {c[key]!r})")
        check_activation(c["output_activation"], "conv")
        if c["causal"] and (c["dim"] != 1 or c["norm"] in ("group", "instance") or c["down"] == "pool"):
            raise ModelError("conv: causal needs dim=1, down='conv' and norm 'batch' or 'none'")
        if c["attention"] and (c["causal"] or c["channels"][-1] % c["attention"]):
            raise ModelError("conv: attention needs a non-causal model and heads dividing the deepest width")
        if c["context"] < 0 or (c["context"] and c["causal"]):
            raise ModelError("conv: context must be a count of layers >= 0 (and 0 for causal models)")
        if c["coords"] and c["causal"]:
            raise ModelError("conv: coords (absolute positions) cannot be used with a causal model")
        if c["residual"] and c["output_activation"] != "identity":
            raise ModelError("conv: residual=True needs output_activation='identity'")

    def _blocks_per_level(self) -> list[int]:
        """``blocks`` as one count per level (an int or a one-entry list applies to every level)."""
        c = self.config
        given = [c["blocks"]] if isinstance(c["blocks"], int) else list(c["blocks"])
        if not given or min(given) < 1 or len(given) not in (1, len(c["channels"])):
            raise ModelError("conv: blocks must be at least 1, as one int or one per level")
        return given * len(c["channels"]) if len(given) == 1 else given

    def _level_strides(self) -> list[tuple[int, ...]]:
        """One stride per level transition, as a tuple with one entry per spatial dimension."""
        c = self.config
        levels = len(c["channels"]) - 1
        given = [c["stride"]] * levels if isinstance(c["stride"], int) else list(c["stride"])
        if len(given) != levels:
            raise ModelError(f"conv: stride needs one entry per level transition ({levels}), got {len(given)}")
        out = []
        for s in given:
            step = (s,) * c["dim"] if isinstance(s, int) else tuple(int(v) for v in s)
            if len(step) != c["dim"] or min(step) < 1:
                raise ModelError(f"conv: stride {s} must be a positive int or {c['dim']} positive ints")
            out.append(step)
        return out

    def _downsample(self, kind: str, channels: int, step: tuple[int, ...]) -> nn.Module:
        if kind == "pool":
            return (nn.MaxPool1d if self.config["dim"] == 1 else nn.MaxPool2d)(step)
        if self.config["causal"]:
            return CausalStridedConv1d(channels, channels, step, stride=step)
        return _conv_cls(self.config["dim"])(channels, channels, step, stride=step)

    @property
    def context_reach(self) -> int:
        """How many deepest-level steps the context stack sees on each side along the last axis (one such
        step is ``multiple[-1]`` input steps)."""
        return self.context.reach if self.context is not None else 0

    @property
    def multiple(self) -> tuple[int, ...]:
        """Spatial sizes are padded up to a multiple of this (per dimension)."""
        total = [self.patch] * self.dim
        for step in self.strides:
            total = [t * s for t, s in zip(total, step)]
        return tuple(total)

    def forward_raw(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != self.dim + 2 or x.shape[1] != self.config["in_channels"]:
            want = "(N, C, T)" if self.dim == 1 else "(N, C, H, W)"
            raise ModelError(f"conv: expects {want} with C={self.config['in_channels']}, got {tuple(x.shape)}")
        size = x.shape[2:]
        pad = [(-s) % m for s, m in zip(size, self.multiple)]
        if any(pad):
            flat = [p for amount in reversed(pad) for p in (0, amount)]
            x_in = F.pad(x, flat)
        else:
            x_in = x
        if self.coords:
            x_in = torch.cat([x_in, coordinate_grid(x_in)], dim=1)
        h = space_to_depth(x_in, self.patch) if self.patch > 1 else x_in
        skips = []
        for level, encoder in enumerate(self.encoders):
            if level > 0:
                h = self.downs[level - 1](h)
            h = encoder(h)
            skips.append(h)
        h = self.attention(self.bottleneck(h))
        if self.context is not None:
            h = self.context(h)
        h = self.dropout(h)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips[:-1])):
            h = up(h)
            if self.skip == "concat":
                h = torch.cat([h, skip], dim=1)
            elif self.skip == "add":
                h = h + skip
            h = decoder(h)
        out = self.head(h)
        if self.patch > 1:
            out = depth_to_space(out, self.patch)
        if any(pad):
            out = out[(...,) + tuple(slice(0, s) for s in size)]
        return x + out if self.residual else out

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"signal": "image, waveform or spectrogram (dim=2 or dim=1)"}
