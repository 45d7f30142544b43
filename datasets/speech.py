"""Speech data: random clean segments for training, speaker-disjoint splits, and paired noisy/clean folders.

    from sigdae.datasets.speech import CleanSpeech, PairedFolders, split_by_speaker
    files = sigdae.audio.list_audio("LibriSpeech/train-clean-100")
    train_files, val_files = split_by_speaker(files, val_fraction=0.1, seed=0)
    train = CleanSpeech(files=train_files, segment_seconds=2.0, cache_dir="~/.cache/sigdae/speech")
    val = CleanSpeech(files=val_files, segment_seconds=2.0, deterministic=True)
    pairs = PairedFolders("valentini")          # root/clean/*.wav + root/noisy/*.wav -> (noisy, clean)

Items are float32 ``(1, T)`` (channels averaged). Noise is added later by corruptions, not here.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
from pathlib import Path
from typing import Sequence

import torch
from torch.utils.data import Dataset

from sigdae.errors import DataError
from sigdae import audio
from sigdae.audio_index import AudioIndex, read_span
from sigdae.fileio import atomic_output

_LIBRISPEECH = re.compile(r"^(\d+)-(\d+)-(\d+)$")  # <speaker>-<chapter>-<utterance>
_VOICEBANK = re.compile(r"^([ps]\d+)_\d+")  # p287_001 (VCTK / VoiceBank-DEMAND)
_FSDD = re.compile(r"^\d_([A-Za-z]+)_\d+$")  # <digit>_<speaker>_<take>


class SpeechDataError(DataError):
    """Speech data is missing, mismatched or configured wrongly (one readable line)."""


def speaker_of(path: str | os.PathLike) -> str:
    """The speaker of a recording, from LibriSpeech, VoiceBank/VCTK or FSDD file names, else the
    name of the folder that holds it."""
    path = os.fspath(path)
    stem = os.path.basename(path).split(".")[0]
    for pattern in (_LIBRISPEECH, _VOICEBANK, _FSDD):
        m = pattern.match(stem)
        if m:
            return m.group(1)
    return os.path.basename(os.path.dirname(path))


def split_by_speaker(files: Sequence[str | os.PathLike], val_fraction: float = 0.1,
                     seed: int = 0) -> tuple[list[str], list[str]]:
    """Split files into (train, val) with no speaker in both; about ``val_fraction`` of the files go to
    validation (whole speakers, chosen by a seeded shuffle; at least one speaker on each side)."""
    if not 0.0 <= val_fraction < 1.0:
        raise SpeechDataError(f"split_by_speaker: val_fraction={val_fraction} must be in [0, 1)")
    files = [os.fspath(f) for f in files]
    speaker = {f: speaker_of(f) for f in files}
    by_speaker: dict[str, list[str]] = {}
    for f in files:
        by_speaker.setdefault(speaker[f], []).append(f)
    if val_fraction == 0.0 or not files:
        return files, []
    if len(by_speaker) < 2:
        raise SpeechDataError(f"split_by_speaker: needs at least two speakers, found {len(by_speaker)} "
                              f"({', '.join(by_speaker) or 'no files'})")
    speakers = sorted(by_speaker)
    random.Random(seed).shuffle(speakers)
    target, chosen, count = val_fraction * len(files), set(), 0
    for spk in speakers[:-1]:
        if count >= target and chosen:
            break
        chosen.add(spk)
        count += len(by_speaker[spk])
    val = [f for f in files if speaker[f] in chosen]
    train = [f for f in files if speaker[f] not in chosen]
    return train, val


def _gather(dirs: str | os.PathLike | Sequence[str | os.PathLike] | None, files: Sequence | None,
            owner: str) -> list[str]:
    if files is not None:
        found = [os.fspath(f) for f in files]
    else:
        if dirs is None:
            raise SpeechDataError(f"{owner}: give dirs=... (folders of speech) or files=[...]")
        dirs = [dirs] if isinstance(dirs, (str, os.PathLike)) else list(dirs)
        found = []
        for d in dirs:
            try:
                found += audio.list_audio(d)
            except audio.AudioError as exc:
                raise SpeechDataError(f"{owner}: {exc}") from None
    if not found:
        raise SpeechDataError(f"{owner}: no audio files in {dirs if files is None else 'files=[]'}")
    return found


class DiskCache:
    """Decoded, resampled mono audio as ``.pt`` files keyed by path, mtime, size and sample rate."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(os.path.expanduser(os.fspath(folder)))
        self.folder.mkdir(parents=True, exist_ok=True)

    def key(self, path: str, sample_rate: int) -> Path:
        st = os.stat(path)
        ident = f"{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}|{sample_rate}"
        return self.folder / (hashlib.sha1(ident.encode()).hexdigest() + ".pt")

    def load(self, path: str, sample_rate: int) -> torch.Tensor:
        if not os.path.isfile(path):
            raise audio.AudioError(f"cannot read audio file {path}: no such file")
        entry = self.key(path, sample_rate)
        if entry.exists():
            try:
                return torch.load(entry, weights_only=True)
            except Exception:
                pass  # a damaged entry is rebuilt below
        x = audio.load(path, sample_rate, mono=True)[0].contiguous()
        with atomic_output(entry) as tmp:
            torch.save(x, tmp)
        return x


