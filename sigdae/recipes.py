"""Named training recipes: complete run configs that ``sigdae train --recipe NAME`` starts from.

The MNIST recipes follow the MNIST benchmark's protocol (noise factor 0.5, clipped; docs/benchmarks/mnist.md).
"""

from __future__ import annotations

import copy
from typing import Any

MNIST_NOISE = "noise_factor(factor=0.5)"

# What the speech recipes share: 2 s segments of clean speech at random loudness, speed (0.9-1.1x) and EQ
# (up to 6 dB), noise mixed on the fly ("auto" corruption) at -5..20 dB SNR with recorded noise under a random
# EQ of up to 10 dB, plus synthetic low-frequency rumble and steady tones, an epoch of 4000 segments, 48 fixed
# validation segments.
SPEECH_DATA = {"sample_rate": 16000, "segment_seconds": 2.0, "segments_per_epoch": 4000, "val_segments": 48,
               "snr_db": [-5.0, 20.0], "speed": [0.9, 1.1], "eq_db": 6.0, "noise_eq_db": 10.0,
               "noise_events": 0.3, "rumble": 0.5, "tones": 0.5}
SPEECH_TRAIN = {"epochs": 100, "batch_size": 16, "lr": 2e-3, "warmup": 0.02, "schedule": "cosine", "grad_clip": 5.0}

RECIPES: dict[str, dict[str, Any]] = {
    # The default image recipe: a small U-Net with batch norm and global self-attention at its 7x7 level,
    # trained on mean per-image PSNR directly (the benchmark's metric), cosine lr; good within 2 CPU minutes.
    "mnist": {
        "task": "mnist",
        "description": "conv U-Net DAE on MNIST, noise factor 0.5; strong within a 2-minute CPU budget",
        "model": {"name": "conv", "dim": 2, "channels": [16, 32, 64], "blocks": 2, "kernel": 3, "stride": 2,
                  "down": "pool", "skip": "concat", "norm": "batch", "attention": 4,
                  "output_activation": "sigmoid"},
        "corruption": {"spec": MNIST_NOISE},
        "loss": {"spec": "psnr"},
        "train": {"epochs": 10, "batch_size": 64, "lr": 1e-2, "warmup": 0.03, "schedule": "cosine"},
    },
    # The classic Keras dense DAE (784-128-64-32-64-128-784), as Keras trained it.
    "mnist-dense": {
        "task": "mnist",
        "description": "the classic Keras dense DAE 784-128-64-32-64-128-784 (Keras defaults)",
        "model": {"name": "dense", "in_features": 784, "hidden": [128, 64, 32], "output_activation": "sigmoid"},
        "corruption": {"spec": MNIST_NOISE},
        "loss": {"spec": "bce"},
        "train": {"epochs": 10, "batch_size": 256, "lr": 1e-3, "schedule": "constant", "adam_eps": 1e-7},
    },
    # Speech enhancement on spectrograms: the bundled default model's recipe.
    "speech-spec": {
        "task": "speech-spec",
        "description": "STFT-mask conv DAE for 16 kHz speech (the bundled model's recipe)",
        "model": {"name": "spectral_mask", "n_fft": 512, "hop": 256, "channels": [16, 32, 48, 64],
                  "stride": [[4, 1], [2, 2], [2, 2]], "blocks": 2, "norm": "batch", "context": 4},
        "corruption": {"spec": "auto"},
        "loss": {"spec": "stft*0.3 + compressed*30 + si_sdr*0.05 + perceptual*1.0"},
        "data": dict(SPEECH_DATA),
        "train": dict(SPEECH_TRAIN),
    },
    # Low-latency speech enhancement: a causal TCN masking a 20 ms / 10 ms STFT (20 ms algorithmic latency);
    # the bundled "realtime" model's recipe.
    "speech-realtime": {
        "task": "speech-spec",
        "description": "causal STFT-mask TCN for 16 kHz speech, 20 ms latency (the bundled realtime model's recipe)",
        "model": {"name": "causal_mask", "n_fft": 320, "hop": 160, "width": 128, "hidden": 256, "layers": 6,
                  "stacks": 2},
        "corruption": {"spec": "auto"},
        "loss": {"spec": "stft*0.3 + compressed*30 + si_sdr*0.05 + perceptual*1.0"},
        "data": dict(SPEECH_DATA),
        "train": dict(SPEECH_TRAIN),
    },
    # Speech enhancement on waveforms: a strided 1-D U-Net.
    "speech-wave": {
        "task": "speech-wave",
        "description": "waveform U-Net DAE for 16 kHz speech (strided 1-D conv encoder/decoder)",
        "model": {"name": "wave_unet", "channels": [16, 32, 64, 128, 256], "stride": 4, "blocks": 1,
                  "kernel": 9},
        "corruption": {"spec": "auto"},
        "loss": {"spec": "stft*1.0 + l1*10.0"},
        "data": dict(SPEECH_DATA),
        "train": dict(SPEECH_TRAIN),
    },
}


