import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import sigdae.corruptions as corruptions
from sigdae.corruptions import CorruptionError, parse
from sigdae.corruptions.audio_common import _BANKS, apply_eq, bank, clear_banks, eq_curves
from sigdae.testing import check_corruption

torch.set_num_threads(1)
SR = 16000


def speechlike(n=3, channels=2, frames=SR // 2, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(frames) / SR
    f0 = 100 + 100 * torch.rand(n, 1, 1, generator=g)
    x = sum(torch.sin(2 * math.pi * k * f0 * t + k) / k for k in range(1, 8)) * 0.2
    x = x * (0.6 + 0.4 * torch.sin(2 * math.pi * 4 * t))
    return x.expand(n, channels, frames) * torch.linspace(0.5, 1.0, channels).view(1, -1, 1)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio")
    rng = np.random.default_rng(0)
    noise = root / "noise"
    (noise / "sub").mkdir(parents=True)
    sf.write(noise / "hiss.wav", 0.1 * rng.standard_normal(3000).astype(np.float32), SR, subtype="PCM_16")
    sf.write(noise / "sub" / "hum8k.flac", (0.2 * rng.standard_normal((1200, 2))).astype(np.float32), 8000)
    t = np.arange(2000) / SR
    sf.write(noise / "tone.ogg", (0.3 * np.sin(2 * np.pi * 700 * t)).astype(np.float32), SR)
    (noise / "MANIFEST.tsv").write_text("file\tnotes\n")
    speech = root / "speech"
    speech.mkdir()
    for i in range(4):
        tt = np.arange(2400 + 700 * i) / SR
        wave = sum(np.sin(2 * np.pi * (120 + 30 * i) * k * tt) / k for k in range(1, 6))
        sf.write(speech / f"{i}_spk_{i}.wav", (0.2 * wave * (1 + np.sin(2 * np.pi * 3 * tt))).astype(np.float32), SR)
    rirs = root / "rirs"
    rirs.mkdir()
    h = np.zeros((4000, 2), np.float32)
    h[300, 0], h[310, 1] = 1.0, 0.8  # direct paths after a pre-delay
    h[301:, 0] = 0.05 * rng.standard_normal(3699) * np.exp(-np.arange(3699) / 800)
    h[311:, 1] = 0.05 * rng.standard_normal(3689) * np.exp(-np.arange(3689) / 800)
    sf.write(rirs / "room.wav", h, 32000, subtype="FLOAT")
    empty = root / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no audio")
    return {"noise": str(noise), "speech": str(speech), "rirs": str(rirs), "empty": str(empty)}


def realised_snr(x, y):
    x, n = x.double().flatten(1), (y - x).double().flatten(1)
    return 10 * torch.log10(x.pow(2).mean(1) / n.pow(2).mean(1))


def run(c, x, seed=0):
    g = torch.Generator().manual_seed(seed)
    params = c.draw(x, g, SR)
    return c.apply(x, params, SR), params


@pytest.mark.parametrize("name", ["colored_noise", "rumble", "tones", "hum", "reverb", "clipping", "bandlimit", "dropout", "gain"])
def test_builtins_keep_the_contract(name):
    check_corruption(corruptions.get(name), kinds=("waveform",))


@pytest.mark.parametrize("name,key", [("noise_file", "noise"), ("babble", "speech"), ("reverb", "rirs")])
def test_folder_corruptions_keep_the_contract(folders, name, key):
    check_corruption(corruptions.get(name), kinds=("waveform",), dir=folders[key])


def test_noise_file_mixing_keeps_the_contract(folders):
    check_corruption(corruptions.get("noise_file"), kinds=("waveform",), dir=folders["noise"], mix=0.7)


@pytest.mark.parametrize("spec", [f"colored_noise(color={color}, " for color in ("white", "pink", "brown", "blue",
                                                                                "violet")] + ["rumble(", "tones("])
@pytest.mark.parametrize("shape", [(3, 2, 8000), (3, 8000)])
def test_generated_noise_realises_the_snr(spec, shape):
    x = speechlike().reshape(shape) if len(shape) == 3 else speechlike(channels=1)[:, 0]
    y, params = run(parse(spec + "snr_db=[-5, 25])"), x)
    assert y.shape == x.shape
    assert torch.allclose(realised_snr(x, y), params["snr_db"].double(), atol=0.01)


def test_colored_noise_spectra_slope():
    x = torch.ones(4, 1, 16384) * 0.1

    def low_high_ratio(color):
        c = corruptions.get("colored_noise")(color=color, snr_db=0)
        n = run(c, x)[0] - x
        p = torch.fft.rfft(n, dim=-1).abs().pow(2).mean((0, 1))
        return float(p[10:200].mean() / p[4000:8000].mean())

    assert low_high_ratio("brown") > low_high_ratio("pink") > 10 * low_high_ratio("white")
    assert 0.5 < low_high_ratio("white") < 2 and low_high_ratio("blue") < 0.1


@pytest.mark.parametrize("slope", [12.0, 24.0])
def test_rumble_is_low_passed_at_its_corner(slope):
    x = torch.full((8, 1, 32000), 0.1)
    c = corruptions.get("rumble")(snr_db=0, cutoff_hz=100, slope_db=slope, level_db=0)
    noise = run(c, x)[0] - x
    p = torch.fft.rfft(noise.double(), dim=-1).abs().pow(2).mean((0, 1))
    f = torch.fft.rfftfreq(noise.shape[-1], 1 / SR, dtype=torch.float64)

    def band_db(lo, hi):
        return float(10 * torch.log10(p[(f >= lo) & (f < hi)].mean()))

    assert abs(band_db(10, 40) - band_db(40, 70)) < 1.5  # flat below the corner
    assert band_db(1000, 1100) - band_db(2000, 2200) == pytest.approx(slope, abs=1.5)  # roll-off per octave
    assert p[f < 200].sum() > 0.95 * p.sum()
    assert float(p[0]) < 1e-6 * float(p.max())  # no DC offset


def test_rumble_level_comes_and_goes():
    x = torch.full((4, 1, 32000), 0.1)
    steady = run(corruptions.get("rumble")(snr_db=0, level_db=0), x)[0] - x
    gusts, params = run(corruptions.get("rumble")(snr_db=0, level_db=20), x)
    gusts = gusts - x

    def spread_db(noise):  # level range of 0.25 s blocks, per sample
        block_db = 10 * torch.log10(noise.reshape(4, -1, 4000).pow(2).mean(-1))
        return block_db.amax(1) - block_db.amin(1)

    assert (spread_db(gusts) > spread_db(steady)).all()
    assert (spread_db(steady) < 6).all() and (params["level_peak_db"] <= 20).all()


def test_tones_sit_at_their_drawn_frequencies_and_harmonics():
    x = torch.full((6, 1, SR), 0.1)  # 1 s: 1 Hz rFFT bins
    c = corruptions.get("tones")(snr_db=0, count=3, harmonics=3, freq_hz=[100, 3000])
    y, params = run(c, x)
    window = torch.hann_window(SR, dtype=torch.float64)  # against leakage from off-bin frequencies
    p = torch.fft.rfft((y - x)[:, 0].double() * window, dim=-1).abs().pow(2)
    for i in range(6):
        expected = set()
        for j in range(int(params["tones"][i])):
            for k in range(1, int(params["partials"][i, j]) + 1):
                if params["freq_hz"][i, j] * k < SR / 2:
                    expected.add(int(round(float(params["freq_hz"][i, j]) * k)))
        peaks = (p[i] > 1e-4 * p[i].max()).nonzero().flatten().tolist()
        assert {b for b in peaks if all(abs(b - e) > 4 for e in expected)} == set()  # nothing else
        assert all(any(abs(b - e) <= 1 for b in peaks) for e in expected)  # every partial is there
    assert (params["tones"] >= 1).all() and (params["tones"] <= 3).all()


@pytest.mark.parametrize("kwargs", [{}, {"mix": 1.0, "mix_db": [-3, 3]}])
def test_noise_file_realises_the_snr_and_loops_short_files(folders, kwargs):
    x = speechlike(n=6, frames=SR)  # 1 s: longer than every noise file, so crops loop
    c = corruptions.get("noise_file")(dir=folders["noise"], snr_db=[0, 20], **kwargs)
    y, params = run(c, x)
    assert torch.allclose(realised_snr(x, y), params["snr_db"].double(), atol=0.01)
    assert params["offset"].shape == (6, 2)
    if kwargs:
        assert bool(params["mixed"].all())


def test_noise_file_eq_keeps_the_contract_and_the_snr(folders):
    check_corruption(corruptions.get("noise_file"), kinds=("waveform",), dir=folders["noise"], eq_db=12.0)
    x = speechlike(n=6, frames=SR)
    c = corruptions.get("noise_file")(dir=folders["noise"], snr_db=[0, 20], eq_db=12.0)
    y, params = run(c, x)
    assert torch.allclose(realised_snr(x, y), params["snr_db"].double(), atol=0.01)
    assert params["eq_peak_db"].shape == (6,) and float(params["eq_peak_db"].max()) <= 12.0
    plain = corruptions.get("noise_file")(dir=folders["noise"], snr_db=[0, 20])
    y_plain, plain_params = run(plain, x)
    assert "eq_coeffs" not in plain_params  # off by default: the same draws as before the option existed
    assert not torch.allclose(y, y_plain)


def test_noise_file_speed_and_level_keep_the_contract_and_the_snr(folders):
    check_corruption(corruptions.get("noise_file"), kinds=("waveform",), dir=folders["noise"], speed=[0.5, 2.0],
                     level_db=12.0, mix=0.5)
    x = speechlike(n=6, frames=SR)
    c = corruptions.get("noise_file")(dir=folders["noise"], snr_db=[0, 20], speed=[0.8, 1.25], level_db=12.0)
    y, params = run(c, x)
    assert torch.allclose(realised_snr(x, y), params["snr_db"].double(), atol=0.01)
    assert float(params["speed"].min()) >= 0.8 and float(params["speed"].max()) <= 1.25
    _, plain_params = run(corruptions.get("noise_file")(dir=folders["noise"], speed=[1.0, 1.0]), x)
    assert "speed" not in plain_params and "level_coeffs" not in plain_params  # off: the draws of old specs


@pytest.mark.parametrize("speed", [0.5, 1.0, 1.5, 2.0])
def test_noise_file_speed_scales_the_pitch(tmp_path, speed):
    t = np.arange(SR) / SR  # one second of 400 Hz: loops without a seam
    sf.write(tmp_path / "tone.wav", (0.5 * np.sin(2 * np.pi * 400 * t)).astype(np.float32), SR, subtype="FLOAT")
    x = torch.full((3, 1, SR), 0.1)
    y, _ = run(corruptions.get("noise_file")(dir=str(tmp_path), snr_db=0, speed=speed), x)
    spectrum = torch.fft.rfft(y - x, dim=-1).abs()
    assert spectrum.argmax(-1).flatten().tolist() == [round(400 * speed)] * 3  # bins are 1 Hz apart


def test_noise_file_level_envelope_is_smooth_and_as_deep_as_drawn(folders):
    x = speechlike(n=6, frames=SR)
    steady, _ = run(corruptions.get("noise_file")(dir=folders["noise"], snr_db=10), x)
    varying, params = run(corruptions.get("noise_file")(dir=folders["noise"], snr_db=10, level_db=12.0), x)
    # the level draws come after every other draw: the same crops, scaled by a slow envelope
    noise, scaled = (steady - x)[:, 0], (varying - x)[:, 0]
    valid = noise.abs() > 1e-3
    for i in range(6):
        curve = 20 * torch.log10(scaled[i][valid[i]] / noise[i][valid[i]])
        peak = float(params["level_peak_db"][i])
        assert peak - 0.05 <= float(curve.max() - curve.min()) <= 2 * peak + 0.05
        assert float(curve.diff().abs().max()) < 0.05  # slow: no clicks
    assert float(params["level_peak_db"].max()) <= 12.0


def test_noise_file_events_keep_the_contract_and_the_snr(folders):
    check_corruption(corruptions.get("noise_file"), kinds=("waveform",), dir=folders["noise"], events=0.5,
                     level_db=6.0, mix=0.5)
    x = speechlike(n=8, frames=SR)
    c = corruptions.get("noise_file")(dir=folders["noise"], snr_db=[0, 20], events=0.5, event_count=[1, 3])
    y, params = run(c, x)
    assert torch.allclose(realised_snr(x, y), params["snr_db"].double(), atol=0.01)
    counts = params["event_active"].sum(1)
    assert bool(((counts >= 1) & (counts <= 3))[params["gated"]].all()) and bool((counts[~params["gated"]] == 0).all())
    _, plain_params = run(corruptions.get("noise_file")(dir=folders["noise"]), x)
    assert "gated" not in plain_params  # off: the draws of old specs
    fixed = corruptions.get("noise_file")(dir=folders["noise"], events=1.0, event_ms=80, event_count=2)
    _, fixed_params = run(fixed, x)
    assert bool((fixed_params["event_active"].sum(1) == 2).all())
    assert bool((fixed_params["event_length"] == 0.08 * SR).all())
    with pytest.raises(CorruptionError, match="event_count"):
        corruptions.get("noise_file")(dir=folders["noise"], event_count=[1.2, 1.8])


def test_noise_file_events_are_short_and_silent_between(folders):
    x = speechlike(n=6, channels=1, frames=SR)
    steady, _ = run(corruptions.get("noise_file")(dir=folders["noise"], snr_db=10), x)
    c = corruptions.get("noise_file")(dir=folders["noise"], snr_db=10, events=1.0, event_ms=[50, 100],
                                      event_count=[2, 2])
    gated, params = run(c, x)
    noise, events = (steady - x)[:, 0], (gated - x)[:, 0]
    assert bool(params["gated"].all()) and bool((params["event_active"].sum(1) == 2).all())
    for i in range(6):
        on = events[i].abs() > 0
        ramp = round(c.event_ramp_ms * SR / 1000)
        assert 0.05 * SR - 2 * ramp <= int(on.sum()) <= 2 * (0.1 * SR + ramp)  # two events of 50-100 ms
        ratio = events[i][on] / noise[i][on]  # the same crop, louder: its power now sits in the events
        inside = ratio[ratio > 0.999 * ratio.max()]
        assert len(inside) > 0.04 * SR and float(inside.max() / inside.min()) < 1.002
        assert float(ratio.max()) > 2.0
    edges = (events.abs() > 0).float().diff(dim=-1).abs().sum(-1)
    assert bool((edges <= 4).all())  # each event one onset and one offset


def test_eq_curves_are_smooth_centred_and_peak_at_the_requested_depth():
    g = torch.Generator().manual_seed(0)
    coeffs = torch.rand(5, 4, generator=g) * 2 - 1
    peak = torch.tensor([0.0, 1.0, 3.0, 6.0, 12.0])
    curves = eq_curves(coeffs, peak, 257)
    assert curves.shape == (5, 257)
    assert torch.allclose(curves.abs().amax(1), peak, atol=1e-4)
    assert torch.allclose(curves.mean(1), torch.zeros(5), atol=1e-4)
    taps = torch.fft.irfft(10 ** (curves / 20), n=512, dim=-1)  # smooth curves make short filters
    short = torch.cat([taps[:, :32], taps[:, -32:]], dim=1).pow(2).sum(1) / taps.pow(2).sum(1)
    assert float(short.min()) > 0.99
    x = torch.randn(5, 2, 512, generator=g)
    assert torch.allclose(apply_eq(x[:1], curves[:1]), x[:1], atol=1e-5)  # 0 dB is the identity
    y = apply_eq(x, curves)
    gain = torch.fft.rfft(y, dim=-1).abs() / torch.fft.rfft(x, dim=-1).abs()
    assert torch.allclose(20 * torch.log10(gain), curves.unsqueeze(1).expand_as(gain), atol=1e-3)


def test_noise_file_cache_is_per_folder_and_rate(folders):
    clear_banks()
    c = corruptions.get("noise_file")(dir=folders["noise"])
    x = speechlike()
    run(c, x)
    first = bank(c, folders["noise"], SR)
    run(c, x, seed=3)
    assert bank(c, folders["noise"], SR) is first and len(_BANKS) == 1
    assert len(first) == 3 and not any(name.endswith(".tsv") for name in first.names)
    # the 8 kHz stereo FLAC was averaged to mono and resampled: 1200 frames at 8 kHz -> 2400 at 16 kHz
    lengths = dict(zip([n.rsplit("/", 1)[-1] for n in first.names], first.lengths.tolist()))
    assert lengths == {"hiss.wav": 3000, "hum8k.flac": 2400, "tone.ogg": 2000}
    assert bank(c, folders["noise"], 8000).lengths.tolist() != first.lengths.tolist()


def test_noise_file_each_sample_gets_its_own_crop(folders):
    x = torch.zeros(8, 1, 4000) + 0.1
    c = corruptions.get("noise_file")(dir=folders["noise"], snr_db=10)
    y, params = run(c, x)
    noise = y - x
    assert len({tuple(noise[i, 0, :50].tolist()) for i in range(8)}) == 8


def test_babble_realises_the_snr_and_counts_speakers(folders):
    x = speechlike(n=8)
    c = corruptions.get("babble")(dir=folders["speech"], speakers=[2, 4], snr_db=[0, 10])
    y, params = run(c, x)
    assert torch.allclose(realised_snr(x, y), params["snr_db"].double(), atol=0.01)
    assert set(params["speakers"].tolist()) <= {2, 3, 4} and params["files"].shape == (8, 4)
    one = corruptions.get("babble")(dir=folders["speech"], speakers=1, snr_db=5)
    assert run(one, x)[1]["speakers"].tolist() == [1] * 8


@pytest.mark.parametrize("freq", [50.0, 60.0])
def test_hum_realises_the_snr_at_mains_frequency(freq):
    x = speechlike(n=3, frames=SR)
    c = corruptions.get("hum")(freq=freq, harmonics=3, snr_db=[5, 30])
    y, params = run(c, x)
    assert torch.allclose(realised_snr(x, y), params["snr_db"].double(), atol=0.01)
    spectrum = torch.fft.rfft((y - x)[0, 0]).abs()  # 1 s: bin k is k Hz
    top = set(spectrum.topk(3).indices.tolist())
    assert top == {int(freq), int(2 * freq), int(3 * freq)}


def xcorr_lag(x, y, max_lag=400):
    lags = range(-max_lag, max_lag + 1)
    scores = [float((x[..., max(0, -k): x.shape[-1] - max(0, k)] * y[..., max(0, k): y.shape[-1] - max(0, -k)]).sum())
              for k in lags]
    return list(lags)[int(np.argmax(scores))]


@pytest.mark.parametrize("which", ["synthetic", "file"])
def test_reverb_stays_aligned_and_keeps_level(folders, which):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 2, 6000, generator=g) * torch.linspace(0.2, 1, 4).view(4, 1, 1)
    kwargs = {"dir": folders["rirs"]} if which == "file" else {"rt60": [0.3, 0.6], "drr_db": [0, 6]}
    c = corruptions.get("reverb")(**kwargs)
    y, params = run(c, x)
    assert y.shape == x.shape
    for i in range(4):
        assert xcorr_lag(x[i], y[i]) == 0
    assert torch.allclose(y.pow(2).mean((1, 2)), x.pow(2).mean((1, 2)), rtol=1e-3)
    assert not torch.allclose(y, x, atol=1e-2)


