"""Audio corpora read from disk piece by piece: an index of the files' headers (cached between runs) and
mono spans at any sample rate read with seeking, so memory does not grow with the size of a corpus.

    index = AudioIndex.of(files)                         # rate, frames, channels of every file
    length = index.entries[0].frames_at(16000)           # frames after resampling to 16 kHz
    x = read_span(index.entries[0], 16000, start=8000, frames=32000)   # (T,) float32, mono

Headers are read once; the index is kept in the cache folder (``$SIGDAE_CACHE_DIR``, else
``$XDG_CACHE_HOME/sigdae``, else ``~/.cache/sigdae``, under ``index/``) for corpora of at least
:data:`CACHE_MIN_FILES` files, keyed by the list of paths. A file whose size or modification time
changed is read again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from sigdae import audio
from sigdae.fileio import atomic_write_text

CACHE_MIN_FILES = 64  # smaller corpora are indexed afresh each time: it takes milliseconds
_VERSION = 1


def cache_root() -> Path:
    """sigdae's folder for caches: ``$SIGDAE_CACHE_DIR``, ``$XDG_CACHE_HOME/sigdae`` or ``~/.cache/sigdae``."""
    if os.environ.get("SIGDAE_CACHE_DIR"):
        return Path(os.path.expanduser(os.environ["SIGDAE_CACHE_DIR"]))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sigdae"


@dataclass(frozen=True)
class IndexEntry:
    path: str
    sample_rate: int
    frames: int
    channels: int

    def frames_at(self, sample_rate: int) -> int:
        """The length after resampling to ``sample_rate`` (as :func:`sigdae.audio.resample` makes it)."""
        if sample_rate == self.sample_rate:
            return self.frames
        g = math.gcd(self.sample_rate, int(sample_rate))
        orig, new = self.sample_rate // g, int(sample_rate) // g
        return int(torch.ceil(torch.as_tensor(new * self.frames / orig)))  # torchaudio's own rounding


class AudioIndex:
    """The headers of a list of audio files, in the order given."""

    def __init__(self, entries: list[IndexEntry]):
        self.entries = entries

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def of(cls, files: Sequence[str | os.PathLike], cache_dir: str | os.PathLike | None = None) -> "AudioIndex":
        """Index ``files`` (headers only), reusing the cached index of the same list where files are unchanged.
        ``cache_dir`` replaces the default cache folder; caching is skipped for short lists."""
        paths = [os.path.abspath(os.fspath(f)) for f in files]
        store = None
        if len(paths) >= CACHE_MIN_FILES:
            folder = Path(os.path.expanduser(os.fspath(cache_dir))) if cache_dir else cache_root() / "index"
            store = folder / (hashlib.sha1("\n".join(paths).encode()).hexdigest() + ".json")
        known = _read_store(store) if store is not None else {}
        rows, entries, changed = [], [], False
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                raise audio.AudioError(f"cannot read audio file {path}: no such file") from None
            row = known.get(path)
            if row is None or row[1:3] != [st.st_mtime_ns, st.st_size]:
                i = audio.info(path)
                row, changed = [path, st.st_mtime_ns, st.st_size, i.sample_rate, i.frames, i.channels], True
            rows.append(row)
            entries.append(IndexEntry(path, int(row[3]), int(row[4]), int(row[5])))
        if store is not None and (changed or len(known) != len(rows)):
            _write_store(store, rows)
        return cls(entries)

    def frames_at(self, sample_rate: int) -> list[int]:
        return [e.frames_at(sample_rate) for e in self.entries]


def _read_store(store: Path) -> dict[str, list]:
    try:
        payload = json.loads(store.read_text())
        if payload.get("version") == _VERSION:
            return {row[0]: row for row in payload["files"]}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        pass  # missing or damaged: indexed again
    return {}


def _write_store(store: Path, rows: list[list]) -> None:
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(store, json.dumps({"version": _VERSION, "files": rows}))
    except OSError:
        pass  # a read-only cache only costs the header scan next time


def read_span(entry: IndexEntry, sample_rate: int, start: int, frames: int) -> torch.Tensor:
    """Samples ``[start, start + frames)`` of a file averaged to mono and resampled to ``sample_rate``
    (fewer at the end of the file), reading only that part of the file. With a different rate, a slightly
    longer span aligned to the resampler's period is resampled and cropped, so the result matches
    resampling the whole file up to rounding."""
    total = entry.frames_at(sample_rate)
    start, stop = max(0, int(start)), min(total, int(start) + int(frames))
    if stop <= start:
        return torch.zeros(0)
    if sample_rate == entry.sample_rate:
        return _mono(audio.read(entry.path, start, stop - start)[0])
    g = math.gcd(entry.sample_rate, int(sample_rate))
    orig, new = entry.sample_rate // g, int(sample_rate) // g
    # torchaudio's sinc kernel reaches about 6 zero crossings of the lower rate to each side
    reach = math.ceil(6 * orig / (0.99 * min(orig, new))) + orig
    first_block = max(0, (start * orig - reach * new) // (new * orig))  # in periods of `orig` input samples
    in_start = first_block * orig
    in_stop = min(entry.frames, -(-(stop * orig) // new) + reach)
    x = _mono(audio.read(entry.path, in_start, in_stop - in_start)[0])
    y = audio.resample(x, entry.sample_rate, sample_rate)
    out_start = first_block * new
    return y[start - out_start:stop - out_start].contiguous()


def _mono(x: torch.Tensor) -> torch.Tensor:
    return x.mean(0) if x.shape[0] > 1 else x[0]
