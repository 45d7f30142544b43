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


class Augment:
    """The augmentation of one batch ``(N, 1, frames * max(speed))`` of clean segments: one speed per batch
    (resampled, then cropped to ``frames``), a random EQ curve per sample with its largest deviation up to
    ``eq_db``, and an RMS level in ``level_db``; every draw from ``generator``."""

    def __init__(self, frames: int, level_db: tuple[float, float] = (-35.0, -15.0), eq_db: float = 0.0,
                 speed: tuple[float, float] = (1.0, 1.0)):
        self.frames, self.level_db, self.eq_db, self.ratios = frames, level_db, float(eq_db), speed_ratios(speed)

    def __call__(self, clean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n = clean.shape[0]
        a = self.ratios[0]
        if len(self.ratios) > 1:
            a = self.ratios[int(torch.randint(len(self.ratios), (1,), generator=generator))]
        if a != SPEED_STEPS:
            clean = AF.resample(clean, orig_freq=a, new_freq=SPEED_STEPS)
        clean = clean[..., :self.frames]
        if self.eq_db > 0:
            coeffs = torch.rand(n, EQ_TERMS, generator=generator) * 2 - 1
            peak = torch.rand(n, generator=generator) * self.eq_db
            clean = apply_eq(clean, eq_curves(coeffs, peak, self.frames // 2 + 1))
        lo, hi = self.level_db
        rms = clean.square().mean(dim=(1, 2), keepdim=True).sqrt().clamp_min(1e-5)
        target = 10 ** ((lo + (hi - lo) * torch.rand(n, 1, 1, generator=generator)) / 20)
        return (clean * target / rms).clamp(-1, 1)


class AugmentInWorker:
    """A DataLoader ``collate_fn`` that stacks segments and augments the batch inside the loader's worker
    process. Each worker draws from its own generator, seeded from the worker's seed (which the DataLoader
    derives from torch's global RNG when an epoch's iterator starts), so the batches depend only on that
    state and the number of workers."""

    def __init__(self, augment: Augment):
        self.augment = augment
        self._generator: torch.Generator | None = None
        self._seed: int | None = None

    def __call__(self, items: list[torch.Tensor]) -> torch.Tensor:
        info = torch.utils.data.get_worker_info()
        seed = info.seed if info is not None else torch.initial_seed()
        if self._generator is None or self._seed != seed:
            # a different stream from the worker's global RNG, which picks the segments with the same seed
            self._generator = torch.Generator().manual_seed((seed * 6364136223846793005 + 1442695040888963407) % 2 ** 63)
            self._seed = seed
        return self.augment(torch.utils.data.default_collate(items), self._generator)


class SpeechBatches:
    """Batches ``(N, 1, frames)`` of clean speech from a loader of segments at least
    ``frames * max(speed)`` long, augmented by :class:`Augment` with draws from ``generator``. With
    ``augmented=True`` the loader's batches are already augmented (:class:`AugmentInWorker`) and pass
    through as they are."""

    def __init__(self, loader: torch.utils.data.DataLoader, frames: int, generator: torch.Generator,
                 level_db: tuple[float, float] = (-35.0, -15.0), eq_db: float = 0.0,
                 speed: tuple[float, float] = (1.0, 1.0), augmented: bool = False):
        self.loader, self.frames, self.generator, self.augmented = loader, frames, generator, augmented
        self._augment = Augment(frames, level_db, eq_db, speed)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[torch.Tensor]:
        for clean in self.loader:
            yield clean if self.augmented else self.augment(clean)

    def augment(self, clean: torch.Tensor) -> torch.Tensor:
        return self._augment(clean, self.generator)