def test_reverb_file_rirs_start_at_direct_path_and_are_resampled(folders):
    c = corruptions.get("reverb")(dir=folders["rirs"])
    b = bank(c, folders["rirs"], SR, "rir")
    assert len(b) == 2  # one entry per channel
    assert b.lengths.tolist() == [(4000 - 300) // 2, (4000 - 310) // 2]  # 32 kHz -> 16 kHz, from the peak
    impulse = torch.zeros(2, 1, 2000)
    impulse[:, :, 100] = 1.0
    y, params = run(c, impulse)
    assert (y[:, 0, :100].abs() < 0.05 * y[:, 0, 100:].abs().max()).all()  # nothing substantial before onset
    assert int(y[0, 0].abs().argmax()) == 100


def test_synthetic_reverb_decays_with_rt60():
    short = corruptions.get("reverb")(rt60=0.1, drr_db=-10)
    long = corruptions.get("reverb")(rt60=0.8, drr_db=-10)
    x = torch.zeros(1, 1, SR)
    params_s = short.draw(x, torch.Generator().manual_seed(0), SR)
    params_l = long.draw(x, torch.Generator().manual_seed(0), SR)
    h_s = short.impulse_responses(params_s, SR, x.device)[0]
    h_l = long.impulse_responses(params_l, SR, x.device)[0]
    assert h_s[0] == 1 and h_l[0] == 1
    late = slice(int(0.2 * SR), int(0.3 * SR))
    assert h_l[late].pow(2).sum() > 1000 * h_s[late].pow(2).sum()


def test_clipping_clips_at_fraction_of_peak():
    x = speechlike()
    y, params = run(corruptions.get("clipping")(level=[0.2, 0.6]), x)
    peak = x.abs().flatten(1).amax(1)
    assert torch.allclose(y.abs().flatten(1).amax(1), params["level"] * peak)
    small = x.abs() <= (params["level"] * peak).view(-1, 1, 1)
    assert torch.equal(y[small], x[small])


def band_energy_fraction(y, low, high):
    p = torch.fft.rfft(y, dim=-1).abs().pow(2)
    f = torch.fft.rfftfreq(y.shape[-1], 1 / SR)
    out = (f < low) | (f > high)
    return float(p[..., out].sum() / p.sum())


def test_bandlimit_removes_energy_out_of_band():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 2, 8000, generator=g)
    y, _ = run(corruptions.get("bandlimit")(low_hz=300, high_hz=3400), x)
    assert band_energy_fraction(x, 300, 3400) > 0.5
    assert band_energy_fraction(y, 300, 3400) < 1e-10
    in_band = torch.sin(2 * math.pi * 1000 * torch.arange(8000, dtype=torch.float64) / SR).float().expand(1, 1, 8000)
    assert torch.allclose(run(corruptions.get("bandlimit")(low_hz=300, high_hz=3400), in_band)[0], in_band,
                          atol=1e-4)


