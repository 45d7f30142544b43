"""Image files in and out (PNG/JPEG/... through Pillow, or ``.npy``) and comparison grids."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from sigdae.errors import ImageError
from sigdae.fileio import atomic_output


def read_image(path: str | os.PathLike) -> torch.Tensor:
    """A grayscale image as a float tensor (1, 1, H, W) in [0, 1]."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"no such image file: {path}")
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ImageError(f"cannot read {path}: {exc}") from None
        array = np.asarray(array, dtype=np.float32)
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3:
            raise ImageError(f"{path}: expected an (H, W) or (N, H, W) array, got shape {array.shape}")
        if array.max(initial=0) > 1.0:
            array = array / 255.0
        return torch.from_numpy(array).unsqueeze(1)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            gray = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"cannot read image {path}: {exc}") from None
    return torch.from_numpy(gray)[None, None]


def _atomic(path: Path, write) -> None:
    with atomic_output(path, suffix=path.suffix) as tmp:
        write(tmp)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    return (images.detach().float().clamp(0, 1).cpu().numpy() * 255 + 0.5).astype(np.uint8)


def write_image(path: str | os.PathLike, image: torch.Tensor) -> None:
    """Write (N, 1, H, W) or (1, H, W) or (H, W) in [0, 1]: ``.npy`` keeps floats, else an 8-bit image."""
    from PIL import Image

    path = Path(path)
    image = image.detach().float().cpu()
    while image.dim() > 2 and image.shape[0] == 1:
        image = image[0]
    if path.suffix.lower() == ".npy":
        _atomic(path, lambda tmp: np.save(tmp, image.numpy().squeeze()))
        return
    if image.dim() == 3:  # a batch: one row
        image = torch.cat(list(image.reshape(-1, *image.shape[-2:])), dim=1)
    try:
        _atomic(path, lambda tmp: Image.fromarray(to_uint8(image), mode="L").save(tmp, format=_format(path)))
    except (KeyError, ValueError) as exc:
        raise ImageError(f"cannot write {path}: {exc}") from None


def _format(path: Path) -> str:
    from PIL import Image

    ext = path.suffix.lower()
    formats = Image.registered_extensions()
    if ext not in formats:
        raise ImageError(f"unknown image extension '{ext}' for {path} (use .png, .jpg, .npy, ...)")
    return formats[ext]


def grid(rows: list[torch.Tensor], pad: int = 2, scale: int = 1) -> torch.Tensor:
    """Stack rows of (N, 1, H, W) images into one (H', W') image with padding between tiles."""
    n = max(r.shape[0] for r in rows)
    h, w = rows[0].shape[-2:]
    out = torch.ones(len(rows) * (h + pad) + pad, n * (w + pad) + pad)
    for i, row in enumerate(rows):
        for j in range(row.shape[0]):
            top, left = pad + i * (h + pad), pad + j * (w + pad)
            out[top:top + h, left:left + w] = row[j, 0].detach().float().cpu().clamp(0, 1)
    if scale > 1:
        out = out.repeat_interleave(scale, 0).repeat_interleave(scale, 1)
    return out


def write_grid(path: str | os.PathLike, rows: list[torch.Tensor], scale: int = 3) -> None:
    """A PNG with one row per tensor (e.g. clean, noisy, denoised)."""
    write_image(path, grid(rows, scale=scale))
