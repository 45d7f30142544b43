"""MNIST image denoising: the train split less a seeded validation part; the test split is never used."""

from __future__ import annotations

from typing import Any

import torch

from sigdae.corruptions import Corruption, get
from sigdae.tasks.base import TASKS, Task, TaskData, TaskError, TensorBatches, fixed_noisy


def image_metrics(pred: torch.Tensor, clean: torch.Tensor) -> dict[str, torch.Tensor]:
    from sigdae.metrics import psnr, ssim

    pred = pred.clamp(0, 1)
    return {"psnr": psnr(pred, clean, reduction="none"), "ssim": ssim(pred, clean, reduction="none")}


def only_digits(split: Any, digits: list[int]) -> Any:
    """The images of ``split`` whose label is one of ``digits``."""
    keep = torch.isin(split.labels, torch.as_tensor([int(d) for d in digits]))
    if not keep.any():
        raise TaskError(f"data.digits={digits!r} selects no MNIST image (digits are 0-9)")
    split.images, split.labels = split.images[keep], split.labels[keep]
    return split


class MnistTask(Task):
    name = "mnist"
    label = "MNIST images"
    signal = "image"
    data_defaults = {"n_val": 5000, "split_seed": 0, "root": "", "limit": 0, "val_limit": 0, "digits": []}

    def default_corruption(self, data: dict[str, Any]) -> Corruption:
        """The benchmark protocol's noise: ``clip(x + 0.5 * N(0, 1), 0, 1)``."""
        return get("noise_factor")(factor=0.5)

    def build(self, config: dict[str, Any], corruption: Corruption, device: torch.device,
              generator: torch.Generator) -> TaskData:
        from sigdae.datasets.mnist import train_val_split

        data = self.data(config)
        train, val = train_val_split(n_val=int(data["n_val"]), seed=int(data["split_seed"]),
                                     root=data["root"] or None)
        if data["digits"]:
            train, val = only_digits(train, data["digits"]), only_digits(val, data["digits"])
        limit = int(data["limit"])
        train_images = train.images[:limit] if limit else train.images
        val_images = val.images[: int(data["val_limit"]) or None]
        batches = TensorBatches(train_images.to(device), config["train"]["batch_size"], generator)
        return TaskData("image", batches, fixed_noisy(val_images, corruption, seed=int(config["seed"]) + 1),
                        val_images, image_metrics, "psnr", preview_items=8,
                        info={"train": len(train_images), "val": len(val_images)})


TASKS.add("mnist", MnistTask(), origin=__name__)
