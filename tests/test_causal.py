"""The causal low-latency model: no look-ahead beyond one window, a stream that equals the file path at
the cost of its new frames, and the bundled ``realtime`` model's plumbing."""

from pathlib import Path

import numpy as np
import pytest
import torch

from sigdae import checkpoint
from sigdae.api import load_model
from sigdae.enhance import Enhancer
from sigdae.errors import AudioError, ModelError
from sigdae.models import build_model
from sigdae.stream import StreamEnhancer
from sigdae.stream_causal import StreamResampler
from sigdae import audio

torch.set_num_threads(1)


def _randomised(**options) -> torch.nn.Module:
    """A small causal model with random weights and batch-norm statistics (an untrained model masks
    almost nothing, which would hide mistakes)."""
    torch.manual_seed(0)
    model = build_model("causal_mask", width=16, hidden=24, layers=3, stacks=2, **options)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
        if isinstance(module, torch.nn.Conv1d):
            module.weight.data.normal_(0, 0.3)
            module.bias.data.normal_(0, 0.3)
        if isinstance(module, torch.nn.PReLU):
            module.weight.data.uniform_(-0.5, 0.5)
    return model.eval()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("causal") / "causal.pt"
    checkpoint.save(path, checkpoint.model_payload(_randomised(), signal="waveform", sample_rate=16000,
                                                   task="speech-spec"))
    return path


def _noisy(rate: int, seconds: float, channels: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(rate * seconds)) / rate
    voice = np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return np.stack([0.2 * voice + 0.05 * rng.standard_normal(t.size) for _ in range(channels)]).astype(np.float32)


def test_output_depends_on_no_input_beyond_the_look_ahead():
    model = _randomised()
    x = torch.randn(1, 1, 16000)
    j = 9000
    changed = x.clone()
    changed[..., j + model.lookahead_samples + 1:] = torch.randn(16000 - j - model.lookahead_samples - 1)
    with torch.no_grad():
        y, y2 = model(x), model(changed)
        assert torch.equal(y[..., :j + 1], y2[..., :j + 1])
        assert not torch.allclose(y[..., j + 1:], y2[..., j + 1:])
        near = x.clone()
        near[..., j + 250] += 1.0  # 15.6 ms ahead: inside the window, so it counts
        assert not torch.allclose(model(near)[..., j], y[..., j])
    assert model.lookahead_samples == 319  # 20 ms at 16 kHz: one window


def test_reach_into_the_past_is_bounded_by_receptive_samples():
    model = _randomised()
    x = torch.randn(1, 1, 30000)
    j = 29000
    changed = x.clone()
    changed[..., : j - model.receptive_samples] = 0
    with torch.no_grad():
        assert torch.allclose(model(x)[..., j:], model(changed)[..., j:], atol=1e-6)


@pytest.mark.parametrize("length", [1, 2, 100, 159, 160, 161, 511, 4001])
def test_any_length_in_gives_the_same_length_out(length):
    model = _randomised()
    with torch.no_grad():
        assert model(torch.randn(2, 1, length)).shape == (2, 1, length)


def test_model_stream_equals_the_whole_signal_for_any_block_sizes():
    model = _randomised()
    x = torch.randn(2, 12345)
    with torch.no_grad():
        whole = model(x.unsqueeze(1))[:, 0]
    state, outs, pos = model.stream_state(2), [], 0
    rng = np.random.default_rng(0)
    while pos < x.shape[1]:
        n = int(rng.choice([1, 3, 160, 161, 500, 2000]))
        outs.append(model.stream(x[:, pos:pos + n], state))
        pos += n
    outs.append(model.stream(torch.zeros(2, model.n_fft), state))
    streamed = torch.cat(outs, dim=1)[:, :x.shape[1]]
    assert streamed.shape == x.shape
    assert (streamed - whole).abs().max() < 1e-5


def test_bad_options_are_model_errors():
    with pytest.raises(ModelError, match="multiple of hop"):
        build_model("causal_mask", n_fft=320, hop=150)
    with pytest.raises(ModelError, match="mask_min"):
        build_model("causal_mask", mask_min=1.0)


@pytest.mark.parametrize("src, dst", [(48000, 16000), (16000, 44100), (22050, 16000)])
def test_stream_resampler_equals_resampling_whole(src, dst):
    x = torch.randn(2, 7777)
    resampler, outs, pos = StreamResampler(src, dst, 2), [], 0
    rng = np.random.default_rng(1)
    while pos < x.shape[1]:
        n = int(rng.choice([1, 5, 441, 1000]))
        outs.append(resampler.process(x[:, pos:pos + n]))
        pos += n
    outs.append(resampler.flush())
    whole = audio.resample(x, src, dst, exact=True)
    streamed = torch.cat(outs, dim=1)
    assert streamed.shape == whole.shape and streamed.dtype == torch.float32
    # computed in float64 and rounded once, pieces and whole agree to the last float32 bit or so, which
    # keeps a causal model's stream equal to its file path at 44.1 and 48 kHz
    assert (streamed - whole).abs().max() < 1e-6
    assert (whole - audio.resample(x, src, dst)).abs().max() < 1e-4


