"""Real-time enhancement: blocks of any size in, enhanced blocks out, equal to enhancing the whole file.

    stream = sigdae.StreamEnhancer(sigdae.load_model(sigdae.bundled_model_path()), 48000, channels=1)
    for block in microphone:                 # (channels, n) or (n,) float tensors or arrays, any n
        speaker.play(stream.process(block))  # (channels, m): m varies, often 0 at the start
    speaker.play(stream.flush())             # the rest, at the end of the stream
    stream.latency                           # seconds between a sample going in and coming out

The stream cuts the input on the same grid as :class:`~sigdae.enhance.Enhancer` does a file, in chunks of
``chunk_seconds``, each enhanced once the model's look-ahead after it has arrived; the concatenated output
equals the file path's to float rounding. Latency is the look-ahead plus one chunk, so it depends on the
model: a model that sees far around each sample cannot answer sooner.

A causal model (the bundled ``realtime`` one) streams frame by frame instead, carrying its past in a
state (:mod:`sigdae.stream_causal`): its latency is one 20 ms window, and each block costs only its own
frames. Its output equals ``Enhancer(model, band="model")`` on the whole signal.

Run a real-time loop inside ``with collector_frozen():``, once everything is loaded, as ``sigdae live``
does: Python's full garbage collection otherwise walks every object torch and the model made, 30-90 ms in
one block.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch

from sigdae.api import LoadedModel, load_model
from sigdae.enhance import Enhancer
from sigdae.errors import AudioError
from sigdae.stream_causal import CausalStream


@contextmanager
def collector_frozen() -> Iterator[None]:
    """Leave the objects alive now out of Python's garbage collection until the block ends, so that a full
    collection during a stream sees only what the stream makes."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class StreamEnhancer:
    """Block-by-block enhancement of one stream at ``sample_rate`` with ``channels`` channels.

    ``model`` is a loaded model or anything :func:`sigdae.load_model` takes; ``chunk_seconds`` (default: half
    the model's look-ahead) trades latency for compute, since each chunk is enhanced with the model's whole
    context around it."""

    def __init__(self, model: LoadedModel | str | os.PathLike, sample_rate: int, channels: int = 1,
                 chunk_seconds: float | None = None, strength: float = 1.0):
        if int(sample_rate) != sample_rate or sample_rate <= 0:
            raise AudioError(f"sample_rate must be a positive integer, got {sample_rate}")
        if int(channels) != channels or channels < 1:
            raise AudioError(f"channels must be a positive integer, got {channels}")
        if not isinstance(model, LoadedModel):
            model = load_model(model)
        self.enhancer = Enhancer(model, strength=strength)
        self.sample_rate, self.channels = int(sample_rate), int(channels)
        self.causal = None
        if hasattr(model.module, "stream"):
            if chunk_seconds is not None:
                raise AudioError(f"{model.path} is a causal model: it streams frame by frame, without chunks")
            self.causal = CausalStream(model.module, self.enhancer.rate, self.sample_rate, self.channels, strength)
            self.lookahead, self.chunk = self.causal.latency_samples, 0
            self.reset()
            return
        self.lookahead = self.enhancer.context(self.sample_rate)
        if chunk_seconds is None:
            # each chunk is enhanced with a look-ahead of context on both sides: chunks of half the
            # look-ahead cost five times the audio's length in computation, at 1.5 look-aheads of latency
            chunk_seconds = self.lookahead / 2 / self.sample_rate
        elif chunk_seconds <= 0:
            raise AudioError(f"chunk_seconds must be positive, got {chunk_seconds}")
        self.chunk = self.enhancer.chunk_size(self.sample_rate, chunk_seconds)
        self.reset()

    @property
    def latency(self) -> float:
        """Seconds from a sample entering :meth:`process` to its enhanced value leaving it (the model's
        look-ahead plus one chunk), not counting the time the model takes to run."""
        return self.latency_samples / self.sample_rate

    @property
    def latency_samples(self) -> int:
        """:attr:`latency` in samples at the stream's rate."""
        return self.lookahead + self.chunk  # a causal model's lookahead is its whole latency (chunk 0)

    def reset(self) -> None:
        """Forget the stream so far: the next block starts a new one."""
        self._buffer = torch.zeros(self.channels, 0)
        self._buffer_start = 0   # stream position of the buffer's first sample
        self._emitted = 0        # stream position of the next output sample
        self._flat = False       # the last block was 1-D: answer in 1-D
        if self.causal is not None:
            self.causal.reset()

    def _as_block(self, block) -> tuple[torch.Tensor, bool]:
        flat = False
        x = torch.as_tensor(np.asarray(block) if not torch.is_tensor(block) else block).float()
        if x.dim() == 1 and self.channels == 1:
            x, flat = x.unsqueeze(0), True
        if x.dim() != 2 or x.shape[0] != self.channels:
            raise AudioError(f"a block must be ({self.channels}, samples)"
                             f"{' or (samples,)' if self.channels == 1 else ''}, got {tuple(x.shape)}")
        return x.cpu(), flat

    def _run(self, stop: int, end: int) -> torch.Tensor:
        """Enhance stream positions ``_emitted``..``stop`` from input read up to ``end`` (both absolute)."""
        start = self._emitted
        lo = max(0, start - self.lookahead)
        block = self._buffer[:, lo - self._buffer_start: end - self._buffer_start]
        out = self.enhancer.enhance(block, self.sample_rate, lo)[:, start - lo: stop - lo]
        self._emitted = stop
        return out

    def _trim(self) -> None:
        keep_from = max(0, self._emitted - self.lookahead)
        if keep_from > self._buffer_start:
            self._buffer = self._buffer[:, keep_from - self._buffer_start:]
            self._buffer_start = keep_from

    def process(self, block) -> torch.Tensor:
        """Take the next block, (channels, n) or (n,) for mono, and return what is ready of the output,
        (channels, m) (or (m,)): every chunk whose look-ahead has now arrived."""
        x, flat = self._as_block(block)
        self._flat = flat
        if self.causal is not None:
            out = self.causal.process(x)
            return out[0] if flat else out
        self._buffer = torch.cat([self._buffer, x], dim=1)
        available = self._buffer_start + self._buffer.shape[1]
        outs = []
        while self._emitted + self.chunk + self.lookahead <= available:
            outs.append(self._run(self._emitted + self.chunk, self._emitted + self.chunk + self.lookahead))
            self._trim()
        out = torch.cat(outs, dim=1) if outs else torch.zeros(self.channels, 0)
        return out[0] if flat else out

    def flush(self) -> torch.Tensor:
        """End the stream: return the rest of the output, (channels, m), and start a new stream."""
        if self.causal is not None:
            out, flat = self.causal.flush(), self._flat
            self.reset()
            return out[0] if flat else out
        end = self._buffer_start + self._buffer.shape[1]
        outs = []
        while self._emitted < end:
            stop = min(end, self._emitted + self.chunk)
            outs.append(self._run(stop, min(end, stop + self.lookahead)))
        out = torch.cat(outs, dim=1) if outs else torch.zeros(self.channels, 0)
        flat = self._flat
        self.reset()
        return out[0] if flat else out
