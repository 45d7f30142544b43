"""Clean speech training batches with augmentation: random loudness, speed (tempo and pitch) and a random
smooth EQ, so a couple of hours of read speech stand for many more voices, microphones and levels.

The noisy side is made afterwards by the run's corruption, so the target is the augmented clean speech.
"""

from __future__ import annotations

from typing import Iterator

import torch
import torchaudio.functional as AF

from sigdae.corruptions.audio_common import EQ_TERMS, apply_eq, eq_curves

# Speed factors are drawn on a grid of 1/SPEED_STEPS so resampling uses small integer ratios.
SPEED_STEPS = 20


def speed_ratios(speed: tuple[float, float]) -> list[int]:
    """The resampling numerators ``a`` (new length = length * SPEED_STEPS / a) for speeds in the range."""
    lo, hi = (round(SPEED_STEPS * s) for s in speed)
    return list(range(lo, hi + 1))


class SpeechBatches:
    """Batches ``(N, 1, frames)`` of clean speech from a loader of segments at least
    ``frames * max(speed)`` long: one speed per batch (resampled, then cropped to ``frames``), a random
    EQ curve per sample with its largest deviation up to ``eq_db``, and an RMS level in ``level_db``."""

    def __init__(self, loader: torch.utils.data.DataLoader, frames: int, generator: torch.Generator,
                 level_db: tuple[float, float] = (-35.0, -15.0), eq_db: float = 0.0,
                 speed: tuple[float, float] = (1.0, 1.0)):
        self.loader, self.frames, self.generator = loader, frames, generator
        self.level_db, self.eq_db, self.ratios = level_db, float(eq_db), speed_ratios(speed)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[torch.Tensor]:
        for clean in self.loader:
            yield self.augment(clean)

    def augment(self, clean: torch.Tensor) -> torch.Tensor:
        n = clean.shape[0]
        a = self.ratios[0]
        if len(self.ratios) > 1:
            a = self.ratios[int(torch.randint(len(self.ratios), (1,), generator=self.generator))]
        if a != SPEED_STEPS:
            clean = AF.resample(clean, orig_freq=a, new_freq=SPEED_STEPS)
        clean = clean[..., :self.frames]
        if self.eq_db > 0:
            coeffs = torch.rand(n, EQ_TERMS, generator=self.generator) * 2 - 1
            peak = torch.rand(n, generator=self.generator) * self.eq_db
            clean = apply_eq(clean, eq_curves(coeffs, peak, self.frames // 2 + 1))
        lo, hi = self.level_db
        rms = clean.square().mean(dim=(1, 2), keepdim=True).sqrt().clamp_min(1e-5)
        target = 10 ** ((lo + (hi - lo) * torch.rand(n, 1, 1, generator=self.generator)) / 20)
        return (clean * target / rms).clamp(-1, 1)
