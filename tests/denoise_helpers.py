"""What the ``sigdae denoise`` tests share: a tiny speech model, a tiny image model, audio made on the spot."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from sigdae import checkpoint
from sigdae.cli import main
from sigdae.models import build_model

PYTHON = sys.executable


def tiny_speech_model(folder: Path) -> Path:
    """A 16 kHz spectral-mask model small enough to denoise a second of audio in milliseconds."""
    torch.manual_seed(0)
    model = build_model("spectral_mask", channels=[4, 8], stride=[[2, 1]], blocks=1)
    path = folder / "tiny-speech.pt"
    checkpoint.save(path, checkpoint.model_payload(model, signal="waveform", sample_rate=16000, task="speech-spec"))
    return path


def tiny_image_model(folder: Path) -> Path:
    torch.manual_seed(0)
    model = build_model("conv")
    path = folder / "tiny-image.pt"
    checkpoint.save(path, checkpoint.model_payload(model, signal="image", task="mnist"))
    return path


def speech(seconds: float = 0.5, rate: int = 16000, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    voice = sum(np.sin(2 * np.pi * k * 140 * t) / k for k in range(1, 6))
    return np.stack([0.1 * voice + 0.03 * rng.standard_normal(t.size) for _ in range(channels)], axis=1).astype(np.float32)


def write_speech(path: Path, seconds: float = 0.5, rate: int = 16000, seed: int = 0, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, speech(seconds, rate, seed=seed), rate, **kwargs)
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``sigdae ARGV`` in this process."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (hidden ones too), as sorted relative POSIX paths."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
