"""Evaluate an image model on the MNIST test set, at its training corruption, against the noisy input."""

from __future__ import annotations

from typing import Any

import torch

from sigdae.api import LoadedModel
from sigdae.corruptions import parse
from sigdae.metrics import psnr, ssim

TEST_NOISE_SEED = 0


def mnist_test_pairs(corruption: str, limit: int = 0, root: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The MNIST test images and one fixed noisy copy (the same for every model and device)."""
    from sigdae.datasets.mnist import MNIST

    clean = MNIST("test", root=root).images
    clean = clean[:limit] if limit else clean
    g = torch.Generator().manual_seed(TEST_NOISE_SEED)
    noisy = parse(corruption)(clean, g)
    return noisy, clean


def score_images(pred: torch.Tensor, clean: torch.Tensor, batch: int = 2000) -> dict[str, float]:
    ps, ss = [], []
    for i in range(0, clean.shape[0], batch):
        ps.append(psnr(pred[i:i + batch].clamp(0, 1), clean[i:i + batch], reduction="none"))
        ss.append(ssim(pred[i:i + batch].clamp(0, 1), clean[i:i + batch], reduction="none"))
    return {"psnr": float(torch.cat(ps).mean()), "ssim": float(torch.cat(ss).mean())}


def evaluate_mnist(model: LoadedModel, corruption: str | None = None, limit: int = 0,
                   root: str | None = None) -> dict[str, Any]:
    corruption = corruption or model.corruption
    noisy, clean = mnist_test_pairs(corruption, limit, root)
    denoised = model.denoise(noisy)
    return {"model": model.path, "corruption": corruption, "images": int(clean.shape[0]),
            "denoised": score_images(denoised, clean), "noisy": score_images(noisy, clean)}
