"""Streaming enhancement: seam-free chunks, any rate/channels/format, folders, atomic outputs."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from sigdae import checkpoint
from sigdae.api import load_model
from sigdae.enhance import Enhancer
from sigdae.errors import ModelError
from sigdae.models import build_model


def _model_file(tmp_path: Path, name: str = "spectral_mask", **config) -> Path:
    torch.manual_seed(0)
    model = build_model(name, **config)
    for name_, param in model.named_parameters():
        if ".context." in name_ and not param.any():
            torch.nn.init.normal_(param, std=0.1)  # the context stack starts as the identity: make it act
    model.train()
    with torch.no_grad():  # non-trivial batch-norm statistics
        for _ in range(3):
            model(torch.randn(4, 1, 8000) * 0.1)
    path = tmp_path / f"{name}.pt"
    checkpoint.save(path, checkpoint.model_payload(model, signal="waveform", sample_rate=16000, task="speech-spec"))
    return path


@pytest.fixture(scope="module")
def spectral(tmp_path_factory):
    return load_model(_model_file(tmp_path_factory.mktemp("m")), device="cpu")


def _speechlike(rate: int, seconds: float, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    voice = sum(np.sin(2 * np.pi * k * 140 * t) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t))
    out = np.stack([0.1 * voice + 0.03 * rng.standard_normal(t.size) for _ in range(channels)], axis=1)
    return out.astype(np.float32)


@pytest.mark.parametrize("name, config", [("spectral_mask", {}), ("wave_unet", {}),
                                          ("spectral_mask", {"context": 3}), ("wave_unet", {"context": 2})])
@pytest.mark.parametrize("rate", [16000, 44100, 8000])
def test_chunked_equals_whole(tmp_path, name, config, rate):
    model = load_model(_model_file(tmp_path, name, **config), device="cpu")
    x = torch.from_numpy(_speechlike(rate, 6.0, channels=2).T.copy())
    whole = Enhancer(model, chunk_seconds=1000).enhance(x, rate)
    chunked = Enhancer(model, chunk_seconds=0.8).enhance_tensor(x, rate)
    assert len(list(Enhancer(model, chunk_seconds=0.8).chunks(x.shape[-1], rate))) >= 5
    assert torch.allclose(whole, chunked, atol=1e-5), float((whole - chunked).abs().max())


def test_chunk_length_comes_from_the_model_unless_given(tmp_path, spectral):
    causal = load_model(_model_file(tmp_path, "causal_mask", width=8, hidden=16, layers=2, stacks=1),
                        device="cpu")
    assert Enhancer(spectral).chunk_seconds == 15.0 and Enhancer(causal).chunk_seconds == 60.0
    assert Enhancer(causal, chunk_seconds=2.0).chunk_seconds == 2.0
    with pytest.raises(ModelError, match="chunk_seconds must be positive"):
        Enhancer(causal, chunk_seconds=0)


@pytest.mark.parametrize("rate, channels, ext, subtype", [
    (16000, 1, ".wav", "PCM_16"), (44100, 2, ".wav", "PCM_24"), (48000, 1, ".flac", "PCM_16"),
    (8000, 1, ".wav", "PCM_16"), (22050, 3, ".ogg", "VORBIS")])
def test_file_keeps_rate_channels_length_and_subtype(tmp_path, spectral, rate, channels, ext, subtype):
    src, dst = tmp_path / f"in{ext}", tmp_path / "out" / f"out{ext}"
    sf.write(src, _speechlike(rate, 2.5, channels), rate, subtype=subtype)
    before = src.read_bytes()
    Enhancer(spectral, chunk_seconds=1.0).enhance_file(src, dst)
    i, o = sf.info(src), sf.info(dst)
    assert (o.samplerate, o.channels, o.frames, o.subtype) == (i.samplerate, i.channels, i.frames, i.subtype)
    assert src.read_bytes() == before
    assert not [p for p in dst.parent.iterdir() if p.name != dst.name]  # no temporary files left
    out, _ = sf.read(dst)
    assert np.abs(out).max() > 1e-3  # not emptied


def test_strength_zero_returns_the_input(spectral):
    x = torch.from_numpy(_speechlike(16000, 1.0).T.copy())
    assert torch.equal(Enhancer(spectral, strength=0.0).enhance(x, 16000), x)


def test_cli_folder_mode_keeps_subfolders(tmp_path):
    model = _model_file(tmp_path)
    (tmp_path / "noisy" / "sub").mkdir(parents=True)
    sf.write(tmp_path / "noisy" / "a.wav", _speechlike(16000, 1.0), 16000)
    sf.write(tmp_path / "noisy" / "sub" / "b.flac", _speechlike(24000, 1.0, 2), 24000)
    (tmp_path / "noisy" / "notes.txt").write_text("not audio")
    sigdae = Path(sys.executable).parent / "sigdae"
    run = subprocess.run([str(sigdae), "denoise", "--model", str(model), str(tmp_path / "noisy"),
                          str(tmp_path / "clean"), "--quiet"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert sorted(p.relative_to(tmp_path / "clean").as_posix() for p in (tmp_path / "clean").rglob("*")
                  if p.is_file()) == ["a.wav", "sub/b.flac"]
    assert sf.info(tmp_path / "clean" / "sub" / "b.flac").channels == 2
    bad = subprocess.run([str(sigdae), "denoise", "--model", str(model), str(tmp_path / "nope.wav"),
                          str(tmp_path / "o.wav")], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def test_image_model_is_refused_for_audio(tmp_path):
    model = build_model("conv")
    path = tmp_path / "img.pt"
    checkpoint.save(path, checkpoint.model_payload(model, signal="image", task="mnist"))
    with pytest.raises(ValueError, match="not a speech"):
        Enhancer(load_model(path, device="cpu"))


@pytest.fixture(scope="module")
def bundled():
    from sigdae.enhance import bundled_model_path

    return load_model(bundled_model_path(), device="cpu")


@pytest.mark.parametrize("rate", [16000, 48000])
@pytest.mark.parametrize("length", [1, 2, 100, 511])
def test_short_inputs_keep_their_length(tmp_path, bundled, rate, length):
    x = torch.from_numpy(_speechlike(rate, 1.0, channels=2)[:length].T.copy())
    out = Enhancer(bundled).enhance_tensor(x, rate)
    assert out.shape == x.shape and torch.isfinite(out).all()
    src, dst = tmp_path / "click.wav", tmp_path / "out.wav"
    sf.write(src, x.T.numpy(), rate, subtype="FLOAT")
    Enhancer(bundled).enhance_file(src, dst)
    written, written_rate = sf.read(dst, always_2d=True)
    assert written.shape == (length, 2) and written_rate == rate
    assert np.allclose(written.T, out.numpy(), atol=1e-6)


def test_lengths_that_worked_before_are_not_padded(bundled):
    x = torch.from_numpy(_speechlike(16000, 0.1)[:257].T.copy())
    enhancer = Enhancer(bundled)
    assert enhancer.min_samples == 257
    assert torch.equal(enhancer.enhance(x, 16000), bundled.denoise(x.unsqueeze(1)).squeeze(1))


def test_silence_and_an_empty_signal(tmp_path, bundled):
    for length in (1, 300, 16000):
        out = Enhancer(bundled).enhance_tensor(torch.zeros(1, length), 16000)
        assert out.shape == (1, length) and torch.isfinite(out).all() and out.abs().max() < 1e-6
    assert Enhancer(bundled).enhance_tensor(torch.zeros(1, 0), 16000).shape == (1, 0)
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1), np.float32), 16000)
    Enhancer(bundled).enhance_file(tmp_path / "empty.wav", tmp_path / "out.wav")
    assert sf.info(tmp_path / "out.wav").frames == 0


def test_one_dimensional_tensors_come_back_one_dimensional(bundled):
    x = torch.from_numpy(_speechlike(16000, 0.5)[:, 0].copy())
    enhancer = Enhancer(bundled)
    for out in (enhancer.enhance(x, 16000), enhancer.enhance_tensor(x, 16000)):
        assert out.shape == x.shape
        assert torch.equal(out, enhancer.enhance(x.unsqueeze(0), 16000)[0])


def test_batched_chunks_equal_one_by_one(spectral, monkeypatch):
    rate = 24000
    x = torch.from_numpy(_speechlike(rate, 6.0).T.copy())
    one = Enhancer(spectral, chunk_seconds=0.3).enhance_tensor(x, rate)
    batched = Enhancer(spectral, chunk_seconds=0.3, batch_chunks=3)
    sizes, calls = [], []
    real = batched.enhance_batch
    monkeypatch.setattr(batched, "enhance_batch", lambda b, r, o=None: calls.append(b.shape[0]) or real(b, r, o))
    for out, length in batched.enhance_chunks(x.shape[-1], rate, lambda lo, hi: x[..., lo:hi]):
        sizes.append(length)
    assert sum(sizes) == x.shape[-1] and max(calls) == 3  # interior chunks share model calls
    assert torch.allclose(batched.enhance_tensor(x, rate), one, atol=1e-5)


def test_enhance_batch_equals_each_signal_alone(spectral):
    signals = torch.stack([torch.from_numpy(_speechlike(16000, 0.7, channels=2, seed=s).T.copy()) for s in range(3)])
    enhancer = Enhancer(spectral)
    together = enhancer.enhance_batch(signals, 16000)
    for signal, out in zip(signals, together):
        assert torch.allclose(out, enhancer.enhance(signal, 16000), atol=1e-5)


def test_the_cpu_default_batches_nothing_and_bad_settings_are_refused(spectral):
    assert Enhancer(spectral).batch_chunks == 1
    with pytest.raises(ValueError, match="batch_chunks"):
        Enhancer(spectral, batch_chunks=0)
    with pytest.raises(ValueError, match="precision"):
        Enhancer(spectral, precision="fp8")


def test_file_output_can_change_subtype(tmp_path, spectral):
    sf.write(tmp_path / "in.wav", _speechlike(16000, 0.5), 16000, subtype="PCM_16")
    Enhancer(spectral).enhance_file(tmp_path / "in.wav", tmp_path / "out.wav", subtype="FLOAT")
    assert sf.info(tmp_path / "out.wav").subtype == "FLOAT"


def test_enhance_many_equals_one_by_one(spectral):
    lengths = [8000, 8000, 300, 8000, 30000, 300, 1]
    signals = [torch.from_numpy(_speechlike(16000, 2.0, channels=1, seed=i)[:n].T.copy())
               for i, n in enumerate(lengths)]
    enhancer = Enhancer(spectral, chunk_seconds=1.0, batch_chunks=2)
    together = enhancer.enhance_many(signals, 16000)
    assert [y.shape for y in together] == [x.shape for x in signals]
    for x, y in zip(signals, together):
        assert torch.allclose(y, enhancer.enhance_tensor(x, 16000), atol=1e-5)


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_reduced_precision_stays_within_1e3_of_fp32(bundled, precision):
    x = torch.from_numpy(_speechlike(16000, 1.0).T.copy())
    assert Enhancer(bundled).precision == "fp32"  # the CPU default
    full = Enhancer(bundled).enhance(x, 16000)
    reduced = Enhancer(bundled, precision=precision).enhance(x, 16000)
    assert reduced.dtype == torch.float32 and (reduced - full).abs().max() < 1e-3


def test_gpu_check_runs_its_parts_on_the_cpu(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", Path(__file__).parent.parent / "benchmarks" /
                                                  "gpu_check.py")
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    long_file, folder = gpu_check.make_data(tmp_path, minutes=0.05, files=3)
    assert sf.info(long_file).duration == pytest.approx(3.0) and len(list(folder.glob("*.wav"))) == 3
    figures = {}
    gpu_check.in_process(long_file, folder, "cpu", figures)
    assert figures["precision_fp32_max_abs_diff_vs_cpu_fp32"] == 0.0
    assert figures["precision_fp16_max_abs_diff_vs_cpu_fp32"] < 1e-3
    assert figures["long_in_process_batch1_s"] > 0 and figures["short_in_process_enhance_many_s"] > 0
    gpu_check.cpu_jobs(folder, tmp_path / "results", 2, figures)
    assert figures["cpu_jobs_files"] == 2 and figures["cpu_jobs2_throughput_ratio"] > 0
    assert len(list((tmp_path / "results" / "jobs2").glob("*.wav"))) == 2


def test_gpu_check_training_part_runs_on_the_cpu(tmp_path):
    import sys

    folder = Path(__file__).parent.parent / "benchmarks"
    sys.path.insert(0, str(folder))
    try:
        import gpu_check
        import gpu_training
    finally:
        sys.path.remove(str(folder))
    figures = {}
    gpu_training.speech("cpu", tmp_path, figures, 0.02, gpu_check.speechlike, recipes=("speech-realtime",))
    assert figures["train_speech-realtime_audio_s_per_s"] > 0 and figures["train_speech-realtime_batch"] == 16
    assert len(list((tmp_path / "corpus" / "clean").rglob("*.flac"))) == 60
    gpu_training.mnist("cpu", tmp_path, figures, 0.05, recipes=("mnist-gpu",), test_limit=256,
                       overrides={"data.limit": 1024, "data.val_limit": 256})
    assert figures["train_mnist-gpu_batch"] == 512 and figures["train_mnist-gpu_images_per_s"] > 0
    assert 5 < figures["train_mnist-gpu_test_psnr_after_0.05s"] < 30
