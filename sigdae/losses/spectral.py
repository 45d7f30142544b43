"""Spectral reconstruction losses: multi-resolution STFT (waveforms) and single-resolution log-magnitude L1.

``stft``: for each resolution, spectral convergence ||S_t - S_p||_F / ||S_t||_F plus the mean
|log S_t - log S_p| of the STFT magnitudes, averaged over resolutions (Yamamoto et al. 2020,
ParallelWaveGAN). Defaults (FFT 1024/2048/512, hop 120/240/50, window 600/1200/240) suit 16-24 kHz.

``spectral``: the log-magnitude L1 term at one resolution. On (N, T) / (N, C, T) it uses an STFT;
on (N, C, H, W) images or spectrograms it uses the 2-D Fourier magnitude.

``compressed``: mean squared error between power-law compressed spectra |S|^c (c = 0.3), on the
magnitudes and on the complex values with the compressed magnitude and the original phase (as in
GTCRN and DeepFilterNet). Unlike the log, the power law gives near-silent bins little weight, so
residual noise in speech pauses costs what it should and loud speech is not distorted.
"""

from __future__ import annotations

from typing import Sequence

import torch

from sigdae.errors import LossError
from sigdae.losses.base import Loss, register_loss


def as_rows(x: torch.Tensor, owner: str) -> torch.Tensor:
    """(T,), (N, T) or (N, C, T) -> (rows, T)."""
    if x.ndim not in (1, 2, 3):
        raise LossError(f"{owner}: expected a waveform batch (N, T) or (N, C, T), got {tuple(x.shape)}")
    return x.reshape(-1, x.shape[-1])


def stft_magnitude(x: torch.Tensor, n_fft: int, hop: int, win_length: int, eps: float) -> torch.Tensor:
    """|STFT| of (rows, T), floored at sqrt(eps) so that its log and gradient stay finite."""
    spec = stft_complex(x, n_fft, hop, win_length)
    return torch.sqrt(torch.clamp(spec.real.pow(2) + spec.imag.pow(2), min=eps))


def stft_complex(x: torch.Tensor, n_fft: int, hop: int, win_length: int) -> torch.Tensor:
    window = torch.hann_window(win_length, device=x.device, dtype=x.dtype)
    return torch.stft(x, n_fft=n_fft, hop_length=hop, win_length=win_length, window=window, center=True,
                      pad_mode="constant", return_complex=True)


def _check_sizes(owner: str, key: str, values: Sequence[int]) -> list[int]:
    values = [values] if isinstance(values, int) else list(values)
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in values):
        raise LossError(f"{owner}: {key}={values!r} must be a non-empty list of positive integers")
    return values


def _check_stft(owner: str, n_fft: int, hop: int, win_length: int) -> None:
    for key, value in (("n_fft", n_fft), ("hop", hop), ("win_length", win_length)):
        _check_sizes(owner, key, [value])
    if win_length > n_fft:
        raise LossError(f"{owner}: win_length {win_length} is longer than n_fft {n_fft}")


@register_loss("stft")
class MultiResolutionSTFTLoss(Loss):
    """Multi-resolution STFT loss for waveforms: mean over resolutions of spectral convergence +
    log-magnitude L1 (weights ``sc_weight``, ``mag_weight``)."""

    def __init__(self, fft_sizes: Sequence[int] = (1024, 2048, 512), hop_sizes: Sequence[int] = (120, 240, 50),
                 win_lengths: Sequence[int] = (600, 1200, 240), sc_weight: float = 1.0, mag_weight: float = 1.0,
                 eps: float = 1e-7):
        owner = "stft"
        fft = _check_sizes(owner, "fft_sizes", fft_sizes)
        hops = _check_sizes(owner, "hop_sizes", hop_sizes)
        wins = _check_sizes(owner, "win_lengths", win_lengths)
        if not len(fft) == len(hops) == len(wins):
            raise LossError(f"{owner}: fft_sizes, hop_sizes and win_lengths need the same length "
                            f"({len(fft)}, {len(hops)}, {len(wins)})")
        for n, w in zip(fft, wins):
            if w > n:
                raise LossError(f"{owner}: window {w} is longer than its FFT size {n}")
        super().__init__(fft_sizes=fft, hop_sizes=hops, win_lengths=wins, sc_weight=sc_weight,
                         mag_weight=mag_weight, eps=eps)
        self.resolutions = list(zip(fft, hops, wins))
        self.sc_weight, self.mag_weight, self.eps = float(sc_weight), float(mag_weight), float(eps)

    def compute(self, pred, target, logits):
        p, t = as_rows(pred, self.name), as_rows(target, self.name)
        total = pred.new_zeros(())
        for n_fft, hop, win in self.resolutions:
            mag_p = stft_magnitude(p, n_fft, hop, win, self.eps)
            mag_t = stft_magnitude(t, n_fft, hop, win, self.eps)
            convergence = torch.linalg.vector_norm(mag_t - mag_p) / torch.linalg.vector_norm(mag_t)
            log_l1 = (mag_t.log() - mag_p.log()).abs().mean()
            total = total + self.sc_weight * convergence + self.mag_weight * log_l1
        return total / len(self.resolutions)


