"""Streaming speech enhancement: any length, rate, channel count or format, in constant memory.

The input is read in chunks of ``chunk_seconds`` plus ``context`` on both sides. Each chunk is
resampled to the model's rate, enhanced, resampled back, and only its centre is written. Chunk
borders sit on a grid where the resampler's phase, the STFT frames and the model's down-sampling all
line up, and the context covers the model's receptive field, so the result equals (to float rounding)
enhancing the whole file at once: no seams at chunk borders.
"""

from __future__ import annotations

import importlib.resources
import math
from pathlib import Path
from typing import Callable

import soundfile as sf
import torch

from sigdae import audio
from sigdae.api import LoadedModel
from sigdae.errors import ModelError

AUDIO_EXTS = set(audio.AUDIO_EXTENSIONS)
BUNDLED_MODEL = "speech16k.pt"


def bundled_model_path() -> Path:
    """The pretrained 16 kHz speech model shipped in ``sigdae.assets``."""
    path = Path(str(importlib.resources.files("sigdae.assets") / BUNDLED_MODEL))
    if not path.is_file():
        raise FileNotFoundError(f"the bundled model {BUNDLED_MODEL} is missing from {path.parent}; "
                                "pass --model RUN_DIR_OR_CHECKPOINT")
    return path


class Enhancer:
    """Chunked, seam-free enhancement of audio files and tensors with a waveform model."""

    def __init__(self, model: LoadedModel, chunk_seconds: float = 15.0, strength: float = 1.0):
        if model.signal != "waveform" or not model.sample_rate:
            raise ModelError(f"{model.path} is not a speech (waveform) model with a sample rate "
                             f"(signal: {model.signal}, sample rate: {model.sample_rate})")
        if not 0.0 <= strength <= 1.0:
            raise ModelError(f"strength must be in [0, 1], got {strength}")
        self.model, self.rate, self.strength = model, int(model.sample_rate), strength
        self.chunk_seconds = chunk_seconds
        module = model.module
        self.time_multiple = int(getattr(module, "time_multiple", 1))
        self.receptive = int(getattr(module, "receptive_samples", self.rate))

    def grid(self, rate: int) -> int:
        """Input-rate step on which chunk borders must fall."""
        g = math.gcd(rate, self.rate)
        unit_in, unit_model = rate // g, self.rate // g
        return unit_in * self.time_multiple // math.gcd(self.time_multiple, unit_model)

    def plan(self, rate: int) -> tuple[int, int]:
        """(chunk, context) in input samples, both multiples of the grid."""
        step = self.grid(rate)
        # receptive_samples bounds the whole model's reach (tested); 64 samples cover the resampler's filter
        context_model = self.receptive + 64 * max(1, math.ceil(self.rate / rate))
        context = math.ceil(context_model * rate / self.rate / step) * step
        chunk = max(step, round(self.chunk_seconds * rate / step) * step)
        return chunk, context

    @torch.no_grad()
    def enhance(self, x: torch.Tensor, rate: int) -> torch.Tensor:
        """Enhance one chunk (C, T) at ``rate``; returns (C, T) at ``rate``."""
        y = audio.resample(x.float(), rate, self.rate)
        out = self.model.denoise(y.unsqueeze(1)).squeeze(1)
        out = audio.resample(out, self.rate, rate)[..., : x.shape[-1]]
        if out.shape[-1] < x.shape[-1]:
            out = torch.nn.functional.pad(out, (0, x.shape[-1] - out.shape[-1]))
        return self.strength * out + (1 - self.strength) * x

    def enhance_tensor(self, x: torch.Tensor, rate: int) -> torch.Tensor:
        """Enhance a whole signal (C, T) in chunks (the same path as files take)."""
        chunks = []
        for start, stop, lo, hi in self.chunks(x.shape[-1], rate):
            chunks.append(self.enhance(x[..., lo:hi], rate)[..., start - lo: stop - lo])
        return torch.cat(chunks, dim=-1) if chunks else x.clone()

    def chunks(self, frames: int, rate: int):
        """(start, stop, read_from, read_to) for each chunk of a ``frames``-long signal."""
        chunk, context = self.plan(rate)
        for start in range(0, frames, chunk):
            stop = min(frames, start + chunk)
            yield start, stop, max(0, start - context), min(frames, stop + context)

    def enhance_file(self, src: str | Path, dst: str | Path,
                     on_progress: Callable[[int], None] | None = None) -> audio.AudioInfo:
        """Enhance ``src`` into ``dst`` (written to a temporary file, then renamed into place)."""
        info = audio.info(src)
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        with sf.SoundFile(str(src)) as reader, audio.StreamWriter.like(dst, info) as writer:
            for start, stop, lo, hi in self.chunks(info.frames, info.sample_rate):
                reader.seek(lo)
                block = torch.from_numpy(reader.read(hi - lo, dtype="float32", always_2d=True).T.copy())
                writer.write(self.enhance(block, info.sample_rate)[..., start - lo: stop - lo])
                if on_progress:
                    on_progress(stop - start)
        return info


def denoise_files(model: LoadedModel, pairs: list[tuple[Path, Path]], strength: float = 1.0,
                  show_progress: bool = True) -> None:
    """Enhance each (input, output) pair, with a Rich progress bar over all audio on a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    enhancer = Enhancer(model, strength=strength)
    infos = [audio.info(src) for src, _ in pairs]
    console = Console(stderr=True)
    if not (show_progress and console.is_terminal):
        for src, dst in pairs:
            enhancer.enhance_file(src, dst)
        return
    total = sum(i.duration for i in infos)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task("denoising", total=total)
        for (src, dst), info in zip(pairs, infos):
            progress.update(task, description=f"denoising {src.name}")
            enhancer.enhance_file(src, dst, lambda n, r=info.sample_rate: progress.advance(task, n / r))
