"""Denoise a file or a folder of files (images with an image model, audio with a speech model).

Outputs are written atomically and never over an input; a folder keeps its subfolders.
"""

from __future__ import annotations

import os
from pathlib import Path

from sigdae.api import LoadedModel, load_model
from sigdae.audio import AUDIO_EXTENSIONS
from sigdae.errors import DataError

IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".npy"})


class DenoiseError(DataError):
    """Bad input for denoising a path (one readable line)."""


def _kind(path: Path) -> str | None:
    ext = path.suffix.lower()
    return "image" if ext in IMAGE_EXTS else "audio" if ext in AUDIO_EXTENSIONS else None


def _mismatch(model: LoadedModel, input_is: str) -> DenoiseError:
    if model.signal == "image":
        return DenoiseError(f"{model.path} is an image model, but {input_is}: denoise audio with a speech model "
                            "(sigdae's bundled one when no model is given)")
    return DenoiseError(f"{model.path} is a speech model, but {input_is}: denoise images with an image model "
                        "(an MNIST run, for example)")


def _pairs(model: LoadedModel, src: Path, dst: Path) -> list[tuple[Path, Path]]:
    wanted = "image" if model.signal == "image" else "audio"
    if src.is_dir():
        if dst.exists() and not dst.is_dir():
            raise DenoiseError(f"{src} is a folder, so OUT must be a folder too ({dst} is a file)")
        kinds = {f: _kind(f) for f in sorted(src.rglob("*")) if f.is_file()}
        files = [f for f, kind in kinds.items() if kind == wanted]
        if not files:
            if "audio" in kinds.values() and wanted == "image":
                raise _mismatch(model, f"{src} holds audio files and no images")
            if "image" in kinds.values() and wanted == "audio":
                raise _mismatch(model, f"{src} holds images and no audio files")
            raise DenoiseError(f"no supported files in {src}")
        return [(f, dst / f.relative_to(src)) for f in files]
    if not src.exists():
        raise DenoiseError(f"no such file or folder: {src}")
    if dst.is_dir():
        raise DenoiseError(f"{src} is a file, so OUT must be a file ({dst} is a folder)")
    kind = _kind(src)
    if kind is not None and kind != wanted:
        raise _mismatch(model, f"{src} is {'an image' if kind == 'image' else 'audio'}")
    return [(src, dst)]


def _check_outputs(pairs: list[tuple[Path, Path]], overwrite: bool) -> None:
    for src, dst in pairs:
        if dst.resolve() == src.resolve():
            raise DenoiseError(f"output {dst} is the input: sigdae never overwrites its input")
        if dst.exists() and not overwrite:
            raise DenoiseError(f"{dst} exists (pass --overwrite to replace it)")


def _denoise_images(model: LoadedModel, pairs: list[tuple[Path, Path]], strength: float) -> None:
    from sigdae.images import read_image, write_image

    for src, dst in pairs:
        noisy = read_image(src)
        out = model.denoise(noisy)
        out = strength * out + (1 - strength) * noisy
        write_image(dst, out)


def denoise_path(src: str | os.PathLike, dst: str | os.PathLike, model: LoadedModel | str | os.PathLike | None = None,
                 *, strength: float = 1.0, device: str = "auto", overwrite: bool = False,
                 progress: bool = False) -> list[tuple[Path, Path]]:
    """Denoise the file ``src`` into the file ``dst``, or every supported file under the folder ``src`` into
    the same place under the folder ``dst``.

    ``model`` is a loaded model, a run directory or checkpoint, or None for the bundled speech model;
    ``strength`` (0..1) blends the denoised signal with the input; existing outputs are refused unless
    ``overwrite``; ``progress`` shows a progress bar over audio on a terminal. Returns the (input, output)
    pairs written.
    """
    if not 0.0 <= strength <= 1.0:
        raise DenoiseError(f"strength must be in [0, 1], got {strength}")
    if not isinstance(model, LoadedModel):
        if model is None:
            from sigdae.enhance import bundled_model_path

            model = bundled_model_path()
        model = load_model(model, device=device)
    pairs = _pairs(model, Path(src), Path(dst))
    _check_outputs(pairs, overwrite)
    if model.signal == "image":
        _denoise_images(model, pairs, strength)
    else:
        from sigdae.enhance import denoise_files

        denoise_files(model, pairs, strength=strength, show_progress=progress)
    return pairs