@register_loss("spectral")
class SpectralLoss(Loss):
    """Single-resolution log-magnitude L1: STFT (``n_fft``, ``hop``, ``win_length``) on waveforms,
    orthonormal 2-D FFT over the last two axes on (N, C, H, W) images/spectrograms."""

    def __init__(self, n_fft: int = 512, hop: int = 128, win_length: int = 512, eps: float = 1e-7):
        _check_stft("spectral", n_fft, hop, win_length)
        super().__init__(n_fft=n_fft, hop=hop, win_length=win_length, eps=eps)
        self.n_fft, self.hop, self.win_length, self.eps = n_fft, hop, win_length, float(eps)

    def magnitude(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4:
            spec = torch.fft.rfft2(x, norm="ortho")
            return torch.sqrt(torch.clamp(spec.real.pow(2) + spec.imag.pow(2), min=self.eps))
        return stft_magnitude(as_rows(x, self.name), self.n_fft, self.hop, self.win_length, self.eps)

    def compute(self, pred, target, logits):
        return (self.magnitude(target).log() - self.magnitude(pred).log()).abs().mean()


@register_loss("compressed")
class CompressedSpectralLoss(Loss):
    """Power-law compressed spectral MSE on waveforms: ``mag_weight`` * MSE(|P|^c, |T|^c) +
    ``complex_weight`` * MSE(|P|^c e^{i angle P}, |T|^c e^{i angle T}) at one STFT resolution."""

    def __init__(self, n_fft: int = 512, hop: int = 128, win_length: int = 512, power: float = 0.3,
                 mag_weight: float = 0.7, complex_weight: float = 0.3, eps: float = 1e-8):
        _check_stft("compressed", n_fft, hop, win_length)
        if not 0 < power <= 1:
            raise LossError(f"compressed: power={power} must be in (0, 1]")
        super().__init__(n_fft=n_fft, hop=hop, win_length=win_length, power=power, mag_weight=mag_weight,
                         complex_weight=complex_weight, eps=eps)
        self.n_fft, self.hop, self.win_length = n_fft, hop, win_length
        self.power, self.mag_weight, self.complex_weight, self.eps = (float(power), float(mag_weight),
                                                                      float(complex_weight), float(eps))

    def compressed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(compressed magnitude, compressed complex spectrum as real/imag pairs) of a waveform batch."""
        spec = torch.view_as_real(stft_complex(as_rows(x.float(), self.name), self.n_fft, self.hop,
                                               self.win_length))
        power = spec.pow(2).sum(dim=-1, keepdim=True).clamp(min=self.eps)
        magnitude = power.pow(self.power / 2)
        return magnitude.squeeze(-1), spec * (magnitude / power.sqrt())

    def compute(self, pred, target, logits):
        mag_p, cplx_p = self.compressed(pred)
        mag_t, cplx_t = self.compressed(target)
        mag = (mag_p - mag_t).pow(2).mean()
        cplx = (cplx_p - cplx_t).pow(2).sum(dim=-1).mean()
        return self.mag_weight * mag + self.complex_weight * cplx