def test_bandlimit_smooth_and_per_sample_and_differentiable():
    x = torch.randn(4, 1, 8000, generator=torch.Generator().manual_seed(1), requires_grad=True)
    c = corruptions.get("bandlimit")(low_hz=[100, 200], high_hz=[2000, 4000], transition_hz=200)
    y, params = run(c, x)
    for i in range(4):
        lo, hi = float(params["low_hz"][i]), float(params["high_hz"][i])
        assert band_energy_fraction(y[i].detach(), lo - 100, hi + 100) < 1e-10
        assert band_energy_fraction(y[i].detach(), lo - 100, hi + 100) < band_energy_fraction(x[i].detach(), lo, hi)
    y.pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_dropout_zeroes_packets_in_every_channel():
    x = speechlike(n=4, frames=SR) + 1.0  # never zero on its own
    y, params = run(corruptions.get("dropout")(rate=0.3, length_ms=20), x)
    zero = y == 0
    assert torch.equal(zero[:, 0], zero[:, 1])
    frac = zero[:, 0].float().mean()
    assert 0.15 < frac < 0.45
    # zeroed runs come in whole packets of 20 ms (320 samples) except at the edges
    z = zero[0, 0].int()
    edges = torch.nonzero(z[1:] != z[:-1]).flatten().tolist()
    runs = [b - a for a, b in zip(edges, edges[1:])]
    assert runs and all(r % 320 == 0 for r in runs)
    assert torch.equal(y[~zero], x[~zero])


