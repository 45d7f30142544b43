"""PESQ-style perceptual loss for speech (``perceptual``).

A differentiable stand-in for the disturbance that wide-band PESQ (ITU-T P.862 / P.862.2) scores, built
from the same stages: level alignment, Bark-band power spectra, partial compensation of the system's
frequency response and of its frame-to-frame gain, Zwicker loudness above the hearing threshold, a dead
zone for loudness differences under the masking threshold, an asymmetry factor that makes added energy
(residual noise, artefacts) cost more than energy taken away, frame weighting by the reference's
loudness, and an L6-then-L2 aggregation over time. It leaves out PESQ's time alignment (training pairs
are aligned) and its final mapping to the MOS scale.

The value is ``sym_weight * D_sym + asym_weight * D_asym`` averaged over the rows of the batch. The
default weights come from a least-squares fit of PESQ's raw score (before its MOS mapping) on the
bundled model's outputs for 100 validation mixtures: raw PESQ ~ 3.73 - 4.76 D_sym - 0.055 D_asym
(Pearson r 0.97), so the loss reads roughly as raw-PESQ points lost. ``level`` sets the absolute
loudness scale against the hearing threshold. ``benchmarks/perceptual_fit.py`` measures how closely
the disturbances track the real PESQ on a folder of pairs.
"""

from __future__ import annotations

import math

import torch

from sigdae.errors import LossError
from sigdae.losses.base import Loss, register_loss
from sigdae.losses.spectral import as_rows, stft_complex

_LOUDNESS_EXPONENT = 0.23  # Zwicker's power law, as in PESQ above 4 Bark
_LOUDNESS_SCALE = 0.1866  # PESQ's loudness calibration for 16 kHz
_FRAME_CLAMP = 45.0  # PESQ caps each frame's disturbance
_SEGMENT_FRAMES, _SEGMENT_HOP = 20, 10  # the L6 "split second" intervals: 20 frames, half overlapping


def _bark(hz: torch.Tensor) -> torch.Tensor:
    return 6.0 * torch.asinh(hz / 600.0)


def _hearing_threshold_db(hz: torch.Tensor) -> torch.Tensor:
    """Absolute threshold of hearing in dB SPL (Terhardt's approximation)."""
    khz = hz.clamp(min=20.0) / 1000.0
    return 3.64 * khz.pow(-0.8) - 6.5 * torch.exp(-0.6 * (khz - 3.3).pow(2)) + 1e-3 * khz.pow(4)


