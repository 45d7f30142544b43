import math

import pytest
import torch

torch.set_num_threads(1)

from sigdae.losses import LOSSES, LossError, build_loss  # noqa: E402
from sigdae.losses.intelligibility import STOILoss, third_octave_bands  # noqa: E402
from sigdae.metrics import stoi  # noqa: E402
from speech_signals import (SR, at_snr, gradients_on_silence_and_speech, low_passed, noise,  # noqa: E402
                            speech_like, spearman)


def degradations(clean):
    hiss = noise(clean, 5)
    tone = torch.sin(2 * math.pi * 1000 * torch.arange(clean.shape[-1]) / SR)[None]
    return [at_snr(clean, hiss, 20), at_snr(clean, hiss, 10), at_snr(clean, hiss, 0), at_snr(clean, hiss, -5),
            at_snr(clean, tone, 0), low_passed(clean, 1000), low_passed(clean, 3000), at_snr(low_passed(clean, 2000),
                                                                                       hiss, 5)]


def test_registered_and_zero_for_identical_signals_and_gain():
    assert "stoi" in LOSSES.list()
    clean = speech_like()
    assert float(LOSSES.get("stoi")(clean, clean)) < 1e-4
    assert float(STOILoss()(0.2 * clean, clean)) < 1e-4


def test_tracks_the_real_stoi():
    """One minus the loss follows STOI itself: same order over varied degradations, and close in value."""
    clean = speech_like(seconds=3.0, seed=4)
    degraded = degradations(clean)
    real = [stoi(d[0], clean[0], SR) for d in degraded]
    ours = [1.0 - float(STOILoss()(d, clean)) for d in degraded]
    assert spearman(real, ours) > 0.9, (real, ours)
    assert max(abs(a - b) for a, b in zip(real, ours)) < 0.1, (real, ours)


def test_at_other_rates_the_same_signal_scores_alike():
    clean = speech_like(seconds=3.0, seed=2)
    noisy = at_snr(clean, noise(clean, 3), 0.0)
    import torchaudio.functional as AF
    at_48k = [AF.resample(x, SR, 48000) for x in (noisy, clean)]
    assert float(STOILoss(sample_rate=48000)(*at_48k)) == pytest.approx(float(STOILoss()(noisy, clean)), abs=0.02)


def test_gradients_finite_for_silence_zeros_and_batched_channels():
    grad = gradients_on_silence_and_speech(build_loss("stoi*1.0 + si_sdr*0.1"))
    assert grad[0].abs().sum() > 0


def test_a_step_down_its_gradient_raises_the_real_stoi():
    clean = speech_like(seconds=3.0, seed=1)
    noisy = at_snr(clean, noise(clean, 8), -5.0)
    gain = torch.zeros(1, 257, requires_grad=True)  # a fixed spectral gain, in logits
    spec = torch.stft(noisy, 512, 128, window=torch.hann_window(512), return_complex=True)
    optimiser = torch.optim.Adam([gain], lr=0.1)
    for _ in range(30):
        enhanced = torch.istft(spec * torch.sigmoid(gain)[..., None], 512, 128, window=torch.hann_window(512),
                               length=noisy.shape[-1])
        optimiser.zero_grad()
        STOILoss()(enhanced, clean).backward()
        optimiser.step()
    assert stoi(enhanced[0].detach(), clean[0], SR) > stoi(noisy[0], clean[0], SR) + 0.02


def test_bands_are_fifteen_third_octaves_from_150_hz():
    bands = third_octave_bands()
    assert bands.shape == (15, 257) and (bands.sum(dim=1) > 0).all() and (bands.sum(dim=0) <= 1).all()
    first_bins = bands.argmax(dim=1).float() * 10000 / 512
    assert 120 < float(first_bins[0]) < 160 and (first_bins.diff() > 0).all()


def test_bad_options_and_short_signals_are_one_line_errors():
    with pytest.raises(LossError, match="sample_rate") as info:
        STOILoss(sample_rate=4000)
    assert "\n" not in str(info.value)
    with pytest.raises(LossError, match="shorter than one 384 ms segment"):
        STOILoss()(torch.zeros(1, 4000), torch.zeros(1, 4000))
