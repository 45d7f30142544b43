"""Clean-speech augmentation for training batches: loudness, speed and random EQ."""

import math

import pytest
import torch

from sigdae.speech_batches import SpeechBatches, speed_ratios

torch.set_num_threads(1)
RATE, FRAMES = 16000, 8000


def tones(n=4, frames=int(FRAMES * 1.1), hz=500.0):
    t = torch.arange(frames) / RATE
    return (0.3 * torch.sin(2 * math.pi * hz * t)).expand(n, 1, frames).clone()


def peak_hz(x):
    spectrum = torch.fft.rfft(x[..., :FRAMES], dim=-1).abs().mean((0, 1))
    return float(spectrum.argmax()) * RATE / FRAMES


def make(seed=0, **kwargs):
    return SpeechBatches([tones()], FRAMES, torch.Generator().manual_seed(seed), **kwargs)


def rms_db(x):
    return 20 * torch.log10(x.square().mean((1, 2)).sqrt())


def test_plain_batches_are_crops_at_random_levels():
    batch = next(iter(make(level_db=(-30.0, -20.0))))
    assert batch.shape == (4, 1, FRAMES)
    assert bool(((rms_db(batch) > -30.01) & (rms_db(batch) < -19.99)).all())
    assert peak_hz(batch) == pytest.approx(500.0, abs=2.0)
    ratio = batch / tones()[..., :FRAMES]
    assert torch.allclose(ratio[:, :, 1:100], ratio[:, :, 1:2].expand(-1, -1, 99), rtol=1e-3)  # only a gain


@pytest.mark.parametrize("speed", [0.9, 1.1])
def test_speed_moves_the_pitch_and_keeps_the_length(speed):
    batch = make(speed=(speed, speed)).augment(tones())
    assert batch.shape == (4, 1, FRAMES)
    assert peak_hz(batch) == pytest.approx(500.0 * speed, abs=4.0)


def test_speed_range_is_a_grid_of_small_ratios():
    assert speed_ratios((0.9, 1.1)) == [18, 19, 20, 21, 22]
    assert speed_ratios((1.0, 1.0)) == [20]
    seen = {peak_hz(make(seed=s, speed=(0.9, 1.1)).augment(tones())) for s in range(12)}
    assert len(seen) >= 3


def test_eq_colours_each_sample_within_its_depth_and_is_reproducible():
    noise = torch.randn(6, 1, int(FRAMES * 1.1), generator=torch.Generator().manual_seed(1))
    plain = SpeechBatches([noise], FRAMES, torch.Generator().manual_seed(0)).augment(noise)
    coloured = SpeechBatches([noise], FRAMES, torch.Generator().manual_seed(0), eq_db=9.0).augment(noise)
    again = SpeechBatches([noise], FRAMES, torch.Generator().manual_seed(0), eq_db=9.0).augment(noise)
    assert torch.equal(coloured, again)
    gain_db = 20 * torch.log10(torch.fft.rfft(coloured, dim=-1).abs() / torch.fft.rfft(noise[..., :FRAMES], dim=-1).abs())
    spread = gain_db.amax(-1) - gain_db.amin(-1)  # the level change is a constant on top of the curve
    assert bool((spread < 18.01).all()) and float(spread.max()) > 1.0
    assert not torch.allclose(coloured / coloured.std(), plain / plain.std(), atol=1e-3)
