"""Atomic outputs: write to a hidden temporary file next to the target, rename it into place on success.

A crash or a Ctrl-C never leaves a half-written output or checkpoint behind, and the old file (if any)
stays intact until the new one is complete. Files get the usual umask-derived permissions.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def reserve_temp(path: str | os.PathLike, suffix: str = ".tmp") -> str:
    """Create an empty hidden file next to ``path`` (mode 0o666 less the umask) and return its name."""
    folder, base = os.path.split(os.path.abspath(path))
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}{suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue


def commit_temp(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Move a finished temporary file into place (atomic: readers see the old file or the new one)."""
    os.replace(tmp, path)


def discard_temp(tmp: str | os.PathLike) -> None:
    """Remove a temporary file that will not be committed (gone already is fine)."""
    Path(tmp).unlink(missing_ok=True)


@contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """``with atomic_output("out.pt") as tmp: torch.save(obj, tmp)`` — ``out.pt`` appears only on success.

    ``suffix`` matters for writers that pick the format from the extension (``.png``, ``.npz``). Writers
    that stay open across calls (``audio.StreamWriter``) use :func:`reserve_temp`, :func:`commit_temp`
    and :func:`discard_temp` directly."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = reserve_temp(path, suffix)
    try:
        yield tmp
        commit_temp(tmp, path)
    except BaseException:
        discard_temp(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
