"""The MNIST demo: train the default conv DAE and the classic dense DAE briefly, score both, draw a grid."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import torch

from sigdae.api import load_model
from sigdae.evaluate import mnist_test_pairs, score_images
from sigdae.images import write_grid
from sigdae.recipes import MNIST_NOISE, recipe
from sigdae.trainer import Trainer


def _train(name: str, run_dir: Path, device: str, listeners: Sequence, **train: float) -> Path:
    config = recipe(name)
    config["device"] = device
    config["train"].update(train)
    Trainer(config, run_dir, listeners=list(listeners), resume=(run_dir / "last.pt").exists()).fit()
    return run_dir


def run_mnist_demo(run_dir: str | os.PathLike = "runs/demo-mnist", *, minutes: float = 1.5, device: str = "auto",
                   listeners: Sequence = ()) -> dict[str, Any]:
    """Train ``mnist`` for ``minutes`` into ``run_dir/conv`` and ``mnist-dense`` for 3 epochs into
    ``run_dir/dense-seed`` (each resumes if it was stopped), score both on the MNIST test set and write
    ``run_dir/grid.png`` (rows: clean, noisy, denoised). ``listeners`` receive the training events.

    Returns ``{"images", "corruption", "scores": [(label, {"psnr", "ssim"}), ...], "grid"}``.
    """
    root = Path(run_dir)
    conv_dir = _train("mnist", root / "conv", device, listeners, max_minutes=minutes, epochs=100)
    dense_dir = _train("mnist-dense", root / "dense-seed", device, listeners, epochs=3)

    noisy, clean = mnist_test_pairs(MNIST_NOISE)
    conv, dense = load_model(conv_dir, device=device), load_model(dense_dir, device=device)
    out_conv, out_dense = conv.denoise(noisy), dense.denoise(noisy)
    scores = [(label, score_images(images, clean))
              for label, images in (("noisy input", noisy), ("dense DAE (3 epochs)", out_dense),
                                    (f"sigdae conv DAE ({minutes:g} min)", out_conv))]
    picks = torch.arange(0, 10000, 1000)
    grid_path = root / "grid.png"
    write_grid(grid_path, [clean[picks], noisy[picks], out_conv[picks]], scale=3)
    return {"images": int(clean.shape[0]), "corruption": MNIST_NOISE, "scores": scores, "grid": grid_path}
