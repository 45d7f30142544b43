"""Additive audio noise at a per-sample SNR: generated colored noise, low-frequency rumble and steady tones,
recorded noise, babble and mains hum.

The SNR is measured against the clean signal's power per sample (mean square over all channels and
time), so ``10*log10(power(x) / power(y - x))`` equals the drawn ``snr_db``.
"""

from __future__ import annotations

import math

import torch

from sigdae.corruptions.audio_common import (EQ_TERMS, MAX_EVENTS, WAVEFORM, add_at_snr, apply_eq, as_nct, bank,
                                             eq_curves, event_envelope, need_dir, normalize_power, per_sample)
from sigdae.corruptions.base import Corruption, CorruptionError, Param, Params
from sigdae.registry import CORRUPTIONS

# Spectral slope of the noise power: P(f) ~ f^(-exponent).
COLORS = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0, "violet": -2.0}


def _snr(default=(0.0, 20.0)) -> Param:
    return Param("snr_db", list(default), "signal-to-noise ratio in dB against the clean signal (per sample)",
                 "range", -50.0, 100.0)


def shape_spectrum(white: torch.Tensor, exponent: float) -> torch.Tensor:
    """Give white noise a power spectrum ~ f^(-exponent) along the last axis (DC removed)."""
    if exponent == 0.0:
        return white
    frames = white.shape[-1]
    spec = torch.fft.rfft(white, dim=-1)
    f = torch.fft.rfftfreq(frames, device=white.device, dtype=torch.float64)
    f[0] = 1.0
    amp = f.pow(-exponent / 2.0)
    amp[0] = 0.0
    return torch.fft.irfft(spec * amp.to(spec.real.dtype), n=frames, dim=-1)


@CORRUPTIONS.register("colored_noise")
class ColoredNoise(Corruption):
    """Gaussian noise with a white, pink (1/f), brown (1/f^2), blue (f) or violet (f^2) spectrum,
    shaped in the FFT domain and added at ``snr_db``; independent noise in every channel."""

    params = (Param("color", "pink", "spectral color of the noise", "str",
                    choices=tuple(COLORS)), _snr())
    supports = WAVEFORM

    def draw_params(self, x, generator, sample_rate) -> Params:
        x3 = as_nct(self, x)
        return {"snr_db": self.uniform("snr_db", x.shape[0], generator, x),
                "white": self.randn(x3.shape, generator, x)}

    def apply_params(self, x, params, sample_rate):
        x3 = as_nct(self, x)
        noise = shape_spectrum(params["white"].to(x.device, torch.float32), COLORS[self.color])  # float32 FFT
        return add_at_snr(x3, noise, params["snr_db"]).view_as(x)


@CORRUPTIONS.register("rumble")
class Rumble(Corruption):
    """Low-frequency noise, the kind wind, traffic, engines, air conditioning and handling put under speech:
    Gaussian noise low-passed at a corner frequency drawn log-uniformly from ``cutoff_hz`` (a Butterworth-like
    roll-off of ``slope_db`` per octave above it), with a slow random level envelope (gusts, up to
    ``level_db``), added at ``snr_db``; independent noise in every channel."""

    params = (Param("cutoff_hz", [30.0, 300.0], "corner frequency of the low-pass, Hz (log-uniform per sample)",
                    "range", 1.0, 20000.0),
              Param("slope_db", [12.0, 36.0], "roll-off above the corner, dB per octave (per sample)",
                    "range", 6.0, 96.0),
              Param("level_db", 10.0, "slow random level changes: largest deviation in dB (0: steady)",
                    "float", 0.0, 40.0),
              _snr((-5.0, 20.0)))
    supports = WAVEFORM
    needs_sample_rate = True

    def draw_params(self, x, generator, sample_rate) -> Params:
        x3 = as_nct(self, x)
        n = x3.shape[0]
        lo, hi = self.bounds("cutoff_hz")
        return {"snr_db": self.uniform("snr_db", n, generator, x),
                "cutoff_hz": lo * (hi / lo) ** self.rand(n, generator, x),
                "slope_db": self.uniform("slope_db", n, generator, x),
                "level_coeffs": self.rand((n, EQ_TERMS), generator, x) * 2 - 1,
                "level_peak_db": self.rand(n, generator, x) * self.level_db,
                "white": self.randn(x3.shape, generator, x)}

    def apply_params(self, x, params, sample_rate):
        x3 = as_nct(self, x)
        t = x3.shape[-1]
        spec = torch.fft.rfft(params["white"].to(x.device, torch.float32), dim=-1)
        f = torch.fft.rfftfreq(t, 1.0 / sample_rate, device=x.device, dtype=torch.float64)
        order = params["slope_db"].to(x.device, torch.float64) / (20 * math.log10(2))
        ratio = f / params["cutoff_hz"].to(x.device, torch.float64).unsqueeze(1)  # (N, F)
        amp = (1 + ratio.pow(2 * order.unsqueeze(1))).rsqrt()
        amp[:, 0] = 0.0  # no DC offset
        noise = torch.fft.irfft(spec * amp.unsqueeze(1).float(), n=t, dim=-1)
        envelope = eq_curves(params["level_coeffs"], params["level_peak_db"], t).to(x.device)
        noise = noise * (10.0 ** (envelope / 20.0)).unsqueeze(1)
        return add_at_snr(x3, noise, params["snr_db"]).view_as(x)


