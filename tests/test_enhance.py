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
