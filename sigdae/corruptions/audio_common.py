"""Shared pieces of the audio corruptions: waveform shapes, per-sample power and SNR scaling, and
in-memory banks of recordings (noise, speech, room impulse responses) loaded once per folder and rate,
up to a size limit per folder."""

from __future__ import annotations

import math
import os
import random
import threading
from typing import Callable

import torch

from sigdae import audio
from sigdae.audio_index import AudioIndex, IndexEntry, read_span
from sigdae.corruptions import bank_store
from sigdae.corruptions.base import Corruption, CorruptionError

WAVEFORM = frozenset({"waveform"})
EPS = 1e-12


def as_nct(c: Corruption, x: torch.Tensor) -> torch.Tensor:
    """A ``(N, C, T)`` view of a ``(N, T)`` or ``(N, C, T)`` batch (CorruptionError otherwise)."""
    if x.dim() == 2:
        x = x.unsqueeze(1)
    if x.dim() != 3 or x.shape[-1] < 1:
        raise CorruptionError(f"{c.name}: expects waveforms shaped (N, T) or (N, C, T), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise CorruptionError(f"{c.name}: expects a floating-point waveform, got {x.dtype}")
    return x


def per_sample(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``(N,)`` values shaped to broadcast against ``x`` ``(N, ...)``."""
    return values.to(device=x.device, dtype=x.dtype).view(-1, *([1] * (x.dim() - 1)))


def power(x: torch.Tensor) -> torch.Tensor:
    """Mean square per sample over every channel and time step: ``(N,)``."""
    return x.pow(2).flatten(1).mean(1)


def add_at_snr(x: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
    """``x + g * noise`` with ``g`` per sample such that ``power(x) / power(g * noise) = 10^(snr/10)``.

    ``noise`` broadcasts against ``x`` (e.g. ``(N, 1, T)`` for one noise shared by all channels); its
    power is measured after broadcasting. A silent clean sample gets no noise.
    """
    noise = noise.expand_as(x).to(x.dtype)
    ratio = 10.0 ** (snr_db.to(device=x.device, dtype=torch.float64) / 10.0)
    gain = (power(x).double() / (power(noise).double().clamp_min(EPS) * ratio)).sqrt()
    return x + per_sample(gain, x) * noise


def normalize_power(x: torch.Tensor, dims: int = 1) -> torch.Tensor:
    """Scale so the mean square over the last ``dims`` axes is 1 (silent parts stay silent)."""
    p = x.pow(2).mean(dim=tuple(range(-dims, 0)), keepdim=True)
    return x / p.clamp_min(EPS).sqrt()


MAX_EVENTS = 6  # most noise events in one sample when recordings are gated into short events


def event_envelope(starts: torch.Tensor, lengths: torch.Tensor, active: torch.Tensor, frames: int,
                   ramp: int) -> torch.Tensor:
    """On/off envelopes ``(N, frames)`` in [0, 1]: the union of events ``(N, K)`` that start at sample
    ``starts`` and last ``lengths`` samples (where ``active``), each faded in and out over ``ramp``
    samples so an event's edges are sharp but not clicks."""
    t = torch.arange(frames, device=starts.device, dtype=torch.float32).view(1, 1, -1)
    start, length = starts.float().unsqueeze(-1), lengths.float().unsqueeze(-1)
    rise = ((t - start + 1) / ramp).clamp(0, 1)
    fall = ((start + length - t) / ramp).clamp(0, 1)
    return (rise * fall * active.float().unsqueeze(-1)).amax(dim=1)


EQ_TERMS = 4  # cosine terms of a random EQ curve: a few broad bumps and tilts, no narrow notches


def eq_curves(coeffs: torch.Tensor, peak_db: torch.Tensor, bins: int) -> torch.Tensor:
    """Smooth random EQ curves in dB over ``bins`` rFFT bins, ``(N, bins)``: a cosine series in
    frequency with coefficients ``coeffs`` ``(N, K)``, centred to zero mean and scaled so that its
    largest deviation is ``peak_db`` ``(N,)``. Over ``bins`` time steps the same curves are slow
    random level envelopes."""
    f = torch.linspace(0.0, math.pi, bins, device=coeffs.device)
    k = torch.arange(1, coeffs.shape[1] + 1, device=coeffs.device, dtype=f.dtype)
    curve = coeffs.float() @ torch.cos(k.unsqueeze(1) * f)
    curve = curve - curve.mean(dim=1, keepdim=True)
    return curve * (peak_db.float() / curve.abs().amax(dim=1).clamp_min(1e-6)).unsqueeze(1)


def apply_eq(x: torch.Tensor, gain_db: torch.Tensor) -> torch.Tensor:
    """Filter ``(N, C, T)`` waveforms by per-sample gain curves ``(N, T // 2 + 1)`` in dB (FFT domain)."""
    spec = torch.fft.rfft(x.float(), dim=-1)
    gain = 10.0 ** (gain_db.to(x.device) / 20.0)
    return torch.fft.irfft(spec * gain.unsqueeze(1), n=x.shape[-1], dim=-1).to(x.dtype)


# ---- banks of recordings -----------------------------------------------------------------------------
class Bank:
    """Recordings from one folder at one rate, concatenated in one flat tensor.

    Entry ``i`` is ``data[starts[i] : starts[i] + lengths[i]]``. Files with several channels are either
    averaged (noise, speech) or split into one entry per channel (impulse responses).
    """

    def __init__(self, folder: str, names: list[str], pieces: list[torch.Tensor]):
        self._set(folder, names, torch.tensor([len(p) for p in pieces], dtype=torch.long),
                  torch.cat(pieces) if pieces else torch.zeros(0))

    @classmethod
    def flat(cls, folder: str, names: list[str], lengths: torch.Tensor, data: torch.Tensor) -> "Bank":
        """A bank from its entries' lengths and their samples one after the other (as stored on disk)."""
        made = cls.__new__(cls)
        made._set(folder, names, lengths, data)
        return made

    def _set(self, folder: str, names: list[str], lengths: torch.Tensor, data: torch.Tensor) -> None:
        self.folder, self.names, self.lengths, self.data = folder, names, lengths, data
        self.starts = torch.cumsum(self.lengths, 0) - self.lengths
        self._on: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.names)

    def on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(data, starts, lengths)`` on a device (copied once per device)."""
        key = str(device)
        if key not in self._on:
            self._on[key] = (self.data.to(device), self.starts.to(device), self.lengths.to(device))
        return self._on[key]

    def crops(self, index: torch.Tensor, offset: torch.Tensor, frames: int, device: torch.device,
              speed: torch.Tensor | None = None) -> torch.Tensor:
        """Crops of ``frames`` samples starting at ``offset`` in entries ``index`` (any equal shapes),
        looping entries shorter than the crop. Returns ``index.shape + (frames,)``.

        ``speed`` (broadcasting against ``index``) plays each entry faster (> 1) or slower (< 1), tempo and
        pitch together, by linear interpolation between neighbouring samples."""
        data, starts, lengths = self.on(device)
        index, offset = index.to(device), offset.to(device)
        length = lengths[index].unsqueeze(-1)
        start = starts[index].unsqueeze(-1)
        if speed is None:
            pos = (offset.unsqueeze(-1) + torch.arange(frames, device=device)) % length
            return data[start + pos]
        t = torch.arange(frames, device=device, dtype=torch.float64)
        exact = offset.unsqueeze(-1) + t * speed.to(device, torch.float64).expand(index.shape).unsqueeze(-1)
        below = exact.floor()
        frac = (exact - below).to(data.dtype)
        below = below.long()
        return torch.lerp(data[start + below % length], data[start + (below + 1) % length], frac)

    def heads(self, index: torch.Tensor, frames: int, device: torch.device) -> torch.Tensor:
        """The first ``frames`` samples of entries ``index`` (zero-padded, no looping): ``(..., frames)``."""
        data, starts, lengths = self.on(device)
        index = index.to(device)
        t = torch.arange(frames, device=device)
        inside = t < lengths[index].unsqueeze(-1)
        pos = starts[index].unsqueeze(-1) + torch.minimum(t, (lengths[index] - 1).unsqueeze(-1))
        return torch.where(inside, data[pos], torch.zeros((), device=device, dtype=data.dtype))

    def offsets(self, c: Corruption, index: torch.Tensor, generator, x: torch.Tensor) -> torch.Tensor:
        """A uniformly random start position inside each chosen entry (same shape as ``index``)."""
        length = self.lengths.to(x.device)[index.to(x.device)]
        u = c.rand(tuple(index.shape), generator, x)
        return (u * length).long().minimum(length - 1)


_BANKS: dict[tuple[str, int, str, float], Bank] = {}
_LOCK = threading.Lock()
# Most megabytes (float32) of one folder held in a bank; a larger folder is held as excerpts.
BANK_LIMIT_MB = 256.0
_limit_mb = BANK_LIMIT_MB
MIN_EXCERPT_SECONDS = 5.0


def limit_banks(megabytes: float) -> None:
    """Hold at most ``megabytes`` of each folder loaded from now on (see :func:`bank`)."""
    global _limit_mb
    if isinstance(megabytes, bool) or not isinstance(megabytes, (int, float)) or not megabytes > 0:
        raise CorruptionError(f"the size limit of a folder of recordings must be a positive number of MB, "
                              f"not {megabytes!r}")
    _limit_mb = float(megabytes)


def _mono(x: torch.Tensor) -> list[torch.Tensor]:
    return [x.mean(0)]


def _rir_channels(x: torch.Tensor) -> list[torch.Tensor]:
    """Each channel of an impulse response, starting at its direct-path peak (largest magnitude)."""
    out = []
    for ch in x:
        if ch.abs().max() > 0:
            out.append(ch[int(ch.abs().argmax()):].clone())
    return out


_PREPARE: dict[str, Callable[[torch.Tensor], list[torch.Tensor]]] = {"mono": _mono, "rir": _rir_channels}


def _excerpts(entries: list[IndexEntry], sample_rate: int, budget: int) -> list[torch.Tensor]:
    """Mono excerpts of a folder too large for memory, ``budget`` samples in all: every recording
    contributes an equal share (at least :data:`MIN_EXCERPT_SECONDS`; then only some recordings do, in a
    fixed shuffled order) from a fixed random position."""
    rng = random.Random(0)
    order = list(range(len(entries)))
    rng.shuffle(order)
    share = max(budget // len(entries), int(MIN_EXCERPT_SECONDS * sample_rate))
    pieces: list[torch.Tensor] = []
    for i in order:
        if budget <= 0:
            break
        length = entries[i].frames_at(sample_rate)
        frames = min(share, length, budget)
        start = rng.randrange(length - frames + 1) if length > frames else 0
        pieces.append(read_span(entries[i], sample_rate, start, frames))
        budget -= frames
    return pieces


def bank(c: Corruption, folder: str, sample_rate: int, kind: str = "mono") -> Bank:
    """The bank for ``folder`` at ``sample_rate`` (loaded, resampled and cached on first use). A folder
    whose recordings exceed the size limit (:func:`limit_banks`, default :data:`BANK_LIMIT_MB`) is held as
    excerpts of its recordings (noise, speech) or as the recordings that fit (impulse responses)."""
    key = (os.path.abspath(os.path.expanduser(folder)), int(sample_rate), kind, _limit_mb)
    with _LOCK:
        if key in _BANKS:
            return _BANKS[key]
        try:
            files = audio.list_audio(key[0])
        except audio.AudioError as exc:
            raise CorruptionError(f"{c.name}: {exc}") from None
        store = bank_store.store_path(files, sample_rate, kind, key[3])
        stored = bank_store.load(store)
        if stored is not None:
            _BANKS[key] = Bank.flat(key[0], *stored)
            return _BANKS[key]
        entries = AudioIndex.of(files).entries
        budget = int(key[3] * 2 ** 20 / 4)
        total = sum(e.frames_at(sample_rate) * (e.channels if kind == "rir" else 1) for e in entries)
        names, pieces = [], []
        if total > budget and kind == "mono":
            loaded = [(e.path, [p]) for e, p in zip(entries, _excerpts(entries, sample_rate, budget))]
        else:
            loaded = ((path, _PREPARE[kind](audio.load(path, sample_rate))) for path in files)
        for path, prepared in loaded:
            for piece in prepared:
                if total > budget and kind != "mono" and sum(map(len, pieces)) + len(piece) > budget:
                    continue
                if piece.numel() > 0 and bool(piece.abs().max() > 0):
                    names.append(path)
                    pieces.append(piece.float())
        if not pieces:
            raise CorruptionError(f"{c.name}: no usable (non-silent) audio files in {folder}")
        _BANKS[key] = Bank(key[0], names, pieces)
        bank_store.save(store, names, _BANKS[key].lengths, _BANKS[key].data)
        return _BANKS[key]


def clear_banks() -> None:
    """Forget every cached folder (e.g. after its files changed)."""
    with _LOCK:
        _BANKS.clear()


def need_dir(c: Corruption) -> None:
    folder = c.config.get("dir")
    if not folder:
        raise CorruptionError(f"{c.name}: needs dir=PATH (a folder of audio files)")
    if not os.path.isdir(os.path.expanduser(folder)):
        raise CorruptionError(f"{c.name}: dir={folder!r} is not a folder")