def test_gain_scales_by_db():
    x = speechlike()
    y, params = run(corruptions.get("gain")(db=[-6, 6]), x)
    ratio = y.flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1)
    assert torch.allclose(ratio, 10 ** (params["db"] / 20), rtol=1e-5)


def test_oneof_of_audio_corruptions_selects_per_sample_params(folders):
    spec = (f"noise_file(dir={folders['noise']}, snr_db=10) | babble(dir={folders['speech']}, snr_db=10)"
            " | reverb + gain(db=3)")
    c = parse(spec)
    x = speechlike(n=6)
    y, _ = run(c, x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert parse(c.spec()) == c


def test_bad_configuration_and_input_raise_readable_errors(folders, tmp_path):
    with pytest.raises(CorruptionError, match="needs dir"):
        corruptions.get("noise_file")()
    with pytest.raises(CorruptionError, match="is not a folder"):
        corruptions.get("babble")(dir=str(tmp_path / "missing"))
    with pytest.raises(CorruptionError, match="no usable"):
        run(corruptions.get("noise_file")(dir=folders["empty"]), speechlike())
    with pytest.raises(CorruptionError, match="below every high_hz"):
        corruptions.get("bandlimit")(low_hz=[100, 4000], high_hz=[3000, 5000])
    with pytest.raises(CorruptionError, match="Nyquist"):
        run(corruptions.get("hum")(freq=9000.0), speechlike())
    with pytest.raises(CorruptionError, match=r"\(N, T\) or \(N, C, T\)"):
        run(corruptions.get("gain")(), torch.zeros(2, 1, 3, 4))
    with pytest.raises(CorruptionError, match="sample rate"):
        corruptions.get("dropout")()(speechlike())
    with pytest.raises(CorruptionError, match="one of"):
        corruptions.get("colored_noise")(color="purple")
    with pytest.raises(CorruptionError, match="whole number"):
        corruptions.get("babble")(dir=folders["speech"], speakers=[3.2, 3.8])
    assert issubclass(CorruptionError, ValueError)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
@pytest.mark.parametrize("spec", ["colored_noise", "rumble", "tones", "hum", "reverb", "clipping", "bandlimit", "dropout", "gain"])
def test_other_float_dtypes_are_kept(spec, dtype):
    x = speechlike(n=2, frames=4000).to(dtype)
    y, _ = run(parse(spec), x)
    assert y.dtype == dtype and y.shape == x.shape and torch.isfinite(y).all()


def test_chained_folder_corruptions_are_reproducible(folders):
    c = parse(f"noise_file(dir={folders['noise']}, mix=0.5) + babble(dir={folders['speech']}) + dropout")
    x = speechlike()
    y1, params = run(c, x, seed=7)
    assert torch.equal(c.apply(x, params, SR), y1)
    assert torch.equal(run(c, x, seed=7)[0], y1)


def test_banks_of_large_folders_are_kept_on_disk(folders, monkeypatch, tmp_path):
    import os

    from sigdae import audio_index
    from sigdae.corruptions import bank_store

    monkeypatch.setattr(audio_index, "CACHE_MIN_FILES", 2)
    monkeypatch.setenv("SIGDAE_CACHE_DIR", str(tmp_path / "cache"))
    c = corruptions.get("noise_file")(dir=folders["noise"])
    clear_banks()
    built = bank(c, folders["noise"], SR)
    stores = list((tmp_path / "cache" / "banks").glob("*.pt"))
    assert len(stores) == 1
    clear_banks()
    loaded = bank(c, folders["noise"], SR)  # memory-mapped from the store: the same bank
    assert loaded.names == built.names and torch.equal(loaded.lengths, built.lengths)
    assert torch.equal(loaded.data, built.data)
    assert torch.equal(run(c, speechlike(), seed=5)[0], run(c, speechlike(), seed=5)[0])
    stores[0].write_bytes(b"damaged")  # rebuilt, not trusted
    clear_banks()
    assert torch.equal(bank(c, folders["noise"], SR).data, built.data)
    changed = sorted(p for p in Path(folders["noise"]).iterdir() if p.suffix == ".wav")[0]
    os.utime(changed, ns=(1, 1))  # a file changed: another key
    clear_banks()
    bank(c, folders["noise"], SR)
    assert len(list((tmp_path / "cache" / "banks").glob("*.pt"))) == 2
    monkeypatch.setattr(audio_index, "CACHE_MIN_FILES", 64)
    assert bank_store.store_path(["a.wav"], SR, "mono", 256.0) is None  # small folders load afresh
    clear_banks()
