"""Tasks: where a run's clean training data and its fixed noisy validation pairs come from.

A task gives the trainer batches of clean signals (the corruption is applied on the fly, on the
training device) or ready (noisy, clean) pairs, a fixed validation set, and the metrics to report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import torch

from sigdae.corruptions import Corruption

Metrics = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]


class TaskError(ValueError):
    """A task's data settings are wrong (one readable line)."""


class TensorBatches:
    """Shuffled mini-batches of an in-memory tensor (a new permutation each epoch from a seeded generator)."""

    def __init__(self, data: torch.Tensor, batch_size: int, generator: torch.Generator, drop_last: bool = True):
        self.data, self.batch_size, self.generator, self.drop_last = data, batch_size, generator, drop_last

    def __len__(self) -> int:
        n = self.data.shape[0]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = torch.randperm(self.data.shape[0], generator=self.generator)
        for i in range(len(self)):
            yield self.data[order[i * self.batch_size:(i + 1) * self.batch_size].to(self.data.device)]


@dataclass
class TaskData:
    signal: str                         # image | waveform
    train: Iterable[Any]                # yields clean batches, or (noisy, clean) pairs
    val_noisy: torch.Tensor
    val_clean: torch.Tensor
    metrics: Metrics
    monitor: str                        # validation metric that picks best.pt (higher is better)
    sample_rate: int | None = None
    info: dict[str, Any] = field(default_factory=dict)


def image_metrics(pred: torch.Tensor, clean: torch.Tensor) -> dict[str, torch.Tensor]:
    from sigdae.metrics import psnr, ssim

    pred = pred.clamp(0, 1)
    return {"psnr": psnr(pred, clean, reduction="none"), "ssim": ssim(pred, clean, reduction="none")}


def fixed_noisy(clean: torch.Tensor, corruption: Corruption, seed: int, sample_rate: int | None = None,
                batch: int = 1024) -> torch.Tensor:
    """The validation set's noisy side, drawn once on the CPU so it is the same on every device."""
    g = torch.Generator().manual_seed(seed)
    return torch.cat([corruption(clean[i:i + batch], g, sample_rate=sample_rate)
                      for i in range(0, clean.shape[0], batch)])


def mnist_task(config: dict[str, Any], corruption: Corruption, device: torch.device,
               generator: torch.Generator) -> TaskData:
    from sigdae.datasets.mnist import train_val_split

    data = config["data"]
    train, val = train_val_split(n_val=int(data.get("n_val", 5000)), seed=int(data.get("split_seed", 0)),
                                 root=data.get("root"))
    limit = int(data.get("limit", 0))
    train_images = train.images[:limit] if limit else train.images
    val_images = val.images[: int(data.get("val_limit", 0)) or None]
    batches = TensorBatches(train_images.to(device), config["train"]["batch_size"], generator)
    return TaskData("image", batches, fixed_noisy(val_images, corruption, seed=int(config["seed"]) + 1),
                    val_images, image_metrics, "psnr", info={"train": len(train_images), "val": len(val_images)})


TASKS: dict[str, Callable[..., TaskData]] = {"mnist": mnist_task}


def register_task(name: str, builder: Callable[..., TaskData]) -> None:
    TASKS[name] = builder


def build_task(config: dict[str, Any], corruption: Corruption, device: torch.device,
               generator: torch.Generator) -> TaskData:
    from sigdae import speech_tasks  # noqa: F401  (registers the speech tasks)

    name = config["task"]
    if name not in TASKS:
        raise TaskError(f"unknown task '{name}' (known: {', '.join(sorted(TASKS))})")
    return TASKS[name](config, corruption, device, generator)
