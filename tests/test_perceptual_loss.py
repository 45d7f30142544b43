import math

import pytest
import torch

torch.set_num_threads(1)

from sigdae.losses import LOSSES, LossError, build_loss  # noqa: E402
from sigdae.metrics import pesq_wb  # noqa: E402
from sigdae.losses.perceptual import PerceptualLoss, bark_bands  # noqa: E402
from speech_signals import (SR, at_snr, gradients_on_silence_and_speech, low_passed, noise,  # noqa: E402
                            speech_like, spearman)


def test_registered_and_zero_for_identical_signals():
    assert "perceptual" in LOSSES.list()
    clean = speech_like()
    assert float(LOSSES.get("perceptual")(clean, clean)) < 1e-3


def test_ignores_overall_gain_like_pesq():
    clean = speech_like()
    loss = PerceptualLoss()
    assert float(loss(0.3 * clean, clean)) < 1e-3
    assert float(loss(at_snr(clean, noise(clean, 1), 10.0), clean)) > 0.1


def test_grows_as_the_snr_falls():
    clean = speech_like()
    values = [float(PerceptualLoss()(at_snr(clean, noise(clean, 2), snr), clean)) for snr in (30, 20, 10, 0)]
    assert values == sorted(values) and values[0] < values[-1] / 3


def test_added_noise_costs_more_than_lost_energy_of_the_same_size():
    """The asymmetry term: PESQ punishes energy a system adds more than energy it removes."""
    clean = speech_like()
    loss = PerceptualLoss(sym_weight=0.0, asym_weight=1.0)
    spectrum = torch.fft.rfft(clean)
    removed = torch.fft.irfft(spectrum * (torch.arange(spectrum.shape[-1]) < spectrum.shape[-1] // 4), clean.shape[-1])
    added = at_snr(clean, noise(clean, 3), 10 * math.log10(clean.pow(2).sum() / (clean - removed).pow(2).sum()))
    assert float(loss(added, clean)) > 2 * float(loss(removed, clean))


def test_orders_degradations_as_the_real_pesq_does():
    clean = speech_like(seconds=3.0, seed=4)
    hiss = noise(clean, 5)
    tone = torch.sin(2 * math.pi * 1000 * torch.arange(clean.shape[-1]) / SR)[None]
    band_limited = low_passed(clean, 2000)
    degraded = [at_snr(clean, hiss, 25), at_snr(clean, hiss, 15), at_snr(clean, hiss, 5), at_snr(clean, hiss, -5),
                at_snr(clean, tone, 10), at_snr(clean, tone, 0), band_limited, at_snr(band_limited, hiss, 10)]
    pesq = [pesq_wb(d[0], clean[0], SR) for d in degraded]
    loss = [float(PerceptualLoss()(d, clean)) for d in degraded]
    assert spearman(pesq, [-v for v in loss]) > 0.8, (pesq, loss)


def test_gradients_finite_for_silence_and_zeros_and_batched_channels():
    grad = gradients_on_silence_and_speech(build_loss("perceptual*1.0 + si_sdr*0.1"))
    assert grad[0].abs().sum() > 0 and grad[1].abs().sum() > 0


def test_bark_bands_cover_each_bin_once_above_the_lowest_band():
    weights, centres = bark_bands(SR, 512, 49)
    assert weights.shape == (49, 257) and (weights.sum(dim=1) > 0).all()
    coverage = weights.sum(dim=0)
    assert torch.allclose(coverage[5:], torch.ones(257 - 5), atol=1e-5) and (coverage <= 1 + 1e-5).all()
    assert (centres.diff() > 0).all() and 100 < float(centres[0]) < 200 and 7000 < float(centres[-1]) < 8000


@pytest.mark.parametrize("options, message", [({"sample_rate": 4000}, "sample_rate"), ({"bands": 3}, "bands"),
                                              ({"level": 0.0}, "level"), ({"sym_weight": -1.0}, "sym_weight")])
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(LossError, match=message) as info:
        PerceptualLoss(**options)
    assert "\n" not in str(info.value)


def test_too_short_signal_is_a_clear_error():
    with pytest.raises(LossError, match="shorter than one 512-sample frame"):
        PerceptualLoss()(torch.zeros(1, 300), torch.zeros(1, 300))


def test_same_value_under_reduced_precision_autocast():
    clean = speech_like()
    noisy = at_snr(clean, noise(clean, 7), 45.0)  # small disturbances: bfloat16 band powers would shift them
    loss = PerceptualLoss(sym_weight=0.0, asym_weight=1.0)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        under_autocast = loss(noisy, clean)
    assert under_autocast.dtype == torch.float32
    assert float(under_autocast) == pytest.approx(float(loss(noisy, clean)), rel=1e-6)
