"""Quality metrics for images (PSNR, SSIM) and waveforms (SNR, SI-SDR, optional PESQ-WB / STOI).

All torch metrics work on any device, compute in float64 and return per-sample values
(``reduction="none"``, shape (N,)) or their batch mean (``reduction="mean"``, a 0-dim tensor).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MSE_FLOOR = 1e-10
_REDUCTIONS = ("mean", "sum", "none")


def _pair(a, b, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.as_tensor(a)
    b = torch.as_tensor(b, device=a.device)
    if a.shape != b.shape:
        raise ValueError(f"{name}: shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    if a.ndim == 0:
        raise ValueError(f"{name}: expected a batch, got a scalar")
    return a.to(torch.float64), b.to(torch.float64)


def _reduce(values: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    if reduction == "none":
        return values
    raise ValueError(f"unknown reduction {reduction!r} (use one of {', '.join(_REDUCTIONS)})")


def per_sample_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N, ...) -> (N,): the mean squared error over all non-batch dims, in the inputs' dtype and
    differentiable (the ``psnr`` loss uses it too)."""
    return (pred - target).square().reshape(pred.shape[0], -1).mean(dim=1)


def psnr(pred, target, data_range: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """Per-sample PSNR in dB over all non-batch dims: ``10 log10(range^2 / max(MSE, 1e-10))``."""
    pred, target = _pair(pred, target, "psnr")
    mse = per_sample_mse(pred, target).clamp_min(MSE_FLOOR)
    return _reduce(10.0 * torch.log10(data_range**2 / mse), reduction)


def ssim(pred, target, data_range: float = 1.0, win_size: int = 7, reduction: str = "mean") -> torch.Tensor:
    """Per-image SSIM matching ``skimage.metrics.structural_similarity(target, pred, data_range=...)``.

    Uniform ``win_size`` window, K1=0.01, K2=0.03, sample covariance (N/(N-1)); the map is averaged over
    the region where the window fits entirely (skimage crops ``(win_size-1)//2`` pixels per border) and
    over channels. Accepts (N, C, H, W), (N, H, W) or a single (H, W) image.
    """
    pred, target = _pair(pred, target, "ssim")
    if pred.ndim == 2:
        pred, target = pred[None, None], target[None, None]
    elif pred.ndim == 3:
        pred, target = pred[:, None], target[:, None]
    elif pred.ndim != 4:
        raise ValueError(f"ssim: expected (N, C, H, W), (N, H, W) or (H, W), got {tuple(pred.shape)}")
    if win_size < 3 or win_size % 2 == 0:
        raise ValueError(f"ssim: win_size must be odd and >= 3, got {win_size}")
    if min(pred.shape[-2:]) < win_size:
        raise ValueError(f"ssim: images {tuple(pred.shape[-2:])} are smaller than win_size={win_size}")

    # Valid-only mean filter == skimage's filtered map after its border crop.
    def mean(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, win_size, stride=1)

    x, y = target, pred
    ux, uy = mean(x), mean(y)
    n = win_size * win_size
    cov_norm = n / (n - 1)
    vx = cov_norm * (mean(x * x) - ux * ux)
    vy = cov_norm * (mean(y * y) - uy * uy)
    vxy = cov_norm * (mean(x * y) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return _reduce(s.flatten(1).mean(dim=1), reduction)


def _waveforms(estimate, reference, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    est, ref = _pair(estimate, reference, name)
    if est.ndim == 1:
        est, ref = est[None], ref[None]
    if est.ndim not in (2, 3):
        raise ValueError(f"{name}: expected (T,), (N, T) or (N, C, T), got {tuple(est.shape)}")
    return est, ref


def _per_sample(db: torch.Tensor) -> torch.Tensor:
    return db.mean(dim=1) if db.ndim == 2 else db  # (N, C) -> mean over channels


def si_sdr_db(estimate: torch.Tensor, reference: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale-invariant SDR in dB (Le Roux et al. 2019) of each signal along the last dim, in the inputs'
    dtype and differentiable (the ``si_sdr`` loss uses it too): both signals are made zero-mean, the
    reference is scaled by alpha = <est, ref> / ||ref||^2, and SI-SDR = 10 log10(||alpha ref||^2 /
    ||est - alpha ref||^2), with ``eps`` added to every sum so silence stays finite."""
    est = estimate - estimate.mean(dim=-1, keepdim=True)
    ref = reference - reference.mean(dim=-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / (ref.square().sum(-1, keepdim=True) + eps)
    target = alpha * ref
    noise = est - target
    return 10 * torch.log10((target.square().sum(-1) + eps) / (noise.square().sum(-1) + eps))


def si_sdr(estimate, reference, reduction: str = "mean", eps: float = 1e-8) -> torch.Tensor:
    """Scale-invariant SDR in dB (zero-mean signals) over the last dim; channels are averaged per sample."""
    est, ref = _waveforms(estimate, reference, "si_sdr")
    return _reduce(_per_sample(si_sdr_db(est, ref, eps)), reduction)


def snr(estimate, reference, reduction: str = "mean", eps: float = 1e-8) -> torch.Tensor:
    """Plain SNR in dB: ``10 log10(|ref|^2 / |est - ref|^2)`` over the last dim, channels averaged."""
    est, ref = _waveforms(estimate, reference, "snr")
    db = 10 * torch.log10((ref.square().sum(-1) + eps) / ((est - ref).square().sum(-1) + eps))
    return _reduce(_per_sample(db), reduction)


def _optional(module: str, func: str):
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(f"{func} needs the '{module}' package: pip install 'sigdae[metrics]'") from None


def _files(estimate, reference, name: str) -> tuple[torch.Tensor, torch.Tensor, bool]:
    est, ref = _pair(estimate, reference, name)
    single = est.ndim == 1
    if single:
        est, ref = est[None], ref[None]
    if est.ndim != 2:
        raise ValueError(f"{name}: expected mono (T,) or (N, T) waveforms, got {tuple(est.shape)}")
    return est.cpu(), ref.cpu(), single


def pesq_wb(estimate, reference, sample_rate: int) -> float | list[float]:
    """Wide-band PESQ (MOS-LQO) per file; resampled to 16 kHz when needed. (T,) -> float, (N, T) -> list."""
    pesq = _optional("pesq", "pesq_wb")
    est, ref, single = _files(estimate, reference, "pesq_wb")
    if sample_rate != 16000:
        import torchaudio.functional as AF

        est = AF.resample(est, sample_rate, 16000)
        ref = AF.resample(ref, sample_rate, 16000)
    scores = [float(pesq.pesq(16000, r.numpy(), e.numpy(), "wb")) for e, r in zip(est, ref)]
    return scores[0] if single else scores


def stoi(estimate, reference, sample_rate: int, extended: bool = False) -> float | list[float]:
    """STOI (or extended STOI) per file via ``pystoi``. (T,) -> float, (N, T) -> list."""
    pystoi = _optional("pystoi", "stoi")
    est, ref, single = _files(estimate, reference, "stoi")
    scores = [float(pystoi.stoi(r.numpy(), e.numpy(), sample_rate, extended=extended)) for e, r in zip(est, ref)]
    return scores[0] if single else scores


__all__ = ["psnr", "ssim", "si_sdr", "snr", "pesq_wb", "stoi", "per_sample_mse", "si_sdr_db", "MSE_FLOOR"]
