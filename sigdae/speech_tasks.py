"""Speech enhancement tasks: clean speech folders mixed on the fly with noise, babble and reverberation.

The clean side comes from ``data.clean_dirs`` (split by speaker into train and validation); the noisy
side is made on the training device by the run's corruption. With ``corruption.spec = "auto"`` the
chain is built from the data folders (see :func:`auto_corruption`) and written into the run's config.
"""

from __future__ import annotations

from typing import Any

import torch

from sigdae.corruptions import Corruption
from sigdae.speech_batches import SpeechBatches
from sigdae.tasks import TaskData, TaskError, fixed_noisy, register_task


def auto_corruption(data: dict[str, Any]) -> str:
    """A broad noise mixture: real recordings, babble, coloured noise and, when ``data.rumble`` / ``data.tones``
    give them a weight, low-frequency rumble and steady tones; with some reverb and hum."""
    from sigdae.corruptions.spec import format_value

    snr = format_value(data.get("snr_db", [-5.0, 20.0]))
    options, weights = [], []
    extras = "".join(f", {param}={format_value(data[key])}"  # noise_file checks the values
                     for key, param in (("noise_eq_db", "eq_db"), ("noise_speed", "speed"),
                                        ("noise_level_db", "level_db"), ("noise_events", "events"))
                     if data.get(key))
    for folder in data.get("noise_dirs") or []:
        options.append(f"noise_file(dir={format_value(folder)}, snr_db={snr}, mix=0.3{extras})")
        weights.append(3.0)
    clean_dirs = data.get("clean_dirs") or []
    if clean_dirs:
        options.append(f"babble(dir={format_value(clean_dirs[0])}, speakers=[3, 8], snr_db=[0.0, 20.0])")
        weights.append(1.0)
    for color in ("white", "pink", "brown"):
        options.append(f"colored_noise(color={color}, snr_db={snr})")
        weights.append(0.5)
    for kind in ("rumble", "tones"):  # synthetic low-frequency and tonal noise: their weights among the noises
        weight = data.get(kind, 0.0)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
            raise TaskError(f"data.{kind}={weight!r} must be a weight >= 0 (0: off)")
        if weight:
            options.append(f"{kind}(snr_db={snr})")
            weights.append(float(weight))
    noise = f"oneof({', '.join(options)}, weights={format_value(weights)})"
    rir = data.get("rir_dir")
    reverb = f"reverb(dir={format_value(rir)}, p=0.15)" if rir else "reverb(p=0.15, rt60=[0.2, 0.6])"
    return f"{reverb} + {noise} + hum(p=0.05, snr_db=[5.0, 30.0])"


def resolve_corruption(config: dict[str, Any]) -> None:
    """Replace ``corruption.spec = "auto"`` by the chain built from the data folders."""
    if str(config.get("corruption", {}).get("spec", "")).strip() == "auto":
        config["corruption"]["spec"] = auto_corruption(config["data"])


def _speech_files(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    from sigdae import audio
    from sigdae.datasets.speech import split_by_speaker

    dirs = data.get("clean_dirs") or []
    if not dirs:
        raise TaskError("speech tasks need clean speech: pass --clean-dir DIR (or set data.clean_dirs)")
    files = [str(f) for d in dirs for f in audio.list_audio(d)]
    if len(files) < 2:
        raise TaskError(f"found {len(files)} audio file(s) in {', '.join(map(str, dirs))}; need at least 2")
    return split_by_speaker(files, float(data.get("val_fraction", 0.1)), seed=int(data.get("split_seed", 0)))


def speech_task(config: dict[str, Any], corruption: Corruption, device: torch.device,
                generator: torch.Generator) -> TaskData:
    from sigdae.datasets.speech import CleanSpeech, PairedFolders

    data, train_cfg = config["data"], config["train"]
    rate = int(data.get("sample_rate", 16000))
    eq_db, speed = _augment_settings(data)
    train_files, val_files = _speech_files(data)
    cache = data.get("cache_dir")
    seconds = float(data.get("segment_seconds", 2.0))
    train_set = CleanSpeech(files=train_files, sample_rate=rate, segment_seconds=seconds * speed[1],
                            segments_per_epoch=int(data.get("segments_per_epoch", 0)) or None, cache_dir=cache)
    loader = torch.utils.data.DataLoader(train_set, batch_size=train_cfg["batch_size"], drop_last=True)
    level = tuple(data.get("level_db", [-35.0, -15.0]))
    if data.get("pairs_dir"):
        pairs = PairedFolders(data["pairs_dir"], sample_rate=rate)
        noisy, clean = _stack_pairs([pairs.pair(i) for i in range(len(pairs))])
    else:
        val_set = CleanSpeech(files=val_files, sample_rate=rate, segment_seconds=float(data.get("val_seconds", 4.0)),
                              segments_per_epoch=int(data.get("val_segments", 48)), deterministic=True,
                              seed=int(config["seed"]), cache_dir=cache)
        clean = torch.stack([val_set[i] for i in range(len(val_set))])
        rms = clean.square().mean(dim=(1, 2), keepdim=True).sqrt().clamp_min(1e-5)
        clean = clean * 10 ** (sum(level) / 2 / 20) / rms
        noisy = fixed_noisy(clean, corruption, seed=int(config["seed"]) + 1, sample_rate=rate, batch=8)
    batches = SpeechBatches(loader, int(round(seconds * rate)), generator, level, eq_db, speed)
    return TaskData("waveform", batches, noisy, clean, waveform_metrics, "si_sdr",
                    sample_rate=rate, info={"train_files": len(train_files), "val_files": len(val_files),
                                            "train_seconds": round(train_set.duration, 1)})


def _augment_settings(data: dict[str, Any]) -> tuple[float, tuple[float, float]]:
    """``data.eq_db`` (largest random EQ deviation on the clean speech, dB) and ``data.speed`` ([low, high]
    speed-perturbation factors), checked."""
    eq_db = data.get("eq_db", 0.0)
    if not isinstance(eq_db, (int, float)) or isinstance(eq_db, bool) or not 0 <= eq_db <= 40:
        raise TaskError(f"data.eq_db={eq_db!r} must be a number of dB in [0, 40]")
    speed = data.get("speed", [1.0, 1.0])
    if (not isinstance(speed, (list, tuple)) or len(speed) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in speed)
            or not 0.5 <= speed[0] <= speed[1] <= 2.0):
        raise TaskError(f"data.speed={speed!r} must be [low, high] with 0.5 <= low <= high <= 2")
    return float(eq_db), (float(speed[0]), float(speed[1]))


def _stack_pairs(pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    frames = min(p[0].shape[-1] for p in pairs)
    return (torch.stack([n[:, :frames] for n, _ in pairs]), torch.stack([c[:, :frames] for _, c in pairs]))


def waveform_metrics(pred: torch.Tensor, clean: torch.Tensor) -> dict[str, torch.Tensor]:
    from sigdae.metrics import si_sdr

    return {"si_sdr": si_sdr(pred.float(), clean.float(), reduction="none")}


register_task("speech-wave", speech_task)
register_task("speech-spec", speech_task)
register_task("speech", speech_task)
