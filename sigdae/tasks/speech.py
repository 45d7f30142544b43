"""Speech enhancement: clean speech folders mixed on the fly with noise, babble and reverberation.

The clean side comes from ``data.clean_dirs`` (split by speaker into train and validation); the noisy
side is made on the training device by the run's corruption. With ``corruption.spec = "auto"`` the
chain is built from the data folders (see :meth:`SpeechTask.default_corruption`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from sigdae.corruptions import Chain, Corruption, OneOf, get
from sigdae.corruptions.audio_common import limit_banks
from sigdae.tasks.base import TASKS, Task, TaskData, TaskError, fixed_noisy

# noise_file settings the [data] section can pass on: data key -> noise_file parameter
NOISE_FILE_SETTINGS = (("noise_eq_db", "eq_db"), ("noise_speed", "speed"), ("noise_level_db", "level_db"),
                       ("noise_events", "events"))


# folder settings and the command-line flag that sets each
FOLDER_SETTINGS = (("clean_dirs", "--clean-dir"), ("noise_dirs", "--noise-dir"), ("rir_dir", "--rir-dir"),
                   ("pairs_dir", "--pairs-dir"))


def _noise_weight(data: dict[str, Any], kind: str) -> float:
    """``data.<kind>``, the weight of one noise type of the auto corruption: a number >= 0 (0: off)."""
    value = data[kind]
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise TaskError(f"data.{kind}={value!r} must be a weight >= 0 (0: off)")
    return float(value)


def waveform_metrics(pred: torch.Tensor, clean: torch.Tensor) -> dict[str, torch.Tensor]:
    from sigdae.metrics import si_sdr

    return {"si_sdr": si_sdr(pred.float(), clean.float(), reduction="none")}


class SpeechTask(Task):
    signal = "waveform"
    data_defaults = {
        "sample_rate": 16000, "clean_dirs": [], "noise_dirs": [], "rir_dir": "", "pairs_dir": "", "cache_dir": "",
        "val_fraction": 0.1, "split_seed": 0, "segment_seconds": 2.0, "segments_per_epoch": 0,
        "val_seconds": 4.0, "val_segments": 48, "level_db": [-35.0, -15.0], "eq_db": 0.0, "speed": [1.0, 1.0],
        "snr_db": [-5.0, 20.0], "noise_eq_db": 0.0, "noise_speed": [1.0, 1.0], "noise_level_db": 0.0,
        "noise_events": 0.0, "recorded": 3.0, "babble": 1.0, "colored": 0.5, "rumble": 0.0, "tones": 0.0,
        "babble_snr_db": [0.0, 20.0], "cache_mb": 1024.0, "noise_cache_mb": 256.0,
        "workers": "auto",
    }

    def __init__(self, name: str, label: str):
        self.name, self.label = name, label

    def data(self, config: dict[str, Any]) -> dict[str, Any]:
        """The [data] settings; every folder named must exist (a one-line error naming the setting)."""
        data = super().data(config)
        for key, flag in FOLDER_SETTINGS:
            folders = data[key] if isinstance(data[key], list) else [data[key]] if data[key] else []
            for folder in folders:
                if not isinstance(folder, str) or not Path(folder).expanduser().is_dir():
                    raise TaskError(f"data.{key} ({flag}): no such folder: {folder}")
        return data

    def default_corruption(self, data: dict[str, Any]) -> Corruption:
        """A broad noise mixture, one noise type a sample drawn by the weights ``data.recorded`` (real
        recordings), ``data.babble``, ``data.colored`` (each of white, pink and brown noise), ``data.rumble``
        and ``data.tones`` (a weight of 0 leaves a type out); with some reverb and hum."""
        data = self.data({"data": data})
        snr = data["snr_db"]
        weight = {kind: _noise_weight(data, kind) for kind in ("recorded", "babble", "colored", "rumble", "tones")}
        noise_file = get("noise_file")
        noise_file_defaults = {prm.name: prm.default for prm in noise_file.params}
        extras = {param: data[key] for key, param in NOISE_FILE_SETTINGS if data[key] != noise_file_defaults[param]}
        options, weights = [], []
        for folder in data["noise_dirs"] or []:
            if weight["recorded"]:
                options.append(noise_file(dir=folder, snr_db=snr, mix=0.3, **extras))
                weights.append(weight["recorded"])
        if data["clean_dirs"] and weight["babble"]:
            options.append(get("babble")(dir=data["clean_dirs"][0], speakers=[3, 8], snr_db=data["babble_snr_db"]))
            weights.append(weight["babble"])
        for color in ("white", "pink", "brown"):
            if weight["colored"]:
                options.append(get("colored_noise")(color=color, snr_db=snr))
                weights.append(weight["colored"])
        for kind in ("rumble", "tones"):
            if weight[kind]:
                options.append(get(kind)(snr_db=snr))
                weights.append(weight[kind])
        if not options:
            raise TaskError("the auto corruption has no noise: give data.colored, data.rumble or data.tones a "
                            "weight, or noise or clean folders with data.recorded or data.babble")
        reverb = (get("reverb")(dir=data["rir_dir"], p=0.15) if data["rir_dir"]
                  else get("reverb")(p=0.15, rt60=[0.2, 0.6]))
        noise = options[0] if len(options) == 1 else OneOf(options, weights=weights)
        return Chain([reverb, noise, get("hum")(p=0.05, snr_db=[5.0, 30.0])])

    def build(self, config: dict[str, Any], corruption: Corruption, device: torch.device,
              generator: torch.Generator) -> TaskData:
        from sigdae.datasets.speech import CleanSpeech, PairedFolders
        from sigdae.speech_batches import Augment, AugmentInWorker, SpeechBatches

        data, train_cfg = self.data(config), config["train"]
        rate = int(data["sample_rate"])
        eq_db, speed = _augment_settings(data)
        cache_mb, workers = _memory_settings(data)
        limit_banks(float(data["noise_cache_mb"]))
        train_files, val_files = _speech_files(data)
        cache = data["cache_dir"] or None
        index_dir = str(Path(cache).expanduser() / "index") if cache else None
        seconds = float(data["segment_seconds"])
        train_set = CleanSpeech(files=train_files, sample_rate=rate, segment_seconds=seconds * speed[1],
                                segments_per_epoch=int(data["segments_per_epoch"]) or None, cache_dir=cache,
                                cache_mb=cache_mb, index_dir=index_dir)
        augment = Augment(int(round(seconds * rate)), tuple(data["level_db"]), eq_db, speed)
        # Each epoch starts new workers, seeded from torch's global RNG, so a resumed epoch replays exactly.
        loader = torch.utils.data.DataLoader(train_set, batch_size=train_cfg["batch_size"], drop_last=True,
                                             num_workers=workers, pin_memory=device.type == "cuda",
                                             collate_fn=AugmentInWorker(augment) if workers else None)
        level = tuple(data["level_db"])
        if data["pairs_dir"]:
            pairs = PairedFolders(data["pairs_dir"], sample_rate=rate)
            noisy, clean = _stack_pairs([pairs.pair(i) for i in range(len(pairs))])
        else:
            val_set = CleanSpeech(files=val_files, sample_rate=rate, segment_seconds=float(data["val_seconds"]),
                                  segments_per_epoch=int(data["val_segments"]), deterministic=True,
                                  seed=int(config["seed"]), cache_dir=cache, cache_mb=cache_mb, index_dir=index_dir)
            clean = torch.stack([val_set[i] for i in range(len(val_set))])
            rms = clean.square().mean(dim=(1, 2), keepdim=True).sqrt().clamp_min(1e-5)
            clean = clean * 10 ** (sum(level) / 2 / 20) / rms
            noisy = fixed_noisy(clean, corruption, seed=int(config["seed"]) + 1, sample_rate=rate, batch=8)
        batches = SpeechBatches(loader, int(round(seconds * rate)), generator, level, eq_db, speed,
                                augmented=bool(workers))
        return TaskData("waveform", batches, noisy, clean, waveform_metrics, "si_sdr", sample_rate=rate,
                        preview_items=1, info={"train_files": len(train_files), "val_files": len(val_files),
                                               "train_seconds": round(train_set.duration, 1),
                                               "streaming": train_set.streaming, "workers": workers})


def _speech_files(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    from sigdae import audio
    from sigdae.datasets.speech import split_by_speaker

    dirs = data["clean_dirs"] or []
    if not dirs:
        raise TaskError("speech tasks need clean speech: pass --clean-dir DIR (or set data.clean_dirs)")
    files = [str(f) for d in dirs for f in audio.list_audio(d)]
    if len(files) < 2:
        raise TaskError(f"found {len(files)} audio file(s) in {', '.join(map(str, dirs))}; need at least 2")
    return split_by_speaker(files, float(data["val_fraction"]), seed=int(data["split_seed"]))


def _augment_settings(data: dict[str, Any]) -> tuple[float, tuple[float, float]]:
    """``data.eq_db`` (largest random EQ deviation on the clean speech, dB) and ``data.speed`` ([low, high]
    speed-perturbation factors), checked."""
    eq_db = data["eq_db"]
    if not isinstance(eq_db, (int, float)) or isinstance(eq_db, bool) or not 0 <= eq_db <= 40:
        raise TaskError(f"data.eq_db={eq_db!r} must be a number of dB in [0, 40]")
    speed = data["speed"]
    if (not isinstance(speed, (list, tuple)) or len(speed) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in speed)
            or not 0.5 <= speed[0] <= speed[1] <= 2.0):
        raise TaskError(f"data.speed={speed!r} must be [low, high] with 0.5 <= low <= high <= 2")
    return float(eq_db), (float(speed[0]), float(speed[1]))


def default_workers(cpus: int | None = None) -> int:
    """Data-loader workers for ``data.workers = "auto"``: none on one or two cores (a worker would take a
    core from the training step), else one core less than the machine has, at most 4 (reading and
    augmenting speech for one training process rarely needs more)."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 0 if cpus <= 2 else min(4, cpus - 1)


def _memory_settings(data: dict[str, Any]) -> tuple[float, int]:
    """``data.cache_mb`` (the largest corpus held in memory, MB of float32), ``data.noise_cache_mb`` checked,
    and the number of loader workers (``data.workers``: ``"auto"`` or a whole number >= 0)."""
    for key, lowest in (("cache_mb", 0), ("noise_cache_mb", 1)):
        value = data[key]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= lowest:
            raise TaskError(f"data.{key}={value!r} must be a number of megabytes, at least {lowest}")
    workers = data["workers"]
    if workers == "auto":
        workers = default_workers()
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise TaskError(f"data.workers={data['workers']!r} must be \"auto\" or a whole number >= 0")
    return float(data["cache_mb"]), workers


def _stack_pairs(pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    frames = min(p[0].shape[-1] for p in pairs)
    return (torch.stack([n[:, :frames] for n, _ in pairs]), torch.stack([c[:, :frames] for _, c in pairs]))


for _name, _label in (("speech-spec", "speech spectrogram"), ("speech-wave", "speech waveform"),
                      ("speech", "speech")):
    TASKS.add(_name, SpeechTask(_name, _label), origin=__name__)
