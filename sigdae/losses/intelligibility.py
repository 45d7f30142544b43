"""STOI-style intelligibility loss for speech (``stoi``).

A differentiable form of short-time objective intelligibility (Taal et al. 2011), built from its stages:
the signals go to 10 kHz, 256-sample Hann frames with half overlap, 15 one-third-octave band envelopes
from 150 Hz, and 384 ms segments (30 frames). In each segment and band the processed envelope is scaled
to the clean one's energy and clipped at 15 dB above it, then correlated with the clean envelope. The
value is one minus the mean correlation, so 0 is perfect.

As in STOI, the clean signal's silent frames (40 dB under its loudest) are dropped before segments are
cut; a row's active frames are gathered to its front, so batch shapes stay fixed. Added to the spectral
and perceptual terms in a fine-tuning of the bundled ``realtime`` model, it raised validation STOI by
0.012 at the same PESQ-WB (see its model card).
"""

from __future__ import annotations

import torch
import torchaudio.functional as AF

from sigdae.errors import LossError
from sigdae.losses.base import Loss, register_loss
from sigdae.losses.spectral import as_rows, stft_complex

_RATE, _FRAME, _FFT = 10000, 256, 512
_BANDS, _LOWEST_HZ, _SEGMENT = 15, 150.0, 30
_CLIP = 1.0 + 10.0 ** (15.0 / 20.0)
_DYNAMIC_RANGE_DB = 40.0


def third_octave_bands(n_fft: int = _FFT, sample_rate: int = _RATE) -> torch.Tensor:
    """(bands, bins) 0/1 matrix: the FFT bins nearest each one-third-octave band's edges, as in STOI."""
    freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft
    centres = _LOWEST_HZ * 2.0 ** (torch.arange(_BANDS, dtype=torch.float64) / 3.0)
    matrix = torch.zeros(_BANDS, freqs.numel())
    for band, centre in enumerate(centres):
        low = int(torch.argmin((freqs - centre * 2.0 ** (-1 / 6)).abs()))
        high = int(torch.argmin((freqs - centre * 2.0 ** (1 / 6)).abs()))
        matrix[band, low:high] = 1.0
    return matrix


@register_loss("stoi")
class STOILoss(Loss):
    """1 - STOI-style correlation of band envelopes between waveforms (N, T) or (N, C, T) at ``sample_rate``."""

    def __init__(self, sample_rate: int = 16000, eps: float = 1e-8):
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 8000:
            raise LossError(f"stoi: sample_rate={sample_rate!r} must be an integer of at least 8000")
        super().__init__(sample_rate=sample_rate, eps=eps)
        self.sample_rate, self.eps = sample_rate, float(eps)
        self.bands = third_octave_bands()
        # a frame's energy from its one-sided power spectrum (Parseval): the bins in between count twice
        self.parseval = torch.full((_FFT // 2 + 1,), 2.0 / _FFT)
        self.parseval[0] = self.parseval[-1] = 1.0 / _FFT

    def power(self, rows: torch.Tensor) -> torch.Tensor:
        """(rows, T) at 10 kHz -> (rows, bins, frames) power spectra of the Hann-windowed frames."""
        spec = stft_complex(rows, _FFT, _FRAME // 2, _FRAME)
        return spec.real.pow(2) + spec.imag.pow(2)

    def envelopes(self, power: torch.Tensor) -> torch.Tensor:
        """Power spectra -> (rows, bands, frames) band magnitudes."""
        return (self.bands.to(power.device) @ power).clamp(min=self.eps).sqrt()

    def active_frames(self, power: torch.Tensor) -> torch.Tensor:
        """(rows, frames) 1.0 where a frame is within 40 dB of the row's loudest."""
        energy_db = 10.0 * torch.log10(self.parseval.to(power) @ power + self.eps)
        return (energy_db > energy_db.amax(dim=-1, keepdim=True) - _DYNAMIC_RANGE_DB).to(power.dtype)

    def correlation(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(rows,) mean clipped-envelope correlation of (rows, T) at ``sample_rate``, over the segments and bands
        of the active frames."""
        if self.sample_rate != _RATE:
            pred, target = (AF.resample(x, self.sample_rate, _RATE) for x in (pred, target))
        target_power = self.power(target)
        deg, ref = self.envelopes(self.power(pred)), self.envelopes(target_power)
        active = self.active_frames(target_power)
        # active frames first, in order (a stable sort), so that segments join them across pauses as STOI does
        order = torch.sort(1.0 - active, dim=-1, stable=True).indices[:, None, :].expand_as(ref)
        deg, ref = deg.gather(-1, order), ref.gather(-1, order)
        deg_seg = deg.unfold(-1, _SEGMENT, 1)  # (rows, bands, segments, 30)
        ref_seg = ref.unfold(-1, _SEGMENT, 1)
        scale = ref_seg.norm(dim=-1, keepdim=True) / (deg_seg.norm(dim=-1, keepdim=True) + self.eps)
        deg_seg = torch.minimum(deg_seg * scale, ref_seg * _CLIP)
        deg_seg = deg_seg - deg_seg.mean(dim=-1, keepdim=True)
        ref_seg = ref_seg - ref_seg.mean(dim=-1, keepdim=True)
        corr = (deg_seg * ref_seg).sum(dim=-1) / (deg_seg.norm(dim=-1) * ref_seg.norm(dim=-1) + self.eps)
        ends = torch.arange(corr.shape[-1], device=corr.device) + _SEGMENT
        valid = (ends[None, :] <= active.sum(dim=-1, keepdim=True)).to(corr.dtype)[:, None, :]
        return (corr * valid).sum(dim=(1, 2)) / (valid.sum(dim=(1, 2)) * corr.shape[1]).clamp(min=1.0)

    def compute(self, pred, target, logits):
        rows_p = as_rows(pred.float(), self.name)
        rows_t = as_rows(target.float(), self.name)
        shortest = (_FRAME // 2) * (_SEGMENT - 1) * self.sample_rate // _RATE + 1
        if rows_p.shape[-1] < shortest:
            raise LossError(f"stoi: signals of {rows_p.shape[-1]} samples are shorter than one 384 ms segment "
                            f"({shortest} samples at {self.sample_rate} Hz)")
        with torch.autocast(device_type=rows_p.device.type, enabled=False):
            return (1.0 - self.correlation(rows_p, rows_t)).mean()
