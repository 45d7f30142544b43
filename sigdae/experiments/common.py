"""What the experiments share: their sizes, training a throwaway model with the Trainer, the MNIST test
images, and scoring denoisers on them."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

import torch

from sigdae.errors import UsageError

Log = Callable[[str], None]


@dataclass(frozen=True)
class Size:
    """How big an experiment runs: training images and epochs per model, test images scored, the training
    noise levels of a sweep, and ``wide``: larger codes where an experiment has a choice."""

    name: str
    train_images: int      # 0: the whole training split (55,000 images)
    val_images: int
    epochs: int
    test_images: int       # 0: all 10,000 test images
    noise_levels: tuple[float, ...]
    wide: bool


SIZES = {
    "full": Size("full", train_images=0, val_images=1000, epochs=5, test_images=0,
                 noise_levels=(0.1, 0.3, 0.5, 0.7, 0.9), wide=True),
    "quick": Size("quick", train_images=10000, val_images=500, epochs=5, test_images=2000,
                  noise_levels=(0.1, 0.5, 0.9), wide=False),
    # smaller still, for the test suite: the same code paths in seconds
    "test": Size("test", train_images=4000, val_images=200, epochs=3, test_images=500, noise_levels=(0.1, 0.7),
                 wide=False),
}


def get_size(name: str) -> Size:
    if name not in SIZES:
        raise UsageError(f"unknown experiment size '{name}' (known: {', '.join(SIZES)})")
    return SIZES[name]


# The denoiser most experiments train: a dense DAE 784-128-64-128-784, trained on PSNR.
DENOISER = {"name": "dense", "in_features": 784, "hidden": [128, 64], "output_activation": "sigmoid"}


@dataclass
class Settings:
    """An experiment run: its size, device and seed; ``log`` reports progress lines."""

    size: Size
    device: str = "cpu"
    seed: int = 0
    log: Log = lambda line: None


def train_config(settings: Settings, model: dict[str, Any], corruption: str, *, loss: str = "psnr",
                 penalties: dict[str, float] | None = None, data: dict[str, Any] | None = None,
                 **train: Any) -> dict[str, Any]:
    """A run config for an in-memory MNIST model at the experiment's size."""
    size = settings.size
    config = {
        "task": "mnist", "seed": settings.seed, "device": settings.device,
        "model": copy.deepcopy(model),
        "corruption": {"spec": corruption},
        "loss": {"spec": loss, **({"penalties": dict(penalties)} if penalties else {})},
        "data": {"limit": size.train_images, "val_limit": size.val_images, **(data or {})},
        "train": {"epochs": size.epochs, "batch_size": 64, "lr": 3e-3, "warmup": 0.05, "schedule": "cosine",
                  "amp": "off", "log_every_s": 3600.0, **train},
    }
    return config


def fit(settings: Settings, config: dict[str, Any], label: str) -> torch.nn.Module:
    """Train ``config`` with the Trainer, in memory (no run directory), and return the model in eval mode."""
    from sigdae.trainer import Trainer

    settings.log(f"training {label}")
    trainer = Trainer(config)
    summary = trainer.fit()
    last = summary["last"]
    settings.log(f"  {label}: {summary['steps']} steps, {summary['elapsed']:.0f} s, "
                 f"validation PSNR {last.get('val_psnr', float('nan')):.2f} dB")
    return trainer.model.float().eval()


@dataclass
class Digits:
    images: torch.Tensor   # (N, 1, 28, 28) in [0, 1]
    labels: torch.Tensor   # (N,) int64


def mnist_test(size: Size) -> Digits:
    """The MNIST test split (the first ``size.test_images`` of it); training never sees it."""
    from sigdae.datasets.mnist import MNIST

    test = MNIST("test")
    count = size.test_images or len(test)
    return Digits(test.images[:count], test.labels[:count])


def corrupt(images: torch.Tensor, spec: str, seed: int = 0) -> torch.Tensor:
    """One fixed noisy copy of ``images`` (the same for every model scored on it)."""
    from sigdae.corruptions import parse

    return parse(spec)(images, torch.Generator().manual_seed(seed))


@torch.no_grad()
def reconstruct(model: torch.nn.Module, images: torch.Tensor, batch: int = 2000) -> torch.Tensor:
    device = next(model.parameters()).device
    return torch.cat([model(images[i:i + batch].to(device)).float().cpu() for i in range(0, len(images), batch)])


def psnr_per_image(pred: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    from sigdae.metrics import psnr

    return psnr(pred.clamp(0, 1), clean, reduction="none")


def mean_psnr(model: torch.nn.Module | None, noisy: torch.Tensor, clean: torch.Tensor) -> float:
    """Mean per-image PSNR (dB) of ``model``'s output, or of the noisy input itself when ``model`` is None."""
    pred = noisy if model is None else reconstruct(model, noisy)
    return float(psnr_per_image(pred, clean).mean())


def layer_sizes(model: dict[str, Any]) -> str:
    """``784-256-64-256-784`` for a dense model config with mirrored hidden layers."""
    sizes = [model["in_features"], *model["hidden"]]
    return "-".join(map(str, sizes + sizes[-2::-1]))


def noise_factor(level: float) -> str:
    return f"noise_factor(factor={level:g})"
