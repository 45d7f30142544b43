"""Which files a ``denoise IN OUT`` reads and where each output goes, decided before anything is written.

* IN a file: OUT is a file, or a folder (an existing one, or a name ending in ``/``) that gets IN's name.
* IN a folder: OUT is a folder; every supported file below IN is an input (hidden files and folders are
  skipped, and so is OUT itself when it lies inside IN, so outputs are never denoised again); each output
  keeps the input's path relative to IN.
* Inputs are never outputs. An existing output is refused for a file (unless ``overwrite``) and skipped
  in a folder (finished by an earlier run) unless ``overwrite``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sigdae.audio import AUDIO_EXTENSIONS
from sigdae.errors import DataError
from sigdae.images import IMAGE_EXTENSIONS


STDIO = "-"  # IN or OUT: standard input or output


class DenoiseError(DataError):
    """Bad input for denoising a path (one readable line)."""


@dataclass
class Plan:
    """The (input, output) pairs to denoise, and those skipped because their output exists."""

    folder: bool
    todo: list[tuple[Path, Path]] = field(default_factory=list)
    skipped: list[tuple[Path, Path]] = field(default_factory=list)


def kind_of(path: Path) -> str | None:
    """``"image"``, ``"audio"`` or None, from the extension."""
    ext = path.suffix.lower()
    return "image" if ext in IMAGE_EXTENSIONS else "audio" if ext in AUDIO_EXTENSIONS else None


def mismatch(model_path: str, model_signal: str, input_is: str) -> DenoiseError:
    if model_signal == "image":
        return DenoiseError(f"{model_path} is an image model, but {input_is}: denoise audio with a speech model "
                            "(sigdae's bundled one when no model is given)")
    return DenoiseError(f"{model_path} is a speech model, but {input_is}: denoise images with an image model "
                        "(an MNIST run, for example)")


def _names_a_folder(text: str) -> bool:
    return text.endswith(("/", os.sep))


def _same(a: Path, b: Path) -> bool:
    return _resolved(a) == _resolved(b)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # RuntimeError: a symbolic link loop (before Python 3.13)
        raise DataError(f"{path} is a symbolic link that leads back to itself") from None


def _inside(path: Path, folder: Path) -> bool:
    try:
        _resolved(path).relative_to(_resolved(folder))
        return True
    except ValueError:
        return False


def _folder_inputs(src: Path, dst: Path) -> list[Path]:
    """Files below ``src``, sorted, without hidden ones and without anything below ``dst``."""
    excluded = dst.resolve() if _inside(dst, src) else None
    found = []
    for root, dirs, files in os.walk(src, followlinks=False):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and (excluded is None or (here / d).resolve() != excluded))
        found += [here / f for f in files if not f.startswith(".") and (here / f).is_file()]
    return sorted(found)


def plan(model_path: str, model_signal: str, src: str | os.PathLike, dst: str | os.PathLike,
         overwrite: bool = False) -> Plan:
    """Decide the (input, output) pairs of ``denoise src dst`` for a model of ``model_signal``
    (``"image"``, or audio for anything else); raises :class:`DenoiseError` for what cannot work."""
    wanted = "image" if model_signal == "image" else "audio"
    dst_text, src, dst = os.fspath(dst), Path(src), Path(dst)
    if src.is_dir():
        pairs = _folder_pairs(model_path, model_signal, wanted, src, dst, dst_text)
        result = Plan(folder=True)
        for pair in pairs:
            (result.skipped if pair[1].exists() and not overwrite else result.todo).append(pair)
        return result
    if not src.exists():
        raise DenoiseError(f"no such file or folder: {src}")
    if dst.is_dir() or _names_a_folder(dst_text):
        dst = dst / src.name
    kind = kind_of(src)
    if kind is not None and kind != wanted:
        raise mismatch(model_path, model_signal, f"{src} is {'an image' if kind == 'image' else 'audio'}")
    if _same(dst, src):
        raise DenoiseError(f"output {dst} is the input: sigdae never overwrites its input")
    if dst.is_dir():
        raise DenoiseError(f"{dst} is a folder: name the output file, or a folder without {src.name} in it")
    if dst.exists() and not overwrite:
        raise DenoiseError(f"{dst} exists (pass --overwrite to replace it)")
    return Plan(folder=False, todo=[(src, dst)])


def _folder_pairs(model_path: str, model_signal: str, wanted: str, src: Path, dst: Path,
                  dst_text: str) -> list[tuple[Path, Path]]:
    if dst.exists() and not dst.is_dir():
        raise DenoiseError(f"{src} is a folder, so OUT must be a folder too ({dst} is a file)")
    if not dst.exists() and kind_of(dst) is not None and not _names_a_folder(dst_text):
        raise DenoiseError(f"{src} is a folder, so OUT must be a folder too ({dst} looks like a file name; "
                           f"write {dst_text.rstrip('/' + os.sep)}/ to make a folder of that name)")
    if _same(dst, src):
        raise DenoiseError(f"OUT {dst} is IN: sigdae never overwrites its input (choose another folder)")
    kinds = {f: kind_of(f) for f in _folder_inputs(src, dst)}
    files = [f for f, kind in kinds.items() if kind == wanted]
    if not files:
        if "audio" in kinds.values() and wanted == "image":
            raise mismatch(model_path, model_signal, f"{src} holds audio files and no images")
        if "image" in kinds.values() and wanted == "audio":
            raise mismatch(model_path, model_signal, f"{src} holds images and no audio files")
        raise DenoiseError(f"no supported files in {src}")
    return [(f, dst / f.relative_to(src)) for f in files]
