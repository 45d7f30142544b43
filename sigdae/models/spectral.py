"""Spectrogram-domain speech enhancement around the conv core.

waveform → STFT → log-magnitude → 2-D conv encoder/decoder → bounded mask → masked STFT with the
noisy phase → inverse STFT → waveform. The model takes and returns waveforms (N, C, T), so it trains
with waveform losses and streams like any waveform model; its receptive field is finite (batch norm is
frozen in eval mode), so chunked inference with enough context equals whole-file inference.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from sigdae.models.base import Denoiser, ModelError
from sigdae.models.conv import ConvAutoencoder
from sigdae.registry import MODELS


def as_waveforms(x: torch.Tensor, owner: str) -> torch.Tensor:
    """(N, T) or (N, C, T) as (N, C, T); anything else is a one-line ModelError."""
    if x.dim() == 2:
        x = x.unsqueeze(1)
    if x.dim() != 3:
        raise ModelError(f"{owner}: expects waveforms (N, C, T), got {tuple(x.shape)}")
    return x


@MODELS.register("spectral_mask")
class SpectralMask(Denoiser):
    """STFT mask estimator: a ``dim=2`` conv encoder/decoder on the log-magnitude predicts a bounded gain."""

    signal = "waveform"

    def __init__(self, n_fft: int = 512, hop: int = 256, channels: Sequence[int] = (16, 32, 48, 64),
                 stride: Sequence[Any] = ((4, 1), (2, 2), (2, 2)), blocks: int = 2, kernel: int = 3,
                 norm: str = "batch", act: str = "relu", skip: str = "concat", down: str = "pool",
                 mask_max: float = 1.0, floor_db: float = -80.0, mask_min: float = 0.0, context: int = 0):
        channels = [int(c) for c in channels]
        stride = [s if isinstance(s, int) else list(s) for s in stride]
        super().__init__(n_fft=n_fft, hop=hop, channels=channels, stride=stride, blocks=blocks, kernel=kernel,
                         norm=norm, act=act, skip=skip, down=down, mask_max=mask_max, floor_db=floor_db,
                         mask_min=mask_min, context=context)
        if n_fft % 2 or hop < 1 or hop > n_fft:
            raise ModelError(f"spectral_mask: n_fft must be even and 1 <= hop <= n_fft (got {n_fft}, {hop})")
        if mask_max <= 0 or not 0 <= mask_min < mask_max:
            raise ModelError("spectral_mask: need 0 <= mask_min < mask_max")
        self.n_fft, self.hop, self.mask_max, self.mask_min = n_fft, hop, mask_max, mask_min
        self.floor = 10 ** (floor_db / 20)
        self.net = ConvAutoencoder(dim=2, in_channels=1, channels=channels, blocks=blocks, kernel=kernel,
                                   stride=stride, down=down, skip=skip, norm=norm, act=act,
                                   output_activation="identity", context=context)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    @property
    def time_multiple(self) -> int:
        """Chunk boundaries must fall on multiples of this many samples for exact streaming."""
        return self.hop * self.net.multiple[1]

    @property
    def receptive_samples(self) -> int:
        """A safe bound on how far (in samples) the output depends on the input, one side."""
        frames = 0
        scale = 1
        for level in range(len(self.net.encoders)):
            if level:
                scale *= self.net.strides[level - 1][1]
            frames += 2 * self.config["blocks"] * (self.config["kernel"] // 2) * scale + scale
        frames += self.net.context_reach * self.net.multiple[-1]
        return (frames + 2) * self.hop + self.n_fft

    def mask(self, spec: torch.Tensor) -> torch.Tensor:
        """The gain for each time-frequency bin of a complex STFT (N, F, frames)."""
        features = torch.log(spec.abs() + self.floor).unsqueeze(1)
        bins = self.n_fft // 2  # the conv net sees bins 0..n_fft/2-1; Nyquist takes its neighbour's gain
        gain = torch.sigmoid(self.net.forward_raw(features[:, :, :bins])).squeeze(1) * self.mask_max
        gain = gain.clamp_min(self.mask_min)  # an attenuation limit: less musical noise, more natural residual
        return torch.cat([gain, gain[:, -1:]], dim=1)

    def forward_raw(self, x: torch.Tensor) -> torch.Tensor:
        x = as_waveforms(x, "spectral_mask")
        n, c, t = x.shape
        flat = x.reshape(n * c, t).float()
        spec = torch.stft(flat, self.n_fft, self.hop, window=self.window, center=True, return_complex=True)
        out = torch.istft(spec * self.mask(spec), self.n_fft, self.hop, window=self.window, center=True, length=t)
        return out.reshape(n, c, t).to(x.dtype)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"signal": "waveform (N, C, T); works internally on the STFT"}


@MODELS.register("wave_unet")
class WaveUNet(Denoiser):
    """Waveform U-Net: the ``dim=1`` conv encoder/decoder with strided convs, predicting the clean waveform.

    ``causal=True`` makes every conv look only at the past (for low-latency streaming)."""

    signal = "waveform"

    def __init__(self, channels: Sequence[int] = (16, 32, 64, 128, 256), stride: int = 4, blocks: int = 1,
                 kernel: int = 9, norm: str = "batch", act: str = "gelu", causal: bool = False,
                 residual: bool = True, context: int = 0):
        channels = [int(c) for c in channels]
        super().__init__(channels=channels, stride=stride, blocks=blocks, kernel=kernel, norm=norm, act=act,
                         causal=causal, residual=residual, context=context)
        self.net = ConvAutoencoder(dim=1, in_channels=1, channels=channels, blocks=blocks,
                                   kernel=kernel - 1 if causal and kernel % 2 else kernel, stride=stride,
                                   down="conv", skip="concat", norm=norm, act=act, causal=causal,
                                   output_activation="identity", residual=residual, context=context)

    @property
    def time_multiple(self) -> int:
        return self.net.multiple[0]

    @property
    def receptive_samples(self) -> int:
        total, scale = 0, 1
        for level in range(len(self.net.encoders)):
            if level:
                scale *= self.net.strides[level - 1][0]
            total += 2 * self.config["blocks"] * self.config["kernel"] * scale + scale
        return total + self.net.context_reach * self.net.multiple[-1]

    def forward_raw(self, x: torch.Tensor) -> torch.Tensor:
        x = as_waveforms(x, "wave_unet")
        n, c, t = x.shape
        return self.net.forward_raw(x.reshape(n * c, 1, t)).reshape(n, c, t)
