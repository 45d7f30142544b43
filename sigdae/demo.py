"""``sigdae demo mnist``: train the default conv DAE and the seed dense DAE briefly, compare, draw a grid."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from sigdae.api import load_model
from sigdae.evaluate import mnist_test_pairs, score_images
from sigdae.images import write_grid
from sigdae.progress import ProgressDisplay
from sigdae.recipes import MNIST_NOISE, recipe
from sigdae.train import Trainer


def _train(name: str, run_dir: Path, device: str, **train: float) -> Path:
    config = recipe(name)
    config["device"] = device
    config["train"].update(train)
    Trainer(config, run_dir, listeners=[ProgressDisplay()], resume=(run_dir / "last.pt").exists()).fit()
    return run_dir


def run_mnist_demo(args: argparse.Namespace) -> int:
    console = Console()
    root = Path(args.run_dir)
    conv_dir = _train("mnist", root / "conv", args.device, max_minutes=args.minutes, epochs=100)
    dense_dir = _train("mnist-dense", root / "dense-seed", args.device, epochs=3)

    noisy, clean = mnist_test_pairs(MNIST_NOISE)
    conv, dense = load_model(conv_dir, device=args.device), load_model(dense_dir, device=args.device)
    out_conv, out_dense = conv.denoise(noisy), dense.denoise(noisy)
    table = Table(title=f"MNIST test set ({clean.shape[0]} images), {MNIST_NOISE}")
    for col in ("", "PSNR dB", "SSIM"):
        table.add_column(col, justify="right" if col else "left")
    for label, images in (("noisy input", noisy), ("seed dense DAE (3 epochs)", out_dense),
                          (f"sigdae conv DAE ({args.minutes:g} min)", out_conv)):
        s = score_images(images, clean)
        table.add_row(label, f"{s['psnr']:.2f}", f"{s['ssim']:.3f}")
    console.print(table)
    picks = torch.arange(0, 10000, 1000)
    grid_path = root / "grid.png"
    write_grid(grid_path, [clean[picks], noisy[picks], out_conv[picks]], scale=3)
    console.print(f"grid (rows: clean, noisy, denoised): [bold]{grid_path}[/]")
    return 0
