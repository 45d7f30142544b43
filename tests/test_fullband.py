"""Full-band output above the model's rate: bandwidth kept, upper-band noise reduced, no seam, chunk- and
stream-exact, and 8/16 kHz inputs exactly as before."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from sigdae import StreamEnhancer, audio, load_model
from sigdae.cli import main
from sigdae.enhance import Enhancer, bundled_model_path
from sigdae.fullband import BandSplit

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def bundled():
    return load_model(bundled_model_path(), device="cpu")


VOWELS = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (640, 1190, 2390)]


def speech_like(rate: int, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Vowels with pauses between them: harmonics of a 100-200 Hz voice with vibrato up to the Nyquist
    frequency, shaped by three formants and a spectral tilt, so every band of a full-band recording holds
    some of it (about -40 dB at 16-24 kHz)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    out = np.zeros_like(t)
    for start in np.arange(0.25, seconds - 0.4, 0.55):
        f0, formants = rng.uniform(100, 200), VOWELS[rng.integers(len(VOWELS))]
        voiced = (t >= start) & (t < start + 0.28)
        tv = t[voiced] - start
        for k in range(1, int(rate / 2 / f0)):
            f = k * f0
            level = (sum(1 / (1 + ((f - F) / (60 + 0.06 * F)) ** 2) for F in formants) + 0.02) / (1 + f / 3000)
            out[voiced] += level * np.hanning(tv.size) * np.sin(
                2 * np.pi * f * tv * (1 + 0.02 * np.sin(8 * np.pi * tv)) + rng.uniform(0, 6))
    return (0.3 * out / np.abs(out).max()).astype(np.float32)


def band_db(x: np.ndarray, rate: int, lo: float, hi: float) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    return float(10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].sum() + 1e-20))


def test_clean_full_band_speech_keeps_its_bandwidth(bundled):
    rate = 48000
    clean = speech_like(rate)
    out = Enhancer(bundled).enhance(torch.from_numpy(clean), rate).numpy()
    for lo, hi in ((8000, 12000), (12000, 16000), (16000, 24000)):
        assert abs(band_db(out, rate, lo, hi) - band_db(clean, rate, lo, hi)) < 1.0, (lo, hi)
    # below 8 kHz the model decides; the resampling round trip must not take its own share at 6-8 kHz
    at_16k = audio.resample(torch.from_numpy(clean), rate, 16000, sharp=True)
    out_16k = Enhancer(bundled).enhance(at_16k, 16000).numpy()
    change_48k = band_db(out, rate, 6000, 8000) - band_db(clean, rate, 6000, 8000)
    change_16k = band_db(out_16k, 16000, 6000, 8000) - band_db(at_16k.numpy(), 16000, 6000, 8000)
    assert abs(change_48k - change_16k) < 1.0
    model_band = Enhancer(bundled, band="model").enhance(torch.from_numpy(clean), rate).numpy()
    assert band_db(model_band, rate, 12000, 24000) < band_db(clean, rate, 12000, 24000) - 30


@pytest.mark.parametrize("rate", [44100, 48000])
@pytest.mark.parametrize("snr, error_cut, kept", [(10, 10, None), (30, 4, -5)])
def test_noise_in_the_upper_band_is_reduced(bundled, rate, snr, error_cut, kept):
    """White noise: at 10 dB SNR the upper bands' local SNR is about -20 dB and the noise there is cut
    deeply; at 30 dB it is about 0 dB, the error is still cut and the speech there kept."""
    clean = speech_like(rate, seed=1)
    noise = np.random.default_rng(2).standard_normal(clean.size).astype(np.float32)
    noise *= np.sqrt(np.mean(clean ** 2) / np.mean(noise ** 2)) * 10 ** (-snr / 20)
    out = Enhancer(bundled).enhance(torch.from_numpy(clean + noise), rate).numpy()
    for lo, hi in ((8000, 12000), (12000, 16000), (16000, rate / 2)):
        before, after = band_db(noise, rate, lo, hi), band_db(out - clean, rate, lo, hi)
        assert after < before - error_cut, (lo, hi, before, after)
        if kept is not None:
            assert band_db(out, rate, lo, hi) > band_db(clean, rate, lo, hi) + kept, (lo, hi)


def _smoothed_db(x: np.ndarray, rate: int, width: float = 250.0) -> tuple[np.ndarray, np.ndarray]:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    edges = np.arange(5500, 10500, width)
    return edges[:-1] + width / 2, np.array([10 * np.log10(spectrum[(freqs >= a) & (freqs < b)].mean())
                                             for a, b in zip(edges, edges[1:])])


def test_no_seam_at_the_crossover(bundled):
    rate = 48000
    # a flat spectrum: white noise under the speech-like signal and white noise alone
    rng = np.random.default_rng(3)
    for signal in (speech_like(rate, seed=4) + 0.003 * rng.standard_normal(3 * rate).astype(np.float32),
                   0.05 * rng.standard_normal(3 * rate).astype(np.float32)):
        out = Enhancer(bundled).enhance(torch.from_numpy(signal), rate).numpy()
        _, before = _smoothed_db(signal, rate)
        centres, after = _smoothed_db(out, rate)
        change = after - before  # the gain across 5.5-10.5 kHz, in 250 Hz steps
        steps = np.abs(np.diff(change))
        assert steps.max() < 3.0, dict(zip(centres.round(), change.round(1)))


@pytest.mark.parametrize("rate", [8000, 16000])
def test_rates_up_to_the_models_are_unchanged(bundled, rate):
    x = torch.from_numpy(speech_like(rate) + 0.02 * np.random.default_rng(5).standard_normal(3 * rate)
                         .astype(np.float32))
    assert torch.equal(Enhancer(bundled).enhance(x, rate), Enhancer(bundled, band="model").enhance(x, rate))
    assert Enhancer(bundled).split(rate) is None


@pytest.mark.parametrize("rate", [44100, 48000])
def test_chunks_and_streams_equal_the_whole_signal(bundled, rate):
    x = torch.from_numpy(speech_like(rate, seconds=7.0, seed=6)
                         + 0.02 * np.random.default_rng(7).standard_normal(7 * rate).astype(np.float32))[None]
    whole = Enhancer(bundled, chunk_seconds=60).enhance(x, rate)
    chunked = Enhancer(bundled, chunk_seconds=1.0).enhance_tensor(x, rate)
    assert (chunked - whole).abs().max() < 1e-5
    stream = StreamEnhancer(bundled, rate, channels=1, chunk_seconds=1.0)
    blocks = [stream.process(x[:, i:i + 480]) for i in range(0, x.shape[1], 480)] + [stream.flush()]
    assert (torch.cat(blocks, dim=1) - whole).abs().max() < 1e-5


def test_context_covers_the_split(bundled):
    enhancer = Enhancer(bundled)
    for rate in (22050, 32000, 44100, 48000, 96000):
        split = enhancer.split(rate)
        assert enhancer.context(rate) >= split.reach() + bundled.module.receptive_samples * rate // 16000


@pytest.mark.parametrize("length", [1, 2, 100, 511, 4000])
def test_any_length_at_full_band(bundled, length):
    x = torch.randn(2, length) * 0.1
    out = Enhancer(bundled).enhance(x, 48000)
    assert out.shape == x.shape and torch.isfinite(out).all()


def test_band_split_needs_a_higher_rate():
    with pytest.raises(ValueError):
        BandSplit(16000, 16000)


def test_cli_band_option(tmp_path, capsys):
    rate = 48000
    src = tmp_path / "in.wav"
    sf.write(src, speech_like(rate), rate, subtype="PCM_24")
    for band in ("full", "model"):
        assert main(["denoise", str(src), str(tmp_path / f"{band}.wav"), "--band", band, "--quiet"]) == 0
    full, info = sf.read(tmp_path / "full.wav"), sf.info(str(tmp_path / "full.wav"))
    model = sf.read(tmp_path / "model.wav")[0]
    assert info.samplerate == rate and info.subtype == "PCM_24" and full[0].size == model.size
    assert band_db(full[0], rate, 12000, 24000) > band_db(model, rate, 12000, 24000) + 30
    assert main(["denoise", str(src), str(tmp_path / "x.wav"), "--band", "wide"]) == 2
    assert "--band" in capsys.readouterr().err


def test_training_at_48k_on_a_full_band_corpus(tmp_path):
    rate = 48000
    clean = tmp_path / "clean"
    for speaker in range(3):
        folder = clean / str(200 + speaker) / "1"
        folder.mkdir(parents=True)
        for utt in range(2):
            sf.write(folder / f"{200 + speaker}-1-{utt}.flac", speech_like(rate, 1.2, seed=10 * speaker + utt), rate)
    run = tmp_path / "run"
    code = main(["train", "--recipe", "speech-spec", "--clean-dir", str(clean), "--corruption", "gaussian(std=0.05)",
                 "--run-dir", str(run), "--epochs", "1", "--batch-size", "2", "--device", "cpu", "--quiet",
                 "--set", "data.sample_rate=48000", "--set", "data.segments_per_epoch=4",
                 "--set", "data.val_segments=2", "--set", "data.segment_seconds=0.5", "--set", "data.val_seconds=0.5"])
    assert code == 0
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
    model = load_model(run, device="cpu")
    assert model.sample_rate == rate
    enhancer = Enhancer(model)
    assert enhancer.split(rate) is None  # a 48 kHz model sees the whole band itself
    x = torch.from_numpy(speech_like(rate, 1.0))
    assert enhancer.enhance(x, rate).shape == x.shape
