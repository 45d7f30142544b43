import torch

torch.set_num_threads(1)

import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sigdae.metrics import pesq_wb, psnr, si_sdr, snr, ssim, stoi  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "ssim_reference.json"


def make_pair(seed, shape, sigma, data_range):
    """Must stay identical to ``make_pair`` in the fixture's recorded generator (the sha256 checks it)."""
    rng = np.random.default_rng(seed)
    h, w = shape[-2:]
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    rings = 0.5 + 0.4 * np.sin(6.0 * np.sqrt(yy**2 + xx**2) + seed)
    clean = np.clip(rings + 0.1 * rng.standard_normal(shape), 0, 1)
    noisy = np.clip(clean + sigma * rng.standard_normal(shape), 0, 1)
    lo = 1.0 - data_range  # values span [lo, 1], i.e. exactly data_range
    return tuple(lo + np.round(a * 255) / 255 * data_range for a in (clean, noisy))


def reference_cases():
    doc = json.loads(FIXTURE.read_text())
    for case in doc["cases"]:
        clean, noisy = make_pair(case["seed"], tuple(case["shape"]), case["sigma"], case["data_range"])
        digest = hashlib.sha256(np.ascontiguousarray(clean, "<f8").tobytes()
                                + np.ascontiguousarray(noisy, "<f8").tobytes()).hexdigest()
        assert digest == case["sha256"], f"seed {case['seed']}: regenerated images differ from the fixture's"
        yield case, clean, noisy


def as_batch(a):
    t = torch.from_numpy(a)
    return t[None] if t.ndim == 3 else t[None, None]  # (C,H,W) or (H,W) -> (1,C,H,W)


def test_fixture_generator_matches_test_generator():
    doc = json.loads(FIXTURE.read_text())
    assert "def make_pair" in doc["generator"] and doc["skimage_version"]
    assert len(doc["cases"]) >= 4


def test_ssim_matches_skimage_reference():
    for case, clean, noisy in reference_cases():
        got = ssim(as_batch(noisy), as_batch(clean), data_range=case["data_range"], win_size=case["win_size"])
        assert abs(got.item() - case["ssim"]) < 1e-6, (case["seed"], got.item(), case["ssim"])


def test_psnr_matches_skimage_reference_and_numpy_formula():
    for case, clean, noisy in reference_cases():
        got = psnr(as_batch(noisy), as_batch(clean), data_range=case["data_range"]).item()
        direct = 10 * np.log10(case["data_range"] ** 2 / np.mean((clean - noisy) ** 2))
        assert abs(got - case["psnr"]) < 1e-6
        assert abs(got - direct) < 1e-9


def test_ssim_batched_equals_per_image_and_float32_input():
    cases = [(c, a, b) for c, a, b in reference_cases() if c["shape"] == [28, 28]]
    clean = torch.stack([torch.from_numpy(a) for _, a, _ in cases])[:, None]
    noisy = torch.stack([torch.from_numpy(b) for _, _, b in cases])[:, None]
    per = ssim(noisy, clean, reduction="none")
    assert per.shape == (len(cases),) and per.dtype == torch.float64
    for value, (case, _, _) in zip(per, cases):
        assert abs(value.item() - case["ssim"]) < 1e-6
    assert torch.isclose(ssim(noisy, clean), per.mean())
    assert torch.isclose(ssim(noisy[:, 0], clean[:, 0], reduction="none"), per).all()  # (N, H, W) form
    assert torch.allclose(ssim(noisy.float(), clean.float(), reduction="none"), per, atol=1e-6)


def test_identical_images_ssim_one_psnr_at_floor():
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ssim(x, x, reduction="none"), torch.ones(3, dtype=torch.float64))
    assert torch.allclose(psnr(x, x, reduction="none"), torch.full((3,), 100.0, dtype=torch.float64))
    assert psnr(x, x, data_range=255.0).item() == pytest.approx(100 + 20 * math.log10(255))


def test_psnr_is_mean_of_per_image_values():
    g = torch.Generator().manual_seed(1)
    target = torch.rand(4, 1, 28, 28, generator=g)
    sigmas = torch.tensor([0.01, 0.05, 0.1, 0.2]).view(4, 1, 1, 1)
    pred = target + sigmas * torch.randn(target.shape, generator=g)
    per = psnr(pred, target, reduction="none")
    expected = [10 * np.log10(1.0 / np.mean((p.double().numpy() - t.double().numpy()) ** 2))
                for p, t in zip(pred, target)]
    assert np.allclose(per.numpy(), expected, atol=1e-9)
    assert psnr(pred, target).item() == pytest.approx(float(np.mean(expected)), abs=1e-9)
    assert (per[:-1] > per[1:]).all()  # more noise, lower PSNR
    assert psnr(pred, target, reduction="sum").item() == pytest.approx(per.sum().item())


def test_ssim_decreases_with_noise_and_is_symmetric():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(1, 1, 28, 28, generator=g, dtype=torch.float64)
    noise = torch.randn(x.shape, generator=g, dtype=torch.float64)
    values = [ssim((x + s * noise).clamp(0, 1), x).item() for s in (0.02, 0.1, 0.3)]
    assert values[0] > values[1] > values[2]
    y = (x + 0.1 * noise).clamp(0, 1)
    assert ssim(x, y).item() == pytest.approx(ssim(y, x).item(), abs=1e-12)