@CORRUPTIONS.register("tones")
class Tones(Corruption):
    """Steady tonal noise (whining motors and fans, electrical whine, feedback, test tones): up to ``count``
    tones per sample at frequencies drawn log-uniformly from ``freq_hz``, each with up to ``harmonics``
    partials (1/k amplitudes, jittered, random phases; partials above Nyquist are left out), added at
    ``snr_db``. The same tones in every channel."""

    params = (Param("freq_hz", [50.0, 4000.0], "fundamental frequencies, Hz (log-uniform per tone)",
                    "range", 1.0, 48000.0),
              Param("count", 3, "largest number of tones per sample (drawn from 1 to count)", "int", 1, 32),
              Param("harmonics", 4, "largest number of partials per tone (drawn from 1 to harmonics)", "int", 1, 64),
              _snr((-5.0, 20.0)))
    supports = WAVEFORM
    needs_sample_rate = True

    def draw_params(self, x, generator, sample_rate) -> Params:
        as_nct(self, x)
        n, k, h = x.shape[0], self.count, self.harmonics
        lo, hi = self.bounds("freq_hz")
        return {"snr_db": self.uniform("snr_db", n, generator, x),
                "freq_hz": lo * (hi / lo) ** self.rand((n, k), generator, x),
                "tones": 1 + self.randint(k, n, generator, x),
                "partials": 1 + self.randint(h, (n, k), generator, x),
                "amp": 0.25 + 0.75 * self.rand((n, k, h), generator, x),
                "phase": 2 * math.pi * self.rand((n, k, h), generator, x)}

    def apply_params(self, x, params, sample_rate):
        x3 = as_nct(self, x)
        n, t = x3.shape[0], x3.shape[-1]
        dev = x.device
        k = torch.arange(1, self.harmonics + 1, device=dev, dtype=torch.float64)
        freq = params["freq_hz"].to(dev, torch.float64).unsqueeze(-1) * k  # (N, tones, partials)
        active = ((torch.arange(self.count, device=dev) < params["tones"].to(dev).unsqueeze(1)).unsqueeze(-1)
                  & (k <= params["partials"].to(dev).unsqueeze(-1)) & (freq < sample_rate / 2))
        amp = (params["amp"].to(dev, torch.float64) * active / k).reshape(n, -1, 1)
        # phase in cycles, reduced modulo 1 in float64 so long signals keep exact frequencies
        cycles = torch.remainder(freq.reshape(n, -1, 1) * torch.arange(t, device=dev, dtype=torch.float64)
                                 / sample_rate, 1.0)
        phase = params["phase"].to(dev, torch.float64).reshape(n, -1, 1)
        wave = (amp * torch.sin(2 * math.pi * cycles + phase)).sum(1, keepdim=True)
        return add_at_snr(x3, wave.to(x.dtype), params["snr_db"]).view_as(x)