def bark_bands(sample_rate: int, n_fft: int, bands: int, low_hz: float = 100.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(bands, bins) weights: the share of each FFT bin's Bark extent that lies in each of ``bands``
    bands equally wide in Bark from ``low_hz`` to Nyquist; and each band's centre frequency in Hz."""
    bins = n_fft // 2 + 1
    bin_hz = sample_rate / n_fft
    centres = torch.arange(bins, dtype=torch.float64) * bin_hz
    lo = _bark((centres - bin_hz / 2).clamp(min=0.0))
    hi = _bark((centres + bin_hz / 2).clamp(max=sample_rate / 2))
    edges = torch.linspace(float(_bark(torch.tensor(low_hz))), float(_bark(torch.tensor(sample_rate / 2))), bands + 1,
                           dtype=torch.float64)
    overlap = (torch.minimum(hi[None, :], edges[1:, None]) - torch.maximum(lo[None, :], edges[:-1, None])).clamp(min=0)
    weights = overlap / (hi - lo).clamp(min=1e-12)[None, :]
    centre_bark = (edges[1:] + edges[:-1]) / 2
    centre_hz = 600.0 * torch.sinh(centre_bark / 6.0)
    return weights.float(), centre_hz.float()


@register_loss("perceptual")
class PerceptualLoss(Loss):
    """PESQ-style loudness disturbance between waveforms (N, T) or (N, C, T): ``sym_weight`` * D_sym +
    ``asym_weight`` * D_asym, at ``sample_rate`` with ``bands`` Bark bands and 32 ms frames."""

    def __init__(self, sample_rate: int = 16000, bands: int = 49, level: float = 1e7, sym_weight: float = 5.0,
                 asym_weight: float = 0.05):
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 8000:
            raise LossError(f"perceptual: sample_rate={sample_rate!r} must be an integer of at least 8000")
        if isinstance(bands, bool) or not isinstance(bands, int) or not 8 <= bands <= 128:
            raise LossError(f"perceptual: bands={bands!r} must be an integer from 8 to 128")
        for key, value in (("level", level), ("sym_weight", sym_weight), ("asym_weight", asym_weight)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise LossError(f"perceptual: {key}={value!r} must be a non-negative number")
        if level <= 0:
            raise LossError(f"perceptual: level={level!r} must be positive")
        super().__init__(sample_rate=sample_rate, bands=bands, level=level, sym_weight=sym_weight,
                         asym_weight=asym_weight)
        self.sample_rate, self.level = sample_rate, float(level)
        self.sym_weight, self.asym_weight = float(sym_weight), float(asym_weight)
        self.n_fft = 1 << round(math.log2(0.032 * sample_rate))  # 512 at 16 kHz
        self.hop = self.n_fft // 2
        weights, centre_hz = bark_bands(sample_rate, self.n_fft, bands)
        self.band_weights = weights
        self.threshold = torch.pow(10.0, _hearing_threshold_db(centre_hz) / 10.0)
        freqs = torch.arange(self.n_fft // 2 + 1) * (sample_rate / self.n_fft)
        self.speech_bins = ((freqs >= 300.0) & (freqs <= 3500.0)).float()

    # --------------------------------------------------------------------------------- stages

    def bark_power(self, x: torch.Tensor) -> torch.Tensor:
        """(rows, T) -> (rows, frames, bands): Bark-band power after aligning the 300-3500 Hz level."""
        spec = stft_complex(x, self.n_fft, self.hop, self.n_fft)
        power = (spec.real.pow(2) + spec.imag.pow(2)).transpose(1, 2)
        speech_level = (power * self.speech_bins.to(x.device)).sum(dim=-1).mean(dim=-1)
        power = power * (self.level / speech_level.clamp(min=1e-12))[:, None, None]
        return power @ self.band_weights.to(x.device).T

    def audible(self, power: torch.Tensor, factor: float) -> torch.Tensor:
        """Per-frame sum of the band powers that exceed ``factor`` times the hearing threshold."""
        audible = power > factor * self.threshold.to(power.device)
        return (power * audible).sum(dim=-1)

    def loudness(self, power: torch.Tensor) -> torch.Tensor:
        threshold = self.threshold.to(power.device)
        g = _LOUDNESS_EXPONENT
        loud = _LOUDNESS_SCALE * (threshold / 0.5) ** g * ((0.5 + 0.5 * power / threshold) ** g - 1.0)
        return loud.clamp(min=0.0)

    def disturbances(self, pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(D_sym, D_asym) per row of two waveform batches (rows, T)."""
        deg, ref = self.bark_power(pred), self.bark_power(target)

        # partial compensation of the system's frequency response, over the reference's active frames
        ref_frames = self.audible(ref, 1.0)
        active = (ref_frames >= 0.01 * ref_frames.mean(dim=-1, keepdim=True)).float()[..., None]
        frames = active.sum(dim=1).clamp(min=1.0)
        response = ((deg * active).sum(dim=1) / frames + 1e3) / ((ref * active).sum(dim=1) / frames + 1e3)
        ref = ref * response.clamp(0.01, 100.0)[:, None, :]

        # partial compensation of short-term gain changes, smoothed over one frame
        ref_audible = self.audible(ref, 1.0)
        gain = (ref_audible + 5e3) / (self.audible(deg, 1.0) + 5e3)
        gain = torch.cat([gain[:, :1], 0.8 * gain[:, 1:] + 0.2 * gain[:, :-1]], dim=1)
        deg = deg * gain.clamp(3e-4, 5.0)[..., None]

        loud_deg, loud_ref = self.loudness(deg), self.loudness(ref)
        difference = loud_deg - loud_ref
        dead_zone = 0.25 * torch.minimum(loud_deg, loud_ref)
        disturbance = difference.sign() * (difference.abs() - dead_zone).clamp(min=0.0)

        asymmetry = ((deg + 50.0) / (ref + 50.0)).pow(1.2)
        asymmetry = torch.where(asymmetry < 3.0, torch.zeros_like(asymmetry), asymmetry.clamp(max=12.0))

        width = 1.0 / disturbance.shape[-1]
        sym = (disturbance.pow(2).sum(dim=-1) * width).clamp(min=1e-12).sqrt()
        asym = (disturbance.abs() * asymmetry).sum(dim=-1) * width
        frame_weight = ((ref_audible + 1e5) / 1e7).pow(0.04)
        sym = (sym / frame_weight).clamp(max=_FRAME_CLAMP)
        asym = (asym / frame_weight).clamp(max=_FRAME_CLAMP)
        return _aggregate_time(sym), _aggregate_time(asym)

    def compute(self, pred, target, logits):
        rows_p = as_rows(pred.float(), self.name)
        rows_t = as_rows(target.float(), self.name)
        if rows_p.shape[-1] < self.n_fft:
            raise LossError(f"perceptual: signals of {rows_p.shape[-1]} samples are shorter than one "
                            f"{self.n_fft}-sample frame")
        # loudness powers span many decades: keep matmuls out of reduced-precision autocast
        with torch.autocast(device_type=rows_p.device.type, enabled=False):
            sym, asym = self.disturbances(rows_p, rows_t)
        return (self.sym_weight * sym + self.asym_weight * asym).mean()


def _aggregate_time(frames: torch.Tensor) -> torch.Tensor:
    """(rows, frames) -> (rows,): L6 over half-overlapping 20-frame intervals, then L2 over intervals."""
    size = min(_SEGMENT_FRAMES, frames.shape[-1])
    segments = frames.unfold(-1, size, _SEGMENT_HOP if size == _SEGMENT_FRAMES else size)
    l6 = segments.pow(6).mean(dim=-1).clamp(min=1e-30).pow(1.0 / 6.0)
    return l6.pow(2).mean(dim=-1).sqrt()
