"""``sigdae denoise IN OUT``: files or folders, images or audio, written atomically, inputs untouched."""

from __future__ import annotations

import argparse
from pathlib import Path

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".npy"}


class DenoiseError(ValueError):
    """Bad input for ``sigdae denoise`` (one readable line)."""


def _pairs(src: Path, dst: Path, exts: set[str]) -> list[tuple[Path, Path]]:
    if src.is_dir():
        if dst.exists() and not dst.is_dir():
            raise DenoiseError(f"{src} is a folder, so OUT must be a folder too ({dst} is a file)")
        files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in exts)
        if not files:
            raise DenoiseError(f"no supported files in {src}")
        return [(f, dst / f.relative_to(src)) for f in files]
    if not src.exists():
        raise DenoiseError(f"no such file or folder: {src}")
    if dst.is_dir():
        raise DenoiseError(f"{src} is a file, so OUT must be a file ({dst} is a folder)")
    return [(src, dst)]


def _check_outputs(pairs: list[tuple[Path, Path]], overwrite: bool) -> None:
    for src, dst in pairs:
        if dst.resolve() == src.resolve():
            raise DenoiseError(f"output {dst} is the input: sigdae never overwrites its input")
        if dst.exists() and not overwrite:
            raise DenoiseError(f"{dst} exists (pass --overwrite to replace it)")


def run_denoise(args: argparse.Namespace) -> int:
    from sigdae.api import load_model

    if not 0.0 <= args.strength <= 1.0:
        raise DenoiseError(f"--strength must be in [0, 1], got {args.strength}")
    src, dst = Path(args.input), Path(args.output)
    if args.model is None:
        from sigdae.enhance import bundled_model_path

        model_path = bundled_model_path()
    else:
        model_path = args.model
    model = load_model(model_path, device=args.device)
    if model.signal == "image":
        pairs = _pairs(src, dst, IMAGE_EXTS)
        _check_outputs(pairs, args.overwrite)
        _denoise_images(model, pairs, args.strength)
    else:
        from sigdae.enhance import AUDIO_EXTS, denoise_files

        pairs = _pairs(src, dst, AUDIO_EXTS)
        _check_outputs(pairs, args.overwrite)
        denoise_files(model, pairs, strength=args.strength, show_progress=not args.quiet)
    if not args.quiet:
        print(f"denoised {len(pairs)} file{'s' if len(pairs) != 1 else ''} -> {dst}")
    return 0


def _denoise_images(model, pairs: list[tuple[Path, Path]], strength: float) -> None:
    from sigdae.images import read_image, write_image

    for src, dst in pairs:
        noisy = read_image(src)
        out = model.denoise(noisy)
        out = strength * out + (1 - strength) * noisy
        write_image(dst, out)
