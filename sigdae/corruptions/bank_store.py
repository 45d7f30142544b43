"""Banks of recordings kept on disk between runs, so that a run on a large corpus starts in seconds.

A folder of at least :data:`~sigdae.audio_index.CACHE_MIN_FILES` recordings takes seconds to load into a
bank (hundreds of files decoded and resampled); the bank is then saved under the cache folder
(``banks/`` beside ``index/``, see :func:`sigdae.audio_index.cache_root`), keyed by the files' paths,
sizes and modification times, the rate, the kind and the size limit. A later run memory-maps it: the same
samples, read from the page cache as they are used, shared between data-loader workers. A file that
changes, appears or goes makes a new key; a damaged or unreadable store is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from sigdae import audio_index
from sigdae.fileio import atomic_output

_VERSION = 1


def store_path(files: list[str], sample_rate: int, kind: str, limit_mb: float) -> Path | None:
    """Where the bank of these files is kept, or None for a folder too small to be worth it."""
    if len(files) < audio_index.CACHE_MIN_FILES:
        return None
    rows = []
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            return None
        rows.append([path, st.st_mtime_ns, st.st_size])
    key = json.dumps([_VERSION, int(sample_rate), kind, float(limit_mb), rows])
    return audio_index.cache_root() / "banks" / (hashlib.sha1(key.encode()).hexdigest() + ".pt")


def load(store: Path | None) -> tuple[list[str], torch.Tensor, torch.Tensor] | None:
    """(names, lengths, data) of a stored bank, memory-mapped; None if there is none or it is damaged."""
    if store is None or not store.is_file():
        return None
    try:
        payload = torch.load(store, mmap=True, weights_only=True)
        names, lengths, data = payload["names"], payload["lengths"], payload["data"]
        if len(names) != len(lengths) or int(lengths.sum()) != data.numel():
            return None
        return list(names), lengths, data
    except Exception:  # damaged, truncated or from another torch: built again
        return None


def save(store: Path | None, names: list[str], lengths: torch.Tensor, data: torch.Tensor) -> None:
    if store is None:
        return
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(store) as tmp:
            torch.save({"names": names, "lengths": lengths, "data": data}, tmp)
    except OSError:
        pass  # a read-only or full cache only costs the loading next time