def _load(path: str, sample_rate: int, cache: DiskCache | None) -> torch.Tensor:
    if cache is not None:
        return cache.load(path, sample_rate)
    return audio.load(path, sample_rate, mono=True)[0].contiguous()


def _fit(x: torch.Tensor, start: int, frames: int, pad: str) -> torch.Tensor:
    """``frames`` samples of ``x`` from ``start``; a shorter ``x`` is zero-padded or looped."""
    if len(x) >= frames:
        return x[start:start + frames]
    if pad == "loop":
        return x[torch.arange(frames) % len(x)]
    return torch.nn.functional.pad(x, (0, frames - len(x)))


class CleanSpeech(Dataset):
    """Random fixed-length segments of clean speech from folders (or a file list), as ``(1, T)`` tensors.

    A corpus whose audio fits in ``cache_mb`` megabytes (float32 at ``sample_rate``, from the files'
    headers; ``None``: no limit) is decoded once, averaged to mono, resampled and kept in memory; with
    ``cache_dir`` the decoded audio is also stored as ``.pt`` files (keyed by path, mtime and rate) so later
    runs skip decoding. A larger corpus is streamed: only its index (path, rate, frames, channels; cached,
    see :mod:`sigdae.audio_index`) is held, and each segment is read from disk with seeking and resampled
    on its own (``streaming`` says which). Both give the same segments for the same random draws.

    An epoch is ``segments_per_epoch`` segments (default: the total duration divided by the segment
    length). Files are picked in proportion to their length and cropped at a random offset (torch's global
    RNG, which DataLoader seeds per worker). Files shorter than a segment are zero-padded (``pad="zeros"``)
    or looped (``pad="loop"``). With ``deterministic=True`` (validation) item ``i`` is always the same
    segment, drawn once from ``seed``.
    """

    def __init__(self, dirs=None, sample_rate: int = 16000, segment_seconds: float = 2.0,
                 files: Sequence[str | os.PathLike] | None = None, segments_per_epoch: int | None = None,
                 deterministic: bool = False, seed: int = 0, cache_dir: str | os.PathLike | None = None,
                 pad: str = "zeros", cache_mb: float | None = None, index_dir: str | os.PathLike | None = None):
        if int(sample_rate) != sample_rate or sample_rate <= 0:
            raise SpeechDataError(f"CleanSpeech: sample_rate={sample_rate} must be a positive integer")
        if not segment_seconds or segment_seconds <= 0:
            raise SpeechDataError(f"CleanSpeech: segment_seconds={segment_seconds} must be positive")
        if pad not in ("zeros", "loop"):
            raise SpeechDataError(f"CleanSpeech: pad={pad!r} must be 'zeros' or 'loop'")
        if cache_mb is not None and not cache_mb >= 0:
            raise SpeechDataError(f"CleanSpeech: cache_mb={cache_mb} must be at least 0")
        self.files = _gather(dirs, files, "CleanSpeech")
        self.sample_rate, self.pad = int(sample_rate), pad
        self.segment = max(1, int(round(segment_seconds * sample_rate)))
        self.index: AudioIndex | None = None
        self.audio: list[torch.Tensor] | None = None
        if cache_mb is not None:
            self.index = AudioIndex.of(self.files, index_dir)
            lengths = self.index.frames_at(self.sample_rate)
        self.streaming = cache_mb is not None and 4 * sum(lengths) > cache_mb * 2 ** 20
        if not self.streaming:
            cache = DiskCache(cache_dir) if cache_dir is not None else None
            self.audio = [_load(f, self.sample_rate, cache) for f in self.files]
            lengths = [len(x) for x in self.audio]
        empty = [f for f, n in zip(self.files, lengths) if n == 0]
        if empty:
            raise SpeechDataError(f"CleanSpeech: {empty[0]} has no samples")
        self.lengths = torch.tensor(lengths, dtype=torch.long)
        total = int(self.lengths.sum())
        if segments_per_epoch is not None and (int(segments_per_epoch) != segments_per_epoch or segments_per_epoch <= 0):
            raise SpeechDataError(f"CleanSpeech: segments_per_epoch={segments_per_epoch} must be a positive integer")
        self.segments_per_epoch = int(segments_per_epoch or max(1, total // self.segment))
        self.weights = self.lengths.clamp_min(self.segment).double()
        self.deterministic = deterministic
        self.fixed: list[tuple[int, int]] | None = None
        if deterministic:
            g = torch.Generator().manual_seed(seed)
            which = torch.multinomial(self.weights, self.segments_per_epoch, replacement=True, generator=g)
            u = torch.rand(self.segments_per_epoch, generator=g, dtype=torch.float64)
            self.fixed = [(int(i), self._offset(int(i), float(v))) for i, v in zip(which, u)]

    @property
    def duration(self) -> float:
        """Seconds of audio in the corpus."""
        return float(self.lengths.sum()) / self.sample_rate

    def _offset(self, index: int, u: float) -> int:
        room = int(self.lengths[index]) - self.segment
        return min(room, int(u * (room + 1))) if room > 0 else 0

    def __len__(self) -> int:
        return self.segments_per_epoch

    def segment_at(self, file_index: int, offset: int) -> torch.Tensor:
        """The segment of file ``file_index`` that starts at ``offset``: ``(1, T)``."""
        if self.audio is not None:
            return _fit(self.audio[file_index], offset, self.segment, self.pad).unsqueeze(0).clone()
        assert self.index is not None
        entry = self.index.entries[file_index]
        if int(self.lengths[file_index]) < self.segment:
            offset = 0  # a short file is read whole, then padded or looped
        x = read_span(entry, self.sample_rate, offset, self.segment)
        return _fit(x, 0, self.segment, self.pad).unsqueeze(0)

    def __getitem__(self, i: int) -> torch.Tensor:
        if not -len(self) <= i < len(self):
            raise IndexError(f"CleanSpeech: index {i} out of range for {len(self)} segments")
        if self.fixed is not None:
            return self.segment_at(*self.fixed[i])
        index = int(torch.multinomial(self.weights, 1))
        return self.segment_at(index, self._offset(index, float(torch.rand((), dtype=torch.float64))))


class PairedFolders(Dataset):
    """Noisy/clean pairs laid out like VoiceBank-DEMAND: ``root/clean/NAME`` and ``root/noisy/NAME``.

    Files pair by stem, so the two sides may differ in format (``clean/x.wav`` with ``noisy/x.flac``).
    Items are ``(noisy, clean)``, each ``(1, T)`` at ``sample_rate`` (mono): whole files (cropped to the
    shorter of the two) or, with ``segment_seconds``, aligned random segments (zero-padded if the file is
    short; fixed per index with ``deterministic=True``). Files are read on access; ``cache=True`` keeps
    them in memory after the first read. ``names`` are the clean files' names.
    """

    def __init__(self, root: str | os.PathLike, sample_rate: int = 16000, segment_seconds: float | None = None,
                 deterministic: bool = False, seed: int = 0, cache: bool = False):
        self.root = Path(os.fspath(root))
        dirs = {side: self.root / side for side in ("clean", "noisy")}
        missing = [str(d) for d in dirs.values() if not d.is_dir()]
        if missing:
            raise SpeechDataError(f"PairedFolders: missing folder {' and '.join(missing)} "
                                  f"(expected {self.root}/clean and {self.root}/noisy)")
        by_stem = {side: _by_stem(self.root, side, audio.list_audio(d, recursive=False)) for side, d in dirs.items()}
        alone = {side: sorted(by_stem[side][stem] for stem in by_stem[side].keys() - by_stem[other].keys())
                 for side, other in (("clean", "noisy"), ("noisy", "clean"))}
        if alone["clean"] or alone["noisy"]:
            parts = [f"noisy/ lacks {_few(alone['clean'])}" if alone["clean"] else "",
                     f"clean/ lacks {_few(alone['noisy'])}" if alone["noisy"] else ""]
            raise SpeechDataError(f"PairedFolders {self.root}: unpaired files: {'; '.join(p for p in parts if p)}")
        stems = sorted(by_stem["clean"], key=lambda stem: by_stem["clean"][stem])
        self.names = [by_stem["clean"][stem] for stem in stems]
        self.noisy_names = [by_stem["noisy"][stem] for stem in stems]
        if not self.names:
            raise SpeechDataError(f"PairedFolders {self.root}: no audio files in clean/ and noisy/")
        if segment_seconds is not None and segment_seconds <= 0:
            raise SpeechDataError(f"PairedFolders: segment_seconds={segment_seconds} must be positive")
        self.sample_rate = int(sample_rate)
        self.segment = None if segment_seconds is None else max(1, int(round(segment_seconds * sample_rate)))
        self.deterministic, self.seed = deterministic, seed
        self._cache: dict[int, tuple[torch.Tensor, torch.Tensor]] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.names)

    def pair(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole ``(noisy, clean)`` pair ``i``, cropped to the same length: ``(1, T)`` each."""
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        noisy = audio.load(self.root / "noisy" / self.noisy_names[i], self.sample_rate, mono=True)
        clean = audio.load(self.root / "clean" / self.names[i], self.sample_rate, mono=True)
        frames = min(noisy.shape[-1], clean.shape[-1])
        out = (noisy[:, :frames].contiguous(), clean[:, :frames].contiguous())
        if self._cache is not None:
            self._cache[i] = out
        return out

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"PairedFolders: index {i} out of range for {len(self)} pairs")
        i = i % len(self)
        noisy, clean = self.pair(i)
        if self.segment is None:
            return noisy, clean
        room = noisy.shape[-1] - self.segment
        if room <= 0:
            return (_fit(noisy[0], 0, self.segment, "zeros")[None], _fit(clean[0], 0, self.segment, "zeros")[None])
        if self.deterministic:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
            start = int(torch.randint(room + 1, (), generator=g))
        else:
            start = int(torch.randint(room + 1, ()))
        return noisy[:, start:start + self.segment].clone(), clean[:, start:start + self.segment].clone()


def _by_stem(root: Path, side: str, files: list[str]) -> dict[str, str]:
    """{stem: file name} of one side; two files with one stem (``x.wav`` and ``x.flac``) are ambiguous."""
    found: dict[str, str] = {}
    for f in files:
        name = Path(f).name
        stem = Path(name).stem
        if stem in found:
            raise SpeechDataError(f"PairedFolders {root}: {side}/ holds both {found[stem]} and {name}: "
                                  "pairs match by name without extension, so keep one of them")
        found[stem] = name
    return found


def _few(names: list[str], k: int = 5) -> str:
    return ", ".join(names[:k]) + (f" and {len(names) - k} more" if len(names) > k else "")