@CORRUPTIONS.register("noise_file")
class NoiseFile(Corruption):
    """Recorded noise from a folder (searched recursively, any format soundfile reads), loaded once,
    resampled to the signal's rate and kept in memory. Each sample gets a random crop of a random file
    (looped if shorter than the signal; each channel its own crop), optionally played at a random ``speed``
    (tempo and pitch), optionally mixed with a second file (probability ``mix``, ``mix_db`` relative
    level), optionally coloured by a random smooth EQ curve (``eq_db``: its largest deviation, drawn up
    to this many dB per sample, so a few recordings stand for many microphones and rooms), optionally
    given a slow random level envelope (``level_db``, the same kind of curve over time: steady noise
    becomes noise that comes and goes), optionally gated into a few short events with silence between
    them (probability ``events``; ``event_ms`` long, ``event_count`` of them: a bark, a door, a cough),
    then added at ``snr_db`` over the whole crop, so gated events are as loud as their rarity makes them."""

    params = (Param("dir", None, "folder of noise recordings", "path"), _snr(),
              Param("mix", 0.0, "probability of mixing in a second noise file", "float", 0.0, 1.0),
              Param("mix_db", [-6.0, 0.0], "level of the second noise relative to the first, dB",
                    "range", -60.0, 60.0),
              Param("eq_db", 0.0, "random spectral shaping of the noise: largest EQ deviation in dB (0: off)",
                    "float", 0.0, 40.0),
              Param("speed", [1.0, 1.0], "playback speed of the recordings, per sample (tempo and pitch)",
                    "range", 0.25, 4.0),
              Param("level_db", 0.0, "slow random level changes over the crop: largest deviation in dB (0: off)",
                    "float", 0.0, 40.0),
              Param("events", 0.0, "probability of gating the noise into short events with silence between",
                    "float", 0.0, 1.0),
              Param("event_ms", [60.0, 700.0], "length of one event in ms", "range", 5.0, 60000.0),
              Param("event_count", [1.0, 4.0], "events per gated sample (whole numbers, both ends included)",
                    "range", 1.0, float(MAX_EVENTS)))
    supports = WAVEFORM
    needs_sample_rate = True
    event_ramp_ms = 4.0

    def check(self) -> None:
        need_dir(self)
        self.count_bounds("event_count")

    def draw_params(self, x, generator, sample_rate) -> Params:
        x3 = as_nct(self, x)
        n, c = x3.shape[:2]
        b = bank(self, self.dir, sample_rate)
        first = self.randint(len(b), (n, 1), generator, x).expand(n, c)
        second = self.randint(len(b), (n, 1), generator, x).expand(n, c)
        params = {"snr_db": self.uniform("snr_db", n, generator, x),
                  "file": first[:, 0], "offset": b.offsets(self, first, generator, x),
                  "file2": second[:, 0], "offset2": b.offsets(self, second, generator, x),
                  "mixed": self.rand(n, generator, x) < self.mix,
                  "mix_db": self.uniform("mix_db", n, generator, x)}
        if self.eq_db > 0:
            params["eq_coeffs"] = self.rand((n, EQ_TERMS), generator, x) * 2 - 1
            params["eq_peak_db"] = self.rand(n, generator, x) * self.eq_db
        if self.speed not in (1.0, [1.0, 1.0]):  # drawn only when used: older specs draw what they drew before
            params["speed"] = self.uniform("speed", n, generator, x)
        if self.level_db > 0:
            params["level_coeffs"] = self.rand((n, EQ_TERMS), generator, x) * 2 - 1
            params["level_peak_db"] = self.rand(n, generator, x) * self.level_db
        if self.events > 0:
            params.update(self._draw_events(n, x.shape[-1], generator, x, sample_rate))
        return params

    def _draw_events(self, n: int, frames: int, generator, x, sample_rate) -> Params:
        count = self.uniform_count("event_count", n, generator, x)
        lo_ms, hi_ms = self.bounds("event_ms")
        lengths = (lo_ms + self.rand((n, MAX_EVENTS), generator, x) * (hi_ms - lo_ms)) * sample_rate / 1000.0
        starts = self.rand((n, MAX_EVENTS), generator, x) * (frames - lengths.clamp(max=frames - 1))
        active = torch.arange(MAX_EVENTS, device=count.device).view(1, -1) < count.view(-1, 1)
        gated = self.rand(n, generator, x) < self.events
        return {"event_start": starts.floor(), "event_length": lengths.clamp(min=1).floor(),
                "event_active": active & gated.view(-1, 1), "gated": gated}

    def apply_params(self, x, params, sample_rate):
        x3 = as_nct(self, x)
        n, c, t = x3.shape
        b = bank(self, self.dir, sample_rate)
        speed = params["speed"].view(n, 1) if "speed" in params else None
        noise = normalize_power(b.crops(params["file"].view(n, 1).expand(n, c), params["offset"], t, x.device,
                                        speed), 2)
        if bool(params["mixed"].any()):
            other = normalize_power(b.crops(params["file2"].view(n, 1).expand(n, c), params["offset2"], t,
                                            x.device, speed), 2)
            level = torch.where(params["mixed"].to(x.device), 10.0 ** (params["mix_db"].to(x.device) / 20.0),
                                torch.zeros((), device=x.device))
            noise = noise + per_sample(level, other) * other
        if "eq_coeffs" in params:
            noise = apply_eq(noise, eq_curves(params["eq_coeffs"], params["eq_peak_db"], t // 2 + 1))
        if "level_coeffs" in params:
            envelope = eq_curves(params["level_coeffs"], params["level_peak_db"], t).to(x.device)
            noise = noise * (10.0 ** (envelope / 20.0)).unsqueeze(1).to(noise.dtype)
        if "gated" in params and bool(params["gated"].any()):
            ramp = max(1, round(self.event_ramp_ms * sample_rate / 1000.0))
            gate = event_envelope(params["event_start"].to(x.device), params["event_length"].to(x.device),
                                  params["event_active"].to(x.device), t, ramp)
            gate = torch.where(params["gated"].to(x.device).view(-1, 1), gate, torch.ones_like(gate))
            noise = noise * gate.unsqueeze(1).to(noise.dtype)
        return add_at_snr(x3, noise, params["snr_db"]).view_as(x)


@CORRUPTIONS.register("babble")
class Babble(Corruption):
    """Babble: the sum of ``speakers`` random utterances (random crops, looped if short) from a folder
    of speech, each at equal power, added at ``snr_db``; the same babble in every channel."""

    params = (Param("dir", None, "folder of speech recordings (other speakers)", "path"),
              Param("speakers", [3.0, 6.0], "number of talkers (a [low, high] pair draws an integer per sample)",
                    "range", 1.0, 64.0),
              _snr((0.0, 15.0)))
    supports = WAVEFORM
    needs_sample_rate = True

    def check(self) -> None:
        need_dir(self)
        self.count_bounds("speakers")

    def draw_params(self, x, generator, sample_rate) -> Params:
        as_nct(self, x)
        n, k = x.shape[0], self.count_bounds("speakers")[1]
        b = bank(self, self.dir, sample_rate)
        count = self.uniform_count("speakers", n, generator, x)
        files = self.randint(len(b), (n, k), generator, x)
        return {"snr_db": self.uniform("snr_db", n, generator, x), "speakers": count, "files": files,
                "offsets": b.offsets(self, files, generator, x)}

    def apply_params(self, x, params, sample_rate):
        x3 = as_nct(self, x)
        n, _, t = x3.shape
        b = bank(self, self.dir, sample_rate)
        talkers = normalize_power(b.crops(params["files"], params["offsets"], t, x.device))  # (N, K, T)
        k = talkers.shape[1]
        active = torch.arange(k, device=x.device) < params["speakers"].to(x.device).unsqueeze(1)
        babble = (talkers * active.unsqueeze(-1).to(talkers.dtype)).sum(1, keepdim=True)
        return add_at_snr(x3, babble, params["snr_db"]).view_as(x)


@CORRUPTIONS.register("hum")
class Hum(Corruption):
    """Mains hum: a ``freq`` Hz sine (50 or 60) and its first ``harmonics`` multiples below Nyquist,
    with random phases and 1/k amplitudes jittered per sample, added at ``snr_db``."""

    params = (Param("freq", 50.0, "mains frequency in Hz (50 or 60)", "float", 1.0, 20000.0),
              Param("harmonics", 5, "number of harmonics including the fundamental", "int", 1, 200),
              _snr((10.0, 30.0)))
    supports = WAVEFORM
    needs_sample_rate = True

    def draw_params(self, x, generator, sample_rate) -> Params:
        as_nct(self, x)
        n, h = x.shape[0], self.harmonics
        return {"snr_db": self.uniform("snr_db", n, generator, x),
                "phase": 2 * math.pi * self.rand((n, h), generator, x),
                "amp": 0.25 + 0.75 * self.rand((n, h), generator, x)}

    def apply_params(self, x, params, sample_rate):
        x3 = as_nct(self, x)
        t = x3.shape[-1]
        if self.freq >= sample_rate / 2:
            raise CorruptionError(f"hum: freq={self.freq} Hz is not below Nyquist ({sample_rate / 2} Hz)")
        k = torch.arange(1, self.harmonics + 1, device=x.device, dtype=torch.float64)
        below = (k * self.freq < sample_rate / 2).double()
        # phase in cycles, reduced modulo 1 in float64 so long signals keep an exact frequency
        cycles = torch.remainder(k[:, None] * self.freq * torch.arange(t, device=x.device, dtype=torch.float64)
                                 / sample_rate, 1.0)
        sin, cos = torch.sin(2 * math.pi * cycles), torch.cos(2 * math.pi * cycles)  # (H, T)
        amp = params["amp"].to(x.device, torch.float64) * below / k
        phase = params["phase"].to(x.device, torch.float64)
        hum = (amp * torch.cos(phase)) @ sin + (amp * torch.sin(phase)) @ cos  # sin(w t + phase)
        return add_at_snr(x3, hum.to(x.dtype).unsqueeze(1), params["snr_db"]).view_as(x)
