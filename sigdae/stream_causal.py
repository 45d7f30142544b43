"""Real-time streaming with a causal model: each block costs only its new frames.

A causal model (one with ``stream_state``/``stream``, such as the bundled ``realtime`` model) carries its
past in a state, so a stream of 10 ms blocks runs at the cost of the audio itself, and the delay is the
model's look-ahead (one 20 ms window) plus, at other rates than the model's, a resampler's reach each way
(under 1 ms). The output equals ``Enhancer(model, band="model")`` on the whole signal to float rounding.
"""

from __future__ import annotations

import math

import torch

from sigdae import audio

# torchaudio's default resampler reaches about 6 zero crossings each way; 8 leaves a margin
RESAMPLER_CROSSINGS = 8


class StreamResampler:
    """Resample a stream block by block from ``src`` to ``dst`` Hz, equal to resampling it whole. Each
    output sample is given as soon as the input it depends on has arrived; each call resamples from a
    point on the filter's phase grid a filter's reach back, so the phases match the whole signal's."""

    def __init__(self, src: int, dst: int, channels: int):
        g = math.gcd(src, dst)
        self.src, self.dst, self.unit_in, self.unit_out = src, dst, src // g, dst // g
        self.reach = math.ceil(RESAMPLER_CROSSINGS * src / min(src, dst))  # input samples each way
        self.channels = channels
        self.reset()

    def reset(self) -> None:
        self._buffer = torch.zeros(self.channels, 0)
        self._start = 0   # input position of the buffer's first sample
        self._done = 0    # output samples given
        self._total = 0   # input samples taken

    @property
    def delay(self) -> int:
        """Input samples that must follow a sample before its resampled value is final."""
        return self.reach + 1

    def _grid_before(self, out_position: int) -> int:
        """The last input position on the phase grid a reach before output ``out_position``."""
        first_needed = out_position * self.src // self.dst - self.reach
        return max(0, first_needed // self.unit_in * self.unit_in)

    def _emit(self, stop: int) -> torch.Tensor:
        lo = self._grid_before(self._done)
        piece = audio.resample(self._buffer[:, lo - self._start:], self.src, self.dst, exact=True)
        base = lo // self.unit_in * self.unit_out
        out = piece[:, self._done - base: stop - base]
        self._done = stop
        keep = self._grid_before(stop)
        self._buffer, self._start = self._buffer[:, keep - self._start:], keep
        return out

    def process(self, x: torch.Tensor) -> torch.Tensor:
        """(channels, n) in, (channels, m) out: what is now final."""
        self._buffer = torch.cat([self._buffer, x], dim=1)
        self._total += x.shape[1]
        stop = max(0, (self._total - self.reach) * self.dst // self.src)
        return self._emit(stop) if stop > self._done else torch.zeros(self.channels, 0)

    def flush(self) -> torch.Tensor:
        """The rest of the output; then the resampler starts a new stream."""
        stop = math.ceil(self._total * self.dst / self.src)
        out = self._emit(stop) if stop > self._done else torch.zeros(self.channels, 0)
        self.reset()
        return out


class CausalStream:
    """The stream of a causal model at ``sample_rate`` with ``channels`` channels (see the module doc)."""

    def __init__(self, module: torch.nn.Module, model_rate: int, sample_rate: int, channels: int,
                 strength: float = 1.0):
        self.module, self.model_rate, self.rate = module, model_rate, sample_rate
        self.channels, self.strength = channels, strength
        same = sample_rate == model_rate
        self.down = None if same else StreamResampler(sample_rate, model_rate, channels)
        self.up = None if same else StreamResampler(model_rate, sample_rate, channels)
        self.model_delay = int(module.n_fft) - int(module.hop)  # samples the model's output runs behind
        self.device = module.window.device
        self.reset()

    @property
    def latency_samples(self) -> int:
        """Input samples between a sample going in and its enhanced value coming out, at most."""
        model = int(self.module.lookahead_samples) + 1
        if self.down is None:
            return model
        scale = self.rate / self.model_rate
        return self.down.delay + math.ceil((model + self.up.delay) * scale)

    def reset(self) -> None:
        self.state = self.module.stream_state(self.channels)
        self._dry = torch.zeros(self.channels, 0)  # input not yet matched by output, for the strength mix
        self._fed = self._given = 0                # samples into and out of the model
        for resampler in (self.down, self.up):
            if resampler is not None:
                resampler.reset()

    def _model(self, x: torch.Tensor) -> torch.Tensor:
        y = self.module.stream(x.to(self.device), self.state).float().cpu()
        self._fed += x.shape[1]
        self._given += y.shape[1]
        return y

    def _mix(self, y: torch.Tensor) -> torch.Tensor:
        dry, self._dry = self._dry[:, :y.shape[1]], self._dry[:, y.shape[1]:]
        return self.strength * y + (1 - self.strength) * dry

    def process(self, x: torch.Tensor) -> torch.Tensor:
        """(channels, n) in, (channels, m) out: the enhanced samples now final."""
        self._dry = torch.cat([self._dry, x], dim=1)
        y = self._model(x if self.down is None else self.down.process(x))
        return self._mix(y if self.up is None else self.up.process(y))

    def flush(self) -> torch.Tensor:
        """The rest of the stream, so that the whole output is as long as the input; then a new stream."""
        pieces = [] if self.down is None else [self._model(self.down.flush())]
        missing = self._fed - self._given
        if missing:  # silence after the end pushes the model's last frames out
            silence = torch.zeros(self.channels, self.model_delay + int(self.module.hop))
            pieces.append(self._model(silence)[:, :missing])
        y = torch.cat(pieces, dim=1) if pieces else torch.zeros(self.channels, 0)
        if self.up is not None:
            y = torch.cat([self.up.process(y), self.up.flush()], dim=1)
        out = self._mix(y[:, :self._dry.shape[1]])
        self.reset()
        return out
