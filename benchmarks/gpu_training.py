"""Training throughput on a device, for ``gpu_check.py``: the MNIST recipes (images per second, and the
test PSNR after a fixed training time) and the speech recipes on a generated corpus (seconds of audio
trained per second). Each recipe runs as shipped except for its time budget; the speech corpus is
speech-like synthetic audio, so its figures are throughput only, never quality.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def _steps(run: Path) -> list[dict]:
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines() if line.strip()]
    return [e for e in events if e.get("type") == "step"]


def _rate(run: Path) -> float:
    """Samples per second over the run's logged steps after the first quarter (compilation, warm-up)."""
    steps = _steps(run)
    late = steps[len(steps) // 4:] or steps
    return float(np.median([e["samples_per_s"] for e in late])) if late else 0.0


def mnist(device: str, root: Path, figures: dict, seconds: float, recipes=("mnist", "mnist-gpu"),
          overrides: dict | None = None, test_limit: int = 0) -> None:
    import sigdae
    from sigdae.evaluate import evaluate_mnist

    for name in recipes:
        run = root / name
        config = sigdae.recipe(name, {"device": device, "train.max_minutes": seconds / 60, "train.epochs": 1000,
                                      **(overrides or {})})
        start = time.perf_counter()
        sigdae.train(config, run_dir=run)
        figures[f"train_{name}_wall_s"] = round(time.perf_counter() - start, 1)
        figures[f"train_{name}_images_per_s"] = round(_rate(run))
        figures[f"train_{name}_batch"] = config["train"]["batch_size"]
        scores = evaluate_mnist(sigdae.load_model(run, device=device), limit=test_limit)
        figures[f"train_{name}_test_psnr_after_{seconds:g}s"] = round(scores["denoised"]["psnr"], 3)


RATE = 16000


def speech_corpus(root: Path, clip, speakers: int = 12, per_speaker: int = 5,
                  seconds: float = 8.0) -> tuple[Path, Path]:
    """LibriSpeech-style names over ``clip(seconds, seed)`` clips at 16 kHz, and a folder of noise."""
    clean, noise = root / "clean", root / "noise"
    if not clean.exists():
        for s in range(speakers):
            folder = clean / str(100 + s) / "1"
            folder.mkdir(parents=True)
            for u in range(per_speaker):
                sf.write(folder / f"{100 + s}-1-{u:04d}.flac", clip(seconds, 1000 + s * 50 + u), RATE)
        noise.mkdir(parents=True)
        rng = np.random.default_rng(7)
        for k in range(4):
            sf.write(noise / f"noise{k}.wav", (0.1 * rng.standard_normal(RATE * 20)).astype(np.float32), RATE)
    return clean, noise


def speech(device: str, root: Path, figures: dict, seconds: float, clip,
           recipes=("speech-spec", "speech-spec-gpu", "speech-realtime")) -> None:
    import sigdae

    clean, noise = speech_corpus(root / "corpus", clip)
    for name in recipes:
        run = root / name
        config = sigdae.recipe(name, {"device": device, "train.max_minutes": seconds / 60, "train.epochs": 1000,
                                      "data.clean_dirs": [str(clean)], "data.noise_dirs": [str(noise)],
                                      "data.val_segments": 8})
        sigdae.train(config, run_dir=run)
        segment = float(config["data"]["segment_seconds"])
        figures[f"train_{name}_audio_s_per_s"] = round(_rate(run) * segment, 1)
        figures[f"train_{name}_batch"] = config["train"]["batch_size"]
