"""Image files in and out (PNG/JPEG/... through Pillow, or ``.npy``) and comparison grids."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sigdae.errors import ImageError
from sigdae.fileio import atomic_output

# The extensions sigdae reads as images when scanning a folder (Pillow formats, and NumPy arrays).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".npy")


_GRAY_BANDS = frozenset({"L", "1", "I", "F"})


@dataclass
class ImageFile:
    """An image file as the planes a one-channel model denoises, and what is needed to write it back.

    ``planes`` is float ``(N, 1, H, W)`` in [0, 1]: one plane for a grayscale image, one per colour
    channel (R, G, B) for a colour image, N for an ``.npy`` batch. ``mode`` is ``"L"``, ``"LA"``,
    ``"RGB"``, ``"RGBA"`` (alpha is kept as it is, never denoised) or ``"array"`` for ``.npy``, whose
    original ``shape`` is kept for writing it back.
    """

    planes: torch.Tensor
    mode: str = "L"
    alpha: np.ndarray | None = None
    shape: tuple[int, ...] | None = None


def _read_array(path: Path) -> ImageFile:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ImageError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
    if array.dtype.kind not in "biuf":
        raise ImageError(f"{path}: expected a real-valued array, got dtype {array.dtype}")
    shape = array.shape
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 4 and array.shape[1] == 1:  # the models' own (N, 1, H, W) layout
        array = array[:, 0]
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ImageError(f"{path}: expected an (H, W), (N, H, W) or (N, 1, H, W) array, got shape {shape}")
    if not np.isfinite(array).all():
        raise ImageError(f"{path}: the array holds NaN or infinite values")
    if array.max(initial=0) > 1.0:
        array = array / 255.0
    return ImageFile(torch.from_numpy(array).unsqueeze(1), "array", shape=shape)


def _read_picture(path: Path) -> ImageFile:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            has_alpha = "A" in img.getbands() or "transparency" in img.info
            if set(img.getbands()) <= _GRAY_BANDS:
                return ImageFile(_unit(np.asarray(img.convert("L")))[None, None])
            pixels = np.asarray(img.convert("RGBA" if has_alpha else "RGB"))
            gray = bool((pixels[..., :3] == pixels[..., :1]).all())
            if gray and not has_alpha:  # colour container, gray content: exactly the grayscale reading
                return ImageFile(_unit(np.asarray(img.convert("L")))[None, None])
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageError(f"cannot read image {path}: {' '.join(str(exc).split())}") from None
    alpha = pixels[..., 3].copy() if has_alpha else None
    channels = pixels[..., :1] if gray else pixels[..., :3]
    planes = _unit(np.ascontiguousarray(channels.transpose(2, 0, 1)))[:, None]
    return ImageFile(planes, ("L" if gray else "RGB") + ("A" if has_alpha else ""), alpha=alpha)


def _unit(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(pixels, dtype=np.float32) / 255.0)


def read_image_file(path: str | os.PathLike) -> ImageFile:
    """Read a picture (PNG, JPEG, ... through Pillow) or an ``.npy`` array for denoising; colour images
    give one plane per channel."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"no such image file: {path}")
    return _read_array(path) if path.suffix.lower() == ".npy" else _read_picture(path)


def read_image(path: str | os.PathLike) -> torch.Tensor:
    """A grayscale image as a float tensor (1, 1, H, W) in [0, 1] (colour is converted to gray), or an
    ``.npy`` batch as (N, 1, H, W)."""
    path = Path(path)
    image = read_image_file(path)
    if image.mode in ("L", "array"):
        return image.planes
    from PIL import Image

    with Image.open(path) as img:
        return _unit(np.asarray(img.convert("L")))[None, None]


def write_image_file(path: str | os.PathLike, image: ImageFile, planes: torch.Tensor) -> None:
    """Write denoised ``planes`` (shaped like ``image.planes``) in ``image``'s mode: colour stays colour,
    alpha is written back unchanged, an ``.npy`` batch keeps its array shape."""
    path = Path(path)
    planes = planes.detach().float().cpu()
    if path.suffix.lower() == ".npy":
        array = planes.numpy()
        if image.shape is not None and array.size == int(np.prod(image.shape)):
            _atomic(path, lambda tmp: np.save(tmp, array.reshape(image.shape)))
        else:
            _atomic(path, lambda tmp: np.save(tmp, array.squeeze()))
        return
    if image.mode in ("L", "array"):
        write_image(path, planes)
        return
    bands = [to_uint8(plane[0]) for plane in planes] + ([image.alpha] if image.alpha is not None else [])
    pixels = np.stack(bands, axis=-1)
    _save_picture(path, pixels, image.mode)


def _save_picture(path: Path, pixels: np.ndarray, mode: str) -> None:
    from PIL import Image

    try:
        _atomic(path, lambda tmp: Image.fromarray(pixels, mode=mode).save(tmp, format=_format(path)))
    except (KeyError, ValueError, OSError) as exc:
        raise ImageError(f"cannot write {path}: {' '.join(str(exc).split())}") from None


def _atomic(path: Path, write) -> None:
    with atomic_output(path, suffix=path.suffix) as tmp:
        write(tmp)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    return (images.detach().float().clamp(0, 1).cpu().numpy() * 255 + 0.5).astype(np.uint8)


def write_image(path: str | os.PathLike, image: torch.Tensor) -> None:
    """Write (N, 1, H, W) or (1, H, W) or (H, W) in [0, 1]: ``.npy`` keeps floats, else an 8-bit image."""
    path = Path(path)
    image = image.detach().float().cpu()
    while image.dim() > 2 and image.shape[0] == 1:
        image = image[0]
    if path.suffix.lower() == ".npy":
        _atomic(path, lambda tmp: np.save(tmp, image.numpy().squeeze()))
        return
    if image.dim() == 3:  # a batch: one row
        image = torch.cat(list(image.reshape(-1, *image.shape[-2:])), dim=1)
    _save_picture(path, to_uint8(image), "L")


def _format(path: Path) -> str:
    from PIL import Image

    ext = path.suffix.lower()
    formats = Image.registered_extensions()
    if ext not in formats:
        raise ImageError(f"unknown image extension '{ext}' for {path} (known: {', '.join(IMAGE_EXTENSIONS)})")
    return formats[ext]


def check_writable(path: str | os.PathLike) -> None:
    """Raise :class:`ImageError` unless ``path``'s extension names an image format that can be written."""
    path = Path(path)
    if path.suffix.lower() != ".npy":
        _format(path)


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
