"""``preview.npz``: a few clean / noisy / denoised validation examples, rewritten after every epoch.

numpy is imported where it is used, so listing runs (the TUI's first screen) does not wait for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sigdae.fileio import atomic_output

if TYPE_CHECKING:
    import numpy as np

VARIANTS = ("clean", "noisy", "denoised")


@dataclass(frozen=True)
class Preview:
    signal: str                        # image | waveform
    epoch: int
    sample_rate: int                   # 0 for images
    arrays: dict[str, np.ndarray]      # VARIANTS -> float32 (N, C, ...) arrays

    @property
    def is_image(self) -> bool:
        return self.signal == "image"


def write_preview(path: str | os.PathLike, preview: Preview) -> None:
    import numpy as np

    with atomic_output(path, suffix=".npz") as tmp:
        np.savez(tmp, **{k: preview.arrays[k] for k in VARIANTS}, epoch=preview.epoch,
                 signal=preview.signal, sample_rate=preview.sample_rate)


def read_preview(path: str | os.PathLike) -> Preview:
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        arrays = {name: np.asarray(data[name], dtype=np.float32) for name in VARIANTS}
        return Preview(str(data["signal"]), int(data["epoch"]), int(data["sample_rate"]), arrays)