def test_metric_argument_errors():
    x = torch.zeros(2, 1, 28, 28)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(x, torch.zeros(2, 1, 28, 27))
    with pytest.raises(ValueError, match="win_size"):
        ssim(x, x, win_size=6)
    with pytest.raises(ValueError, match="smaller than"):
        ssim(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match="reduction"):
        psnr(x, x, reduction="median")


def _tone(n=2, t=16000, seed=0):
    g = torch.Generator().manual_seed(seed)
    time = torch.arange(t, dtype=torch.float64) / 16000
    freqs = 200 + 300 * torch.rand(n, 1, generator=g, dtype=torch.float64)
    return torch.sin(2 * math.pi * freqs * time) + 0.1 * torch.randn(n, t, generator=g, dtype=torch.float64)


def test_si_sdr_scale_invariant_and_ordered():
    ref = _tone()
    noise = torch.randn(ref.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    est = ref + 0.1 * noise
    base = si_sdr(est, ref, reduction="none")
    assert base.shape == (2,)
    for scale in (0.01, 0.5, 7.0):
        assert torch.allclose(si_sdr(scale * est, ref, reduction="none"), base, atol=1e-6)
    assert torch.allclose(si_sdr(est + 3.0, ref, reduction="none"), base, atol=1e-6)  # zero-mean
    assert (si_sdr(ref + 0.3 * noise, ref, reduction="none") < base).all()
    assert (si_sdr(ref, ref, reduction="none") > 100).all()  # identical: eps-bounded, finite
    assert torch.isfinite(si_sdr(torch.zeros(1, 100), torch.zeros(1, 100))).all()


def test_si_sdr_known_value():
    # est = ref + e with e orthogonal to ref (both zero-mean): SI-SDR = 10 log10(|ref|^2 / |e|^2).
    t = torch.arange(8000, dtype=torch.float64)
    ref = torch.sin(2 * math.pi * 5 * t / 8000)[None]
    e = 0.1 * torch.cos(2 * math.pi * 5 * t / 8000)[None]
    expected = 10 * math.log10(ref.square().sum().item() / e.square().sum().item())
    assert si_sdr(2.5 * (ref + e), ref).item() == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(20.0, abs=1e-6)


def test_snr_known_value_and_multichannel():
    ref = _tone(n=3)
    noise = torch.randn(ref.shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    noise = noise / noise.norm(dim=-1, keepdim=True) * ref.norm(dim=-1, keepdim=True) * 10 ** (-15 / 20)
    assert torch.allclose(snr(ref + noise, ref, reduction="none"), torch.full((3,), 15.0, dtype=torch.float64))
    # (N, C, T): per-sample value is the channel mean; not scale-invariant unlike SI-SDR
    stacked = torch.stack([ref + noise, ref + 2 * noise], dim=1)
    refs = torch.stack([ref, ref], dim=1)
    expected = (15.0 + (15.0 - 20 * math.log10(2))) / 2
    assert torch.allclose(snr(stacked, refs, reduction="none"), torch.full((3,), expected, dtype=torch.float64))
    assert snr(0.5 * (ref + noise), ref).item() < 15.0 - 1
    assert si_sdr(stacked, refs, reduction="none").shape == (3,)


def _speech_like(seconds=2.0, sr=16000, seed=0):
    # Voiced bursts (harmonics with syllable envelope): enough structure for PESQ's utterance detector.
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * sr), dtype=torch.float64) / sr
    f0 = 140 + 20 * torch.sin(2 * math.pi * 3 * t)
    phase = 2 * math.pi * torch.cumsum(f0, 0) / sr
    voiced = sum(torch.sin(k * phase) / k for k in range(1, 12))
    env = torch.sin(math.pi * 4 * t).clamp(min=0) ** 2
    return (0.3 * env * voiced + 0.003 * torch.randn(t.shape, generator=g, dtype=torch.float64)).float()


def test_pesq_and_stoi_wrappers():
    clean = _speech_like()
    noisy = clean + 0.05 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(5))
    very_noisy = clean + 0.3 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(6))
    p_clean, p_noisy = pesq_wb(torch.stack([clean, noisy]), torch.stack([clean, clean]), 16000)
    assert isinstance(p_clean, float) and p_clean > p_noisy
    assert pesq_wb(very_noisy, clean, 16000) < p_noisy
    # 8 kHz input is resampled to 16 kHz for wide-band PESQ
    clean8 = _speech_like(sr=8000)
    assert 1.0 <= pesq_wb(clean8 + 0.02 * torch.randn(clean8.shape), clean8, 8000) <= 4.7
    s = stoi(torch.stack([clean, very_noisy]), torch.stack([clean, clean]), 16000)
    assert s[0] == pytest.approx(1.0, abs=1e-6) and s[1] < s[0]
    assert isinstance(stoi(noisy, clean, 16000, extended=True), float)


def test_optional_metric_missing_package_message(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pesq", None)
    monkeypatch.setitem(sys.modules, "pystoi", None)
    with pytest.raises(ImportError, match=r"pip install 'sigdae\[metrics\]'"):
        pesq_wb(torch.zeros(16000), torch.zeros(16000), 16000)
    with pytest.raises(ImportError, match=r"pip install 'sigdae\[metrics\]'"):
        stoi(torch.zeros(16000), torch.zeros(16000), 16000)
