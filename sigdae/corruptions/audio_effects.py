"""Audio effects: reverberation, clipping, band limiting, packet loss and gain (all batched on the device)."""

from __future__ import annotations

import math

import torch

from sigdae.corruptions.audio_common import EPS, WAVEFORM, as_nct, bank, need_dir, per_sample, power
from sigdae.corruptions.base import Corruption, CorruptionError, Param, Params
from sigdae.registry import CORRUPTIONS

LN_1000 = math.log(1000.0)  # an amplitude decay of 60 dB


def _fft_dtype(x: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 go through the FFT in float32 (CPU FFTs need it, and it is more precise)."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


@CORRUPTIONS.register("reverb")
class Reverb(Corruption):
    """Reverberation by convolution with a room impulse response.

    With ``dir``, each sample uses a random channel of a random RIR file from that folder (loaded once,
    resampled, started at its direct-path peak, cut to ``max_seconds``). Without ``dir``, a synthetic RIR:
    a unit direct path at lag 0 followed by exponentially decaying Gaussian noise that falls by 60 dB in
    ``rt60`` seconds, with direct-to-reverberant ratio ``drr_db``. The direct path sits at lag 0, so the
    output stays time-aligned with the input; it is cropped to the input length and rescaled to the input's
    power per sample. The same RIR is used for every channel.
    """

    params = (Param("dir", None, "folder of room impulse responses (none: synthetic RIRs)", "path"),
              Param("rt60", [0.2, 0.8], "reverberation time in seconds (synthetic RIRs)", "range", 0.01, 10.0),
              Param("drr_db", [0.0, 12.0], "direct-to-reverberant energy ratio in dB (synthetic RIRs)", "range",
                    -40.0, 60.0),
              Param("max_seconds", 2.0, "longest RIR used, in seconds", "float", 0.001, 60.0))
    supports = WAVEFORM
    needs_sample_rate = True

    def check(self) -> None:
        if self.dir is not None:
            need_dir(self)

    def _length(self, sample_rate: int) -> int:
        rt60 = self.rt60[1] if isinstance(self.rt60, list) else self.rt60
        return max(2, int(math.ceil(min(rt60, self.max_seconds) * sample_rate)))

    def draw_params(self, x, generator, sample_rate) -> Params:
        as_nct(self, x)
        n = x.shape[0]
        if self.dir is not None:
            return {"rir": self.randint(len(bank(self, self.dir, sample_rate, "rir")), n, generator, x)}
        return {"rt60": self.uniform("rt60", n, generator, x), "drr_db": self.uniform("drr_db", n, generator, x),
                "tail": self.randn((n, self._length(sample_rate)), generator, x)}

    def impulse_responses(self, params: Params, sample_rate: int, device: torch.device) -> torch.Tensor:
        """The ``(N, L)`` impulse responses the params describe (direct path at index 0)."""
        if self.dir is not None:
            b = bank(self, self.dir, sample_rate, "rir")
            index = params["rir"].to(device)
            longest = int(b.lengths[index.cpu()].max())
            return b.heads(index, min(longest, max(1, int(self.max_seconds * sample_rate))), device)
        tail = params["tail"].to(device, torch.float32)
        n, length = tail.shape
        t = torch.arange(length, device=device, dtype=torch.float32) / sample_rate
        env = torch.exp(-LN_1000 * t / params["rt60"].to(device, torch.float32).unsqueeze(1))
        env[:, 0] = 0.0
        tail = tail * env
        target = 10.0 ** (-params["drr_db"].to(device, torch.float32) / 10.0)  # tail energy, direct = 1
        tail = tail * (target / tail.pow(2).sum(1).clamp_min(EPS)).sqrt().unsqueeze(1)
        tail[:, 0] = 1.0
        return tail

    def apply_params(self, x, params, sample_rate):
        import torchaudio.functional as AF

        x3 = as_nct(self, x)
        xf = _fft_dtype(x3)
        rir = self.impulse_responses(params, sample_rate, x.device).to(xf.dtype).unsqueeze(1)  # (N, 1, L)
        wet = AF.fftconvolve(xf, rir)[..., : x3.shape[-1]]
        gain = (power(xf) / power(wet).clamp_min(EPS)).sqrt()
        return (wet * per_sample(gain, wet)).to(x.dtype).view_as(x)


@CORRUPTIONS.register("clipping")
class Clipping(Corruption):
    """Hard clipping at ``level`` times each sample's peak magnitude (over all channels)."""

    params = (Param("level", [0.1, 0.5], "clip threshold as a fraction of the sample's peak", "range", 0.0, 1.0),)
    supports = WAVEFORM

    def draw_params(self, x, generator, sample_rate) -> Params:
        as_nct(self, x)
        return {"level": self.uniform("level", x.shape[0], generator, x)}

    def apply_params(self, x, params, sample_rate):
        x3 = as_nct(self, x)
        peak = x3.detach().abs().flatten(1).amax(1)
        limit = per_sample(params["level"].to(x.device) * peak, x3)
        return torch.minimum(torch.maximum(x3, -limit), limit).view_as(x)


@CORRUPTIONS.register("bandlimit")
class Bandlimit(Corruption):
    """Band-pass in the FFT domain: keeps ``low_hz``..``high_hz`` (per-sample ranges). ``transition_hz``
    = 0 is a brick wall; otherwise raised-cosine edges of that width centred on the cut-offs.
    Batched and differentiable; a ``high_hz`` at or above Nyquist keeps the top of the spectrum."""

    params = (Param("low_hz", [0.0, 300.0], "lower cut-off in Hz (0: keep the bottom)", "range", 0.0, 1e6),
              Param("high_hz", [3000.0, 7000.0], "upper cut-off in Hz", "range", 0.0, 1e6),
              Param("transition_hz", 0.0, "width of the edges in Hz (0: brick wall)", "float", 0.0, 1e6))
    supports = WAVEFORM
    needs_sample_rate = True

    def check(self) -> None:
        if self.bounds("low_hz")[1] >= self.bounds("high_hz")[0]:
            raise CorruptionError(f"bandlimit: every low_hz ({self.low_hz}) must be below every high_hz "
                                  f"({self.high_hz})")

    def draw_params(self, x, generator, sample_rate) -> Params:
        as_nct(self, x)
        n = x.shape[0]
        return {"low_hz": self.uniform("low_hz", n, generator, x), "high_hz": self.uniform("high_hz", n, generator, x)}

    def response(self, params: Params, frames: int, sample_rate: int, device: torch.device) -> torch.Tensor:
        """The ``(N, frames // 2 + 1)`` real gain applied to each rfft bin."""
        f = torch.fft.rfftfreq(frames, d=1.0 / sample_rate, device=device, dtype=torch.float64)
        low = params["low_hz"].to(device, torch.float64).unsqueeze(1)
        high = params["high_hz"].to(device, torch.float64).unsqueeze(1)
        width = self.transition_hz
        if width == 0:
            gain = (f >= low) & ((f <= high) | (high >= sample_rate / 2))
            return gain.double()
        rise = ((f - low) / width + 0.5).clamp(0, 1)
        fall = ((high - f) / width + 0.5).clamp(0, 1)
        rise = torch.where(low > 0, 0.5 - 0.5 * torch.cos(math.pi * rise), torch.ones_like(rise))
        fall = torch.where(high < sample_rate / 2, 0.5 - 0.5 * torch.cos(math.pi * fall), torch.ones_like(fall))
        return rise * fall

    def apply_params(self, x, params, sample_rate):
        x3 = as_nct(self, x)
        t = x3.shape[-1]
        gain = self.response(params, t, sample_rate, x.device).unsqueeze(1)  # (N, 1, F)
        spec = torch.fft.rfft(_fft_dtype(x3), dim=-1)
        return torch.fft.irfft(spec * gain.to(spec.real.dtype), n=t, dim=-1).to(x.dtype).view_as(x)


@CORRUPTIONS.register("dropout")
class Dropout(Corruption):
    """Packet loss: time is cut into packets of ``length_ms`` (per sample, random grid phase) and each
    packet is zeroed, in every channel, with probability ``rate``."""

    params = (Param("rate", [0.05, 0.2], "probability that a packet is lost", "range", 0.0, 1.0),
              Param("length_ms", [20.0, 60.0], "packet length in milliseconds", "range", 0.01, 1e6))
    supports = WAVEFORM
    needs_sample_rate = True

    def _packet(self, ms: torch.Tensor, sample_rate: int) -> torch.Tensor:
        return (ms * sample_rate / 1000.0).round().long().clamp_min(1)

    def draw_params(self, x, generator, sample_rate) -> Params:
        x3 = as_nct(self, x)
        n, t = x.shape[0], x3.shape[-1]
        ms = self.uniform("length_ms", n, generator, x)
        shortest = self.bounds("length_ms")[0]
        packets = t // int(self._packet(torch.tensor(float(shortest)), sample_rate)) + 2
        return {"rate": self.uniform("rate", n, generator, x), "length_ms": ms,
                "phase": self.rand(n, generator, x), "loss": self.rand((n, packets), generator, x)}

    def apply_params(self, x, params, sample_rate):
        x3 = as_nct(self, x)
        t = x3.shape[-1]
        size = self._packet(params["length_ms"].to(x.device), sample_rate).unsqueeze(1)  # (N, 1)
        shift = (params["phase"].to(x.device).unsqueeze(1) * size).long()
        packet = (torch.arange(t, device=x.device) + shift) // size  # (N, T)
        lost = params["loss"].to(x.device).gather(1, packet) < params["rate"].to(x.device).unsqueeze(1)
        return x3.masked_fill(lost.unsqueeze(1), 0.0).view_as(x)


@CORRUPTIONS.register("gain")
class Gain(Corruption):
    """Level change by ``db`` decibels per sample."""

    params = (Param("db", [-12.0, 12.0], "gain in dB", "range", -120.0, 120.0),)
    supports = WAVEFORM

    def draw_params(self, x, generator, sample_rate) -> Params:
        as_nct(self, x)
        return {"db": self.uniform("db", x.shape[0], generator, x)}

    def apply_params(self, x, params, sample_rate):
        return x * per_sample(10.0 ** (params["db"].to(x.device) / 20.0), x)
