"""Streaming speech enhancement: any length, rate, channel count or format, in constant memory.

The input is read in chunks of ``chunk_seconds`` plus ``context`` on both sides. Each chunk is
resampled to the model's rate, enhanced, resampled back, and only its centre is written. Chunk
borders sit on a grid where the resampler's phase, the STFT frames and the model's down-sampling all
line up, and the context covers the model's receptive field, so the result equals (to float rounding)
enhancing the whole file at once: no seams at chunk borders.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import soundfile as sf
import torch

from sigdae import audio
from sigdae.api import LoadedModel
from sigdae.errors import ModelError
from sigdae.fullband import BANDS, BandSplit

from sigdae.bundled import bundled_model_path  # noqa: F401  (its long-standing home)

AUDIO_EXTS = set(audio.AUDIO_EXTENSIONS)

DEFAULT_CHUNK_SECONDS = 15.0  # unless the model says what suits it
PRECISIONS = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}
CUDA_BATCH_CHUNKS = 16  # chunks per model call on a GPU: a few GB of activations at most (speech, 15 s each)


class Enhancer:
    """Chunked, seam-free enhancement of audio files and tensors with a waveform model.

    ``chunk_seconds`` defaults to the model's ``chunk_seconds`` attribute, else 15 s. ``batch_chunks`` chunks
    of equal length go through the model in one call (default: 1 on the CPU, which
    keeps outputs bit-identical to one-by-one processing; 16 on CUDA). ``precision`` is ``fp32``, ``fp16`` or
    ``bf16`` (autocast), or ``auto`` (default): fp16 on CUDA, whose outputs stay within 1e-3 of fp32
    (measured by ``benchmarks/gpu_check.py``), and fp32 elsewhere.

    ``band`` is ``full`` (default): an input above the model's rate keeps its whole bandwidth, the model
    enhancing its own band and :class:`~sigdae.fullband.BandSplit` the band above; or ``model``: the output
    is the model's band alone, resampled back. Inputs at or below the model's rate are the same either way.
    """

    def __init__(self, model: LoadedModel, chunk_seconds: float | None = None, strength: float = 1.0,
                 batch_chunks: int | None = None, precision: str = "auto", band: str = "full"):
        if model.signal != "waveform" or not model.sample_rate:
            raise ModelError(f"{model.path} is not a speech (waveform) model with a sample rate "
                             f"(signal: {model.signal}, sample rate: {model.sample_rate})")
        if not 0.0 <= strength <= 1.0:
            raise ModelError(f"strength must be in [0, 1], got {strength}")
        if precision not in (*PRECISIONS, "auto"):
            raise ModelError(f"precision must be auto or one of {', '.join(PRECISIONS)}, got {precision!r}")
        if band not in BANDS:
            raise ModelError(f"band must be one of {', '.join(BANDS)}, got {band!r}")
        if batch_chunks is not None and batch_chunks < 1:
            raise ModelError(f"batch_chunks must be at least 1, got {batch_chunks}")
        self.model, self.rate, self.strength = model, int(model.sample_rate), strength
        self.band = band
        if chunk_seconds is not None and chunk_seconds <= 0:
            raise ModelError(f"chunk_seconds must be positive, got {chunk_seconds}")
        self.chunk_seconds = chunk_seconds or float(getattr(model.module, "chunk_seconds", DEFAULT_CHUNK_SECONDS))
        self._splits: dict[int, BandSplit] = {}
        self.on_gpu = model.device.type == "cuda"
        self.precision = ("fp16" if self.on_gpu else "fp32") if precision == "auto" else precision
        self.batch_chunks = batch_chunks or (CUDA_BATCH_CHUNKS if self.on_gpu else 1)
        if self.on_gpu:
            torch.backends.cudnn.benchmark = True  # interior chunks all have one shape: tuned kernels pay off
        module = model.module
        self.time_multiple = int(getattr(module, "time_multiple", 1))
        self.receptive = int(getattr(module, "receptive_samples", self.rate))
        # a causal model looks far back but only a window ahead: chunks need less input after them
        self.ahead = min(self.receptive, int(getattr(module, "lookahead_samples", self.receptive)))
        # an STFT model reflects half a window at each end, so it needs more than that many samples
        self.min_samples = int(getattr(module, "n_fft", 0)) // 2 + 1

    def split(self, rate: int) -> BandSplit | None:
        """The band split for inputs at ``rate``, or None where the model's band is the whole output."""
        if self.band != "full" or rate <= self.rate:
            return None
        if rate not in self._splits:
            self._splits[rate] = BandSplit(self.rate, rate)
        return self._splits[rate]

    def grid(self, rate: int) -> int:
        """Input-rate step on which chunk borders must fall."""
        g = math.gcd(rate, self.rate)
        unit_in, unit_model = rate // g, self.rate // g
        return unit_in * self.time_multiple // math.gcd(self.time_multiple, unit_model)

    def plan(self, rate: int) -> tuple[int, int]:
        """(chunk, context) in input samples, both multiples of the grid."""
        return self.chunk_size(rate, self.chunk_seconds), self.context(rate)

    def context(self, rate: int) -> int:
        """Input samples needed before a chunk, and after it for a model that looks as far ahead as back
        (a multiple of the grid)."""
        return self._context(rate, self.receptive)

    def context_after(self, rate: int) -> int:
        """Input samples needed after a chunk (a multiple of the grid): less than :meth:`context` for a
        causal model."""
        return self._context(rate, self.ahead)

    def _context(self, rate: int, reach: int) -> int:
        step = self.grid(rate)
        # receptive_samples bounds the whole model's reach (tested); 64 samples cover the resampler's filter
        split = self.split(rate)
        if split is None:
            context = (reach + 64 * max(1, math.ceil(self.rate / rate))) * rate / self.rate
        else:  # the sharp resampler reaches 64 model samples each way, down and up again; then the split
            context = (reach + 2 * 64 + 8) * rate / self.rate + split.reach()
        return math.ceil(context / step) * step

    def chunk_size(self, rate: int, seconds: float) -> int:
        """``seconds`` in input samples, rounded to the grid (at least one step)."""
        step = self.grid(rate)
        return max(step, round(seconds * rate / step) * step)

    def enhance(self, x: torch.Tensor, rate: int, offset: int = 0) -> torch.Tensor:
        """Enhance one signal, (C, T) or (T,), at ``rate``; returns the same shape at ``rate``. ``offset`` is
        the position of its first sample in a longer signal (when enhancing a piece of one)."""
        if x.dim() == 1:
            return self.enhance_batch(x[None, None], rate, [offset])[0, 0]
        return self.enhance_batch(x.unsqueeze(0), rate, [offset])[0]

    @torch.no_grad()
    def enhance_batch(self, x: torch.Tensor, rate: int, offsets: list[int] | None = None) -> torch.Tensor:
        """Enhance B signals of equal length (B, C, T) at ``rate`` in one model call; returns (B, C, T).

        Each signal is treated as a whole file (no chunking): batch files of equal length this way.
        ``offsets`` are the signals' positions in longer ones, when they are pieces (default: all 0)."""
        if x.dim() != 3:
            raise ModelError(f"enhance_batch expects (batch, channels, samples), got {tuple(x.shape)}")
        b, c, t = x.shape
        source = x.to(self.model.device) if self.on_gpu else x
        split = self.split(rate)
        sharp = split is not None
        exact = not sharp  # the model's band alone is what a stream gives: resample it as the stream does
        y = audio.resample(source.float(), rate, self.rate, sharp=sharp, exact=exact).reshape(b * c, 1, -1)
        short = self.min_samples - y.shape[-1]
        if short > 0:
            y = torch.nn.functional.pad(y, (0, short))
        dtype = PRECISIONS[self.precision]
        with torch.autocast(self.model.device.type, dtype=dtype, enabled=dtype is not None):
            out = self.model.denoise(y).float()
        if short > 0:
            out = out[..., : y.shape[-1] - short]
        out = audio.resample(out.reshape(b, c, -1), self.rate, rate, sharp=sharp, exact=exact)[..., :t]
        if out.shape[-1] < t:
            out = torch.nn.functional.pad(out, (0, t - out.shape[-1]))
        if split is not None:
            starts = [o for o in (offsets or [0] * b) for _ in range(c)]
            flat, noisy = out.reshape(b * c, t), source.float().reshape(b * c, t)
            if len(set(starts)) == 1:
                out = split(noisy, flat, starts[0]).reshape(b, c, t)
            else:
                out = torch.cat([split(noisy[i:i + 1], flat[i:i + 1], s) for i, s in enumerate(starts)]).reshape(b, c, t)
        out = out.to(x.device)
        return self.strength * out + (1 - self.strength) * x

    def enhance_many(self, signals: list[torch.Tensor], rate: int) -> list[torch.Tensor]:
        """Enhance several signals (C, T) at ``rate``, such as the short files of a folder; returns them in
        order. Signals of one shape share model calls, as many at a time as ``batch_chunks`` chunks hold;
        signals longer than a chunk are enhanced in chunks. The results equal one-by-one enhancement."""
        chunk = self.chunk_size(rate, self.chunk_seconds)
        budget = self.batch_chunks * chunk  # samples per model call, as for the chunks of a long file
        out: list[torch.Tensor | None] = [None] * len(signals)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, x in enumerate(signals):
            if x.shape[-1] > chunk or x.dim() != 2:
                out[i] = self.enhance_tensor(x, rate)
            else:
                groups.setdefault(tuple(x.shape), []).append(i)
        for shape, members in groups.items():
            per_call = max(1, budget // max(1, shape[-1]))
            for first in range(0, len(members), per_call):
                batch = members[first:first + per_call]
                if len(batch) == 1:
                    out[batch[0]] = self.enhance(signals[batch[0]], rate)
                    continue
                for i, y in zip(batch, self.enhance_batch(torch.stack([signals[i] for i in batch]), rate)):
                    out[i] = y
        return out

    def enhance_tensor(self, x: torch.Tensor, rate: int) -> torch.Tensor:
        """Enhance a whole signal, (C, T) or (T,), in chunks (the same path as files take)."""
        if x.dim() == 1:
            return self.enhance_tensor(x.unsqueeze(0), rate)[0]
        pieces = [out for out, _ in self.enhance_chunks(x.shape[-1], rate, lambda lo, hi: x[..., lo:hi])]
        return torch.cat(pieces, dim=-1) if pieces else x.clone()

    def enhance_chunks(self, frames: int, rate: int, read: Callable[[int, int], torch.Tensor]):
        """Yield (enhanced centre, its length) for each chunk of a ``frames``-long signal, in order.

        ``read(lo, hi)`` returns input samples lo..hi as (C, hi - lo). Chunks of one length go through the
        model ``batch_chunks`` at a time."""
        pending: list[tuple[int, int, int, torch.Tensor]] = []

        def run():
            if len(pending) == 1:
                start, stop, lo, block = pending[0]
                outs = [self.enhance(block, rate, lo)]
            else:
                outs = self.enhance_batch(torch.stack([p[3] for p in pending]), rate, [p[2] for p in pending])
            for (start, stop, lo, _), out in zip(pending, outs):
                yield out[..., start - lo: stop - lo], stop - start
            pending.clear()

        for start, stop, lo, hi in self.chunks(frames, rate):
            if pending and (len(pending) == self.batch_chunks or pending[0][3].shape[-1] != hi - lo):
                yield from run()
            pending.append((start, stop, lo, read(lo, hi)))
        if pending:
            yield from run()

    def chunks(self, frames: int, rate: int):
        """(start, stop, read_from, read_to) for each chunk of a ``frames``-long signal."""
        chunk, context = self.plan(rate)
        after = self.context_after(rate)
        for start in range(0, frames, chunk):
            stop = min(frames, start + chunk)
            yield start, stop, max(0, start - context), min(frames, stop + after)

    def enhance_file(self, src: str | Path, dst: str | Path, on_progress: Callable[[int], None] | None = None,
                     subtype: str | None = None, format: str | None = None) -> audio.AudioInfo:
        """Enhance ``src`` into ``dst`` (written to a temporary file, then renamed into place), in the input's
        format and subtype unless ``format``/``subtype`` say otherwise; ``on_progress(frames)`` after each
        chunk."""
        info = audio.info(src)
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        overrides = {key: value for key, value in (("subtype", subtype), ("format", format)) if value}
        with sf.SoundFile(str(src)) as reader, audio.StreamWriter.like(dst, info, **overrides) as writer:
            def read(lo: int, hi: int) -> torch.Tensor:
                reader.seek(lo)
                return torch.from_numpy(reader.read(hi - lo, dtype="float32", always_2d=True).T.copy())

            for out, length in self.enhance_chunks(info.frames, info.sample_rate, read):
                writer.write(out)
                if on_progress:
                    on_progress(length)
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
