"""Synthetic speech-like signals and degradations for the speech-loss tests."""

import math

import torch

SR = 16000


def speech_like(seconds=2.0, seed=0):
    """Voiced syllables (harmonics of a gliding pitch) separated by pauses, as (1, T)."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * SR), dtype=torch.float64) / SR
    f0 = 120 + 30 * torch.sin(2 * math.pi * 2 * t + seed)
    phase = 2 * math.pi * torch.cumsum(f0, 0) / SR
    voiced = sum(torch.sin(k * phase) / k for k in range(1, 25))
    envelope = torch.sin(math.pi * 3 * t).clamp(min=0) ** 2
    return (0.1 * envelope * voiced + 1e-4 * torch.randn(t.shape, generator=g, dtype=torch.float64)).float()[None]


def noise(like, seed):
    return torch.randn(like.shape, generator=torch.Generator().manual_seed(seed))


def at_snr(clean, added, snr_db):
    return clean + added * (clean.pow(2).mean() / added.pow(2).mean() / 10 ** (snr_db / 10)).sqrt()


def low_passed(x, cutoff_hz):
    return torch.fft.irfft(torch.fft.rfft(x) * (torch.fft.rfftfreq(x.shape[-1], 1 / SR) < cutoff_hz), x.shape[-1])


def gradients_on_silence_and_speech(loss):
    """Gradients of ``loss(pred, clean)`` on a batch of three rows (the middle one silent), for all-zero
    predictions and for slightly noisy ones; asserts values and gradients are finite, returns the last."""
    clean = torch.cat([speech_like(seed=s) for s in range(3)]).reshape(3, 1, -1)
    clean[1] = 0.0
    for pred in (torch.zeros_like(clean), clean + 0.01 * noise(clean, 6)):
        pred = pred.clone().requires_grad_()
        value = loss(pred, clean)
        value.backward()
        assert torch.isfinite(value) and torch.isfinite(pred.grad).all()
    return pred.grad


def spearman(a, b):
    """Rank correlation of two lists of numbers."""
    a, b = _ranks(a), _ranks(b)
    return float(((a - a.mean()) * (b - b.mean())).sum() / ((a - a.mean()).norm() * (b - b.mean()).norm()))


def _ranks(values):
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0] * len(values)
    for rank, index in enumerate(order):
        out[index] = rank
    return torch.tensor(out, dtype=torch.float64)
