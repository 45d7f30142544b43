"""Small deterministic signals of each kind, for previews and for checking corruptions.

The TUI's playground corrupts them live; ``sigdae.testing.check_corruption`` runs plugins on them.
"""

from __future__ import annotations

import math

import torch

SAMPLE_RATE = 16000


def sample_batch(kind: str, n: int = 4, device: str | torch.device = "cpu") -> torch.Tensor:
    """A small deterministic batch of the given signal kind, in that kind's usual range."""
    g = torch.Generator().manual_seed(1234)
    if kind == "image":
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, 28), torch.linspace(-1, 1, 28), indexing="ij")
        ring = ((yy**2 + xx**2).sqrt() - 0.6).abs() < 0.15
        x = ring.float().expand(n, 1, 28, 28).clone() * torch.rand(n, 1, 1, 1, generator=g).add(0.5).clamp(max=1)
    elif kind == "waveform":
        t = torch.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
        f0 = 120 + 80 * torch.rand(n, 1, 1, generator=g)
        x = sum(torch.sin(2 * math.pi * k * f0 * t) / k for k in range(1, 6)) * 0.1
        x = x * (0.5 + 0.5 * torch.sin(2 * math.pi * 3 * t))  # syllable-like envelope
    elif kind == "spectrogram":
        x = torch.rand(n, 1, 64, 40, generator=g) ** 2
    else:
        raise ValueError(f"unknown signal kind '{kind}'")
    return x.to(device)