# Full quality: the same U-Net, wider, trained for longer.
RECIPES["mnist-full"] = {
    **RECIPES["mnist"],
    "description": "wider conv U-Net DAE on MNIST trained longer for the best PSNR",
    "model": {**RECIPES["mnist"]["model"], "channels": [24, 48, 96]},
    "train": {**RECIPES["mnist"]["train"], "epochs": 20},
}

# One GPU: the same recipes with wider models and batches that keep a GPU busy, the learning rate carried
# from the CPU recipe's batch by the square-root rule (train.lr_batch), and data-loader workers. Meant for
# large corpora (speech) and long schedules; see docs/training.md.
RECIPES["mnist-gpu"] = {
    **RECIPES["mnist"],
    "description": "the mnist U-Net, wider, at batch 512 for one GPU (lr by the square-root rule)",
    "model": {**RECIPES["mnist"]["model"], "channels": [32, 64, 128]},
    "train": {**RECIPES["mnist"]["train"], "epochs": 30, "batch_size": 512, "lr_batch": 64},
}
RECIPES["speech-spec-gpu"] = {
    **RECIPES["speech-spec"],
    "description": "the speech-spec U-Net, wider, at batch 64 x 4 s for one GPU and a large corpus",
    "model": {**RECIPES["speech-spec"]["model"], "channels": [32, 64, 96, 128]},
    "data": {**SPEECH_DATA, "segment_seconds": 4.0, "segments_per_epoch": 64000, "val_segments": 256},
    "train": {**SPEECH_TRAIN, "epochs": 200, "batch_size": 64, "lr_batch": 16},
}

# The classic dense family, one recipe per variant, each within 2 CPU minutes: binary cross-entropy on
# sigmoid outputs (as the classic Keras DAE), Adam with a cosine schedule, 20 passes over the 55,000 images;
# ``max_minutes`` caps a slow machine (the schedule then anneals by time).
FAMILY_TRAIN = {"epochs": 20, "max_minutes": 1.0, "batch_size": 128, "lr": 2e-3, "schedule": "cosine"}


def _family(description: str, model: dict[str, Any], penalties: dict[str, float] | None = None) -> dict[str, Any]:
    loss: dict[str, Any] = {"spec": "bce"}
    if penalties:
        loss["penalties"] = penalties
    return {"task": "mnist", "description": description, "model": {"in_features": 784, **model},
            "corruption": {"spec": MNIST_NOISE}, "loss": loss, "train": dict(FAMILY_TRAIN)}


RECIPES.update({
    "mnist-undercomplete": _family("undercomplete DAE 784-64-784 (one ReLU bottleneck layer)",
                                   {"name": "undercomplete", "code": 64}),
    "mnist-sparse": _family("sparse DAE 784-256-784, KL sparsity of the sigmoid code toward rho = 0.05",
                            {"name": "sparse", "hidden": [256], "sparsity": "kl", "rho": 0.05},
                            {"sparsity": 1e-3}),
    "mnist-contractive": _family("contractive DAE 784-256-784 (sigmoid), Jacobian norm penalty",
                                 {"name": "contractive", "hidden": [256]}, {"contractive": 1e-4}),
    "mnist-vae": _family("variational AE 784-256-(16)-256-784; KL weighted per pixel (1/784), so the loss is "
                         "the ELBO per pixel", {"name": "vae", "hidden": [256], "latent": 16},
                         {"kl": 1.0 / 784}),
    # two sigmoid layers learn slowly at the family's lr: a higher one
    "mnist-stacked": {**_family("stacked DAE 784-256-128-256-784 (sigmoid), trained end to end",
                                {"name": "stacked", "hidden": [256, 128]}),
                      "train": {**FAMILY_TRAIN, "lr": 5e-3}},
})


def recipe(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of the named recipe's run config, with ``overrides`` given as dotted keys set on it:
    ``recipe("mnist", {"train.epochs": 1, "data.limit": 2048})``."""
    from sigdae.config import ConfigError, set_dotted

    if name not in RECIPES:
        raise ConfigError(f"unknown recipe '{name}' (known: {', '.join(sorted(RECIPES))})")
    config = copy.deepcopy(RECIPES[name])
    config.pop("description", None)
    config["recipe"] = name
    for key, value in (overrides or {}).items():
        set_dotted(config, key, value)
    return config
