"""Atomic outputs: write to a hidden temporary file next to the target, rename it into place on success.

A crash or a Ctrl-C never leaves a half-written output or checkpoint behind, and the old file (if any)
stays intact until the new one is complete. Files get the usual umask-derived permissions.

A temporary file is named ``.NAME.XXXXXXXX.tmp`` (``XXXXXXXX`` random hex; another suffix for writers
that need one). While it is being written its writer holds an OS lock on it, so the next writer of the
same output can tell the leftovers of a killed process (no lock) from a live writer's file and remove
them. The name's stem is shortened when needed so that a legal target name (up to 255 bytes) always
gets a legal temporary name.
"""

from __future__ import annotations

import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks, stale temporary files are left alone
    fcntl = None

NAME_MAX = 255  # bytes in one file name on the usual file systems
_TOKEN_HEX = 8
_held: dict[str, int] = {}  # temporary file -> the descriptor holding its lock


def _temp_stem(base: str, suffix: str) -> str:
    """``base``, cut (on a character boundary) so that ``.STEM.XXXXXXXX<suffix>`` fits in NAME_MAX bytes."""
    room = NAME_MAX - len(os.fsencode(f"..{'0' * _TOKEN_HEX}{suffix}"))
    encoded = os.fsencode(base)
    if len(encoded) <= room:
        return base
    return encoded[:room].decode("utf-8", "ignore") or "out"


def _temp_pattern(stem: str, suffix: str) -> re.Pattern[str]:
    return re.compile(re.escape(f".{stem}.") + f"[0-9a-f]{{{_TOKEN_HEX}}}" + re.escape(suffix))


def try_lock(fd: int, shared: bool = False) -> bool:
    """Take an OS lock on ``fd`` without waiting (exclusive, or shared); False if another process holds a
    conflicting one. Where there are no such locks (Windows) it always succeeds."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def remove_stale_temps(path: str | os.PathLike, suffix: str = ".tmp") -> list[str]:
    """Remove the temporary files of ``path`` that no live process is writing (a killed run's leftovers);
    returns their names."""
    if fcntl is None:
        return []
    folder, base = os.path.split(os.path.abspath(path))
    pattern = _temp_pattern(_temp_stem(base, suffix), suffix)
    try:
        names = [n for n in os.listdir(folder) if pattern.fullmatch(n)]
    except OSError:
        return []
    removed = []
    for name in names:
        tmp = os.path.join(folder, name)
        if tmp in _held:
            continue
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:
            continue
        try:
            if try_lock(fd):
                os.unlink(tmp)
                removed.append(tmp)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def reserve_temp(path: str | os.PathLike, suffix: str = ".tmp") -> str:
    """Create an empty hidden file next to ``path`` (mode 0o666 less the umask), locked until
    :func:`commit_temp` or :func:`discard_temp`, and return its name. Stale temporary files of ``path``
    left by a killed process are removed first."""
    folder, base = os.path.split(os.path.abspath(path))
    remove_stale_temps(path, suffix)
    stem = _temp_stem(base, suffix)
    while True:
        tmp = os.path.join(folder, f".{stem}.{secrets.token_hex(_TOKEN_HEX // 2)}{suffix}")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        try_lock(fd)
        _held[tmp] = fd
        return tmp


def _release(tmp: str | os.PathLike) -> None:
    fd = _held.pop(os.fspath(tmp), None)
    if fd is not None:
        os.close(fd)


def commit_temp(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Move a finished temporary file into place (atomic: readers see the old file or the new one)."""
    try:
        os.replace(tmp, path)
    finally:
        _release(tmp)


def discard_temp(tmp: str | os.PathLike) -> None:
    """Remove a temporary file that will not be committed (gone already is fine)."""
    try:
        Path(tmp).unlink(missing_ok=True)
    finally:
        _release(tmp)


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