@pytest.mark.parametrize("rate, channels, strength", [(16000, 1, 1.0), (48000, 2, 0.7), (44100, 1, 1.0)])
def test_stream_enhancer_equals_the_file_path(tiny, rate, channels, strength):
    model = load_model(tiny, device="cpu")
    x = _noisy(rate, 2.3, channels)
    stream = StreamEnhancer(model, rate, channels, strength=strength)
    assert stream.causal is not None
    outs, pos = [], 0
    block = rate // 100  # 10 ms blocks, as a sound card gives them
    while pos < x.shape[1]:
        outs.append(stream.process(x[:, pos:pos + block]))
        pos += block
    outs.append(stream.flush())
    streamed = torch.cat(outs, dim=1).numpy()
    whole = Enhancer(model, strength=strength, band="model", chunk_seconds=1.0).enhance_tensor(torch.from_numpy(x), rate)
    assert streamed.shape == x.shape
    assert np.abs(streamed - whole.numpy()).max() < 1e-5


@pytest.mark.parametrize("rate", [16000, 8000, 44100, 48000])
def test_stream_latency_is_one_window_and_output_keeps_up(tiny, rate):
    model = load_model(tiny, device="cpu")
    stream = StreamEnhancer(model, rate, 1)
    if rate == 16000:
        assert stream.latency == pytest.approx(0.02)
    else:  # a resampler's reach each way on top
        assert 0.02 < stream.latency < 0.024
    given, block = 0, rate // 100
    for i in range(1, 51):  # after each 10 ms block, all but the latency's worth is out
        given += stream.process(np.zeros(block, np.float32)).shape[-1]
        assert block * i - stream.latency_samples <= given <= block * i


def test_chunks_do_not_apply_to_a_causal_model(tiny):
    with pytest.raises(AudioError, match="causal"):
        StreamEnhancer(load_model(tiny, device="cpu"), 16000, 1, chunk_seconds=0.5)


def test_file_path_in_chunks_equals_the_whole_signal(tiny):
    model = load_model(tiny, device="cpu")
    x = torch.from_numpy(_noisy(16000, 4.0, 1))
    chunked = Enhancer(model, chunk_seconds=0.7).enhance_tensor(x, 16000)
    with torch.no_grad():
        whole = model.module(x.unsqueeze(0))[0]
    assert (chunked - whole).abs().max() < 1e-5


def test_bundled_models_by_name(tmp_path, monkeypatch):
    from sigdae.bundled import BUNDLED_MODELS, bundled_model_path, resolve
    from sigdae.errors import CheckpointError

    realtime = load_model("realtime", device="cpu")
    assert realtime.name == "causal_mask" and realtime.sample_rate == 16000
    assert realtime.module.lookahead_samples < 320  # at most 20 ms ahead at 16 kHz
    assert Path(realtime.path) == bundled_model_path("realtime")
    assert load_model("speech", device="cpu").name == "spectral_mask"
    assert set(BUNDLED_MODELS) == {"speech", "realtime"}
    with pytest.raises(CheckpointError, match="bundled"):
        bundled_model_path("nope")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "realtime").mkdir()  # a folder of that name is the user's, not the bundled model
    assert resolve("realtime") == "realtime"


def test_denoise_and_live_with_the_realtime_model(tmp_path):
    import subprocess
    import sys

    import soundfile as sf

    x = _noisy(16000, 1.5, 1)
    sf.write(tmp_path / "in.wav", x.T, 16000, subtype="FLOAT")
    sigdae = str(Path(sys.executable).parent / "sigdae")
    done = subprocess.run([sigdae, "denoise", "--quiet", "--model", "realtime", str(tmp_path / "in.wav"),
                           str(tmp_path / "out.wav")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    denoised = sf.read(tmp_path / "out.wav", dtype="float32", always_2d=True)[0].T
    model = load_model("realtime", device="cpu")
    assert np.abs(denoised - Enhancer(model).enhance_tensor(torch.from_numpy(x), 16000).numpy()).max() < 1e-5
    live = subprocess.run([sigdae, "live", "--model", "realtime", "--threads", "1"],
                          stdin=(tmp_path / "in.wav").open("rb"), capture_output=True)
    assert live.returncode == 0, live.stderr
    assert b"latency 20 ms" in live.stderr
    (tmp_path / "live.wav").write_bytes(live.stdout)
    streamed = sf.read(tmp_path / "live.wav", dtype="float32", always_2d=True)[0].T
    assert streamed.shape == x.shape and np.abs(streamed - denoised).max() < 1e-5


def test_file_chunks_read_little_after_them_for_a_causal_model(tiny):
    enhancer = Enhancer(load_model(tiny, device="cpu"), chunk_seconds=1.0)
    before, after = enhancer.context(16000), enhancer.context_after(16000)
    assert after < 1000 < before  # 20 ms and a resampler's margin ahead; the whole reach behind
    start, stop, lo, hi = list(enhancer.chunks(16000 * 5, 16000))[2]
    assert (start - lo, hi - stop) == (before, after)
    for rate in (16000, 44100, 48000):  # the file path equals the whole signal at every rate
        x = torch.from_numpy(_noisy(rate, 3.0, 1))
        whole = Enhancer(load_model(tiny, device="cpu"), chunk_seconds=60).enhance_tensor(x, rate)
        chunked = Enhancer(load_model(tiny, device="cpu"), chunk_seconds=0.5).enhance_tensor(x, rate)
        assert (chunked - whole).abs().max() < 1e-5
